"""Messages kept as a key and parameters, written out when read, in the reader's language.

A notification or a timeline entry is read long after it was written, by people who speak
another language than whoever caused it. So it stores a key (`claim.decided`) and parameters
(`{"number": "RP-...", "status": "partially_approved", "amount": "5658.93"}`), and each reader
sees it in their language: every code by its label (portal.labels), money as CNY with thousands
separators and two decimals, dates and moments in the reader's locale.

A message declares the kind of each parameter that is not plain text:

    define("claim.decided", _l("Claim %(number)s was decided: %(status)s, approved %(amount)s."),
           status="label:claim_status", amount="money")

Kinds: ``money``, ``decimal``, ``date`` (ISO text, shown by `day`), ``datetime`` (ISO text,
shown by `moment`), ``label:KIND`` (a code of KIND, by its label as written alone: "Partially
approved"), ``word:KIND`` (the same inside a sentence: "was decided: partially approved",
portal.labels.in_sentence), ``labels:KIND`` and ``words:KIND`` (a list of codes), ``messages``
(a list of messages made by `said`, each written out and joined). A code that opens a sentence
is a ``label:``; one anywhere else a ``word:``. Parameters are stored as JSON-safe plain values
(`plain_params`), the exact text of amounts included.

`day` and `moment` are also the pages' `|day` and `|moment` filters: one way of writing a date
for every page, message, e-mail and PDF.
"""

from __future__ import annotations

import enum
import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from babel.dates import format_skeleton
from flask_babel import (
    force_locale,
    format_currency,
    format_date,
    format_decimal,
    format_time,
    get_locale,
    to_user_timezone,
)

from portal import labels

log = logging.getLogger(__name__)

CURRENCY = "CNY"


@dataclass(frozen=True)
class Message:
    key: str
    text: Any  # a lazy string
    kinds: dict[str, str] = field(default_factory=dict)
    example: dict[str, Any] = field(default_factory=dict)


MESSAGES: dict[str, Message] = {}


def define(key: str, text, example: dict[str, Any] | None = None, **kinds: str) -> str:
    """Register the message `key`; answers the key. `example` holds parameters the tests
    render it with (one is made up from the kinds when none is given)."""
    MESSAGES[key] = Message(key, text, dict(kinds), dict(example or {}))
    return key


def said(key: str, **params: Any) -> dict[str, Any]:
    """A message as a plain value (a parameter of kind ``messages`` holds a list of them)."""
    return {"key": key, "params": plain_params(params)}


def plain_params(params: dict[str, Any]) -> dict[str, Any]:
    """Parameters as JSON-safe values: amounts and hours as their exact text, dates as ISO,
    enum members as their codes, lists kept as lists."""
    return {name: _plain(value) for name, value in params.items()}


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, dict):  # a message made by `said`
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


def render(key: str, params: dict[str, Any] | None = None) -> str:
    """The message `key` with its parameters, in the current language."""
    message = MESSAGES[key]
    params = params or {}
    formatted = {
        name: format_param(message.kinds.get(name), value) for name, value in params.items()
    }
    try:
        return str(message.text) % formatted
    except (KeyError, TypeError, ValueError):
        # A translation that lost a placeholder must not lose the notification: English.
        log.exception("message %s does not format with %r", key, sorted(formatted))
        with force_locale("en"):
            return str(message.text) % formatted


def format_param(kind: str | None, value: Any) -> str:
    """One parameter as the reader reads it."""
    if value is None:
        return "–"
    if kind is None:
        return str(value)
    if kind == "money":
        return money(value)
    if kind == "decimal":
        number = _decimal(value)
        return str(value) if number is None else format_decimal(number, format="#,##0.##")
    if kind == "date":
        return day(value if isinstance(value, date) else date.fromisoformat(str(value)))
    if kind == "month":
        return month(value)
    if kind == "datetime":
        return moment(value if isinstance(value, datetime) else datetime.fromisoformat(str(value)))
    if kind == "messages":
        parts = [render(m["key"], m.get("params")) for m in value if m.get("key") in MESSAGES]
        return clause_separator().join(parts)
    if kind.startswith("label:"):
        return labels.label(value, kind[6:])
    if kind.startswith("word:"):
        return labels.in_sentence(value, kind[5:])
    if kind.startswith("labels:") or kind.startswith("words:"):
        name, code_kind = kind.split(":", 1)
        one = labels.label if name == "labels" else labels.in_sentence
        values = value if isinstance(value, list | tuple) else [value]
        return list_separator().join(one(v, code_kind) for v in values)
    raise ValueError(f"unknown parameter kind {kind!r}")


def money(value: Any) -> str:
    """An amount as CNY with thousands separators and two decimals (¥5,658.93 / CN¥5,658.93)."""
    number = _decimal(value)
    if number is None:
        return str(value)
    return format_currency(number, CURRENCY)


def day(value: date | datetime | None) -> str:
    """A day as the reader writes it: the locale's medium date ("Dec 5, 2026", "2026年12月5日").
    A moment is first moved to the portal's time zone, so it names the local day."""
    if value is None:
        return "–"
    if isinstance(value, datetime):
        value = to_user_timezone(value).date()
    return format_date(value, "medium")


def month(value: str | date | None) -> str:
    """A month (a settlement period, "2026-11") as the reader writes it: "Nov 2026",
    "2026年11月". Text that is not a month is left as it is."""
    if value is None:
        return "–"
    if not isinstance(value, date):
        match = re.fullmatch(r"(\d{4})-(\d{2})", str(value).strip())
        if match is None or not 1 <= int(match.group(2)) <= 12:
            return str(value)
        value = date(int(match.group(1)), int(match.group(2)), 1)
    locale = get_locale()
    return format_skeleton("yMMM", value, locale=locale if locale is not None else "en")


def moment(value: datetime | None, seconds: bool = False) -> str:
    """A moment as the reader writes it, in the portal's time zone: the medium date and the
    short time, joined as the locale joins them ("Dec 5, 2026, 2:33 PM", "2026年12月5日 14:33").
    A naive value is taken as UTC, as the database stores it; `seconds` for a record that
    needs them (the audit log)."""
    if value is None:
        return "–"
    locale = get_locale()
    glue = locale.datetime_formats["medium"] if locale is not None else "{1}, {0}"
    time = format_time(value, "medium" if seconds else "short")
    return str(glue).replace("{1}", day(value)).replace("{0}", time)


def list_separator() -> str:
    locale = get_locale()
    return "、" if locale is not None and locale.language == "zh" else ", "


def clause_separator() -> str:
    locale = get_locale()
    return "；" if locale is not None and locale.language == "zh" else "; "


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def render_in(locale: str, key: str, params: dict[str, Any] | None = None) -> str:
    """The message in `locale` (an e-mail in its recipient's language, the English record)."""
    with force_locale(locale):
        return render(key, params)
