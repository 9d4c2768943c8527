"""Opening, editing and closing recalls and service campaigns (召回 / 服务活动), and choosing
their affected vehicles. Auditors and admins do it; every change is a `CampaignEvent`.
Operations flush and never commit: the view commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.auditlog.operations import AuditKind, record
from portal.auth.models import Role, User
from portal.db import utcnow
from portal.errors import Conflict, DomainError, ValidationFailed
from portal.extensions import db
from portal.masterdata.campaigns import (
    Campaign,
    CampaignEvent,
    CampaignKind,
    CampaignPart,
    CampaignStatus,
    CampaignVehicle,
)
from portal.masterdata.models import LaborOperation, Part, Supplier, Vehicle, VehicleModel
from portal.messages import define, plain_params

MANAGERS = (Role.AUDITOR, Role.ADMIN)
READERS = (Role.AUDITOR, Role.ADMIN, Role.FINANCE)

# The portal's words in a campaign's record (portal.messages).
VEHICLES_ADDED = define(
    "campaign.vehicles_added",
    _l("%(n)s vehicles of model %(model)s produced from %(start)s to %(end)s."),
    n="decimal",
    start="date",
    end="date",
    example={"n": 1250, "model": "M1", "start": "2026-01-01", "end": "2026-03-31"},
)
VEHICLES_IMPORTED = define(
    "campaign.vehicles_imported",
    _l("%(n)s vehicles added from a file."),
    n="decimal",
    example={"n": 1250},
)


def can_manage(user: User) -> bool:
    """Open, edit, close a campaign and choose its vehicles."""
    return user.role in MANAGERS


def can_view(campaign: Campaign, user: User) -> bool:
    """The OEM's auditors, finance and admins see every campaign; a supplier those charged to
    it; a station none (it sees the campaign work of the vehicles it looks up)."""
    if user.role in READERS:
        return True
    return user.role is Role.SUPPLIER and campaign.supplier_id == user.organisation_id


def visible_to(user: User) -> sa.ColumnElement[bool]:
    """SQL: the campaigns `user` may see (as `can_view`)."""
    if user.role in READERS:
        return sa.true()
    if user.role is Role.SUPPLIER:
        return Campaign.supplier_id == user.organisation_id
    return sa.false()


@dataclass
class CampaignInput:
    """What a campaign says, as the form gives it (parsed, not yet checked against the data)."""

    code: str
    title: str
    kind: CampaignKind
    start_date: date
    end_date: date | None
    operation_code: str
    hours: Decimal
    parts: list[tuple[str, int]] = field(default_factory=list)
    supplier_code: str = ""
    recovery_share: Decimal = Decimal("0")


def _event(
    campaign: Campaign,
    user: User | None,
    action: str,
    note: str = "",
    message: tuple[str, dict] | None = None,
) -> None:
    """A step of the campaign's record: `note` is what a person wrote, `message` the portal's
    own words (a key of portal.messages and its parameters, written out when read)."""
    event = CampaignEvent(campaign=campaign, user=user, action=action, note=note)
    if message is not None:
        event.message_key, event.params = message[0], plain_params(message[1])
    db.session.add(event)


def terms_of(campaign: Campaign) -> dict:
    """The campaign's terms as the audit log keeps them (who pays what for which work)."""
    return {
        "title": campaign.title,
        "kind": campaign.kind,
        "status": campaign.status,
        "start_date": campaign.start_date,
        "end_date": campaign.end_date,
        "operation": campaign.operation.code if campaign.operation else None,
        "hours": campaign.hours,
        "supplier": campaign.supplier.code if campaign.supplier else None,
        "recovery_share": campaign.recovery_share,
        "parts": sorted(f"{item.part.number} x {item.qty}" for item in campaign.parts),
    }


def _audit(kind: AuditKind, campaign: Campaign, user: User, before: dict | None, note="") -> None:
    after = terms_of(campaign)
    if before is not None:
        changed = [k for k in after if after[k] != before.get(k)]
        before, after = {k: before.get(k) for k in changed}, {k: after[k] for k in changed}
    record(kind, user, subject=f"campaign {campaign.code}", before=before, after=after, note=note)


