"""Set-based SQL for the analyses (SQLAlchemy core; PostgreSQL and SQLite alike).

Every figure is one aggregate query over all the selection's vehicles or claims at once; Python
only merges the grouped rows (at most one per key, month or sale month). Whole months between two
dates are computed in SQL by `whole_months_sql`, the same rule as `conventions.age_in_months`.

A selection is the vehicles of a model (or of every model) and, among their counted claims, those
of a causal part, a fault code and responsible suppliers. Vehicles of age 0 at `as_of` are left
out, and so are their claims.
"""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from portal.analysis.conventions import (
    COUNTED_STATUSES,
    COUNTED_TYPES,
    last_day,
    last_full_months,
    latest_sale_date_of_age,
)
from portal.claims.models import Claim
from portal.extensions import db
from portal.masterdata.models import FaultCode, Part, Station, Supplier, Vehicle, VehicleModel
from portal.money import CENT

# -- whole months in SQL ---------------------------------------------------------------------------


def _date_parts(column) -> tuple:
    return tuple(sa.cast(sa.extract(f, column), sa.Integer) for f in ("year", "month", "day"))


def _days_in_month(year, month):
    leap = sa.and_(year % 4 == 0, sa.or_(year % 100 != 0, year % 400 == 0))
    return sa.case(
        (month == 2, sa.case((leap, 29), else_=28)),
        (month.in_((4, 6, 9, 11)), 30),
        else_=31,
    )


def whole_months_sql(start, end):
    """Whole months elapsed from date column `start` to date column `end` (NULL if either is).

    As `conventions.age_in_months`: one month less when the end day is before the start day,
    unless the end day is its month's last day.
    """
    y0, m0, d0 = _date_parts(start)
    y1, m1, d1 = _date_parts(end)
    short = sa.case((sa.and_(d1 < d0, d1 < _days_in_month(y1, m1)), 1), else_=0)
    return (y1 - y0) * 12 + (m1 - m0) - short


def age_sql(sale_date, as_of: date):
    """A vehicle's age in whole months at the fixed date `as_of`."""
    year, month, day = _date_parts(sale_date)
    months = (as_of.year - year) * 12 + (as_of.month - month)
    if as_of.day == last_day(as_of.year, as_of.month):
        return months
    return months - sa.case((day > as_of.day, 1), else_=0)


# -- the selection ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Selection:
    """What an analysis looks at: codes as the API and pages name them; None (or ()) is all.

    `suppliers` are responsible suppliers' codes (the supplier the auditor held responsible,
    by default the causal part's): a supplier's own report passes its own code.
    """

    as_of: date
    model: str | None = None
    part: str | None = None
    fault_code: str | None = None
    suppliers: tuple[str, ...] = ()
    # The pages' further filters. Vehicles: produced / sold between two dates (a month's first
    # and last day). Claims: repaired at a station or in a region, repaired on or after a date,
    # with months in service between two bounds. The vehicle counts (C/1000's denominators)
    # follow only the vehicle filters.
    station: str | None = None
    region: str | None = None
    produced_from: date | None = None
    produced_to: date | None = None
    sold_from: date | None = None
    sold_to: date | None = None
    repaired_from: date | None = None
    mis_from: int | None = None
    mis_to: int | None = None
    # Claims covered only thanks to an extended warranty contract (CONTRACT_COVERED), or the
    # others (POLICY_ONLY); None: all.
    contract: str | None = None


CONTRACT_COVERED = "contract_covered"
POLICY_ONLY = "policy_only"
CONTRACT_FILTERS = (CONTRACT_COVERED, POLICY_ONLY)


def _vehicles(selection: Selection):
    """The selection's vehicles of age >= 1 at as_of, with their age (a subquery)."""
    query = sa.select(
        Vehicle.id.label("vehicle_id"),
        Vehicle.model_id,
        Vehicle.selling_station_id,
        Vehicle.sale_date,
        Vehicle.production_date,
        age_sql(Vehicle.sale_date, selection.as_of).label("age"),
    ).where(Vehicle.sale_date <= latest_sale_date_of_age(selection.as_of, 1))
    if selection.model is not None:
        query = query.where(
            _refers_to(Vehicle.model_id, VehicleModel, VehicleModel.code, selection.model)
        )
    for column, low, high in (
        (Vehicle.production_date, selection.produced_from, selection.produced_to),
        (Vehicle.sale_date, selection.sold_from, selection.sold_to),
    ):
        if low is not None:
            query = query.where(column >= low)
        if high is not None:
            query = query.where(column <= high)
    return query.subquery("v")


