"""The old-part workflow (DESIGN 5). Operations flush; the view or job commits.

awaiting_return -> shipped -> received -> inspected -> (forwarded) -> written_off;
scrap_at_station parts are written off at once and leave a residual to deduct.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from portal.auth.models import Role, User
from portal.claims.models import Claim, ClaimType, LineKind
from portal.db import utcnow
from portal.errors import Conflict, DomainError, ValidationFailed
from portal.extensions import db
from portal.masterdata.models import OEM_CODE, Disposition, Organisation
from portal.money import round_money
from portal.oldparts.models import (
    ChargeKind,
    OldPart,
    OldPartEvent,
    OldPartStatus,
    StationCharge,
)

# Claims whose part lines are failed parts (an emergency part request moves a new part).
FAILED_PART_TYPES = frozenset({ClaimType.REPAIR, ClaimType.MAJOR_ASSEMBLY, ClaimType.ROADSIDE})
DEFAULT_RETURN_DAYS = 30


def return_days() -> int:
    return int(current_app.config.get("OLD_PART_RETURN_DAYS", DEFAULT_RETURN_DAYS))


def _event(part: OldPart, user: User | None, action: str, note: str = "") -> None:
    db.session.add(OldPartEvent(old_part=part, user=user, action=action, note=note))


def create_for_approved_claim(claim: Claim, today: date) -> list[OldPart]:
    """On approval: one old part per approved unit of each parts line, routed by disposition.

    Safe to call twice: lines that already have old parts are skipped.
    """
    if claim.type not in FAILED_PART_TYPES:
        return []
    done = set(
        db.session.scalars(sa.select(OldPart.claim_line_id).where(OldPart.claim_id == claim.id))
    )
    oem = db.session.scalar(sa.select(Organisation).where(Organisation.code == OEM_CODE))
    created: list[OldPart] = []
    for line in claim.lines:
        if line.kind is not LineKind.PART or not line.approved_qty or line.id in done:
            continue
        part = line.part
        scrap = part.disposition is Disposition.SCRAP_AT_STATION
        destination = None
        if part.disposition is Disposition.RETURN_TO_OEM:
            destination = oem
        elif part.disposition is Disposition.RETURN_TO_SUPPLIER:
            destination = part.supplier
        supplier = claim.responsible_supplier or part.supplier
        for unit in range(1, line.approved_qty + 1):
            old = OldPart(
                tag=f"{claim.number}-{line.position:02d}{unit:02d}",
                claim=claim,
                line=line,
                part=part,
                station_id=claim.station_id,
                supplier=supplier,
                disposition=part.disposition,
                destination=destination,
                unit_price=line.unit_price or Decimal("0.00"),
                status=OldPartStatus.WRITTEN_OFF if scrap else OldPartStatus.AWAITING_RETURN,
                deadline=None if scrap else today + timedelta(days=return_days()),
                written_off_at=utcnow() if scrap else None,
            )
            db.session.add(old)
            _event(old, None, "scrapped_at_station" if scrap else "created")
            created.append(old)
        if scrap:
            residual = round_money((line.unit_price or 0) * line.approved_qty * part.scrap_rate)
            db.session.add(
                StationCharge(
                    kind=ChargeKind.SCRAP_RESIDUAL,
                    station_id=claim.station_id,
                    claim=claim,
                    claim_line_id=line.id,
                    amount=residual,
                )
            )
    db.session.flush()
    return created


def mark_overdue(today: date) -> int:
    """Parts not shipped by their deadline become overdue and are charged back to the station.

    Re-selects by state, so running it twice (or on two workers) marks and charges once.
    """
    parts = db.session.scalars(
        sa.select(OldPart)
        .where(
            OldPart.status == OldPartStatus.AWAITING_RETURN,
            OldPart.deadline < today,
            OldPart.overdue_at.is_(None),
        )
        .with_for_update(skip_locked=True)
    ).all()
    for part in parts:
        part.overdue_at = utcnow()
        line = part.line
        share = round_money((line.approved_amount or 0) / (line.approved_qty or 1))
        db.session.add(
            StationCharge(
                kind=ChargeKind.OVERDUE,
                station_id=part.station_id,
                claim_id=part.claim_id,
                claim_line_id=line.id,
                old_part_id=part.id,
                amount=share,
            )
        )
        _event(part, None, "overdue", f"deadline {part.deadline.isoformat()}")
    db.session.flush()
    return len(parts)


def waive_overdue(part: OldPart, user: User, reason: str) -> None:
    """An auditor lifts an overdue chargeback, with a reason."""
    if user.role is not Role.AUDITOR:
        raise DomainError(str(_l("Only auditors waive overdue old parts.")))
    if not part.is_overdue:
        raise Conflict(str(_l("Old part %(tag)s is not overdue.", tag=part.tag)))
    if not reason.strip():
        raise ValidationFailed(
            str(_l("Say why the chargeback is waived.")), {"reason": str(_l("is required"))}
        )
    charge = db.session.scalar(sa.select(StationCharge).where(StationCharge.old_part_id == part.id))
    if charge is not None and charge.settled_in_run_id is not None:
        raise Conflict(str(_l("The chargeback of %(tag)s is already settled.", tag=part.tag)))
    part.waived_at = utcnow()
    part.waived_by_id = user.id
    part.waive_reason = reason.strip()
    if charge is not None:
        charge.waived_at = part.waived_at
    _event(part, user, "overdue_waived", reason.strip())
    db.session.flush()