def _require_manager(user: User) -> None:
    if not can_manage(user):
        raise DomainError(str(_l("Only auditors and admins manage campaigns.")))


def _apply(campaign: Campaign, data: CampaignInput) -> None:
    """Set the campaign's terms from `data`; every problem is named at once."""
    errors: dict[str, str] = {}
    if not data.title.strip():
        errors["title"] = str(_l("is required"))
    if data.end_date is not None and data.end_date < data.start_date:
        errors["end_date"] = str(_l("is before the start date"))
    if data.hours <= 0:
        errors["hours"] = str(_l("a campaign's package needs some labor hours"))
    operation = db.session.scalar(
        sa.select(LaborOperation).where(LaborOperation.code == data.operation_code)
    )
    if operation is None:
        errors["operation_code"] = str(_l("no such record: %(value)s", value=data.operation_code))
    supplier = None
    if data.supplier_code:
        supplier = db.session.scalar(sa.select(Supplier).where(Supplier.code == data.supplier_code))
        if supplier is None:
            errors["supplier_code"] = str(_l("no such supplier"))
    if supplier is None and data.recovery_share and "supplier_code" not in errors:
        errors["recovery_share"] = str(_l("a share needs a supplier to bear it"))
    if not Decimal(0) <= data.recovery_share <= Decimal(1):
        errors["recovery_share"] = str(_l("must be a fraction from 0 to 1"))
    numbers = [number for number, _qty in data.parts]
    parts = {
        p.number: p for p in db.session.scalars(sa.select(Part).where(Part.number.in_(numbers)))
    }
    unknown = [n for n in numbers if n not in parts]
    if unknown:
        errors["parts"] = str(_l("no such part: %(value)s", value=", ".join(unknown)))
    if errors:
        raise ValidationFailed(str(_l("The campaign was not saved.")), errors)
    campaign.title = data.title.strip()
    campaign.kind = data.kind
    campaign.start_date, campaign.end_date = data.start_date, data.end_date
    campaign.operation, campaign.hours = operation, data.hours
    campaign.supplier = supplier
    campaign.recovery_share = data.recovery_share if supplier is not None else Decimal("0")
    wanted = {parts[number].id: qty for number, qty in data.parts}
    for item in list(campaign.parts):
        if item.part_id not in wanted:
            campaign.parts.remove(item)
        else:
            item.qty = wanted.pop(item.part_id)
    for number, qty in data.parts:
        if parts[number].id in wanted:
            campaign.parts.append(CampaignPart(part=parts[number], qty=qty))


def open_campaign(user: User, data: CampaignInput) -> Campaign:
    """Open a new campaign (its vehicles are chosen next)."""
    _require_manager(user)
    code = data.code.strip()
    if not code:
        raise ValidationFailed(
            str(_l("The campaign was not saved.")), {"code": str(_l("is required"))}
        )
    if db.session.scalar(sa.select(Campaign.id).where(Campaign.code == code)) is not None:
        raise ValidationFailed(
            str(_l("The campaign was not saved.")),
            {"code": str(_l("%(code)s is taken by another campaign", code=code))},
        )
    campaign = Campaign(code=code, status=CampaignStatus.OPEN)
    _apply(campaign, data)
    db.session.add(campaign)
    _event(campaign, user, "opened")
    db.session.flush()
    _audit(AuditKind.CAMPAIGN_OPENED, campaign, user, None)
    return campaign


def edit_campaign(campaign: Campaign, user: User, data: CampaignInput) -> Campaign:
    """Change a campaign's terms (its code stays). A claim already filed keeps its lines."""
    _require_manager(user)
    before = terms_of(campaign)
    _apply(campaign, data)
    _event(campaign, user, "edited")
    db.session.flush()
    _audit(AuditKind.CAMPAIGN_EDITED, campaign, user, before)
    return campaign


