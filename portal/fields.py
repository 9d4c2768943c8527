"""Field types the declared schemas share (pydantic v2), and pydantic's refusals as field errors.

An input type bounds what it accepts, so that no request reaches the database with a value it
cannot store: whole numbers within a PostgreSQL `integer`, decimals finite with at most 12
integer digits and 2 decimals, text of a bounded length without NUL characters. An output type
says how a value is written: money and hours as exact text with two decimals, dates ISO.
"""

from __future__ import annotations

import enum
import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from flask_babel import gettext as _
from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PlainSerializer,
    StringConstraints,
    ValidationError,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from portal.money import round_money

MAX_INT = 2**31 - 1  # a PostgreSQL `integer`
MAX_TEXT = 4000
MONEY_PATTERN = r"^-?\d+\.\d{2}$"
MAX_AMOUNT = Decimal("999999999999.99")  # 12 integer digits, 2 decimals
# Dates far enough from today that no rule's arithmetic (a day plus months) leaves `date`'s range.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)


def _blank_is_none(value: Any) -> Any:
    """An empty or blank string, as a form or a query string sends it, means "not given"."""
    return None if isinstance(value, str) and not value.strip() else value


def _none_is_empty(value: Any) -> Any:
    return "" if value is None else value


def _not_a_bool(value: Any) -> Any:
    """JSON true is not the number 1."""
    if isinstance(value, bool):
        raise PydanticCustomError("int_type", "must be a whole number")
    return value


_ASCII_WHOLE = re.compile(r"\s*[+-]?[0-9]+\s*")
_ASCII_DECIMAL = re.compile(r"\s*[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)\s*")


def _ascii_whole(value: Any) -> Any:
    """A number written as text is in ASCII digits ("１２", "٣" and "1_000" are not numbers)."""
    if isinstance(value, str) and not _ASCII_WHOLE.fullmatch(value):
        raise PydanticCustomError("int_parsing", "must be a whole number")
    return value


def _ascii_decimal(value: Any) -> Any:
    """An amount written as text is plain ASCII digits with a point (no exponent, no "１.5")."""
    if isinstance(value, str) and not _ASCII_DECIMAL.fullmatch(value):
        raise PydanticCustomError("decimal_parsing", "must be a number")
    return value


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise PydanticCustomError("nul_character", "must not contain NUL characters")
    return value


def whole(minimum: int = 0, maximum: int = MAX_INT, *, required: bool = False, **field: Any) -> Any:
    """A whole number from `minimum` to `maximum`, or (unless `required`) None when not given."""
    bounded = Annotated[
        int,
        Field(ge=minimum, le=maximum),
        BeforeValidator(_not_a_bool),
        BeforeValidator(_ascii_whole),
    ]
    if required:
        return Annotated[bounded, Field(**field)]
    return Annotated[bounded | None, BeforeValidator(_blank_is_none), Field(**field)]


def amount(**field: Any) -> Any:
    """A non-negative decimal with at most 12 integer digits and 2 places, or None; text keeps it
    exact ("1.50"), a JSON number is read as written."""
    bounded = Annotated[
        Decimal,
        Field(ge=Decimal(0), le=MAX_AMOUNT, max_digits=14, decimal_places=2, allow_inf_nan=False),
        BeforeValidator(_ascii_decimal),
    ]
    return Annotated[bounded | None, BeforeValidator(_blank_is_none), Field(**field)]


def text(max_length: int = MAX_TEXT, *, upper: bool = False, **field: Any) -> Any:
    """Text of at most `max_length` characters, trimmed; null or missing is ""."""
    validators = [AfterValidator(_no_nul)] + ([AfterValidator(str.upper)] if upper else [])
    return Annotated[
        str,
        BeforeValidator(_none_is_empty),
        StringConstraints(strip_whitespace=True, max_length=max_length),
        *validators,
        WithJsonSchema({"type": ["string", "null"], "maxLength": max_length}),
        Field(**field),
    ]


def required_text(max_length: int, **field: Any) -> Any:
    """Text that must be given and not blank, at most `max_length` characters, trimmed."""
    return Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=max_length),
        AfterValidator(_no_nul),
        Field(**field),
    ]


