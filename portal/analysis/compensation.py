"""Compensation analysis (车辆赔偿分析): where the money of a selection's counted claims went.

All figures are over the selection's counted claims (`queries.counted_claims`), so the filters
and the drill-down are the fault analysis's:
- paid to stations: the claims' lines on released station statements (settled) and on paid ones;
- scrap and overdue deductions: the stations' deduction lines of those claims (negative);
- recovered from suppliers: chargebacks on released supplier statements, by status; recovered is
  accepted + upheld, and the recovery rate is recovered / approved cost of the claims that have a
  responsible supplier; by supplier, causal part and statement period;
- touchless share: claims approved by an auto-decision rule;
- cycle times (median and 90th percentile, days): submitted -> decided -> settled (the station
  statement released) -> paid (marked paid);
- the audit queue's age: claims submitted or in review now (not a counted claim, so only the
  vehicle's model and station filters apply; suppliers do not see it).

Only released statements count: a draft run is finance's preview, not money that moved.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa

from portal.analysis import queries
from portal.analysis.queries import Selection
from portal.claims.models import Claim, ClaimStatus
from portal.db import utcnow
from portal.extensions import db
from portal.masterdata.models import Part, Station, Supplier, Vehicle, VehicleModel
from portal.money import CENT
from portal.settlement.models import (
    Chargeback,
    ChargebackStatus,
    LineKind,
    Statement,
    StatementKind,
    StatementLine,
    StatementStatus,
)

RECOVERED = (ChargebackStatus.ACCEPTED, ChargebackStatus.UPHELD)
QUEUE_STATUSES = (ClaimStatus.SUBMITTED, ClaimStatus.IN_REVIEW)
QUEUE_BUCKETS = ((0, 2), (3, 7), (8, 14), (15, 30), (31, None))  # days waiting


def _money(value) -> Decimal:
    return (value or Decimal(0)).quantize(CENT)


@dataclass
class Recovery:
    """A row of a recovery table: what the key's claims cost and what came back."""

    key: str | None
    claims: int = 0
    cost: Decimal = Decimal("0.00")  # approved cost of the claims with a responsible supplier
    charged: Decimal = Decimal("0.00")  # chargebacks on released supplier statements
    recovered: Decimal = Decimal("0.00")  # accepted + upheld
    waived: Decimal = Decimal("0.00")
    disputed: Decimal = Decimal("0.00")  # disputed, not resolved yet
    open: Decimal = Decimal("0.00")  # not reviewed by the supplier yet

    @property
    def rate(self) -> float | None:
        return float(self.recovered / self.cost) if self.cost else None


@dataclass(frozen=True)
class CycleTime:
    name: str
    claims: int
    median: float | None
    p90: float | None


@dataclass
class Compensation:
    claims: int
    cost: Decimal
    settled: Decimal  # claim lines on released station statements
    paid: Decimal  # of them, on paid statements
    scrap: Decimal  # deductions (negative)
    overdue: Decimal
    touchless: int
    recovery: Recovery
    by_supplier: list[Recovery]
    by_part: list[Recovery]
    by_period: list[Recovery]
    cycle_times: list[CycleTime]
    queue: dict = field(default_factory=dict)

    @property
    def touchless_share(self) -> float | None:
        return self.touchless / self.claims if self.claims else None


def _released(statement):
    return statement.status != StatementStatus.DRAFT


def _station_money(counted) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    kinds = {}
    rows = db.session.execute(
        sa.select(
            StatementLine.kind,
            sa.func.sum(StatementLine.amount),
            sa.func.sum(
                sa.case((Statement.status == StatementStatus.PAID, StatementLine.amount), else_=0)
            ),
        )
        .join(Statement, Statement.id == StatementLine.statement_id)
        .where(
            StatementLine.claim_id.in_(sa.select(counted.c.claim_id)),
            Statement.kind == StatementKind.STATION,
            _released(Statement),
        )
        .group_by(StatementLine.kind)
    )
    for kind, total, paid in rows:
        kinds[kind] = (_money(total), _money(paid))
    settled, paid = kinds.get(LineKind.CLAIM, (Decimal("0.00"), Decimal("0.00")))
    return (
        settled,
        paid,
        kinds.get(LineKind.SCRAP_RESIDUAL, (Decimal("0.00"),))[0],
        kinds.get(LineKind.OVERDUE, (Decimal("0.00"),))[0],
    )


