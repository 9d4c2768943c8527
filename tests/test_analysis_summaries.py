"""Migration 0028's claim summaries on PostgreSQL: their triggers keep them exact through every
insert, update and delete of claims, claim lines and vehicles (compared with the same figures
computed here from `claim`, `claim_line` and `vehicle`), and the analyses read from them give
exactly what they give from the claims.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.analysis import outliers, queries
from portal.analysis.conventions import COUNTED_STATUSES, COUNTED_TYPES, months_in_service
from portal.analysis.queries import GroupBy, Selection
from portal.claims.models import Claim, ClaimLine, ClaimStatus, LineKind
from portal.extensions import db
from portal.masterdata.models import Vehicle
from tests import factories
from tests.factories import ClaimFactory, Fleet


@pytest.fixture(autouse=True)
def _postgresql_only(db_session):
    if db.session.get_bind().dialect.name != "postgresql":
        pytest.skip("the summaries are kept on PostgreSQL only")


@pytest.fixture
def fleet(world):
    return Fleet.build(world)


@pytest.fixture
def an1(fleet):
    return factories.VehicleModelFactory(code="AN1")


def sold(model, day, station=None, produced=date(2023, 1, 1)):
    return factories.VehicleFactory(
        model=model, selling_station=station, sale_date=day, production_date=produced
    )


def repaired(fleet, vehicle, day, state="approved", **kw):
    return ClaimFactory(
        fleet=fleet,
        vin=vehicle.vin,
        repair_date=day.isoformat(),
        fault_date=day.isoformat(),
        **{state: True},
        **kw,
    )


def expected() -> dict:
    """The four summaries computed here from the claims, their lines and the vehicles."""
    rows = db.session.execute(
        sa.select(
            Claim.id,
            Claim.vehicle_id,
            Claim.station_id,
            Claim.causal_part_id,
            Claim.responsible_supplier_id,
            Claim.repair_date,
            Claim.approved_total_amount,
            Vehicle.model_id,
            Vehicle.sale_date,
            Vehicle.production_date,
        )
        .join(Vehicle, Vehicle.id == Claim.vehicle_id)
        .where(
            Claim.status.in_(sorted(COUNTED_STATUSES)),
            Claim.type.in_(sorted(COUNTED_TYPES)),
            Claim.repair_date.is_not(None),
        )
        .order_by(Claim.repair_date, Claim.id)
    ).all()
    hours: dict = defaultdict(Decimal)
    for claim_id, value in db.session.execute(
        sa.select(ClaimLine.claim_id, ClaimLine.approved_hours).where(
            ClaimLine.kind == LineKind.LABOR, ClaimLine.approved_hours.is_not(None)
        )
    ):
        hours[claim_id] += value
    first_failure, first_at_station, repeats = set(), {}, set()
    last_repair: dict = {}
    seen_vehicles = set()
    for row in rows:  # in repair date and id order
        if row.vehicle_id not in seen_vehicles:
            seen_vehicles.add(row.vehicle_id)
            first_failure.add(row.id)
        key = (row.vehicle_id, row.station_id)
        first_at_station[key] = min(first_at_station.get(key, row.id), row.id)
        if row.causal_part_id is not None:
            pair = (row.vehicle_id, row.causal_part_id)
            if pair in last_repair and (row.repair_date - last_repair[pair]).days <= 90:
                repeats.add(row.id)
            last_repair[pair] = row.repair_date
    firsts_at_station = set(first_at_station.values())
    cell: dict = defaultdict(lambda: [0, Decimal("0.00"), 0])
    part: dict = defaultdict(lambda: [0, Decimal("0.00")])
    station: dict = defaultdict(lambda: [0, Decimal("0.00"), Decimal("0.00"), 0, 0])
    part_month: dict = defaultdict(int)
    for row in rows:
        cost = row.approved_total_amount or Decimal("0.00")
        part_month[(row.repair_date.replace(day=1), row.model_id, row.causal_part_id or 0)] += 1
        mis = months_in_service(row.sale_date, row.repair_date)
        key = (row.model_id, row.sale_date, row.production_date.replace(day=1), mis)
        for target, values in (
            (cell[key], (1, cost, int(row.id in first_failure))),
            (
                part[(row.model_id, row.causal_part_id or 0, row.responsible_supplier_id or 0)],
                (1, cost),
            ),
            (
                station[(row.model_id, row.station_id)],
                (
                    1,
                    cost,
                    hours[row.id],
                    int(row.id in repeats),
                    int(row.id in firsts_at_station),
                ),
            ),
        ):
            for index, value in enumerate(values):
                target[index] += value
    vehicles: dict = defaultdict(int)
    for station_id, model_id in db.session.execute(
        sa.select(Vehicle.selling_station_id, Vehicle.model_id)
    ):
        vehicles[(station_id or 0, model_id)] += 1
    return {
        "cell": {k: tuple(v) for k, v in cell.items()},
        "part": {k: tuple(v) for k, v in part.items()},
        "station": {k: tuple(v) for k, v in station.items()},
        "vehicles": dict(vehicles),
        "part_month": dict(part_month),
    }


def summaries() -> dict:
    from portal.analysis.models import (
        ClaimCell,
        ClaimPart,
        ClaimPartMonth,
        ClaimStation,
        StationVehicle,
    )

    def read(model, keys, values):
        return {
            tuple(getattr(r, k) for k in keys): tuple(getattr(r, v) for v in values)
            for r in db.session.scalars(sa.select(model))
        }

    db.session.flush()
    return {
        "cell": read(
            ClaimCell,
            ("model_id", "sale_date", "production_month", "mis"),
            ("claims", "cost", "failures"),
        ),
        "part": read(ClaimPart, ("model_id", "causal_part_id", "supplier_id"), ("claims", "cost")),
        "station": read(
            ClaimStation,
            ("model_id", "station_id"),
            ("claims", "cost", "labor_hours", "repeats", "vehicles"),
        ),
        "vehicles": {
            k: v[0]
            for k, v in read(StationVehicle, ("station_id", "model_id"), ("vehicles",)).items()
        },
        "part_month": {
            k: v[0]
            for k, v in read(
                ClaimPartMonth, ("repair_month", "model_id", "causal_part_id"), ("claims",)
            ).items()
        },
    }


def assert_exact():
    assert summaries() == expected()


@pytest.fixture
def history(world, fleet, an1):
    """AN1 vehicles at two stations; claims on P-100 and P-200 with repeat repairs within 90
    days, a second claim at another station, a rejected one, one in the vehicle's 1st MIS and
    one of a vehicle not a month old on the last repair date (2025-08-01)."""
    a, b = world.stations[0], world.stations[1]
    vehicles = [sold(an1, date(2025, 1, 10), a) for _ in range(3)]
    vehicles.append(sold(an1, date(2025, 2, 28), b, produced=date(2025, 1, 31)))
    recent = sold(an1, date(2025, 7, 20), b)  # under a month old at 2025-08-01
    made = {
        "first": repaired(fleet, vehicles[0], date(2025, 2, 20)),
        "repeat": repaired(fleet, vehicles[0], date(2025, 4, 1)),
        "elsewhere": repaired(
            fleet, vehicles[0], date(2025, 8, 1), station="station_b", causal_part="P-200"
        ),
        "other": repaired(fleet, vehicles[1], date(2025, 4, 15), causal_part="P-200"),
        "again": repaired(fleet, vehicles[1], date(2025, 6, 10), causal_part="P-200"),
        "rejected": repaired(fleet, vehicles[2], date(2025, 3, 1), "rejected"),
        "young": repaired(fleet, vehicles[3], date(2025, 3, 20)),
        "recent": repaired(fleet, recent, date(2025, 7, 25), station="station_b"),
    }
    db.session.flush()
    return vehicles, made


def test_the_summaries_follow_claims_lines_and_vehicles(history):
    vehicles, made = history
    assert_exact()
    station = summaries()["station"]
    assert sum(v[3] for v in station.values()) == 2  # the repeat repairs
    # a claim changes its repair date: its MIS, the vehicle's first failure and the repeat move
    made["first"].repair_date = date(2025, 6, 1)
    assert_exact()
    # approved hours of a labor line change
    line = next(line for line in made["other"].lines if line.kind == LineKind.LABOR)
    line.approved_hours = Decimal("3.25")
    assert_exact()
    db.session.delete(line)
    assert_exact()
    # a claim stops counting, another starts
    made["repeat"].status = ClaimStatus.REJECTED
    assert_exact()
    made["rejected"].status = ClaimStatus.APPROVED
    made["rejected"].approved_total_amount = Decimal("12.34")
    assert_exact()
    # its causal part and station change
    made["other"].causal_part_id = made["first"].causal_part_id
    made["other"].station_id = made["elsewhere"].station_id
    assert_exact()
    # a vehicle's sale date, model and selling station change; vehicles are added and deleted
    vehicles[0].sale_date = date(2024, 12, 31)
    vehicles[1].selling_station = None
    vehicles[3].model = factories.VehicleModelFactory(code="AN2")
    assert_exact()
    spare = sold(vehicles[0].model, date(2025, 5, 5))
    assert_exact()
    db.session.delete(spare)
    assert_exact()
    # labor lines are deleted; a copy of a claim (no lines, no history) is inserted and deleted
    db.session.execute(
        sa.delete(ClaimLine).where(
            ClaimLine.claim_id == made["young"].id, ClaimLine.kind == LineKind.LABOR
        )
    )
    assert_exact()
    copy = _copy_claim(made["elsewhere"].id)
    assert_exact()
    db.session.execute(sa.delete(Claim).where(Claim.id == copy))
    assert_exact()


def _copy_claim(claim_id: int) -> int:
    """A new claim row with the columns of `claim_id` (a bulk insert, as an import does)."""
    columns = [c.name for c in Claim.__table__.columns if c.name not in ("id", "number")]
    names = ", ".join(f'"{c}"' for c in columns)
    statement = f"INSERT INTO claim (number, {names}) SELECT number || '-COPY', {names} "
    statement += "FROM claim WHERE id = :id RETURNING id"
    return db.session.execute(sa.text(statement), {"id": claim_id}).scalar_one()


def _both_ways(monkeypatch, compute):
    """`compute()` from the summaries and from the claims."""
    from_summaries = compute()
    monkeypatch.setattr(queries, "summaries_cover", lambda selection: False)
    from_claims = compute()
    monkeypatch.undo()
    return from_summaries, from_claims


@pytest.mark.parametrize("model", [None, "AN1"])
def test_the_analyses_read_from_the_summaries_what_they_read_from_the_claims(
    history, monkeypatch, model
):
    latest = db.session.scalar(sa.select(sa.func.max(Claim.repair_date)))
    for as_of in (latest, date(2025, 8, 31), date(2025, 9, 10)):
        selection = Selection(as_of, model=model)
        assert queries.summaries_cover(selection)
        computations = [
            *(lambda s, g=g: queries.claim_rates(s, g) for g in GroupBy),
            queries.claim_totals,
            queries.nevada,
            lambda s: queries.rising(s, GroupBy.PART),
            lambda s: [vars(c) for c in queries.life_data(s).cohorts],
            lambda s: [vars(f) for f in outliers.outlier_stations(s)],
        ]
        assert queries.rising(selection, GroupBy.PART) or as_of != latest
        for compute in computations:
            ours, theirs = _both_ways(monkeypatch, lambda c=compute, s=selection: c(s))
            assert ours == theirs
    # a claim repaired after as-of: the analyses read the claims
    assert not queries.summaries_cover(Selection(date(2025, 7, 31), model=model))
    assert not queries.summaries_cover(Selection(latest, model=model, part="P-100"))


def test_the_sql_months_in_service_is_the_conventions_one():
    days = [date(2024, 1, 31), date(2024, 2, 29), date(2025, 1, 31), date(2025, 2, 28)]
    days += [date(2025, 3, 30), date(2025, 3, 31), date(2025, 4, 30), date(2025, 12, 1)]
    days += [date(2026, 1, 15), date(2025, 1, 1), date(2024, 12, 31)]
    for sold_on in days:
        for repaired_on in days:
            if repaired_on >= sold_on:
                in_sql = db.session.scalar(
                    sa.text("SELECT analysis_months_in_service(:s, :r)"),
                    {"s": sold_on, "r": repaired_on},
                )
                assert in_sql == months_in_service(sold_on, repaired_on), (sold_on, repaired_on)