def _counted_vehicles(selection: Selection):
    """The selection's vehicles of age >= 1 to count: (a subquery with `model_id`,
    `sale_date`, `production_date`, `age` and the count `n` of each row, or None).

    On PostgreSQL the counts come from the summary `analysis_vehicle_cohort` (its triggers keep
    it exact; `production_date` is then the production month's first day), a few thousand rows
    instead of every vehicle. None elsewhere, or for a production range that is not whole
    months: the caller counts `_vehicles`.
    """
    from portal.analysis.models import VehicleCohort

    low, high = selection.produced_from, selection.produced_to
    if db.session.get_bind().dialect.name != "postgresql":
        return None
    if low is not None and low.day != 1:
        return None
    if high is not None and high.day != last_day(high.year, high.month):
        return None
    query = sa.select(
        VehicleCohort.model_id,
        VehicleCohort.sale_date,
        VehicleCohort.production_month.label("production_date"),
        age_sql(VehicleCohort.sale_date, selection.as_of).label("age"),
        VehicleCohort.vehicles.label("n"),
    ).where(VehicleCohort.sale_date <= latest_sale_date_of_age(selection.as_of, 1))
    if selection.model is not None:
        query = query.where(
            _refers_to(VehicleCohort.model_id, VehicleModel, VehicleModel.code, selection.model)
        )
    if low is not None:
        query = query.where(VehicleCohort.production_month >= low)
    if high is not None:
        query = query.where(VehicleCohort.production_month <= high)
    if selection.sold_from is not None:
        query = query.where(VehicleCohort.sale_date >= selection.sold_from)
    if selection.sold_to is not None:
        query = query.where(VehicleCohort.sale_date <= selection.sold_to)
    return query.subquery("vc")


def _vehicle_source(selection: Selection, vehicles=None):
    """(rows to count the selection's vehicles over, the count): the cohort summary's rows and
    the sum of their counts where `_counted_vehicles` has them, else the vehicles and count(*)."""
    cohorts = _counted_vehicles(selection)
    if cohorts is not None:
        return cohorts, sa.func.coalesce(sa.func.sum(cohorts.c.n), 0)
    return (vehicles if vehicles is not None else _vehicles(selection)), sa.func.count()


def _refers_to(foreign_key, table, code_column, code: str):
    """`foreign_key` holds the id of `table`'s row whose `code_column` is `code`."""
    return foreign_key == sa.select(table.id).where(code_column == code).scalar_subquery()


