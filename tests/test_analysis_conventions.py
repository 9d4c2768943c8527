"""DESIGN 7's conventions: a vehicle's age in whole months, a claim's months in service (MIS),
and the SQL that computes them on the database agreeing with the Python rule at every month end."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from portal.analysis.conventions import (
    age_in_months,
    last_full_months,
    latest_sale_date_of_age,
    months_in_service,
)
from portal.analysis.queries import age_sql, whole_months_sql
from portal.extensions import db

# (sale date, date, whole months elapsed): a month elapses on the same day of a later month,
# or on that month's last day when it is shorter.
EDGES = [
    (date(2025, 1, 31), date(2025, 2, 27), 0),
    (date(2025, 1, 31), date(2025, 2, 28), 1),  # February's last day
    (date(2024, 1, 31), date(2024, 2, 28), 0),  # leap year: the 29th is the last day
    (date(2024, 1, 31), date(2024, 2, 29), 1),
    (date(2025, 1, 30), date(2025, 2, 28), 1),
    (date(2025, 1, 31), date(2025, 3, 30), 1),  # March has a 31st
    (date(2025, 1, 31), date(2025, 3, 31), 2),
    (date(2025, 3, 31), date(2025, 4, 30), 1),  # April's last day
    (date(2025, 2, 28), date(2025, 3, 27), 0),
    (date(2025, 2, 28), date(2025, 3, 28), 1),
    (date(2025, 3, 15), date(2025, 3, 15), 0),
    (date(2025, 3, 15), date(2025, 4, 14), 0),
    (date(2025, 3, 15), date(2025, 4, 15), 1),
    (date(2024, 12, 20), date(2025, 1, 19), 0),  # across a year end
    (date(2024, 12, 20), date(2025, 1, 20), 1),
    (date(2023, 2, 28), date(2025, 2, 28), 24),
    (date(2025, 3, 15), date(2025, 3, 10), -1),  # before the sale
]


@pytest.mark.parametrize(("sale", "at", "months"), EDGES)
def test_age_is_whole_months_elapsed_since_the_sale(sale, at, months):
    assert age_in_months(sale, at) == months


def test_a_claims_months_in_service_is_one_more_than_the_whole_months_to_the_repair():
    assert months_in_service(date(2025, 1, 31), date(2025, 2, 27)) == 1
    assert months_in_service(date(2025, 1, 31), date(2025, 2, 28)) == 2
    assert months_in_service(date(2025, 3, 15), date(2025, 3, 15)) == 1


def test_the_database_computes_the_same_whole_months_as_python():
    pairs = [(sale, at) for sale, at, _ in EDGES]
    columns = [
        whole_months_sql(sa.literal(sale, sa.Date), sa.literal(at, sa.Date)).label(f"m{i}")
        for i, (sale, at) in enumerate(pairs)
    ] + [
        age_sql(sa.literal(sale, sa.Date), at).label(f"a{i}") for i, (sale, at) in enumerate(pairs)
    ]
    row = db.session.execute(sa.select(*columns)).one()
    expected = [months for _, _, months in EDGES]
    assert list(row[: len(pairs)]) == expected
    assert list(row[len(pairs) :]) == expected


def test_the_sale_date_cutoff_selects_exactly_the_vehicles_of_that_age():
    """Every as-of day of 2023-2024 (a leap year included), for ages 1, 2 and 13: the cutoff is
    the last sale date of that age, and the day after it is younger."""
    as_of = date(2023, 1, 1)
    while as_of <= date(2024, 12, 31):
        for months in (1, 2, 13):
            cutoff = latest_sale_date_of_age(as_of, months)
            assert age_in_months(cutoff, as_of) >= months, (as_of, months)
            assert age_in_months(cutoff + timedelta(days=1), as_of) < months, (as_of, months)
        as_of += timedelta(days=1)


@pytest.mark.parametrize(
    ("as_of", "first", "last"),
    [
        (date(2025, 9, 30), date(2025, 7, 1), date(2025, 9, 30)),  # September is complete
        (date(2025, 9, 29), date(2025, 6, 1), date(2025, 8, 31)),
        (date(2025, 2, 10), date(2024, 11, 1), date(2025, 1, 31)),
    ],
)
def test_the_last_three_full_months(as_of, first, last):
    assert last_full_months(as_of, 3) == (first, last)
