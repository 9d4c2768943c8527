"""How far a campaign has got (完成率), and the campaign work waiting at a station.

A vehicle of a campaign is *done* when a claim for the campaign's work on it is approved
(partially approved or settled included), *in work* while such a claim is submitted, in review
or returned, and *remaining* otherwise (a rejected claim leaves it remaining). Cost so far is
the approved total of the done claims; the cost still to come is the average cost of a done
vehicle times the vehicles not done yet (nothing while none is done).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa

from portal.claims.models import (
    APPROVED_STATUSES,
    LIVE_USE_EXCLUDED,
    Claim,
    ClaimStatus,
    ClaimType,
)
from portal.extensions import db
from portal.masterdata.campaigns import Campaign, CampaignVehicle, open_on
from portal.masterdata.models import Station, Vehicle
from portal.money import round_money

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Completion:
    affected: int
    done: int
    in_work: int
    cost_so_far: Decimal

    @property
    def remaining(self) -> int:
        return self.affected - self.done - self.in_work

    @property
    def percent_done(self) -> Decimal:
        if not self.affected:
            return Decimal("0.0")
        return (Decimal(self.done) * 100 / self.affected).quantize(Decimal("0.1"))

    @property
    def average_cost(self) -> Decimal | None:
        return round_money(self.cost_so_far / self.done) if self.done else None

    @property
    def cost_to_come(self) -> Decimal:
        """At the current average cost per done vehicle, for every vehicle not done yet."""
        if not self.done:
            return ZERO
        return round_money(self.cost_so_far * (self.affected - self.done) / self.done)


@dataclass(frozen=True)
class CompletionRow:
    key: str  # a region, or a station code ("" for vehicles sold by no station)
    name: str
    completion: Completion


def _work():
    """Per campaign and vehicle: the state of its live campaign claim (one at most)."""
    return (
        sa.select(
            Claim.campaign_id.label("campaign_id"),
            Claim.vehicle_id.label("vehicle_id"),
            Claim.status.label("status"),
            Claim.approved_total_amount.label("approved"),
            Claim.repair_date.label("repair_date"),
        )
        .where(Claim.type == ClaimType.CAMPAIGN, Claim.status.not_in(LIVE_USE_EXCLUDED))
        .subquery("work")
    )


def _counts(work):
    done = work.c.status.in_(sorted(APPROVED_STATUSES))
    return (
        sa.func.count(CampaignVehicle.id),
        sa.func.count(work.c.vehicle_id).filter(done),
        sa.func.count(work.c.vehicle_id).filter(sa.not_(done)),
        sa.func.coalesce(sa.func.sum(work.c.approved).filter(done), 0),
    )


def _completion(row) -> Completion:
    affected, done, in_work, cost = row
    return Completion(affected or 0, done or 0, in_work or 0, Decimal(cost or 0))


def _base(campaign_ids, work) -> sa.Select:
    return (
        sa.select()
        .select_from(CampaignVehicle)
        .outerjoin(
            work,
            sa.and_(
                work.c.campaign_id == CampaignVehicle.campaign_id,
                work.c.vehicle_id == CampaignVehicle.vehicle_id,
            ),
        )
        .where(CampaignVehicle.campaign_id.in_(campaign_ids))
    )


def completion(campaign: Campaign) -> Completion:
    return completions([campaign.id]).get(campaign.id, Completion(0, 0, 0, ZERO))


def completions(campaign_ids: list[int]) -> dict[int, Completion]:
    """Completion per campaign, for a list page."""
    if not campaign_ids:
        return {}
    work = _work()
    stmt = (
        _base(campaign_ids, work)
        .add_columns(CampaignVehicle.campaign_id, *_counts(work))
        .group_by(CampaignVehicle.campaign_id)
    )
    return {row[0]: _completion(row[1:]) for row in db.session.execute(stmt)}


def completion_by(campaign: Campaign, by: str) -> list[CompletionRow]:
    """Completion per `region` or `station` of the vehicles' selling stations."""
    work = _work()
    key = Station.region if by == "region" else Station.code
    name = Station.region if by == "region" else Station.name
    stmt = (
        _base([campaign.id], work)
        .join(Vehicle, Vehicle.id == CampaignVehicle.vehicle_id)
        .outerjoin(Station, Station.id == Vehicle.selling_station_id)
        .add_columns(key, name, *_counts(work))
        .group_by(key, name)
        .order_by(key)
    )
    return [
        CompletionRow(row[0] or "", row[1] or "", _completion(row[2:]))
        for row in db.session.execute(stmt)
    ]


@dataclass(frozen=True)
class CompletionPoint:
    """The campaign's completion at the end of one period (a week, or a month for a campaign
    longer than `WEEKLY_UP_TO` weeks): the vehicles done by then, of those affected now."""

    start: date  # the period's first day (a Monday, or the first of a month)
    end: date  # its last day counted (today for the running period)
    done: int
    affected: int

    @property
    def percent_done(self) -> Decimal:
        if not self.affected:
            return Decimal("0.0")
        return (Decimal(self.done) * 100 / self.affected).quantize(Decimal("0.1"))


WEEKLY_UP_TO = 60


def _periods(first: date, last: date) -> list[tuple[date, date]]:
    """Weeks (Monday to Sunday) from `first` to `last`, or months when there are too many."""
    if (last - first).days <= 7 * WEEKLY_UP_TO:
        start = first - timedelta(days=first.weekday())
        periods = []
        while start <= last:
            periods.append((start, min(start + timedelta(days=6), last)))
            start += timedelta(days=7)
        return periods
    periods, start = [], first.replace(day=1)
    while start <= last:
        following = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
        periods.append((start, min(following - timedelta(days=1), last)))
        start = following
    return periods