def _counted_claims(selection: Selection, vehicles):
    """The selection's counted claims on those vehicles, with their MIS (a subquery)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return _counted_claims_summary(selection)
    mis = (1 + whole_months_sql(vehicles.c.sale_date, Claim.repair_date)).label("mis")
    query = (
        sa.select(
            Claim.id.label("claim_id"),
            Claim.vehicle_id,
            Claim.station_id,
            Claim.causal_part_id,
            Claim.fault_code_id,
            Claim.responsible_supplier_id,
            Claim.repair_date,
            Claim.approved_total_amount,
            vehicles.c.model_id,
            vehicles.c.sale_date,
            vehicles.c.production_date,
            mis,
        )
        .join(vehicles, vehicles.c.vehicle_id == Claim.vehicle_id)
        .where(
            Claim.status.in_(sorted(COUNTED_STATUSES)),
            Claim.type.in_(sorted(COUNTED_TYPES)),
            Claim.repair_date <= selection.as_of,
        )
    )
    return _with_claim_filters(query, selection, Claim, mis).subquery("c")


def _counted_claims_summary(selection: Selection):
    """`_counted_claims` from `analysis_counted_claim` (PostgreSQL, where its triggers keep it):
    the same claims and columns, with the vehicle filters on the vehicle facts each row holds."""
    from portal.analysis.models import CountedClaim as C

    mis = (1 + whole_months_sql(C.sale_date, C.repair_date)).label("mis")
    query = sa.select(
        C.claim_id,
        C.vehicle_id,
        C.station_id,
        C.causal_part_id,
        C.fault_code_id,
        C.responsible_supplier_id,
        C.repair_date,
        C.approved_total_amount,
        C.model_id,
        C.sale_date,
        C.production_date,
        mis,
    ).where(
        C.sale_date <= latest_sale_date_of_age(selection.as_of, 1),
        C.repair_date <= selection.as_of,
    )
    if selection.model is not None:
        query = query.where(
            _refers_to(C.model_id, VehicleModel, VehicleModel.code, selection.model)
        )
    for column, low, high in (
        (C.production_date, selection.produced_from, selection.produced_to),
        (C.sale_date, selection.sold_from, selection.sold_to),
    ):
        if low is not None:
            query = query.where(column >= low)
        if high is not None:
            query = query.where(column <= high)
    return _with_claim_filters(query, selection, C, mis).subquery("c")


def _with_claim_filters(query, selection: Selection, claims, mis):
    """`query` narrowed by the selection's claim-side filters; `claims` is `Claim` or the
    `analysis_counted_claim` summary, which carry the same column names."""
    if selection.part is not None:
        query = query.where(_refers_to(claims.causal_part_id, Part, Part.number, selection.part))
    if selection.fault_code is not None:
        query = query.where(
            _refers_to(claims.fault_code_id, FaultCode, FaultCode.code, selection.fault_code)
        )
    if selection.suppliers:
        query = query.where(
            claims.responsible_supplier_id.in_(
                sa.select(Supplier.id).where(Supplier.code.in_(selection.suppliers))
            )
        )
    if selection.station is not None:
        query = query.where(_refers_to(claims.station_id, Station, Station.code, selection.station))
    if selection.region is not None:
        query = query.where(
            claims.station_id.in_(sa.select(Station.id).where(Station.region == selection.region))
        )
    if selection.repaired_from is not None:
        query = query.where(claims.repair_date >= selection.repaired_from)
    if selection.mis_from is not None:
        query = query.where(mis >= selection.mis_from)
    if selection.mis_to is not None:
        query = query.where(mis <= selection.mis_to)
    if selection.contract == CONTRACT_COVERED:
        query = query.where(claims.contract_id.is_not(None))
    elif selection.contract == POLICY_ONLY:
        query = query.where(claims.contract_id.is_(None))
    return query


# -- the claim summaries (PostgreSQL; migration 0028) ---------------------------------------------

# Selection fields the summaries cannot narrow to: any of them set, the analyses read the claims.
_CLAIM_FILTERS = (
    "part",
    "fault_code",
    "suppliers",
    "station",
    "region",
    "produced_from",
    "produced_to",
    "sold_from",
    "sold_to",
    "repaired_from",
    "mis_from",
    "mis_to",
    "contract",
)


def summaries_cover(selection: Selection) -> bool:
    """Whether the claim summaries (`ClaimCell`, `ClaimPart`, `ClaimStation`) hold exactly the
    selection's counted claims, once those of vehicles sold too recently are subtracted
    (`_recent_claims`): on PostgreSQL, for every model or one, and when no counted claim is
    repaired after `as_of` (the summaries do not know the repair date; as of today none is).
    """
    from portal.analysis.models import CountedClaim

    if db.session.get_bind().dialect.name != "postgresql":
        return False
    if any(getattr(selection, name) for name in _CLAIM_FILTERS):
        return False
    latest = db.session.scalar(sa.select(sa.func.max(CountedClaim.repair_date)))
    return latest is None or latest <= selection.as_of


def _model_is(column, selection: Selection) -> list:
    if selection.model is None:
        return []
    return [_refers_to(column, VehicleModel, VehicleModel.code, selection.model)]


def _recent_claims(selection: Selection):
    """The counted claims (with a repair date) the summaries hold but the selection leaves out:
    those of vehicles younger than a month at `as_of` (few: sold in the last month)."""
    from portal.analysis.models import CountedClaim as C

    return (
        sa.select(C)
        .where(
            C.sale_date > latest_sale_date_of_age(selection.as_of, 1),
            C.repair_date.is_not(None),
            *_model_is(C.model_id, selection),
        )
        .subquery("recent")
    )


def _summed(summary_rows, recent_rows) -> dict:
    """key -> [claims, cost, ...] of a summary's grouped rows (key first) less the recent
    claims' rows of the same shape; keys left with no claim are dropped."""
    result: dict = {}
    for key, *values in summary_rows:
        result[key] = [v if v is not None else 0 for v in values]
    for key, *values in recent_rows:
        target = result[key]
        for index, value in enumerate(values):
            target[index] -= value if value is not None else 0
    return {key: values for key, values in result.items() if values[0]}


def _summary_claim_rows(selection: Selection, group_by: GroupBy) -> dict | None:
    """`claim_rates`' claim rows {key: (claims, cost)} from the summaries, or None for a key
    they do not hold (fault code)."""
    from portal.analysis.models import ClaimCell, ClaimPart, ClaimStation

    recent = _recent_claims(selection)
    cutoff = latest_sale_date_of_age(selection.as_of, 1)
    if group_by in (
        GroupBy.MODEL,
        GroupBy.MONTHS_IN_SERVICE,
        GroupBy.PRODUCTION_MONTH,
        GroupBy.SALE_MONTH,
    ):
        key = {
            GroupBy.MODEL: VehicleModel.code,
            GroupBy.MONTHS_IN_SERVICE: ClaimCell.mis,
            GroupBy.PRODUCTION_MONTH: _month_key(ClaimCell.production_month),
            GroupBy.SALE_MONTH: _month_key(ClaimCell.sale_date),
        }[group_by]
        query = (
            sa.select(key, sa.func.sum(ClaimCell.claims), sa.func.sum(ClaimCell.cost))
            .select_from(ClaimCell)
            .where(ClaimCell.sale_date <= cutoff, *_model_is(ClaimCell.model_id, selection))
        )
        if group_by is GroupBy.MODEL:
            query = query.join(VehicleModel, VehicleModel.id == ClaimCell.model_id)
        rows = db.session.execute(query.group_by(key)).all()
        return {key: (int(n), cost) for key, (n, cost) in _summed(rows, []).items()}
    if group_by in (GroupBy.PART, GroupBy.SUPPLIER):
        table, key, column, recent_column = {
            GroupBy.PART: (Part, Part.number, ClaimPart.causal_part_id, recent.c.causal_part_id),
            GroupBy.SUPPLIER: (
                Supplier,
                Supplier.code,
                ClaimPart.supplier_id,
                recent.c.responsible_supplier_id,
            ),
        }[group_by]
        summary = sa.select(key, sa.func.sum(ClaimPart.claims), sa.func.sum(ClaimPart.cost))
        summary = summary.select_from(ClaimPart).outerjoin(table, table.id == column)
        summary = summary.where(*_model_is(ClaimPart.model_id, selection)).group_by(key)
        recent_rows = (
            sa.select(key, sa.func.count(), sa.func.sum(recent.c.approved_total_amount))
            .select_from(recent)
            .outerjoin(table, table.id == recent_column)
            .group_by(key)
        )
    elif group_by in (GroupBy.STATION, GroupBy.REGION):
        key = Station.code if group_by is GroupBy.STATION else Station.region
        summary = (
            sa.select(key, sa.func.sum(ClaimStation.claims), sa.func.sum(ClaimStation.cost))
            .join(Station, Station.id == ClaimStation.station_id)
            .where(*_model_is(ClaimStation.model_id, selection))
            .group_by(key)
        )
        recent_rows = (
            sa.select(key, sa.func.count(), sa.func.sum(recent.c.approved_total_amount))
            .select_from(recent)
            .join(Station, Station.id == recent.c.station_id)
            .group_by(key)
        )
    else:
        return None
    rows = _summed(db.session.execute(summary).all(), db.session.execute(recent_rows).all())
    return {key: (int(n), cost) for key, (n, cost) in rows.items()}


