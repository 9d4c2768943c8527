"""The analyses' SQL on real rows: claims taken through the workflow (`ClaimFactory`),
vehicles with chosen sale dates. Each test names DESIGN 7's convention it checks.

The analysed vehicles are of model AN1 (and AN2), so the fleet's own HX5 vehicles, sold
relative to today, stay out of the selections.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from portal.analysis.conventions import months_in_service
from portal.analysis.queries import (
    GroupBy,
    NevadaRow,
    Selection,
    average_monthly_sales,
    claim_rates,
    claim_totals,
    life_data,
    nevada,
)
from portal.analysis.reliability import TooFewFailures
from portal.analysis.reports import reliability_report
from portal.claims.models import ClaimStatus
from tests import factories
from tests.factories import ClaimFactory, Fleet

AS_OF = date(2025, 9, 30)
CLAIMED = Decimal("230.00")  # the payload's claim: 1 x 100.00 + 10% handling + 1.50 h x 80.00


@pytest.fixture
def fleet(world):
    return Fleet.build(world)


@pytest.fixture
def an1(fleet):
    return factories.VehicleModelFactory(code="AN1")


def sold(model, day, station=None, **kw):
    return factories.VehicleFactory(
        model=model, selling_station=station, sale_date=day, production_date=date(2023, 1, 1), **kw
    )


def repaired(world, fleet, vehicle, day, status=ClaimStatus.APPROVED, **kw):
    """A claim for `vehicle` repaired on `day`, taken to `status` (a trait of the factory)."""
    return ClaimFactory(
        fleet=fleet,
        vin=vehicle.vin,
        repair_date=day.isoformat(),
        fault_date=day.isoformat(),
        **{status.value: True},
        **kw,
    )


def by_key(rows):
    return {row.key: (row.vehicles, row.claims, row.per_1000, row.cost) for row in rows}


def test_months_in_service_at_month_ends_and_c_per_1000_over_vehicles_of_that_age(
    world, fleet, an1
):
    """MIS = 1 + whole months from sale to repair (a month elapses on the month's last day when
    it is shorter); C/1000 at MIS k = claims with MIS k x 1000 / vehicles of age >= k."""
    cases = [  # sale, repair, MIS
        (date(2025, 1, 31), date(2025, 2, 27), 1),
        (date(2025, 1, 31), date(2025, 2, 28), 2),
        (date(2024, 1, 31), date(2024, 2, 28), 1),
        (date(2024, 1, 31), date(2024, 2, 29), 2),
        (date(2025, 3, 31), date(2025, 4, 30), 2),
    ]
    for sale, repair, mis in cases:
        assert months_in_service(sale, repair) == mis
        repaired(world, fleet, sold(an1, sale), repair)
    rows = by_key(claim_rates(Selection(AS_OF, model="AN1"), GroupBy.MONTHS_IN_SERVICE))
    # Ages at 2025-09-30 (September's last day): 8, 8, 20, 20, 6.
    assert list(rows) == list(range(1, 21))
    assert rows[1] == (5, 2, 400.0, Decimal("460.00"))
    assert rows[2] == (5, 3, 600.0, Decimal("690.00"))
    assert rows[7] == (4, 0, 0.0, Decimal("0.00"))  # the vehicle aged 6 no longer counts
    assert rows[9] == (2, 0, 0.0, Decimal("0.00"))
    assert rows[20] == (2, 0, 0.0, Decimal("0.00"))


def test_vehicles_of_age_0_and_their_claims_are_left_out(world, fleet, an1):
    """Age 0 at as-of: sold 2025-09-01 is not a month old on 2025-09-30; sold 2025-08-31 is
    (September's last day)."""
    young = sold(an1, date(2025, 9, 1))
    month_old = sold(an1, date(2025, 8, 31))
    repaired(world, fleet, young, date(2025, 9, 15))
    repaired(world, fleet, month_old, date(2025, 9, 15))
    (row,) = claim_rates(Selection(AS_OF, model="AN1"), GroupBy.MODEL)
    assert (row.key, row.vehicles, row.claims, row.per_1000) == ("AN1", 1, 1, 1000.0)
    assert life_data(Selection(AS_OF, model="AN1")).vehicles == 1


@pytest.mark.parametrize(
    ("status", "counted"),
    [
        (ClaimStatus.DRAFT, False),
        (ClaimStatus.IN_REVIEW, False),
        (ClaimStatus.REJECTED, False),
        (ClaimStatus.APPROVED, True),
        (ClaimStatus.PARTIALLY_APPROVED, True),
        (ClaimStatus.SETTLED, True),
    ],
)
def test_only_approved_partially_approved_and_settled_claims_count(
    world, fleet, an1, status, counted
):
    """A claim counts when approved, partially approved or settled; its cost is the approved
    amount (partially approved: the part line cut to 95.00, so 95.00 + 9.50 + 120.00)."""
    repaired(world, fleet, sold(an1, date(2025, 3, 10)), date(2025, 6, 1), status)
    selection = Selection(AS_OF, model="AN1")
    cost = Decimal("224.50") if status is ClaimStatus.PARTIALLY_APPROVED else CLAIMED
    assert claim_totals(selection) == ((1, cost) if counted else (0, Decimal("0.00")))
    assert sum(life_data(selection).failures.values()) == int(counted)


def test_claims_repaired_after_the_as_of_date_do_not_count(world, fleet, an1):
    vehicle = sold(an1, date(2025, 3, 10))
    repaired(world, fleet, vehicle, date(2025, 9, 30))
    repaired(world, fleet, vehicle, date(2025, 10, 1), causal_part="P-200")
    assert claim_totals(Selection(AS_OF, model="AN1")) == (1, CLAIMED)
    assert claim_totals(Selection(date(2025, 10, 1), model="AN1"))[0] == 2


def test_repeat_claims_count_in_rates_but_only_the_first_is_a_failure(world, fleet, an1):
    """Claim rates and the Nevada chart count every counted claim; reliability counts a vehicle
    once, at the MIS of its first counted claim of the selection."""
    vehicle = sold(an1, date(2025, 6, 15))
    repaired(world, fleet, vehicle, date(2025, 7, 10))  # MIS 1
    repaired(world, fleet, vehicle, date(2025, 9, 10))  # MIS 3
    repaired(world, fleet, vehicle, date(2025, 6, 20), ClaimStatus.REJECTED)  # not counted
    sold(an1, date(2025, 6, 20))
    selection = Selection(AS_OF, model="AN1")
    assert claim_totals(selection) == (2, 2 * CLAIMED)
    life = life_data(selection)
    assert (life.vehicles, dict(life.failures), dict(life.survivors)) == (2, {1: 1}, {3: 1})
    assert nevada(selection) == [NevadaRow("2025-06", 2, [1, 0, 1])]


def test_claim_rates_by_part_fault_code_supplier_station_region_and_model(world, fleet, an1):
    """Model rows: that model's vehicles; station and region rows: the vehicles the station (the
    region's stations) sold, and the claims it repaired; part, fault code and supplier rows: all
    the selection's vehicles. Supplier: the responsible supplier (by default the causal part's)."""
    station_a, station_b = world.stations  # East, North
    an2 = factories.VehicleModelFactory(code="AN2")
    a1 = sold(an1, date(2025, 1, 10), station_a)
    a2 = sold(an1, date(2025, 1, 10), station_b)
    sold(an1, date(2025, 2, 10), station_b)
    b1 = sold(an2, date(2025, 1, 10), station_a)
    repaired(world, fleet, a1, date(2025, 5, 1))  # P-100 (SU-A), P0301, at station A
    repaired(world, fleet, a2, date(2025, 5, 1), station="station_b", causal_part="P-200")
    other = factories.FaultCodeFactory(code="P0420")
    repaired(world, fleet, b1, date(2025, 5, 1), fault_code=other.code)

    everything = Selection(AS_OF)
    models = by_key(claim_rates(everything, GroupBy.MODEL))
    assert models["AN1"] == (3, 2, pytest.approx(666.667, abs=1e-3), 2 * CLAIMED)
    assert models["AN2"] == (1, 1, 1000.0, CLAIMED)

    an1_only = Selection(AS_OF, model="AN1")
    assert by_key(claim_rates(an1_only, GroupBy.PART)) == {
        "P-100": (3, 1, pytest.approx(333.333, abs=1e-3), CLAIMED),
        "P-200": (3, 1, pytest.approx(333.333, abs=1e-3), CLAIMED),
    }
    assert {row.key: row.claims for row in claim_rates(an1_only, GroupBy.SUPPLIER)} == {
        "SU-A": 1,
        "SU-B": 1,
    }
    stations = by_key(claim_rates(an1_only, GroupBy.STATION))
    assert stations["ST-A"][:3] == (1, 1, 1000.0)
    assert stations["ST-B"][:3] == (2, 1, 500.0)
    assert {k: v[:2] for k, v in by_key(claim_rates(an1_only, GroupBy.REGION)).items()} == {
        "East": (1, 1),
        "North": (2, 1),
    }
    assert by_key(claim_rates(an1_only, GroupBy.FAULT_CODE)) == {
        "P0301": (3, 2, pytest.approx(666.667, abs=1e-3), 2 * CLAIMED)
    }
    an2_only = Selection(AS_OF, model="AN2", fault_code="P0420")
    assert by_key(claim_rates(an2_only, GroupBy.FAULT_CODE)) == {"P0420": (1, 1, 1000.0, CLAIMED)}

    # Filters: a part, a supplier.
    assert claim_totals(Selection(AS_OF, model="AN1", part="P-200"))[0] == 1
    assert claim_totals(Selection(AS_OF, suppliers=("SU-A",)))[0] == 2
    assert claim_totals(Selection(AS_OF, suppliers=("SU-A", "SU-B")))[0] == 3


def reliawiki_nevada(world, fleet, model):
    """ReliaWiki's Nevada example in the database: shipped June 100, July 140, August 150 (on
    the 15th); returns in July, August and September (on the 10th: MIS 1, 2, 3 for June)."""
    cohorts = {
        date(2025, 6, 15): (100, [date(2025, 7, 10)] * 3 + [date(2025, 8, 10)] * 3
                               + [date(2025, 9, 10)] * 5),
        date(2025, 7, 15): (140, [date(2025, 8, 10)] * 2 + [date(2025, 9, 10)] * 4),
        date(2025, 8, 15): (150, [date(2025, 9, 10)] * 4),
    }  # fmt: skip
    for sale, (size, repairs) in cohorts.items():
        vehicles = [sold(model, sale) for _ in range(size)]
        for vehicle, repair in zip(vehicles, repairs, strict=False):
            repaired(world, fleet, vehicle, repair)


def test_reliawiki_nevada_rows_and_their_interval_fit_from_the_database(world, fleet, an1):
    """DESIGN 7's interval convention on the ReliaWiki data: the Nevada rows as published, and
    the fit beta 1.3937, eta 15.351 (C) from the rows the SQL aggregates."""
    reliawiki_nevada(world, fleet, an1)
    selection = Selection(AS_OF, model="AN1")
    assert nevada(selection) == [
        NevadaRow("2025-06", 100, [3, 3, 5]),
        NevadaRow("2025-07", 140, [2, 4]),
        NevadaRow("2025-08", 150, [4]),
    ]
    life = life_data(selection)
    assert [
        (c.sale_month, c.vehicles, dict(c.failures), dict(c.survivors)) for c in life.cohorts
    ] == [
        ("2025-06", 100, {1: 3, 2: 3, 3: 5}, {3: 89}),
        ("2025-07", 140, {1: 2, 2: 4}, {2: 134}),
        ("2025-08", 150, {1: 4}, {1: 146}),
    ]
    report = reliability_report(selection, horizon=3, future_sales=100)
    assert report.fit.shape.value == pytest.approx(1.3937, abs=5e-5)
    assert report.fit.scale.value == pytest.approx(15.351, abs=5e-4)
    assert (report.vehicles, report.failures, report.survivors) == (390, 21, 369)
    assert report.average_cost == CLAIMED
    first = report.forecast[0]
    assert first.cost == (Decimal(first.predicted) * CLAIMED).quantize(Decimal("0.01"))
    body = report.to_dict()
    assert body["distribution"] == "weibull"
    assert body["nevada"][0] == {"sale_month": "2025-06", "vehicles": 100, "claims": [3, 3, 5]}
    assert [m["month"] for m in body["forecast"]] == [1, 2, 3]
    assert body["expected_failures"]["lower"] < body["expected_failures"]["value"]


def test_future_sales_default_to_the_average_of_the_last_three_full_months(world, fleet, an1):
    for day in (date(2025, 6, 30), date(2025, 7, 1), date(2025, 8, 31), date(2025, 9, 30)):
        sold(an1, day)
    sold(an1, date(2025, 10, 1))
    # 2025-09-30 is September's last day: July, August and September, 3 vehicles.
    assert average_monthly_sales(Selection(AS_OF, model="AN1")) == 1.0
    # 2025-09-29: June, July and August, 3 vehicles.
    assert average_monthly_sales(Selection(date(2025, 9, 29), model="AN1")) == 1.0
    assert average_monthly_sales(Selection(date(2025, 8, 31), model="AN1")) == pytest.approx(1)


def test_a_selection_with_too_few_failures_is_refused(world, fleet, an1):
    repaired(world, fleet, sold(an1, date(2025, 3, 10)), date(2025, 6, 1))
    sold(an1, date(2025, 3, 10))
    with pytest.raises(TooFewFailures) as caught:
        reliability_report(Selection(AS_OF, model="AN1"))
    assert caught.value.status == 422


def test_the_vehicle_cohort_summary_follows_every_insert_update_and_delete(an1):
    """PostgreSQL's triggers keep `analysis_vehicle_cohort` equal to the vehicles it counts."""
    import sqlalchemy as sa

    from portal.analysis.models import VehicleCohort
    from portal.extensions import db
    from portal.masterdata.models import Vehicle

    def summary() -> dict:
        return {
            (row.model_id, row.sale_date, row.production_month): row.vehicles
            for row in db.session.scalars(sa.select(VehicleCohort))
        }

    def counted() -> dict:
        month = sa.func.date_trunc("month", Vehicle.production_date).cast(sa.Date)
        rows = db.session.execute(
            sa.select(Vehicle.model_id, Vehicle.sale_date, month, sa.func.count()).group_by(
                Vehicle.model_id, Vehicle.sale_date, month
            )
        )
        return {(m, s, p): n for m, s, p, n in rows}

    if db.session.get_bind().dialect.name != "postgresql":
        pytest.skip("the summary is kept on PostgreSQL only")
    first = sold(an1, date(2025, 3, 10))
    sold(an1, date(2025, 3, 10))
    last = factories.VehicleFactory(
        model=an1, sale_date=date(2025, 4, 2), production_date=date(2025, 2, 28)
    )
    db.session.flush()
    assert summary() == counted()
    assert summary()[(an1.id, date(2025, 3, 10), date(2023, 1, 1))] == 2
    first.sale_date = date(2025, 4, 2)
    db.session.flush()
    assert summary() == counted()
    db.session.delete(last)
    db.session.flush()
    assert summary() == counted()
    assert (an1.id, date(2025, 4, 2), date(2025, 2, 1)) not in summary()


def test_the_counted_claim_summary_follows_claims_and_their_vehicles(world, fleet, an1):
    """PostgreSQL's triggers keep `analysis_counted_claim` to the counted claims, with their
    vehicle's facts."""
    import sqlalchemy as sa

    from portal.analysis.conventions import COUNTED_STATUSES, COUNTED_TYPES
    from portal.analysis.models import CountedClaim
    from portal.claims.models import Claim
    from portal.extensions import db
    from portal.masterdata.models import Vehicle

    def summary() -> set:
        return set(
            db.session.execute(
                sa.select(
                    CountedClaim.claim_id, CountedClaim.sale_date, CountedClaim.causal_part_id
                )
            )
        )

    def counted() -> set:
        return set(
            db.session.execute(
                sa.select(Claim.id, Vehicle.sale_date, Claim.causal_part_id)
                .join(Vehicle, Vehicle.id == Claim.vehicle_id)
                .where(
                    Claim.status.in_(sorted(COUNTED_STATUSES)),
                    Claim.type.in_(sorted(COUNTED_TYPES)),
                )
            )
        )

    if db.session.get_bind().dialect.name != "postgresql":
        pytest.skip("the summary is kept on PostgreSQL only")
    vehicle = sold(an1, date(2025, 3, 10))
    approved = repaired(world, fleet, vehicle, date(2025, 5, 2))
    rejected = repaired(world, fleet, vehicle, date(2025, 6, 2), ClaimStatus.REJECTED)
    db.session.flush()
    assert summary() == counted()
    assert approved.id in {row[0] for row in summary()}
    assert rejected.id not in {row[0] for row in summary()}
    vehicle.sale_date = date(2025, 3, 1)
    db.session.flush()
    assert (approved.id, date(2025, 3, 1), approved.causal_part_id) in summary()
    approved.status = ClaimStatus.REJECTED
    db.session.flush()
    assert summary() == counted()
    assert approved.id not in {row[0] for row in summary()}