def announcement_text(campaign: Campaign, note: str = "") -> tuple[str, str]:
    """The title and text of the announcement that tells every station of a new campaign
    (in the publisher's language): what it is, from when, its work, and `note`."""
    kind = _l("Recall") if campaign.is_recall else _l("Service campaign")
    heading = str(
        _l("%(kind)s %(code)s: %(title)s", kind=kind, code=campaign.code, title=campaign.title)
    )
    if campaign.end_date is None:
        dates = _l("Open from %(start)s.", start=campaign.start_date.isoformat())
    else:
        dates = _l(
            "Open from %(start)s to %(end)s.",
            start=campaign.start_date.isoformat(),
            end=campaign.end_date.isoformat(),
        )
    parts = "; ".join(f"{p.part.number} {p.part.name} × {p.qty}" for p in campaign.parts)
    lines = [
        heading,
        str(dates),
        str(
            _l(
                "The work: %(operation)s %(description)s, %(hours)s hours.",
                operation=campaign.operation.code,
                description=campaign.operation.description,
                hours=campaign.hours,
            )
        ),
    ]
    if parts:
        lines.append(str(_l("Parts: %(parts)s.", parts=parts)))
    lines.append(
        str(
            _l(
                "Look up the VIN of every vehicle that drives in: an affected vehicle shows the "
                "campaign, and its claim is filled with the work. Your own affected vehicles are "
                "listed under Campaign work: call their owners in."
            )
        )
    )
    note = (note or "").strip()
    if note:
        lines += ["", note]
    return heading[:200], "\n".join(lines)


def close_campaign(campaign: Campaign, user: User, note: str = "") -> Campaign:
    """Close a campaign: no claim for it is accepted any more; those filed go on as they are."""
    _require_manager(user)
    if campaign.status is CampaignStatus.CLOSED:
        raise Conflict(str(_l("Campaign %(code)s is closed already.", code=campaign.code)))
    before = terms_of(campaign)
    campaign.status = CampaignStatus.CLOSED
    campaign.closed_at = utcnow()
    campaign.closed_by = user
    _event(campaign, user, "closed", note)
    db.session.flush()
    _audit(AuditKind.CAMPAIGN_CLOSED, campaign, user, before, note)
    return campaign


def add_vehicles_produced(
    campaign: Campaign, user: User, model_code: str, produced_from: date, produced_to: date
) -> int:
    """Add every vehicle of the model produced from `produced_from` to `produced_to` (both
    included) that the campaign does not list yet; answers how many were added."""
    _require_manager(user)
    model = db.session.scalar(sa.select(VehicleModel).where(VehicleModel.code == model_code))
    errors = {}
    if model is None:
        errors["model"] = str(_l("no such record: %(value)s", value=model_code))
    if produced_to < produced_from:
        errors["produced_to"] = str(_l("is before the start date"))
    if errors:
        raise ValidationFailed(str(_l("No vehicle was added.")), errors)
    listed = sa.select(CampaignVehicle.id).where(
        CampaignVehicle.campaign_id == campaign.id, CampaignVehicle.vehicle_id == Vehicle.id
    )
    chosen = sa.select(sa.literal(campaign.id), Vehicle.id).where(
        Vehicle.model_id == model.id,
        Vehicle.production_date.between(produced_from, produced_to),
        ~listed.exists(),
    )
    added = db.session.execute(
        sa.insert(CampaignVehicle).from_select(["campaign_id", "vehicle_id"], chosen)
    ).rowcount
    _event(
        campaign,
        user,
        "vehicles_added",
        message=(
            VEHICLES_ADDED,
            {"n": added, "model": model.code, "start": produced_from, "end": produced_to},
        ),
    )
    record(
        AuditKind.CAMPAIGN_VEHICLES_ADDED,
        user,
        subject=f"campaign {campaign.code}",
        after={
            "added": added,
            "model": model.code,
            "produced_from": produced_from,
            "produced_to": produced_to,
        },
    )
    db.session.flush()
    return added


def record_vehicle_import(campaign: Campaign, user: User, created: int) -> None:
    """The audit entry of a `campaign_vehicles` file uploaded on the campaign's page."""
    _event(campaign, user, "vehicles_imported", message=(VEHICLES_IMPORTED, {"n": created}))
    record(
        AuditKind.CAMPAIGN_VEHICLES_ADDED,
        user,
        subject=f"campaign {campaign.code}",
        after={"added": created, "from": "file"},
    )
    db.session.flush()