def _summary_station_vehicles(selection: Selection, group_by: GroupBy) -> dict:
    """The selection's vehicles by selling station's code or region (None: sold by none), from
    `StationVehicle` less those sold too recently to count."""
    from portal.analysis.models import StationVehicle

    key = Station.code if group_by is GroupBy.STATION else Station.region
    summary = (
        sa.select(key, sa.func.sum(StationVehicle.vehicles))
        .select_from(StationVehicle)
        .outerjoin(Station, Station.id == StationVehicle.station_id)
        .where(*_model_is(StationVehicle.model_id, selection))
        .group_by(key)
    )
    recent = (
        sa.select(key, sa.func.count())
        .select_from(Vehicle)
        .outerjoin(Station, Station.id == Vehicle.selling_station_id)
        .where(
            Vehicle.sale_date > latest_sale_date_of_age(selection.as_of, 1),
            *_model_is(Vehicle.model_id, selection),
        )
        .group_by(key)
    )
    rows = _summed(db.session.execute(summary).all(), db.session.execute(recent).all())
    return {key: int(values[0]) for key, values in rows.items()}


def counted_claims(selection: Selection):
    """The ids of the selection's counted claims (a subquery with `claim_id` and `mis`): the
    drill-down's list is exactly the claims behind a figure."""
    return _counted_claims(selection, _vehicles(selection))


# -- claim rates -----------------------------------------------------------------------------------


class GroupBy(enum.StrEnum):
    MODEL = "model"
    MONTHS_IN_SERVICE = "months_in_service"
    PART = "part"
    FAULT_CODE = "fault_code"
    SUPPLIER = "supplier"
    STATION = "station"
    REGION = "region"
    PRODUCTION_MONTH = "production_month"
    SALE_MONTH = "sale_month"


# DESIGN 8's `claim-rates` keys; the pages also group by production and sale month.
API_GROUPS = tuple(g for g in GroupBy if g not in (GroupBy.PRODUCTION_MONTH, GroupBy.SALE_MONTH))


@dataclass(frozen=True)
class RateRow:
    """One row of a claim-rate table: C/1000 = claims x 1000 / vehicles (None without vehicles)."""

    key: str | int | None
    vehicles: int
    claims: int
    cost: Decimal

    @property
    def per_1000(self) -> float | None:
        return self.claims * 1000 / self.vehicles if self.vehicles else None


def _key_columns(group_by: GroupBy, vehicles, claims):
    """(key of a vehicle or None when every row has all vehicles, key of a claim, their joins).

    A model's vehicles are that model's; a station's are those it sold, a region's those sold by
    its stations; part, fault code and supplier rows share the selection's vehicles.
    """
    selling = aliased(Station, flat=True)
    repairing = aliased(Station, flat=True)
    if group_by is GroupBy.MODEL:
        return (
            (
                VehicleModel.code,
                vehicles.join(VehicleModel, VehicleModel.id == vehicles.c.model_id),
            ),
            (VehicleModel.code, claims.join(VehicleModel, VehicleModel.id == claims.c.model_id)),
        )
    if group_by is GroupBy.MONTHS_IN_SERVICE:
        return (vehicles.c.age, vehicles), (claims.c.mis, claims)
    if group_by in (GroupBy.PRODUCTION_MONTH, GroupBy.SALE_MONTH):
        name = "production_date" if group_by is GroupBy.PRODUCTION_MONTH else "sale_date"
        return (_month_key(vehicles.c[name]), vehicles), (_month_key(claims.c[name]), claims)
    if group_by in (GroupBy.STATION, GroupBy.REGION):
        attribute = "code" if group_by is GroupBy.STATION else "region"
        return (
            (
                getattr(selling, attribute),
                vehicles.outerjoin(selling, selling.id == vehicles.c.selling_station_id),
            ),
            (
                getattr(repairing, attribute),
                claims.join(repairing, repairing.id == claims.c.station_id),
            ),
        )
    table, key, column = {
        GroupBy.PART: (Part, Part.number, claims.c.causal_part_id),
        GroupBy.FAULT_CODE: (FaultCode, FaultCode.code, claims.c.fault_code_id),
        GroupBy.SUPPLIER: (Supplier, Supplier.code, claims.c.responsible_supplier_id),
    }[group_by]
    return (None, vehicles), (key, claims.outerjoin(table, table.id == column))