def completion_over_time(campaign: Campaign, today: date | None = None) -> list[CompletionPoint]:
    """How far the campaign had got at the end of each week (or month) from its start to today
    (or to its end, when it has ended or was closed, unless later work was still done): the
    vehicles done by then, counted on the repair date of their approved claim, of the vehicles
    it lists now. Nothing for a campaign that has not started."""
    today = today or date.today()
    work = _work()
    done = work.c.status.in_(sorted(APPROVED_STATUSES))
    rows = db.session.execute(
        _base([campaign.id], work)
        .add_columns(work.c.repair_date, sa.func.count(work.c.vehicle_id))
        .where(done)
        .group_by(work.c.repair_date)
    ).all()
    by_day = {day: count for day, count in rows if day is not None}
    affected = completion(campaign).affected
    last = today
    if campaign.end_date is not None:
        last = min(last, campaign.end_date)
    if campaign.closed_at is not None:
        last = min(last, campaign.closed_at.date())
    if by_day:
        last = max(last, min(max(by_day), today))
    first = min([campaign.start_date, *by_day])
    if first > last:
        return []
    return [
        CompletionPoint(start, end, sum(n for day, n in by_day.items() if day <= end), affected)
        for start, end in _periods(first, last)
    ]


@dataclass(frozen=True)
class StationWork:
    """The campaign's claims of one station (whoever sold the vehicles): those done, those in
    work, and the approved cost of the done ones."""

    code: str
    name: str
    region: str
    done: int
    in_work: int
    cost: Decimal


def work_by_station(campaign: Campaign) -> list[StationWork]:
    """Who did the campaign's work: its live claims per station that filed them, most done
    first."""
    done = Claim.status.in_(sorted(APPROVED_STATUSES))
    done_count = sa.func.count(Claim.id).filter(done)
    rows = db.session.execute(
        sa.select(
            Station.code,
            Station.name,
            Station.region,
            done_count,
            sa.func.count(Claim.id).filter(sa.not_(done)),
            sa.func.coalesce(sa.func.sum(Claim.approved_total_amount).filter(done), 0),
        )
        .join(Station, Station.id == Claim.station_id)
        .where(
            Claim.campaign_id == campaign.id,
            Claim.type == ClaimType.CAMPAIGN,
            Claim.status.not_in(LIVE_USE_EXCLUDED),
        )
        .group_by(Station.code, Station.name, Station.region)
        .order_by(done_count.desc(), Station.code)
    ).all()
    return [
        StationWork(code, name, region, done or 0, in_work or 0, Decimal(cost or 0))
        for code, name, region, done, in_work, cost in rows
    ]


def remaining_vehicles(campaign: Campaign) -> sa.Select:
    """The campaign's vehicles with no live campaign claim (VIN order)."""
    work = _work()
    return (
        sa.select(Vehicle)
        .join(CampaignVehicle, CampaignVehicle.vehicle_id == Vehicle.id)
        .outerjoin(
            work,
            sa.and_(
                work.c.campaign_id == CampaignVehicle.campaign_id,
                work.c.vehicle_id == CampaignVehicle.vehicle_id,
            ),
        )
        .where(CampaignVehicle.campaign_id == campaign.id, work.c.vehicle_id.is_(None))
        .order_by(Vehicle.vin)
    )


def campaign_claims(campaign: Campaign) -> sa.Select:
    """The campaign's submitted claims, newest first."""
    return (
        sa.select(Claim)
        .where(Claim.campaign_id == campaign.id, Claim.status != ClaimStatus.DRAFT)
        .order_by(Claim.submitted_at.desc(), Claim.id.desc())
    )


def station_open_work(
    station_id: int, day: date | None = None, campaign_id: int | None = None
) -> sa.Select:
    """The (vehicle, campaign) pairs, as `CampaignVehicle` rows, of the station's own vehicles
    (sold by it, or serviced by it: it filed a submitted claim for them) on a campaign open on
    `day` (today) whose work is not done, of one campaign or all: the station calls these owners
    in. Recalls first, then by campaign and VIN."""
    day = day or date.today()
    work = _work()
    serviced = sa.select(Claim.id).where(
        Claim.vehicle_id == Vehicle.id,
        Claim.station_id == station_id,
        Claim.status != ClaimStatus.DRAFT,
    )
    stmt = (
        sa.select(CampaignVehicle)
        .join(Vehicle, Vehicle.id == CampaignVehicle.vehicle_id)
        .join(Campaign, Campaign.id == CampaignVehicle.campaign_id)
        .outerjoin(
            work,
            sa.and_(
                work.c.campaign_id == CampaignVehicle.campaign_id,
                work.c.vehicle_id == CampaignVehicle.vehicle_id,
            ),
        )
        .where(
            open_on(day),
            work.c.vehicle_id.is_(None),
            sa.or_(Vehicle.selling_station_id == station_id, serviced.exists()),
        )
        .order_by(Campaign.kind, Campaign.code, Vehicle.vin)
    )
    if campaign_id is not None:
        stmt = stmt.where(CampaignVehicle.campaign_id == campaign_id)
    return stmt


def open_campaign_work(station_id: int, day: date | None = None) -> int:
    """How many of the station's vehicles have open campaign work (its list's vehicles)."""
    stmt = station_open_work(station_id, day).order_by(None)
    count = stmt.with_only_columns(
        sa.func.count(sa.distinct(Vehicle.id)), maintain_column_froms=True
    )
    return db.session.scalar(count) or 0