def _recoveries(counted, key_column, joins) -> dict:
    """Recovery rows by `key_column` over the counted claims with a responsible supplier."""
    cost_query = (
        sa.select(
            key_column.label("key"),
            sa.func.count().label("n"),
            sa.func.sum(Claim.approved_total_amount).label("cost"),
        )
        .select_from(Claim)
        .join(counted, counted.c.claim_id == Claim.id)
        .where(Claim.responsible_supplier_id.is_not(None))
    )
    for join in joins:
        cost_query = cost_query.outerjoin(*join)
    rows: dict = {}
    for row in db.session.execute(cost_query.group_by(key_column)):
        rows[row.key] = Recovery(row.key, row.n, _money(row.cost))
    money_query = (
        sa.select(
            key_column.label("key"),
            Chargeback.status,
            sa.func.sum(Chargeback.amount).label("amount"),
        )
        .select_from(Claim)
        .join(counted, counted.c.claim_id == Claim.id)
        .join(Chargeback, Chargeback.claim_id == Claim.id)
        .join(Statement, Statement.id == Chargeback.statement_id)
        .where(_released(Statement))
    )
    for join in joins:
        money_query = money_query.outerjoin(*join)
    for row in db.session.execute(money_query.group_by(key_column, Chargeback.status)):
        target = rows.setdefault(row.key, Recovery(row.key))
        amount = _money(row.amount)
        target.charged += amount
        if row.status in RECOVERED:
            target.recovered += amount
        elif row.status is ChargebackStatus.WAIVED:
            target.waived += amount
        elif row.status is ChargebackStatus.DISPUTED:
            target.disputed += amount
        else:
            target.open += amount
    return rows


def _total(rows) -> Recovery:
    total = Recovery(None)
    for row in rows:
        for name in ("claims", "cost", "charged", "recovered", "waived", "disputed", "open"):
            setattr(total, name, getattr(total, name) + getattr(row, name))
    return total


def _percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]


def _days(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return (end - start).total_seconds() / 86400


def _cycle_times(counted) -> list[CycleTime]:
    station_statement = (
        sa.select(StatementLine.claim_id, Statement.released_at, Statement.paid_at)
        .join(Statement, Statement.id == StatementLine.statement_id)
        .where(
            StatementLine.kind == LineKind.CLAIM,
            Statement.kind == StatementKind.STATION,
            _released(Statement),
        )
        .subquery("settled")
    )
    moments = (
        sa.select(
            Claim.submitted_at,
            Claim.decided_at,
            station_statement.c.released_at,
            station_statement.c.paid_at,
        )
        .join(counted, counted.c.claim_id == Claim.id)
        .outerjoin(station_statement, station_statement.c.claim_id == Claim.id)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        return _cycle_times_in_sql(moments.subquery("moments"))
    rows = db.session.execute(moments).all()
    steps = {
        "submit_decision": [_days(r[0], r[1]) for r in rows],
        "decision_settled": [_days(r[1], r[2]) for r in rows],
        "settled_paid": [_days(r[2], r[3]) for r in rows],
        "submit_paid": [_days(r[0], r[3]) for r in rows],
    }
    result = []
    for name, values in steps.items():
        kept = sorted(v for v in values if v is not None)
        result.append(
            CycleTime(
                name, len(kept), statistics.median(kept) if kept else None, _percentile(kept, 0.9)
            )
        )
    return result


def _cycle_times_in_sql(moments) -> list[CycleTime]:
    """`_cycle_times` aggregated by PostgreSQL: its percentile_cont interpolates linearly
    between the closest ranks, as `_percentile` does (statistics' inclusive method)."""
    spans = {
        "submit_decision": (moments.c.submitted_at, moments.c.decided_at),
        "decision_settled": (moments.c.decided_at, moments.c.released_at),
        "settled_paid": (moments.c.released_at, moments.c.paid_at),
        "submit_paid": (moments.c.submitted_at, moments.c.paid_at),
    }
    columns = []
    for start, end in spans.values():
        # float days (numeric would sort slowly); both percentiles from one sort
        days = sa.cast(sa.extract("epoch", end - start), sa.Float) / 86400.0
        columns += [
            sa.func.count(days),
            sa.func.percentile_cont(sa.literal_column("ARRAY[0.5, 0.9]")).within_group(days),
        ]
    row = db.session.execute(sa.select(*columns)).one()
    result = []
    for index, name in enumerate(spans):
        n, both = row[2 * index : 2 * index + 2]
        median, p90 = both if both else (None, None)
        result.append(
            CycleTime(
                name,
                n,
                float(median) if n else None,
                float(p90) if n else None,
            )
        )
    return result


def audit_queue(selection: Selection, now: datetime | None = None) -> dict:
    """Claims waiting for an audit decision now: count, median and oldest age in days, and how
    many in each age bucket."""
    now = now or utcnow()
    query = sa.select(Claim.submitted_at).where(
        Claim.status.in_(list(QUEUE_STATUSES)), Claim.submitted_at.is_not(None)
    )
    if selection.model is not None:
        query = (
            query.join(Vehicle, Vehicle.id == Claim.vehicle_id)
            .join(VehicleModel, VehicleModel.id == Vehicle.model_id)
            .where(VehicleModel.code == selection.model)
        )
    if selection.station is not None:
        query = query.join(Station, Station.id == Claim.station_id).where(
            Station.code == selection.station
        )
    ages = sorted(_days(at, now) for at in db.session.scalars(query))
    buckets = []
    for low, high in QUEUE_BUCKETS:
        n = sum(1 for a in ages if a >= low and (high is None or a < high + 1))
        buckets.append((low, high, n))
    return {
        "claims": len(ages),
        "median": statistics.median(ages) if ages else None,
        "p90": _percentile(ages, 0.9),
        "oldest": ages[-1] if ages else None,
        "buckets": buckets,
    }


def compensation(selection: Selection) -> Compensation:
    counted = queries.counted_claims(selection)
    claims, cost = db.session.execute(
        sa.select(sa.func.count(), sa.func.sum(counted.c.approved_total_amount))
    ).one()
    touchless = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Claim)
        .join(counted, counted.c.claim_id == Claim.id)
        .where(Claim.auto_decision_rule.is_not(None))
    )
    settled, paid, scrap, overdue = _station_money(counted)
    supplier = sa.orm.aliased(Supplier, flat=True)
    by_supplier = _recoveries(
        counted, supplier.code, [(supplier, supplier.id == Claim.responsible_supplier_id)]
    )
    by_part = _recoveries(counted, Part.number, [(Part, Part.id == Claim.causal_part_id)])
    by_period = _recoveries_by_period(counted)
    return Compensation(
        claims=claims,
        cost=_money(cost),
        settled=settled,
        paid=paid,
        scrap=scrap,
        overdue=overdue,
        touchless=touchless or 0,
        recovery=_total(by_supplier.values()),
        by_supplier=sorted(by_supplier.values(), key=lambda r: (-r.cost, str(r.key))),
        by_part=sorted(by_part.values(), key=lambda r: (-r.cost, str(r.key))),
        by_period=by_period,
        cycle_times=_cycle_times(counted),
    )


