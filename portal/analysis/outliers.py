"""Outlier stations (fraud signal): stations whose claims stand far above their peers'.

Over a selection's counted claims, per repairing station:
- claims per vehicle: claims / distinct vehicles repaired (inflated claims come back on the same
  vehicles);
- cost per claim and labor hours per claim (approved labor hours);
- repeat repairs: claims on a vehicle and causal part that the station or another repaired within
  `REPEAT_DAYS` days before.

How far above the peers is measured by a test, not a ranking:
- counts (claims against vehicles, repeats against claims) by a one-sided Poisson test: the
  station's count against what its peers' rate gives for its own vehicles or claims, p-value
  P(Poisson(expected) >= observed);
- averages (cost and labor hours per claim) by the modified z-score of Iglewicz and Hoaglin,
  0.6745 x (x - median) / MAD over all stations, robust to the very outliers it looks for.
A station is flagged when a p-value is below `ALPHA` or a modified z-score above `Z_LIMIT`
(Iglewicz and Hoaglin's 3.5), with at least `MIN_CLAIMS` claims.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa

from portal.analysis import queries
from portal.analysis.queries import Selection
from portal.claims.models import ClaimLine, LineKind
from portal.extensions import db
from portal.masterdata.models import Station
from portal.money import CENT

ALPHA = 0.001
Z_LIMIT = 3.5
MIN_CLAIMS = 5
REPEAT_DAYS = 90


@dataclass
class StationFigures:
    code: str
    name: str
    region: str
    claims: int
    vehicles: int
    cost: Decimal
    labor_hours: Decimal
    repeats: int
    tests: dict = field(default_factory=dict)  # metric -> (value, peer value, statistic, flagged)

    @property
    def claims_per_vehicle(self) -> float:
        return self.claims / self.vehicles if self.vehicles else 0.0

    @property
    def cost_per_claim(self) -> Decimal:
        return (self.cost / self.claims).quantize(CENT) if self.claims else Decimal("0.00")

    @property
    def hours_per_claim(self) -> float:
        return float(self.labor_hours) / self.claims if self.claims else 0.0

    @property
    def repeat_share(self) -> float:
        return self.repeats / self.claims if self.claims else 0.0

    @property
    def flagged(self) -> bool:
        return any(flag for *_, flag in self.tests.values())


def _poisson_p(observed: int, expected: float) -> float:
    from scipy.stats import poisson

    if observed <= 0:
        return 1.0
    return float(poisson.sf(observed - 1, expected)) if expected > 0 else 0.0


def modified_z(values: list[float]) -> list[float]:
    """Iglewicz and Hoaglin's modified z-scores; with a MAD of 0, the mean absolute deviation
    scaled to the same units (1.253314 x meanAD), and 0 when every value is the same."""
    if not values:
        return []
    median = statistics.median(values)
    deviations = [abs(v - median) for v in values]
    mad = statistics.median(deviations)
    if mad > 0:
        return [0.6745 * (v - median) / mad for v in values]
    mean_ad = statistics.fmean(deviations)
    if mean_ad > 0:
        return [(v - median) / (1.253314 * mean_ad) for v in values]
    return [0.0 for _ in values]


def _repeats(counted) -> dict:
    """Per station: its claims on a vehicle and causal part repaired within REPEAT_DAYS after an
    earlier counted claim on the same (at any station)."""
    pairs = (
        sa.select(counted.c.vehicle_id, counted.c.causal_part_id)
        .where(counted.c.causal_part_id.is_not(None))
        .group_by(counted.c.vehicle_id, counted.c.causal_part_id)
        .having(sa.func.count() > 1)
        .subquery("pairs")
    )
    rows = db.session.execute(
        sa.select(
            counted.c.vehicle_id,
            counted.c.causal_part_id,
            counted.c.repair_date,
            counted.c.claim_id,
            counted.c.station_id,
        )
        .join(
            pairs,
            sa.and_(
                pairs.c.vehicle_id == counted.c.vehicle_id,
                pairs.c.causal_part_id == counted.c.causal_part_id,
            ),
        )
        .order_by(
            counted.c.vehicle_id,
            counted.c.causal_part_id,
            counted.c.repair_date,
            counted.c.claim_id,
        )
    ).all()
    result: dict = defaultdict(int)
    previous = None
    for vehicle_id, part_id, repair_date, _claim_id, station_id in rows:
        if (
            previous is not None
            and previous[0] == (vehicle_id, part_id)
            and (repair_date - previous[1]).days <= REPEAT_DAYS
        ):
            result[station_id] += 1
        previous = ((vehicle_id, part_id), repair_date)
    return result


def outlier_stations(selection: Selection) -> list[StationFigures]:
    """Every repairing station of the selection's counted claims with its figures and tests,
    flagged stations first (then by claims)."""
    if queries.summaries_cover(selection):
        stations = _stations_from_summary(selection)
    else:
        stations = _stations_from_claims(selection)
    _test(stations)
    stations.sort(key=lambda s: (not s.flagged, -s.claims, s.code))
    return stations


def _stations_from_summary(selection: Selection) -> list[StationFigures]:
    """The stations' figures from `ClaimStation` (its triggers keep the hours, repeats and
    distinct vehicles), less the claims of vehicles sold too recently to count."""
    from portal.analysis.models import ClaimStation

    summary = db.session.execute(
        sa.select(
            ClaimStation.station_id,
            sa.func.sum(ClaimStation.claims),
            sa.func.sum(ClaimStation.vehicles),
            sa.func.sum(ClaimStation.cost),
            sa.func.sum(ClaimStation.labor_hours),
            sa.func.sum(ClaimStation.repeats),
        )
        .where(*queries._model_is(ClaimStation.model_id, selection))
        .group_by(ClaimStation.station_id)
    ).all()
    recent = queries._recent_claims(selection)
    flag = lambda column: sa.func.sum(sa.cast(column, sa.Integer))  # noqa: E731
    recent_rows = db.session.execute(
        sa.select(
            recent.c.station_id,
            sa.func.count(),
            flag(recent.c.first_at_station),
            sa.func.sum(recent.c.approved_total_amount),
            sa.func.sum(recent.c.labor_hours),
            flag(recent.c.repeat_repair),
        ).group_by(recent.c.station_id)
    ).all()
    figures = queries._summed(summary, recent_rows)
    names = {
        row.id: row
        for row in db.session.execute(
            sa.select(Station.id, Station.code, Station.name, Station.region).where(
                Station.id.in_(list(figures))
            )
        )
    }
    return [
        StationFigures(
            code=names[station_id].code,
            name=names[station_id].name,
            region=names[station_id].region,
            claims=int(claims),
            vehicles=int(vehicles),
            cost=Decimal(cost).quantize(CENT),
            labor_hours=Decimal(hours),
            repeats=int(repeats),
        )
        for station_id, (claims, vehicles, cost, hours, repeats) in figures.items()
        if station_id in names
    ]


def _stations_from_claims(selection: Selection) -> list[StationFigures]:
    counted = queries.counted_claims(selection)
    hours = (
        sa.select(ClaimLine.claim_id, sa.func.sum(ClaimLine.approved_hours).label("hours"))
        .where(ClaimLine.kind == LineKind.LABOR)
        .group_by(ClaimLine.claim_id)
        .subquery("hours")
    )
    rows = db.session.execute(
        sa.select(
            Station.id,
            Station.code,
            Station.name,
            Station.region,
            sa.func.count().label("claims"),
            sa.func.count(sa.distinct(counted.c.vehicle_id)).label("vehicles"),
            sa.func.sum(counted.c.approved_total_amount).label("cost"),
            sa.func.sum(sa.func.coalesce(hours.c.hours, 0)).label("hours"),
        )
        .select_from(counted)
        .join(Station, Station.id == counted.c.station_id)
        .outerjoin(hours, hours.c.claim_id == counted.c.claim_id)
        .group_by(Station.id, Station.code, Station.name, Station.region)
    ).all()
    repeats = _repeats(counted)
    stations = [
        StationFigures(
            code=row.code,
            name=row.name,
            region=row.region,
            claims=row.claims,
            vehicles=row.vehicles,
            cost=(row.cost or Decimal(0)).quantize(CENT),
            labor_hours=Decimal(row.hours or 0),
            repeats=repeats.get(row.id, 0),
        )
        for row in rows
    ]
    return stations


def _test(stations: list[StationFigures]) -> None:
    total_claims = sum(s.claims for s in stations)
    total_vehicles = sum(s.vehicles for s in stations)
    total_repeats = sum(s.repeats for s in stations)
    for s in stations:
        enough = s.claims >= MIN_CLAIMS
        peer_claims, peer_vehicles = total_claims - s.claims, total_vehicles - s.vehicles
        peer_rate = peer_claims / peer_vehicles if peer_vehicles else None
        if peer_rate is not None:
            p = _poisson_p(s.claims, peer_rate * s.vehicles)
            s.tests["claims_per_vehicle"] = (
                s.claims_per_vehicle,
                peer_rate,
                p,
                enough and p < ALPHA,
            )
        peer_share = (total_repeats - s.repeats) / peer_claims if peer_claims else None
        if peer_share is not None:
            p = _poisson_p(s.repeats, peer_share * s.claims)
            s.tests["repeats"] = (s.repeat_share, peer_share, p, enough and p < ALPHA)
    for metric, value in (
        ("cost_per_claim", lambda s: float(s.cost_per_claim)),
        ("hours_per_claim", lambda s: s.hours_per_claim),
    ):
        values = [value(s) for s in stations]
        median = statistics.median(values) if values else 0.0
        for s, z in zip(stations, modified_z(values), strict=True):
            flagged = s.claims >= MIN_CLAIMS and z > Z_LIMIT
            s.tests[metric] = (value(s), median, z, flagged)