def _month_key(column):
    """A date's month as the number YYYYMM (named `YYYY-MM` by `claim_rates`)."""
    year, month, _ = _date_parts(column)
    return year * 100 + month


def _sort_key(key) -> tuple:
    return (key is None, key if key is not None else 0)


def claim_rates(
    selection: Selection, group_by: GroupBy, vehicles_total: int | None = None
) -> list[RateRow]:
    """Claims, vehicles, C/1000 and cost per key (DESIGN 8's `claim-rates`), ordered by key.

    For months in service the key is k, its claims those with MIS k and its vehicles those of
    age >= k (a claim in the current, incomplete month can have a k no vehicle has reached yet:
    its row has 0 vehicles and no C/1000). `vehicles_total`, when the caller knows it, spares
    counting the selection's vehicles again for the keys every row shares them on.
    """
    vehicles = _vehicles(selection)
    claims = _counted_claims(selection, vehicles)
    (vehicle_key, vehicle_from), (claim_key, claim_from) = _key_columns(group_by, vehicles, claims)
    if group_by in (GroupBy.STATION, GroupBy.REGION):
        counted, count = vehicles, sa.func.count()  # the summary has no selling station
    else:
        counted, count = _vehicle_source(selection, vehicles)
        (vehicle_key, vehicle_from), _ = _key_columns(group_by, counted, claims)

    covered = summaries_cover(selection)
    if vehicle_key is None and vehicles_total is not None:
        total, vehicle_counts = vehicles_total, {}
    elif vehicle_key is None:
        total = int(db.session.scalar(sa.select(count).select_from(counted)) or 0)
        vehicle_counts: dict = {}
    elif covered and group_by in (GroupBy.STATION, GroupBy.REGION):
        vehicle_counts = _summary_station_vehicles(selection, group_by)
    else:
        rows = db.session.execute(
            sa.select(vehicle_key.label("key"), count.label("n"))
            .select_from(vehicle_from)
            .group_by(vehicle_key)
        )
        vehicle_counts = {row.key: int(row.n) for row in rows}
    claim_rows = _summary_claim_rows(selection, group_by) if covered else None
    if claim_rows is None:
        claim_rows = {
            row.key: (row.n, row.cost)
            for row in db.session.execute(
                sa.select(
                    claim_key.label("key"),
                    sa.func.count().label("n"),
                    sa.func.sum(claims.c.approved_total_amount).label("cost"),
                )
                .select_from(claim_from)
                .group_by(claim_key)
            )
        }

    if group_by is GroupBy.MONTHS_IN_SERVICE:
        top = max([*vehicle_counts, *claim_rows], default=0)
        keys = range(1, top + 1)
        at_least, running = {}, 0
        for k in reversed(keys):
            running += vehicle_counts.get(k, 0)
            at_least[k] = running
        vehicle_counts = at_least
    else:
        keys = sorted({*vehicle_counts, *claim_rows}, key=_sort_key)
    monthly = group_by in (GroupBy.PRODUCTION_MONTH, GroupBy.SALE_MONTH)
    result = []
    for key in keys:
        n, cost = claim_rows.get(key, (0, None))
        vehicles_n = total if vehicle_key is None else vehicle_counts.get(key, 0)
        name = _month_name(*divmod(key, 100)) if monthly and key is not None else key
        result.append(RateRow(name, vehicles_n, n, (cost or Decimal(0)).quantize(CENT)))
    return result


def vehicle_count(selection: Selection) -> int:
    """The selection's vehicles (of age >= 1 at as_of): overall C/1000's denominator."""
    counted, count = _vehicle_source(selection)
    return int(db.session.scalar(sa.select(count).select_from(counted)) or 0)