def _not_blank(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("string_too_short", "is required")
    return value


def secret(max_length: int = 1024, **field: Any) -> Any:
    """A password: given, not blank, kept exactly as typed (spaces included)."""
    return Annotated[
        str,
        StringConstraints(min_length=1, max_length=max_length),
        AfterValidator(_not_blank),
        AfterValidator(_no_nul),
        Field(**field),
    ]


def day(**field: Any) -> Any:
    """A date written YYYY-MM-DD, or None."""
    bounded = Annotated[date, Field(ge=FIRST_DAY, le=LAST_DAY)]
    return Annotated[bounded | None, BeforeValidator(_blank_is_none), Field(**field)]


def _none_is_no_items(value: Any) -> Any:
    return [] if value is None else value


def items(kind: Any, max_length: int, **field: Any) -> Any:
    """A list of at most `max_length` items; null is the empty list."""
    return Annotated[
        list[kind], BeforeValidator(_none_is_no_items), Field(max_length=max_length, **field)
    ]


def choice(kind: type[enum.Enum], values: Any = None, **field: Any) -> Any:
    """One of an enum's values (or of `values`, a subset), read as the enum member; the schema
    lists the values inline, so the document's enums are the code's."""
    names = tuple(v.value for v in (values or kind))
    return Annotated[Literal.__getitem__(names), AfterValidator(kind), Field(**field)]


def words(*values: str, **field: Any) -> Any:
    """One of a few fixed words."""
    return Annotated[Literal.__getitem__(values), Field(**field)]


# -- answers ---------------------------------------------------------------------------------------


def _money(value: Decimal) -> str:
    return f"{round_money(value):.2f}"


def _rate(value: Decimal) -> str:
    return format(value.normalize(), "f")


Money = Annotated[
    Decimal,
    PlainSerializer(_money, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": MONEY_PATTERN,
            "description": "CNY with two decimals, as exact text (never a float).",
            "examples": ["230.00"],
        }
    ),
]
Hours = Annotated[
    Decimal,
    PlainSerializer(lambda v: f"{v:.2f}", return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^\d+\.\d{2}$", "examples": ["1.50"]}),
]
Rate = Annotated[
    Decimal,
    PlainSerializer(_rate, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^\d+(\.\d+)?$",
            "description": "a fraction as exact text (0.13 is 13%)",
            "examples": ["0.13"],
        }
    ),
]
Moment = Annotated[
    datetime,
    PlainSerializer(lambda v: v.isoformat(), return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


# -- refusals --------------------------------------------------------------------------------------


def field_name(loc: tuple) -> str:
    """`("lines", 0, "qty")` -> `lines[0].qty`."""
    name = ""
    for part in loc:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += f".{part}" if name else str(part)
    return name


def _message(error: dict) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "missing":
        return _("is required")
    if kind in ("string_type", "str_type"):
        return _("must be text")
    if kind == "string_too_short":
        return _("is required")
    if kind == "string_too_long":
        return _("at most %(n)d characters", n=ctx["max_length"])
    if kind in ("int_type", "int_parsing", "int_from_float", "int_parsing_size"):
        return _("must be a whole number")
    if kind in ("greater_than_equal", "greater_than"):
        limit = ctx.get("ge", ctx.get("gt"))
        if limit == 0 and isinstance(limit, Decimal):
            return _("must not be negative")
        return _("must be at least %(n)s", n=limit)
    if kind in ("less_than_equal", "less_than"):
        return _("must be at most %(n)s", n=ctx.get("le", ctx.get("lt")))
    if kind in ("decimal_type", "decimal_parsing", "finite_number", "float_parsing"):
        return _("must be a number")
    if kind == "decimal_max_places":
        return _("at most %(n)d decimal places", n=ctx["decimal_places"])
    if kind in ("decimal_max_digits", "decimal_whole_digits"):
        return _("at most %(n)d digits before the decimal point", n=12)
    if kind.startswith(("date_", "datetime_")):
        return _("must be a date as YYYY-MM-DD")
    if kind in ("literal_error", "enum"):
        expected = ctx.get("expected", "").replace("'", "")
        return _("must be one of: %(values)s", values=expected.replace(" or ", ", "))
    if kind in ("list_type", "tuple_type"):
        return _("must be a list")
    if kind == "too_long":
        return _("at most %(n)d items", n=ctx["max_length"])
    if kind in ("model_type", "model_attributes_type", "dict_type", "dataclass_type"):
        return _("must be an object")
    if kind in ("bool_type", "bool_parsing"):
        return _("must be true or false")
    if kind == "freight_text":
        return _('must be text with at most two decimals, e.g. "85.00" (never a number)')
    if kind == "freight_form":
        return _('must be an amount with at most two decimals, e.g. "85.00"')
    if kind == "period":
        return _("not a month (YYYY-MM)")
    if kind == "string_pattern_mismatch":
        return _("is not in the expected form")
    if kind == "nul_character":
        return _("must not contain NUL characters")
    return error["msg"]


def field_errors(error: ValidationError) -> dict[str, str]:
    """Each refused field with what is wrong, the first problem per field. A refusal of the
    whole input (not an object) is under the empty name."""
    fields: dict[str, str] = {}
    for problem in error.errors(include_url=False):
        fields.setdefault(field_name(problem["loc"]), _message(problem))
    return fields
