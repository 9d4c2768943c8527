"""The input boundary: what a client sends is checked here before it reaches a query.

Registered by `create_app` (`init_app`):

- paths, query strings and form fields with control characters are refused with 400 (a text
  body may hold tab, newline and carriage return); PostgreSQL refuses NUL in text, and
  neither a lone surrogate nor a control character belongs in any value of the portal;
- JSON bodies are parsed strictly: no NaN / Infinity, no duplicate keys, nesting at most
  `MAX_JSON_DEPTH` deep, and under /api/ the body is a JSON object;
- `<int:...>` in a route matches ASCII digits up to `MAX_ID` (PostgreSQL's `integer`): a
  larger id is a 404 like any other unknown record;
- on pages, `page` and `per_page` (read by `db.paginate` from the query string) are bounded.

The helpers (`int_arg`, `page_args`, `decimal_arg`, `date_arg`, `days_arg`) read one query
parameter each for pages and API alike: a refusal is written into `fields` under the
parameter's name, and `refuse_if(fields)` (or the caller's own error) answers with all of them.
A refusal answers 400: JSON `{"error": {"code", "message", "fields"}}` under /api/ (DESIGN 8),
otherwise the error page naming the parameter.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation

from flask import Flask, request
from flask_babel import lazy_gettext as _l
from werkzeug.routing import IntegerConverter

from portal.errors import DomainError

MAX_ID = 2**31 - 1  # PostgreSQL `integer`: every id column and every count a query compares
MAX_PAGE = 1_000_000  # a million claims at one per page
MAX_PER_PAGE = 100  # what DESIGN's lists and the OpenAPI description allow
MAX_JSON_DEPTH = 32
MAX_INTEGER_DIGITS = 12  # money in Numeric(14, 2): twelve digits before the point
MAX_DAYS = 36_500  # a hundred years: more than any claim or part has been waiting
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2199, 12, 31)

# C0 and C1 controls, DEL and lone surrogates; text bodies may keep tab, LF and CR.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_ASCII_INT = re.compile(r"[+-]?[0-9]+")
_ASCII_DECIMAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")
_ASCII_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class InvalidValue(ValueError):
    """A text that is not a value of the kind asked for (`parse_int`, `parse_decimal`...)."""


class InputRefused(DomainError):
    """A value the portal will not take at all (HTTP 400), named in `fields`."""

    code = "malformed"
    status = 400


def refuse_if(fields: Mapping[str, str], message=None) -> None:
    """Raise `InputRefused` naming every field in `fields`, if any."""
    if fields:
        raise InputRefused(str(message or _l("The request is malformed.")), dict(fields))


# -- values ------------------------------------------------------------------------------------


def has_control(text: str, *, in_text: bool = False) -> bool:
    """Whether `text` holds a control character (tab, LF and CR allowed when `in_text`)."""
    return bool((_CONTROL_IN_TEXT if in_text else _CONTROL).search(text))


def parse_int(raw: str, minimum: int = 1, maximum: int = MAX_ID) -> int:
    """A whole number in ASCII digits from `minimum` to `maximum`; InvalidValue otherwise."""
    raw = raw.strip()
    if not _ASCII_INT.fullmatch(raw) or len(raw) > 20:
        raise InvalidValue(raw)
    value = int(raw)
    if not minimum <= value <= maximum:
        raise InvalidValue(raw)
    return value


def parse_decimal(raw: str, places: int = 2, integer_digits: int = MAX_INTEGER_DIGITS) -> Decimal:
    """An exact amount in ASCII digits: finite, at most `integer_digits` digits before the
    point and `places` after it; InvalidValue otherwise (NaN, Infinity, 1e30, `１２`...)."""
    raw = raw.strip()
    if not _ASCII_DECIMAL.fullmatch(raw):
        raise InvalidValue(raw)
    try:
        value = Decimal(raw)
    except InvalidOperation as e:  # pragma: no cover - the pattern lets no such text through
        raise InvalidValue(raw) from e
    whole, _point, fraction = raw.lstrip("+-").partition(".")
    if len(whole.lstrip("0")) > integer_digits or len(fraction.rstrip("0")) > places:
        raise InvalidValue(raw)
    return value.quantize(Decimal(1).scaleb(-places))


def parse_date(raw: str) -> date:
    """An ISO date (YYYY-MM-DD, ASCII digits) from 1900 to 2199; InvalidValue otherwise."""
    raw = raw.strip()
    if not _ASCII_DATE.fullmatch(raw):
        raise InvalidValue(raw)
    try:
        value = date.fromisoformat(raw)
    except ValueError as e:
        raise InvalidValue(raw) from e
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise InvalidValue(raw)
    return value


def _whole_number_message(minimum: int, maximum: int) -> str:
    return str(
        _l(
            "must be a whole number from %(minimum)d to %(maximum)d",
            minimum=minimum,
            maximum=maximum,
        )
    )


# -- query parameters --------------------------------------------------------------------------


def int_arg(
    args: Mapping[str, str],
    name: str,
    fields: dict[str, str],
    *,
    default: int | None = None,
    minimum: int = 1,
    maximum: int = MAX_ID,
) -> int | None:
    """The whole number `args[name]` (`default` when absent or empty); a refusal goes into
    `fields[name]` and answers `default`."""
    raw = args.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return parse_int(raw, minimum, maximum)
    except ValueError:
        fields[name] = _whole_number_message(minimum, maximum)
        return default


def page_args(
    args: Mapping[str, str],
    fields: dict[str, str],
    *,
    per_page: int,
    max_per_page: int = MAX_PER_PAGE,
) -> tuple[int, int]:
    """`page` (1 to MAX_PAGE, default 1) and `per_page` (1 to `max_per_page`, default
    `per_page`) of a list."""
    page = int_arg(args, "page", fields, default=1, maximum=MAX_PAGE)
    size = int_arg(args, "per_page", fields, default=per_page, maximum=max_per_page)
    return page, size


def decimal_arg(args: Mapping[str, str], name: str, fields: dict[str, str]) -> Decimal | None:
    """The amount `args[name]` (None when absent or empty); see `parse_decimal`."""
    raw = args.get(name)
    if raw is None or not raw.strip():
        return None
    try:
        return parse_decimal(raw)
    except ValueError:
        fields[name] = str(
            _l(
                "must be an amount with at most %(digits)d digits before the point and 2 after it",
                digits=MAX_INTEGER_DIGITS,
            )
        )
        return None


def date_arg(args: Mapping[str, str], name: str, fields: dict[str, str]) -> date | None:
    """The date `args[name]` (None when absent or empty); see `parse_date`."""
    raw = args.get(name)
    if raw is None or not raw.strip():
        return None
    try:
        return parse_date(raw)
    except ValueError:
        fields[name] = str(
            _l(
                "must be a date as YYYY-MM-DD from %(first)s to %(last)s",
                first=EARLIEST_DATE.isoformat(),
                last=LATEST_DATE.isoformat(),
            )
        )
        return None


def days_arg(
    args: Mapping[str, str], name: str, fields: dict[str, str], *, maximum: int = MAX_DAYS
) -> int | None:
    """A count of days `args[name]`, 0 to `maximum` (None when absent or empty)."""
    return int_arg(args, name, fields, minimum=0, maximum=maximum)


# -- JSON ----------------------------------------------------------------------------------------


class JsonRefused(ValueError):
    def __init__(self, message, field: str = "body"):
        super().__init__(str(message))
        self.message = str(message)
        self.field = field


class _Constant:
    """NaN, Infinity or -Infinity where a document had one: refused with its place named."""

    def __init__(self, name: str):
        self.name = name


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict:
    data: dict = {}
    for key, value in pairs:
        if key in data:
            raise JsonRefused(_l("The key %(key)s appears twice.", key=key), key)
        data[key] = value
    return data


def loads_strict(text: str | bytes) -> object:
    """JSON as the portal takes it; `JsonRefused` names what is wrong and where."""
    try:
        data = json.loads(text, parse_constant=_Constant, object_pairs_hook=_no_duplicates)
    except RecursionError:
        raise JsonRefused(
            _l("The JSON is nested more than %(n)d levels deep.", n=MAX_JSON_DEPTH)
        ) from None
    except UnicodeDecodeError:
        raise JsonRefused(_l("The body is not UTF-8 text.")) from None
    except json.JSONDecodeError as e:
        raise JsonRefused(_l("The body is not valid JSON: %(error)s", error=e.msg)) from None
    _check_values(data)
    return data


def _check_values(data: object) -> None:
    """Depth, numbers and text of a parsed document, walked without recursion; a refusal
    names the place (`lines[0].amount`)."""
    stack: list[tuple[object, str, int]] = [(data, "", 1)]
    while stack:
        value, where, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise JsonRefused(
                    _l("The JSON is nested more than %(n)d levels deep.", n=MAX_JSON_DEPTH)
                )
            if isinstance(value, dict):
                for key, item in value.items():
                    if has_control(key):
                        raise JsonRefused(_l("A key holds a control character."))
                    stack.append((item, f"{where}.{key}" if where else key, depth + 1))
            else:
                for index, item in enumerate(value):
                    stack.append((item, f"{where or 'body'}[{index}]", depth + 1))
        elif isinstance(value, _Constant):
            raise JsonRefused(
                _l("%(value)s is not a number JSON allows.", value=value.name), where or "body"
            )
        elif isinstance(value, str) and has_control(value, in_text=True):
            raise JsonRefused(_l("must not hold control characters"), where or "body")


# -- the request guard -------------------------------------------------------------------------

BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
FORM_TYPES = {"multipart/form-data", "application/x-www-form-urlencoded"}


def _control_message() -> str:
    return str(_l("must not hold control characters"))


def check_request() -> None:
    """`before_request`: refuse control characters, malformed JSON and unbounded pages."""
    fields: dict[str, str] = {}
    if has_control(request.path):
        fields["path"] = _control_message()
    for name, value in request.args.items(multi=True):
        if has_control(name):
            fields["query"] = _control_message()
        elif has_control(value):
            fields[name] = _control_message()
    refuse_if(fields, _l("The address holds a character the portal does not take."))
    if not request.path.startswith("/api/"):
        page_args(request.args, fields, per_page=1)
        refuse_if(fields, _l("The page asked for does not exist."))
    if request.method not in BODY_METHODS:
        return
    if request.mimetype in FORM_TYPES:
        for name, value in request.form.items(multi=True):
            if has_control(name or ""):
                fields["form"] = _control_message()
            elif has_control(value or "", in_text=True):
                fields[name] = _control_message()
        for name, upload in request.files.items(multi=True):
            if has_control(name or "") or has_control(upload.filename or ""):
                fields[name or "form"] = _control_message()
        refuse_if(fields, _l("The form holds a character the portal does not take."))
    elif request.is_json or request.path.startswith("/api/"):
        _check_json_body()


def _check_json_body() -> None:
    raw = request.get_data(cache=True)
    if not raw.strip():
        return
    try:
        data = loads_strict(raw)
    except JsonRefused as refused:
        raise InputRefused(refused.message, {refused.field: refused.message}) from None
    if request.path.startswith("/api/") and not isinstance(data, dict):
        raise InputRefused(
            str(_l("The body must be a JSON object.")), {"body": str(_l("must be an object"))}
        )


class BoundedIntConverter(IntegerConverter):
    """`<int:...>`: ASCII digits, 0 to `MAX_ID` unless the rule says otherwise."""

    regex = r"[0-9]+"

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def init_app(app: Flask) -> None:
    """Before any blueprint is registered: the converter is bound when a rule is added."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.before_request(check_request)