def claim_totals(selection: Selection) -> tuple[int, Decimal]:
    """The selection's counted claims and their approved cost."""
    from portal.analysis.models import ClaimCell

    if summaries_cover(selection):
        n, cost = db.session.execute(
            sa.select(sa.func.sum(ClaimCell.claims), sa.func.sum(ClaimCell.cost)).where(
                ClaimCell.sale_date <= latest_sale_date_of_age(selection.as_of, 1),
                *_model_is(ClaimCell.model_id, selection),
            )
        ).one()
        return int(n or 0), (cost or Decimal(0)).quantize(CENT)
    claims = _counted_claims(selection, _vehicles(selection))
    n, cost = db.session.execute(
        sa.select(sa.func.count(), sa.func.sum(claims.c.approved_total_amount))
    ).one()
    return n, (cost or Decimal(0)).quantize(CENT)


@dataclass(frozen=True)
class Trend:
    """A key's counted claims repaired in the last `months` months against the months before."""

    key: str
    recent: int
    previous: int

    @property
    def change(self) -> int:
        return self.recent - self.previous


def rising(
    selection: Selection, group_by: GroupBy, months: int = 3, limit: int = 10
) -> list[Trend]:
    """The keys whose claims rose most: repaired in (as_of - months, as_of] against the
    `months` months before, largest rise first (ties: more recent claims first)."""
    vehicles = _vehicles(selection)
    claims = _counted_claims(selection, vehicles)
    _, (claim_key, claim_from) = _key_columns(group_by, vehicles, claims)
    recent_from = latest_sale_date_of_age(selection.as_of, months)
    previous_from = latest_sale_date_of_age(selection.as_of, 2 * months)
    recent = sa.func.sum(sa.case((claims.c.repair_date > recent_from, 1), else_=0))
    previous = sa.func.sum(
        sa.case(
            (sa.and_(claims.c.repair_date > previous_from, claims.c.repair_date <= recent_from), 1),
            else_=0,
        )
    )
    query = (
        sa.select(claim_key.label("key"), recent.label("recent"), previous.label("previous"))
        .select_from(claim_from)
        .where(claims.c.repair_date > previous_from, claim_key.is_not(None))
        .group_by(claim_key)
    )
    if group_by is GroupBy.PART and summaries_cover(selection):
        counts = _rising_parts_from_summary(selection, query, claims, recent_from, previous_from)
    else:
        counts = {row.key: (row.recent, row.previous) for row in db.session.execute(query)}
    trends = [Trend(key, int(r or 0), int(p or 0)) for key, (r, p) in counts.items()]
    trends = [t for t in trends if t.change > 0]
    trends.sort(key=lambda t: (-t.change, -t.recent, str(t.key)))
    return trends[:limit]


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _rising_parts_from_summary(selection, query, claims, recent_from, previous_from) -> dict:
    """`rising`'s {part: (recent, previous)}: the whole months after the month of
    `previous_from` from `ClaimPartMonth` (less the claims of vehicles sold too recently to
    count), the months of `previous_from` and `recent_from` from the claims (`query`)."""
    from portal.analysis.models import ClaimPartMonth as M

    edges = [(d.replace(day=1), _next_month(d)) for d in (previous_from, recent_from)]
    (_, after_previous), (recent_month, after_recent) = edges
    counts: dict = {}

    def add(rows, sign: int) -> None:
        for key, r, p in rows:
            if key is not None:
                old_r, old_p = counts.get(key, (0, 0))
                counts[key] = (old_r + sign * int(r or 0), old_p + sign * int(p or 0))

    def whole(month, n):
        is_recent = month >= after_recent
        is_previous = sa.and_(month >= after_previous, month < recent_month)
        return (
            sa.func.sum(sa.case((is_recent, n), else_=0)),
            sa.func.sum(sa.case((is_previous, n), else_=0)),
            sa.or_(is_recent, is_previous),
        )

    r, p, inside = whole(M.repair_month, M.claims)
    add(
        db.session.execute(
            sa.select(Part.number, r, p)
            .join(Part, Part.id == M.causal_part_id)
            .where(M.repair_month >= after_previous, inside, *_model_is(M.model_id, selection))
            .group_by(Part.number)
        ),
        1,
    )
    young = _recent_claims(selection)
    r, p, inside = whole(young.c.repair_date, 1)
    add(
        db.session.execute(
            sa.select(Part.number, r, p)
            .select_from(young)
            .join(Part, Part.id == young.c.causal_part_id)
            .where(young.c.repair_date >= after_previous, inside)
            .group_by(Part.number)
        ),
        -1,
    )
    edge_days = sa.or_(
        *(
            sa.and_(claims.c.repair_date >= first, claims.c.repair_date < after)
            for first, after in edges
        )
    )
    add(db.session.execute(query.where(edge_days)), 1)
    return counts


def average_monthly_sales(selection: Selection, months: int = 3) -> float:
    """Vehicles of the selection's model(s) sold per month over the last `months` full months."""
    from portal.analysis.models import VehicleCohort

    first, last = last_full_months(selection.as_of, months)
    if db.session.get_bind().dialect.name == "postgresql":  # the summary `_counted_vehicles` reads
        table, count = VehicleCohort, sa.func.sum(VehicleCohort.vehicles)
    else:
        table, count = Vehicle, sa.func.count(Vehicle.id)
    query = sa.select(count).where(table.sale_date.between(first, last))
    if selection.model is not None:
        query = query.join(VehicleModel, VehicleModel.id == table.model_id).where(
            VehicleModel.code == selection.model
        )
    return int(db.session.scalar(query) or 0) / months


