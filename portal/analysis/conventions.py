"""DESIGN section 7's conventions, fixed so that every figure can be checked by hand.

- A vehicle's age at a date is the number of whole months elapsed since its sale date (a month
  elapses on the same day of a later month, or on that month's last day when it is shorter).
  Vehicles with age 0 at the as-of date are left out.
- A claim counts when it is approved, partially approved or settled, with its repair date on or
  before the as-of date. Its months in service (MIS) is 1 + the whole months elapsed from the
  sale date to the repair date.

Requests (appraisal, outsourced purchase, emergency part) are pre-authorisations, not claims: the
claim that follows one is what counts, so counting both would count one repair twice (the
settlement leaves them out for the same reason).
"""

from __future__ import annotations

from calendar import monthrange
from datetime import date

from portal.claims.decisions import PRE_AUTHORISATIONS
from portal.claims.models import APPROVED_STATUSES, ClaimStatus, ClaimType

COUNTED_STATUSES = APPROVED_STATUSES  # approved, partially approved, settled
COUNTED_TYPES = frozenset(ClaimType) - PRE_AUTHORISATIONS


def last_day(year: int, month: int) -> int:
    return monthrange(year, month)[1]


def age_in_months(sale_date: date, at: date) -> int:
    """Whole months elapsed from `sale_date` to `at` (negative when `at` is before the sale).

    A month elapses on the same day of a later month, or on that month's last day when it is
    shorter: sold on 31 January, a vehicle is one month old on 28 (29) February.
    """
    months = (at.year - sale_date.year) * 12 + at.month - sale_date.month
    if at.day < sale_date.day and at.day < last_day(at.year, at.month):
        months -= 1
    return months


def months_in_service(sale_date: date, repair_date: date) -> int:
    """A claim's MIS: 1 + the whole months elapsed from the sale date to the repair date."""
    return 1 + age_in_months(sale_date, repair_date)


def latest_sale_date_of_age(as_of: date, months: int) -> date:
    """The last sale date whose vehicle is at least `months` old at `as_of`.

    Age is non-decreasing in the sale date's distance, so "age >= k at as_of" is exactly
    "sale_date <= latest_sale_date_of_age(as_of, k)", a condition an index can serve.
    """
    index = as_of.year * 12 + as_of.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    end = last_day(year, month)
    if as_of.day == last_day(as_of.year, as_of.month):
        return date(year, month, end)
    return date(year, month, min(as_of.day, end))


def is_counted(status: ClaimStatus, claim_type: ClaimType, repair_date: date, as_of: date) -> bool:
    """Whether a claim counts in the analyses at `as_of` (the SQL in `queries` says the same)."""
    return status in COUNTED_STATUSES and claim_type in COUNTED_TYPES and repair_date <= as_of


def sale_month(day: date) -> str:
    """A cohort's name: the sale month as `YYYY-MM`."""
    return f"{day.year:04d}-{day.month:02d}"


def last_full_months(as_of: date, count: int) -> tuple[date, date]:
    """First and last day of the `count` calendar months that are complete at `as_of`.

    `as_of`'s own month is complete only on its last day.
    """
    index = as_of.year * 12 + as_of.month - 1
    if as_of.day != last_day(as_of.year, as_of.month):
        index -= 1
    first_year, first_month = divmod(index - count + 1, 12)
    last_year, last_month = divmod(index, 12)
    return (
        date(first_year, first_month + 1, 1),
        date(last_year, last_month + 1, last_day(last_year, last_month + 1)),
    )
