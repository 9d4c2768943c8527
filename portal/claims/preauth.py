"""Pre-authorisations a claim uses up (DESIGN 3): the appraisal (鉴定单) a major-assembly claim is
accepted on, and the outsourced-purchase request (外购申请单) whose cap pays a claim's purchased
parts.

Each is used up by one live claim (submitted and not rejected); a rejected claim gives it back.
The pre-authorisation's row is locked before its use is checked, so of two claims submitted on
it at once the second waits and then finds it used; the partial unique indexes on
`claim.outsourced_request_id` and `claim.appraisal_id` make a second use impossible whatever
path it takes.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from portal.claims.models import (
    APPROVED_STATUSES,
    LIVE_USE_EXCLUDED,
    Claim,
    ClaimLine,
    ClaimType,
    LineKind,
)
from portal.extensions import db

# The lines an outsourced purchase pays for: the parts bought and the purchase invoice.
PURCHASED_KINDS = frozenset({LineKind.PART, LineKind.OTHER})
OUTSOURCED_CAP_REASON = "outsourced_cap"


def _holder_column(pre_auth: Claim):
    if pre_auth.type is ClaimType.APPRAISAL:
        return Claim.appraisal_id
    return Claim.outsourced_request_id


def using_claim(pre_auth: Claim, excluding_id: int | None = None) -> Claim | None:
    """The live claim that used `pre_auth` up, if any (other than `excluding_id`)."""
    if pre_auth.type not in (ClaimType.APPRAISAL, ClaimType.OUTSOURCED_PURCHASE):
        return None
    return db.session.scalar(
        sa.select(Claim)
        .where(
            _holder_column(pre_auth) == pre_auth.id,
            Claim.status.not_in(LIVE_USE_EXCLUDED),
            Claim.id != (excluding_id or 0),
        )
        .limit(1)
    )


def lock(claim_id: int) -> None:
    """Lock the pre-authorisation's row until the transaction ends (PostgreSQL; SQLite has one
    writer), so that its use is checked and taken by one claim at a time."""
    db.session.execute(sa.select(Claim.id).where(Claim.id == claim_id).with_for_update())


def appraisal_for(claim: Claim, on_day: date) -> tuple[Claim | None, Claim | None]:
    """The approved appraisal of the claim's station, vehicle and causal part that `claim` may
    use on `on_day`: the one it holds already, else one still valid and not used by another
    claim. Answers (appraisal, None), or (None, the claim that used one up) when there are
    valid appraisals but all are used, or (None, None)."""
    candidates = db.session.scalars(
        sa.select(Claim)
        .where(
            Claim.type == ClaimType.APPRAISAL,
            Claim.station_id == claim.station_id,
            Claim.vehicle_id == claim.vehicle_id,
            Claim.causal_part_id == claim.causal_part_id,
            Claim.status.in_(APPROVED_STATUSES),
            sa.or_(Claim.id == (claim.appraisal_id or 0), Claim.valid_until >= on_day),
        )
        .order_by((Claim.id == (claim.appraisal_id or 0)).desc(), Claim.valid_until, Claim.id)
    ).all()
    used_by = None
    for appraisal in candidates:
        lock(appraisal.id)
        holder = using_claim(appraisal, excluding_id=claim.id)
        if holder is None:
            return appraisal, None
        used_by = used_by or holder
    return None, used_by


def apply_outsourced_cap(claim: Claim) -> bool:
    """Cut the approved purchased-part lines of a claim drawing on an outsourced-purchase request
    to the request's approved cap, line by line in order, with reason `outsourced_cap`; answers
    whether anything was cut. Call it after the lines' approved values are set."""
    request = claim.outsourced_request
    if request is None or request.approved_total_amount is None:
        return False
    left = request.approved_total_amount
    cut = False
    for line in _purchased_lines(claim):
        approved = line.approved_amount or Decimal("0.00")
        paid = min(approved, max(left, Decimal("0.00")))
        left -= paid
        if paid < approved:
            line.approved_amount = paid
            line.reason_code = OUTSOURCED_CAP_REASON
            cut = True
    return cut


def _purchased_lines(claim: Claim) -> list[ClaimLine]:
    return [ln for ln in claim.lines if ln.kind in PURCHASED_KINDS]
