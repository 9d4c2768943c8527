"""How far a campaign has got (完成率), and the campaign work waiting at a station.

A vehicle of a campaign is *done* when a claim for the campaign's work on it is approved
(partially approved or settled included), *in work* while such a claim is submitted, in review
or returned, and *remaining* otherwise (a rejected claim leaves it remaining). Cost so far is
the approved total of the done claims; the cost still to come is the average cost of a done
vehicle times the vehicles not done yet (nothing while none is done).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
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


def station_open_work(station_id: int, day: date | None = None) -> sa.Select:
    """(vehicle, campaign) pairs of the station's own vehicles (sold by it, or serviced by it:
    it filed a submitted claim for them) on a campaign open on `day` (today) whose work is not
    done: the station calls these owners in. Recalls first, then by VIN."""
    day = day or date.today()
    work = _work()
    serviced = sa.select(Claim.id).where(
        Claim.vehicle_id == Vehicle.id,
        Claim.station_id == station_id,
        Claim.status != ClaimStatus.DRAFT,
    )
    return (
        sa.select(Vehicle, Campaign)
        .join(CampaignVehicle, CampaignVehicle.vehicle_id == Vehicle.id)
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


def open_campaign_work(station_id: int, day: date | None = None) -> int:
    """How many of the station's vehicles have open campaign work (its list's vehicles)."""
    stmt = station_open_work(station_id, day).order_by(None)
    count = stmt.with_only_columns(
        sa.func.count(sa.distinct(Vehicle.id)), maintain_column_froms=True
    )
    return db.session.scalar(count) or 0
