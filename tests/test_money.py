"""Money is exact: Decimal in code, scaled integers in the database, half-up per line."""

from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.masterdata.models import Station
from portal.money import ScaledDecimal, money_sum, round_money, to_decimal
from tests import factories


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.005", "0.01"),
        ("0.004", "0.00"),
        ("1.235", "1.24"),
        ("1.245", "1.25"),  # half-up, not banker's rounding (which gives 1.24)
        ("2.675", "2.68"),  # a float would give 2.67
        ("-0.005", "-0.01"),
        ("10", "10.00"),
    ],
)
def test_round_money_is_half_up_to_the_cent(value, expected):
    assert round_money(Decimal(value)) == Decimal(expected)
    assert str(round_money(value)) == expected


def test_floats_are_refused():
    with pytest.raises(TypeError):
        to_decimal(0.1)


def test_totals_are_sums_of_rounded_lines():
    # Three lines of 0.005 round to 0.01 each: the total is 0.03, not round(0.015) = 0.02.
    assert money_sum([Decimal("0.005")] * 3) == Decimal("0.03")


def test_scaled_decimal_refuses_more_places_than_it_keeps():
    column = ScaledDecimal(2)
    assert column.process_bind_param(Decimal("12.34"), None) == 1234
    assert column.process_result_value(1234, None) == Decimal("12.34")
    with pytest.raises(ValueError, match="more than 2 decimal places"):
        column.process_bind_param(Decimal("12.345"), None)


def test_amounts_round_trip_exactly_through_the_database(db_session):
    station = factories.StationFactory(
        labor_rate=Decimal("0.10"), km_rate=Decimal("0.20"), parts_handling_rate=Decimal("0.123456")
    )
    db_session.expire_all()
    loaded = db.session.get(Station, station.id)
    assert loaded.labor_rate == Decimal("0.10")
    assert loaded.parts_handling_rate == Decimal("0.123456")
    assert isinstance(loaded.labor_rate, Decimal)


def test_sums_in_sql_are_exact_on_both_databases(db_session):
    # 0.1 + 0.2 is 0.30000000000000004 in floating point; in fen it is exactly 30.
    a = factories.StationFactory(labor_rate=Decimal("0.10"))
    b = factories.StationFactory(labor_rate=Decimal("0.20"))
    total = db.session.scalar(
        sa.select(sa.func.sum(Station.labor_rate)).where(Station.id.in_([a.id, b.id]))
    )
    assert total == Decimal("0.30")  # summed as integers, handed back as a Decimal
    match = db.session.scalar(
        sa.select(sa.func.count(Station.id)).where(Station.labor_rate == Decimal("0.10"))
    )
    assert match == 1