# -- the snapshot of the report over every counted claim ------------------------------------------

SNAPSHOT = "compensation"
_MONEY = ("cost", "settled", "paid", "scrap", "overdue")
_RECOVERY_MONEY = ("cost", "charged", "recovered", "waived", "disputed", "open")


def is_snapshot_selection(selection: Selection) -> bool:
    """The selection the snapshot holds: every counted claim (no filter but the as-of date)."""
    return selection == Selection(as_of=selection.as_of)


def _recovery_from(values: dict) -> Recovery:
    return Recovery(
        values["key"],
        values["claims"],
        **{name: Decimal(values[name]) for name in _RECOVERY_MONEY},
    )


def _to_payload(report: Compensation) -> dict:
    def plain(value):
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        return value

    return plain(asdict(report))


def _from_payload(payload: dict) -> Compensation:
    return Compensation(
        claims=payload["claims"],
        **{name: Decimal(payload[name]) for name in _MONEY},
        touchless=payload["touchless"],
        recovery=_recovery_from(payload["recovery"]),
        by_supplier=[_recovery_from(r) for r in payload["by_supplier"]],
        by_part=[_recovery_from(r) for r in payload["by_part"]],
        by_period=[_recovery_from(r) for r in payload["by_period"]],
        cycle_times=[CycleTime(**c) for c in payload["cycle_times"]],
    )


def stored(as_of: date) -> tuple[Compensation, datetime] | None:
    """The snapshot of every counted claim as of `as_of` and when it was computed, if any."""
    from portal.analysis.models import Snapshot

    found = db.session.scalar(
        sa.select(Snapshot).where(Snapshot.kind == SNAPSHOT, Snapshot.as_of == as_of)
    )
    return None if found is None else (_from_payload(found.payload), found.computed_at)


def store(as_of: date, report: Compensation | None = None) -> Compensation:
    """Compute (unless given) and store the snapshot as of `as_of`, replacing that date's and
    removing older ones; the caller commits."""
    from portal.analysis.models import Snapshot

    if report is None:
        report = compensation(Selection(as_of=as_of))
    db.session.execute(
        sa.delete(Snapshot).where(Snapshot.kind == SNAPSHOT, Snapshot.as_of <= as_of)
    )
    db.session.add(
        Snapshot(kind=SNAPSHOT, as_of=as_of, computed_at=utcnow(), payload=_to_payload(report))
    )
    db.session.flush()
    return report


def _recoveries_by_period(counted) -> list[Recovery]:
    """Chargebacks by their supplier statement's period (the month they were charged)."""
    rows: dict = {}
    for period, status, n, amount, cost in db.session.execute(
        sa.select(
            Statement.period,
            Chargeback.status,
            sa.func.count(),
            sa.func.sum(Chargeback.amount),
            sa.func.sum(Claim.approved_total_amount),
        )
        .select_from(Claim)
        .join(counted, counted.c.claim_id == Claim.id)
        .join(Chargeback, Chargeback.claim_id == Claim.id)
        .join(Statement, Statement.id == Chargeback.statement_id)
        .where(_released(Statement))
        .group_by(Statement.period, Chargeback.status)
    ):
        row = rows.setdefault(period, Recovery(period))
        row.claims += n
        row.cost += _money(cost)
        row.charged += _money(amount)
        if status in RECOVERED:
            row.recovered += _money(amount)
        elif status is ChargebackStatus.WAIVED:
            row.waived += _money(amount)
        elif status is ChargebackStatus.DISPUTED:
            row.disputed += _money(amount)
        else:
            row.open += _money(amount)
    return [rows[k] for k in sorted(rows)]
