"""A safety recall half done across the regions and a service campaign just opened (召回 /
服务活动): opened by the auditor through the campaign operations, their vehicles chosen by
model and production dates, and the work done by the selling stations through campaign claims
of exactly the package (approved automatically)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa

from portal.auth.models import Role
from portal.campaigns import operations as campaigns
from portal.campaigns.operations import CampaignInput
from portal.claims import operations as claims
from portal.claims.models import Claim, ClaimStatus
from portal.claims.payload import parse_claim
from portal.claims.rules import last_known_odometer
from portal.demo.clock import (
    WORKDAY,
    act,
    local_day,
    local_moment,
    quiet_notifications,
    run_in_order,
)
from portal.demo.context import Demo, DemoError
from portal.demo.users import DEMO_USERS
from portal.extensions import db
from portal.masterdata.campaigns import Campaign, CampaignKind, CampaignVehicle
from portal.masterdata.models import Part, Vehicle

RECALL_CODE = "RC-2026-H9-01"
SERVICE_CODE = "SC-2026-S7-02"
RECALL_DONE_SHARE = Decimal("0.5")  # about half of the recall's vehicles are done
SERVICE_DONE = 3
DEMO_STATIONS = tuple(code for _user, role, code, _name in DEMO_USERS if role is Role.STATION)


def add_campaigns(demo: Demo) -> None:
    auditor = demo.users["auditor"]
    tie_rod = db.session.scalar(sa.select(Part).where(Part.number == "3003010-H9"))
    recall_start = demo.today - timedelta(days=75)
    service_start = demo.today - timedelta(days=6)
    recall = act(
        local_moment(recall_start, 9 * 60),
        lambda: campaigns.open_campaign(
            auditor,
            CampaignInput(
                code=RECALL_CODE,
                title="H9 转向横拉杆球头检查更换 H9 tie-rod ball joint replacement",
                kind=CampaignKind.RECALL,
                start_date=recall_start,
                end_date=None,
                operation_code="W3003-01",
                hours=Decimal("1.50"),
                parts=[(tie_rod.number, 2)],
                supplier_code=tie_rod.supplier.code,
                recovery_share=Decimal("1"),
            ),
        ),
    )
    service = act(
        local_moment(service_start, 10 * 60),
        lambda: campaigns.open_campaign(
            auditor,
            CampaignInput(
                code=SERVICE_CODE,
                title="S7 冬季蓄电池免费检测 S7 free winter battery check",
                kind=CampaignKind.SERVICE,
                start_date=service_start,
                end_date=demo.today + timedelta(days=90),
                operation_code="W3703-01",
                hours=Decimal("0.40"),
            ),
        ),
    )
    for campaign, model_code, moment in (
        (recall, "HX-H9", local_moment(recall_start, 9 * 60 + 30)),
        (service, "HX-S7", local_moment(service_start, 10 * 60 + 30)),
    ):
        produced = sorted(v.production_date for v in demo.vehicles if v.model.code == model_code)
        low, high = produced[len(produced) // 4], produced[-1]  # the later three quarters
        act(
            moment,
            lambda c=campaign, m=model_code, lo=low, hi=high: campaigns.add_vehicles_produced(
                c, auditor, m, lo, hi
            ),
        )
    _do_work(demo, recall, share=RECALL_DONE_SHARE, deviating_every=6)
    _do_work(demo, service, count=SERVICE_DONE)


def _affected(campaign: Campaign) -> list[Vehicle]:
    return list(
        db.session.scalars(
            sa.select(Vehicle)
            .join(CampaignVehicle, CampaignVehicle.vehicle_id == Vehicle.id)
            .where(
                CampaignVehicle.campaign_id == campaign.id, Vehicle.selling_station_id.isnot(None)
            )
            .order_by(Vehicle.vin)
        )
    )


def _do_work(
    demo: Demo,
    campaign: Campaign,
    *,
    share: Decimal | None = None,
    count: int = 0,
    deviating_every: int = 0,
) -> None:
    """Stations do the work on some of the campaign's vehicles, each on a working day between
    the campaign's start (or the vehicle's sale) and yesterday: mostly the selling station, and
    each demo login's station at least once (on a vehicle it sold if it sold one). Every
    `deviating_every`-th claim needed more labor than the package and waits for an auditor."""
    rng = demo.rng
    yesterday = demo.today - timedelta(days=1)
    firsts = {v.id: _first_day(campaign, v) for v in _affected(campaign)}
    vehicles = [v for v in _affected(campaign) if firsts[v.id] <= yesterday]
    if share is not None:
        count = int(len(vehicles) * share)
    chosen = rng.sample(vehicles, min(count, len(vehicles)))
    work = [(vehicle, vehicle.selling_station.code) for vehicle in chosen]
    for code in DEMO_STATIONS:
        if any(station == code for _vehicle, station in work):
            continue
        free = [v for v in vehicles if v not in chosen]
        own = [v for v in free if v.selling_station.code == code]
        if own or free:
            vehicle = (own or free)[0]
            chosen.append(vehicle)
            work.append((vehicle, code))
    actions = []
    for index, (vehicle, station_code) in enumerate(work):
        first = firsts[vehicle.id]
        span = (yesterday - first).days
        day = first + timedelta(days=rng.randint(0, span))
        moment = local_moment(day, rng.randint(*WORKDAY))
        filer = demo.org_users[station_code]
        deviating = bool(deviating_every) and index % deviating_every == deviating_every - 1
        actions.append(
            (
                moment,
                lambda v=vehicle, d=day, u=filer, x=deviating: _file(campaign, v, d, u, rng, x),
            )
        )
    actions.sort(key=lambda action: action[0])
    with quiet_notifications():
        run_in_order(actions)


def _first_day(campaign: Campaign, vehicle: Vehicle):
    """The first day its work can be done: after the campaign's start, the vehicle's sale and
    the vehicle's last claim (its odometer only grows from claim to claim)."""
    last = db.session.scalar(
        sa.select(sa.func.max(Claim.submitted_at)).where(Claim.vehicle_id == vehicle.id)
    )
    first = max(campaign.start_date, vehicle.sale_date + timedelta(days=1))
    if last is not None:
        first = max(first, local_day(last) + timedelta(days=1))
    return first


def _file(campaign: Campaign, vehicle: Vehicle, day, filer, rng, deviating: bool) -> None:
    km = last_known_odometer(vehicle, None) + rng.randint(200, 3000)
    data = {
        "type": "campaign",
        "vin": vehicle.vin,
        "odometer_km": km,
        "repair_date": day.isoformat(),
        "campaign": campaign.code,
        "correction": "按召回/服务活动技术通知执行 Done as the campaign bulletin says",
    }
    if deviating:  # more labor than the package: reviewed like any claim
        data["lines"] = [
            {
                "kind": "labor",
                "operation_code": campaign.operation.code,
                "hours": str(campaign.hours + Decimal("1.00")),
                "description": "球头锈死，拆卸困难 Seized ball joint, hard to remove",
            },
            *(
                {"kind": "part", "part_number": item.part.number, "qty": item.qty}
                for item in campaign.parts
            ),
        ]
    claim = claims.create_claim(filer, parse_claim(data), day)
    claims.submit_claim(claim, filer, day)
    expected = ClaimStatus.IN_REVIEW if deviating else ClaimStatus.APPROVED
    if claim.status is not expected:
        raise DemoError(f"campaign claim {claim.number} is {claim.status.value}, not {expected}")
