"""Reading the audit log: the page's and the CSV's filters, in one place."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal import labels
from portal.auditlog import words
from portal.auditlog.models import AuditEntry
from portal.auditlog.operations import AuditKind
from portal.extensions import db
from portal.lists import Column, Listing

# The CSV is for people (a spreadsheet): its headings, kinds, roles and fields are labels in the
# reader's language; amounts stay plain numbers with two decimals, so that they add up. The API
# (GET /api/v1/audit-log) answers the codes, as documented.
CSV_COLUMNS = (
    _l("No."),
    _l("When"),
    _l("Who"),
    _l("Role"),
    _l("What"),
    _l("Subject"),
    _l("Claim number"),
    _l("Settlement run"),
    _l("Statement"),
    _l("Amount before"),
    _l("Amount after"),
    _l("Before"),
    _l("After"),
    _l("Note"),
)


FIRST_YEAR, LAST_YEAR = 1900, 9000  # a day outside is a typing error, not a filter


@dataclass(frozen=True)
class LogFilter:
    """What the reader asked for; every field is optional. Dates are local days, inclusive."""

    date_from: date | None = None
    date_to: date | None = None
    actor: str = ""
    kind: str = ""
    claim_number: str = ""
    run_id: int | None = None

    @classmethod
    def from_args(cls, args) -> tuple[LogFilter, dict[str, str]]:
        """The filter from query arguments, and the problems with the ones that do not parse
        (a bad value is left out of the filter and reported, never a 500)."""
        problems: dict[str, str] = {}

        def day(name: str) -> date | None:
            raw = (args.get(name) or "").strip()
            if not raw:
                return None
            try:
                if not raw.isascii():
                    raise ValueError(raw)
                day = date.fromisoformat(raw)
                if not FIRST_YEAR <= day.year <= LAST_YEAR:
                    raise ValueError(raw)
                return day
            except ValueError:
                problems[name] = raw[:40]
                return None

        run_raw = (args.get("run") or "").strip()
        run_id = None
        if run_raw:
            if run_raw.isascii() and run_raw.isdigit() and len(run_raw) < 10:
                run_id = int(run_raw)
            else:
                problems["run"] = run_raw[:40]
        kind = (args.get("kind") or "").strip()
        if kind and kind not in {k.value for k in AuditKind}:
            problems["kind"] = kind[:40]
            kind = ""
        return (
            cls(
                date_from=day("from"),
                date_to=day("to"),
                actor=(args.get("actor") or "").strip()[:80],
                kind=kind,
                claim_number=(args.get("claim") or "").strip()[:40],
                run_id=run_id,
            ),
            problems,
        )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _start_of(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(ZoneInfo("UTC"))


def entries(log_filter: LogFilter, zone: ZoneInfo) -> sa.Select:
    """The entries the filter selects, newest first."""
    return filtered(log_filter, zone).order_by(*NEWEST_FIRST)


NEWEST_FIRST = (AuditEntry.at.desc(), AuditEntry.id.desc())

# The page's sortable columns (portal.lists); the exports follow the page's order.
ENTRIES = Listing(
    [
        Column("when", _l("When"), AuditEntry.at),
        Column("who", _l("Who"), AuditEntry.actor_name),
        Column("what", _l("What"), AuditEntry.kind),
        Column("subject", _l("Subject"), AuditEntry.subject),
        Column("claim", _l("Claim number"), AuditEntry.claim_number),
        Column("before", _l("Amount before"), AuditEntry.amount_before),
        Column("after", _l("Amount after"), AuditEntry.amount_after),
    ],
    default="-when",
    tiebreak=AuditEntry.id,
    default_order=lambda descending: list(NEWEST_FIRST),
)


def filtered(log_filter: LogFilter, zone: ZoneInfo) -> sa.Select:
    """The entries the filter selects, in no order."""
    query = sa.select(AuditEntry)
    if log_filter.date_from:
        query = query.where(AuditEntry.at >= _start_of(log_filter.date_from, zone))
    if log_filter.date_to:
        end = _start_of(log_filter.date_to + timedelta(days=1), zone)
        query = query.where(AuditEntry.at < end)
    if log_filter.actor:
        pattern = "%" + _escape_like(log_filter.actor.lower()) + "%"
        query = query.where(sa.func.lower(AuditEntry.actor_name).like(pattern, escape="\\"))
    if log_filter.kind:
        query = query.where(AuditEntry.kind == log_filter.kind)
    if log_filter.claim_number:
        query = query.where(AuditEntry.claim_number == log_filter.claim_number.upper())
    if log_filter.run_id is not None:
        query = query.where(AuditEntry.run_id == log_filter.run_id)
    return query


def _cell(value: str) -> str:
    """A cell a spreadsheet will not run as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def row_values(e: AuditEntry, zone: ZoneInfo) -> list:
    """One entry as a row of the exports, in the order of CSV_COLUMNS: the time in the portal's
    time zone, amounts as Decimal, texts in words."""
    return [
        e.id,
        e.at.astimezone(zone),
        _("System") if e.actor_id is None else _cell(e.actor_name),
        labels.label(e.actor_role, "role") if e.actor_role else "",
        words.kind_label(e.kind),
        _cell(words.subject_label(e.subject, e.kind)),
        e.claim_number or "",
        e.run_id,
        e.statement_id,
        e.amount_before,
        e.amount_after,
        _cell(words.changes_text(e.before, e.kind)),
        _cell(words.changes_text(e.after, e.kind)),
        _cell(words.note_text(e)),
    ]


def _csv_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


def batches(query: sa.Select, batch: int = 2000) -> Iterator[list[AuditEntry]]:
    """The entries of `query`, a batch at a time (an export never holds the whole log)."""
    offset = 0
    while True:
        page = db.session.scalars(query.offset(offset).limit(batch)).all()
        yield page
        if len(page) < batch:
            return
        offset += batch


def csv_rows(query: sa.Select, zone: ZoneInfo, batch: int = 2000) -> Iterator[str]:
    """The CSV (UTF-8 with a byte-order mark for Excel), a batch of entries at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([str(column) for column in CSV_COLUMNS])
    yield "\ufeff" + buffer.getvalue()
    for page in batches(query, batch):
        buffer.seek(0)
        buffer.truncate()
        for e in page:
            writer.writerow([_csv_text(v) for v in row_values(e, zone)])
        yield buffer.getvalue()
