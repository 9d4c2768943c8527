"""Exact amounts: `Decimal` in the code, scaled integers in the database.

SQLite keeps NUMERIC values as binary floats, so `0.1 + 0.2` is not `0.3` there. Every amount,
rate and number of hours is therefore stored as an integer count of its smallest unit (fen for
CNY, millionths for rates, hundredths for hours) and handed to Python as a `Decimal`. Sums and
comparisons in SQL stay exact on SQLite and PostgreSQL alike.

Rounding happens in one place, `round_money`, half-up to 0.01.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sqlalchemy import BigInteger
from sqlalchemy.types import TypeDecorator

CENT = Decimal("0.01")


def round_money(value: Decimal | int | str) -> Decimal:
    """Round an amount to 0.01, half-up (0.005 -> 0.01), the rule for every line (DESIGN 6)."""
    return to_decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def to_decimal(value: Decimal | int | str) -> Decimal:
    """A `Decimal` from a `Decimal`, int or string; floats are refused (they are never exact)."""
    if isinstance(value, float):
        raise TypeError("floats are never exact: pass a Decimal, int or str")
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(value)
    except InvalidOperation as exc:
        raise ValueError(f"not a number: {value!r}") from exc


def money_sum(values) -> Decimal:
    """The sum of already-rounded lines (totals are sums of rounded lines)."""
    total = Decimal("0.00")
    for value in values:
        total += round_money(value)
    return total


class ScaledDecimal(TypeDecorator):
    """A `Decimal` with a fixed number of places, stored as a BIGINT of its smallest unit.

    A value with more places than the column keeps is refused rather than silently rounded:
    rounding is a business rule and belongs to `round_money`, not to the storage layer.
    """

    impl = BigInteger
    cache_ok = True

    def __init__(self, places: int = 2):
        super().__init__()
        self.places = places
        self.factor = Decimal(10) ** places
        self.quantum = Decimal(1).scaleb(-places)

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        value = to_decimal(value)
        scaled = value * self.factor
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than {self.places} decimal places")
        return int(scaled)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return (Decimal(int(value)) / self.factor).quantize(self.quantum)

    def coerce_compared_value(self, op, value):
        return self


def Money() -> ScaledDecimal:
    """CNY amount with two places, stored in fen."""
    return ScaledDecimal(2)


def Rate() -> ScaledDecimal:
    """A fraction such as 0.10 (10%) with up to six places, stored in millionths."""
    return ScaledDecimal(6)


def Hours() -> ScaledDecimal:
    """Labor hours with two places, stored in hundredths."""
    return ScaledDecimal(2)