# -- life data and the Nevada chart ----------------------------------------------------------------


@dataclass
class Cohort:
    """The vehicles sold in one month: survivors by age, failures by the MIS of the first claim."""

    sale_month: str
    vehicles: int = 0
    oldest: int = 0  # the age of its oldest vehicle (sold first), in months
    survivors: Counter = field(default_factory=Counter)  # age in months -> vehicles
    failures: Counter = field(default_factory=Counter)  # MIS k -> vehicles failed in (k-1, k]


@dataclass
class LifeData:
    """The reliability input of a selection (DESIGN 7), by cohort and in total."""

    cohorts: list[Cohort]

    @property
    def survivors(self) -> Counter:
        return sum((c.survivors for c in self.cohorts), Counter())

    @property
    def failures(self) -> Counter:
        return sum((c.failures for c in self.cohorts), Counter())

    @property
    def vehicles(self) -> int:
        return sum(c.vehicles for c in self.cohorts)


def _sale_month_columns(vehicles):
    year, month, _ = _date_parts(vehicles.c.sale_date)
    return year.label("sale_year"), month.label("sale_month")


def _month_name(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def life_data(selection: Selection) -> LifeData:
    """Each vehicle whose first counted claim of the selection has MIS k failed in (k-1, k];
    every other vehicle is right-censored at its age. Grouped in SQL by sale month, age and
    the first claim's MIS: one row per distinct combination, never one per vehicle."""
    vehicles = _vehicles(selection)
    claims = _counted_claims(selection, vehicles)
    first = (
        sa.select(claims.c.vehicle_id, sa.func.min(claims.c.repair_date).label("repair_date"))
        .group_by(claims.c.vehicle_id)
        .subquery("first_claim")
    )
    cohorts = _counted_vehicles(selection)
    if cohorts is not None:
        return _life_data_from_cohorts(selection, claims, cohorts)
    per_vehicle = (
        sa.select(
            *_sale_month_columns(vehicles),
            vehicles.c.age,
            (1 + whole_months_sql(vehicles.c.sale_date, first.c.repair_date)).label("mis"),
        )
        .select_from(vehicles.outerjoin(first, first.c.vehicle_id == vehicles.c.vehicle_id))
        .subquery("per_vehicle")
    )
    rows = db.session.execute(
        sa.select(
            per_vehicle.c.sale_year,
            per_vehicle.c.sale_month,
            per_vehicle.c.age,
            per_vehicle.c.mis,
            sa.func.count().label("n"),
        )
        .group_by(*per_vehicle.c)
        .order_by(per_vehicle.c.sale_year, per_vehicle.c.sale_month)
    )
    cohorts: dict[str, Cohort] = {}
    for row in rows:
        name = _month_name(row.sale_year, row.sale_month)
        cohort = cohorts.setdefault(name, Cohort(name))
        cohort.vehicles += row.n
        cohort.oldest = max(cohort.oldest, row.age)
        if row.mis is None:
            cohort.survivors[row.age] += row.n
        else:
            cohort.failures[row.mis] += row.n
    return LifeData(list(cohorts.values()))


def _life_data_from_cohorts(selection: Selection, claims, cohorts) -> LifeData:
    """`life_data` with the vehicles counted from the cohort summary: the failed vehicles by
    sale month, age and MIS come from their claims (which carry their vehicle's sale date),
    the survivors are the rest of each sale month and age."""
    sale_year, sale_month = _sale_month_columns(cohorts)
    sizes = db.session.execute(
        sa.select(sale_year, sale_month, cohorts.c.age, sa.func.sum(cohorts.c.n).label("n"))
        .group_by(sale_year, sale_month, cohorts.c.age)
        .order_by(sale_year, sale_month)
    ).all()
    first = (
        sa.select(
            claims.c.vehicle_id,
            sa.func.min(claims.c.sale_date).label("sale_date"),
            sa.func.min(claims.c.repair_date).label("repair_date"),
        )
        .group_by(claims.c.vehicle_id)
        .subquery("first_claim")
    )
    if summaries_cover(selection):
        failed = _summary_failures(selection)
    else:
        failed_query = sa.select(
            *_sale_month_columns(first),
            age_sql(first.c.sale_date, selection.as_of).label("age"),
            (1 + whole_months_sql(first.c.sale_date, first.c.repair_date)).label("mis"),
        ).subquery("failed")
        failed = db.session.execute(
            sa.select(*failed_query.c, sa.func.count().label("n")).group_by(*failed_query.c)
        ).all()
    cohorts_by_name: dict[str, Cohort] = {}
    for row in sizes:
        name = _month_name(row.sale_year, row.sale_month)
        cohort = cohorts_by_name.setdefault(name, Cohort(name))
        cohort.vehicles += int(row.n)
        cohort.oldest = max(cohort.oldest, row.age)
        cohort.survivors[row.age] += int(row.n)
    for row in failed:
        cohort = cohorts_by_name[_month_name(row.sale_year, row.sale_month)]
        cohort.failures[row.mis] += row.n
        cohort.survivors[row.age] -= row.n
    for cohort in cohorts_by_name.values():
        for age in [age for age, n in cohort.survivors.items() if n <= 0]:
            del cohort.survivors[age]
    return LifeData([cohorts_by_name[name] for name in sorted(cohorts_by_name)])


def _summary_failures(selection: Selection) -> list:
    """The failed vehicles (their first counted claim) by sale month, age and MIS, from
    `ClaimCell`."""
    from portal.analysis.models import ClaimCell

    year, month, _ = _date_parts(ClaimCell.sale_date)
    age = age_sql(ClaimCell.sale_date, selection.as_of)
    keys = (year.label("sale_year"), month.label("sale_month"), age.label("age"), ClaimCell.mis)
    return db.session.execute(
        sa.select(*keys, sa.func.sum(ClaimCell.failures).label("n"))
        .where(
            ClaimCell.sale_date <= latest_sale_date_of_age(selection.as_of, 1),
            ClaimCell.failures > 0,
            *_model_is(ClaimCell.model_id, selection),
        )
        .group_by(*keys)
    ).all()


@dataclass(frozen=True)
class NevadaRow:
    """A Nevada chart row: a sale month's vehicles and its counted claims at MIS 1, 2, ..."""

    sale_month: str
    vehicles: int
    claims: list[int]
    cost: Decimal = field(default=Decimal("0.00"), compare=False)  # of the row's claims


def nevada(selection: Selection, life: LifeData | None = None) -> list[NevadaRow]:
    """Counted claims (every one, repeats included) by sale month and MIS, with their cost.

    A row's list runs to the cohort's oldest age, or further when a claim in the current,
    incomplete month has MIS age + 1. `life`, the selection's life data when the caller has
    it, gives the cohorts' sizes and ages without counting the vehicles again.
    """
    vehicles = _vehicles(selection)
    claims = _counted_claims(selection, vehicles)
    if life is not None:
        sizes = {
            tuple(int(part) for part in c.sale_month.split("-")): (c.vehicles, c.oldest)
            for c in life.cohorts
        }
    else:
        counted, count = _vehicle_source(selection, vehicles)
        sale_year, sale_month = _sale_month_columns(counted)
        sizes = {
            (row.sale_year, row.sale_month): (int(row.n), row.age)
            for row in db.session.execute(
                sa.select(
                    sale_year,
                    sale_month,
                    count.label("n"),
                    sa.func.max(counted.c.age).label("age"),
                ).group_by(sale_year, sale_month)
            )
        }
    if summaries_cover(selection):
        from portal.analysis.models import ClaimCell

        year, month, _ = _date_parts(ClaimCell.sale_date)
        cell_keys = (year.label("sale_year"), month.label("sale_month"), ClaimCell.mis)
        cell_rows = db.session.execute(
            sa.select(
                *cell_keys,
                sa.func.sum(ClaimCell.claims).label("n"),
                sa.func.sum(ClaimCell.cost).label("cost"),
            )
            .where(
                ClaimCell.sale_date <= latest_sale_date_of_age(selection.as_of, 1),
                *_model_is(ClaimCell.model_id, selection),
            )
            .group_by(*cell_keys)
        ).all()
    else:
        cell_rows = _nevada_cells(claims)
    cells: Counter = Counter()
    costs: Counter = Counter()
    for row in cell_rows:
        cells[(row.sale_year, row.sale_month, row.mis)] = int(row.n)
        costs[(row.sale_year, row.sale_month)] += row.cost or 0
    widths: dict = {}
    for cy, cm, k in cells:
        widths[(cy, cm)] = max(widths.get((cy, cm), 0), k)
    result = []
    for (y, m), (n, age) in sorted(sizes.items()):
        width = max(age, widths.get((y, m), 0))
        counts = [cells[(y, m, k)] for k in range(1, width + 1)]
        cost = Decimal(costs[(y, m)] or 0).quantize(CENT)
        result.append(NevadaRow(_month_name(y, m), n, counts, cost))
    return result


def _nevada_cells(claims) -> list:
    """The counted claims and their cost by sale month and MIS."""
    year, month, _ = _date_parts(claims.c.sale_date)
    cells_query = sa.select(
        year.label("sale_year"),
        month.label("sale_month"),
        claims.c.mis,
        claims.c.approved_total_amount,
    ).subquery("cells")
    return db.session.execute(
        sa.select(
            cells_query.c.sale_year,
            cells_query.c.sale_month,
            cells_query.c.mis,
            sa.func.count().label("n"),
            sa.func.sum(cells_query.c.approved_total_amount).label("cost"),
        ).group_by(cells_query.c.sale_year, cells_query.c.sale_month, cells_query.c.mis)
    ).all()
