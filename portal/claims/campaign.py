"""The `campaign` claim type (召回 / 服务活动单): the work of a recall or service campaign on one
affected vehicle.

A campaign claim names its campaign; its lines are the campaign's package (the labor operation
and hours at the station's labor rate, the parts at their price on the repair date) unless the
station says otherwise. It needs no coverage; it is done once per vehicle and campaign (one live
claim: submitted and not rejected; a partial unique index backs the rule). One that claims
exactly the package is approved automatically; any other is reviewed like any claim.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.claims import pricing
from portal.claims.models import LIVE_USE_EXCLUDED, Claim, ClaimLine, ClaimType, LineKind
from portal.extensions import db
from portal.masterdata.campaigns import Campaign, CampaignVehicle, open_on
from portal.masterdata.models import Vehicle
from portal.messages import define, said


def package_lines(campaign: Campaign, labor_rate, price_day: date) -> list[ClaimLine]:
    """The campaign's package as claim lines: its labor, then its parts (priced on `price_day`;
    a part without a price that day gets none, and the claim form says so)."""
    labor = ClaimLine(
        kind=LineKind.LABOR,
        operation=campaign.operation,
        hours=campaign.hours,
        unit_price=labor_rate,
    )
    lines = [labor]
    for item in campaign.parts:
        lines.append(
            ClaimLine(
                kind=LineKind.PART,
                part=item.part,
                qty=item.qty,
                unit_price=item.part.price_on(price_day),
            )
        )
    for position, line in enumerate(lines, start=1):
        line.position = position
        line.description = line.description or ""
        line.amount = pricing.line_amount(
            line.kind, qty=line.qty, hours=line.hours, unit_price=line.unit_price
        )
    return lines


NO_CAMPAIGN = define("campaign.differs.no_campaign", _l("it names no campaign"))
OTHER_LABOR = define("campaign.differs.labor", _l("labor other than operation %(operation)s"))
OTHER_HOURS = define(
    "campaign.differs.hours",
    _l("%(hours)s labor hours instead of %(package)s"),
    hours="decimal",
    package="decimal",
)
OTHER_PARTS = define("campaign.differs.parts", _l("parts other than the campaign's package"))
OTHER_LINES = define("campaign.differs.lines", _l("lines other than labor and parts"))


def package_differences(claim: Claim) -> list[dict]:
    """What the claim's lines claim beyond or short of its campaign's package, each as a message
    (key and parameters, portal.messages); empty when they are exactly the package."""
    campaign = claim.campaign
    if campaign is None:
        return [said(NO_CAMPAIGN)]
    differences = []
    labor = [ln for ln in claim.lines if ln.kind is LineKind.LABOR]
    if len(labor) != 1 or labor[0].operation_id != campaign.operation_id:
        differences.append(said(OTHER_LABOR, operation=campaign.operation.code))
    elif labor[0].hours != campaign.hours:
        differences.append(said(OTHER_HOURS, hours=labor[0].hours, package=campaign.hours))
    claimed = Counter()
    for line in claim.lines:
        if line.kind is LineKind.PART and line.part_id is not None:
            claimed[line.part_id] += line.qty or 0
    package = Counter({item.part_id: item.qty for item in campaign.parts})
    if claimed != package:
        differences.append(said(OTHER_PARTS))
    if any(ln.kind not in (LineKind.LABOR, LineKind.PART) for ln in claim.lines):
        differences.append(said(OTHER_LINES))
    return differences


def matches_package(claim: Claim) -> bool:
    return not package_differences(claim)


def work_on(campaign_id: int, vehicle_id: int, excluding_claim_id: int | None = None):
    """The live claim (submitted, not rejected) doing `campaign`'s work on the vehicle: its
    number, repair date and station, or None."""
    return db.session.execute(
        sa.select(Claim.number, Claim.repair_date, Claim.submitted_at, Claim.station_id)
        .where(
            Claim.campaign_id == campaign_id,
            Claim.vehicle_id == vehicle_id,
            Claim.type == ClaimType.CAMPAIGN,
            Claim.status.not_in(LIVE_USE_EXCLUDED),
            Claim.id != (excluding_claim_id or 0),
        )
        .order_by(Claim.submitted_at)
        .limit(1)
    ).first()


def is_affected(campaign: Campaign, vehicle: Vehicle) -> bool:
    return (
        db.session.scalar(
            sa.select(CampaignVehicle.id).where(
                CampaignVehicle.campaign_id == campaign.id,
                CampaignVehicle.vehicle_id == vehicle.id,
            )
        )
        is not None
    )


def open_work_of(vehicle: Vehicle, day: date | None = None) -> list[tuple[Campaign, date | None]]:
    """The campaigns open on `day` (today) that list the vehicle, recalls first, each with the
    day its work was done (the repair date of its live claim) or None while it is still to do."""
    day = day or date.today()
    done = sa.select(sa.func.min(Claim.repair_date)).where(
        Claim.campaign_id == Campaign.id,
        Claim.vehicle_id == vehicle.id,
        Claim.type == ClaimType.CAMPAIGN,
        Claim.status.not_in(LIVE_USE_EXCLUDED),
    )
    rows = db.session.execute(
        sa.select(Campaign, done.scalar_subquery())
        .join(CampaignVehicle, CampaignVehicle.campaign_id == Campaign.id)
        .where(CampaignVehicle.vehicle_id == vehicle.id, open_on(day))
        .order_by(Campaign.kind, Campaign.start_date, Campaign.code)
    ).all()
    return [(campaign, done_on) for campaign, done_on in rows]
