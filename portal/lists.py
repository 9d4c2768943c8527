"""Lists people can work with: sorted by any of their columns, exported as CSV and XLSX.

A list declares its columns once, as a `Listing` of `Column`s: the column's key in the URL,
its heading, the SQL expression it sorts by and the value it exports. A list view then

    stmt = ...  # the records the user may see, filtered by the page's filters
    shown = CLAIMS.shown(request.args)  # the sort asked for in the URL (?sort=vin&dir=desc)
    if (export := shown.export_format) is not None:
        return CLAIMS.export(stmt, export, "claims")  # the same rows, every page of them
    page = db.paginate(shown.order(stmt), ...)

Sort keys are whitelisted: an unknown key or direction falls back to the list's default order
(`Sort.refused` says so; never an error page). Every order ends with the listing's tiebreak
(the record's id), so rows with equal values keep one order from page to page. An export is
the list's own statement (its scope and filters) without paging, in the same order, up to
`EXPORT_LIMIT` rows, with the headings in the reader's language. The CSV starts with a byte
order mark so that Excel reads UTF-8 Chinese right; the XLSX keeps money and numbers as numbers.
"""

from __future__ import annotations

import csv
import enum
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Response, current_app, request, url_for
from flask_babel import gettext as _

from portal import labels
from portal.errors import ValidationFailed
from portal.extensions import db

EXPORT_FORMATS = ("csv", "xlsx")
EXPORT_LIMIT = 50_000
MAX_SELECTED = 100  # records one bulk action takes
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Query-string arguments that belong to one page of a list, not to what the list holds.
PAGING_ARGS = frozenset({"page", "after", "export"})


@dataclass(frozen=True)
class Column:
    """One column of a list. `order`: the SQL expression it sorts by (None: not sortable);
    `value(row)`: what the export writes for a row (None: not exported)."""

    key: str
    label: Any  # a lazy gettext string: rendered in the reader's language when used
    order: Any = None
    value: Callable[[Any], Any] | None = None
    nulls_last: bool = True


def keyed(key: str, label: Any, get: Callable[[Any], Any], **options) -> Column:
    """A column of a list computed in Python, sorted and exported by the same value `get`."""
    return Column(key, label, get, get, **options)


@dataclass(frozen=True)
class Sort:
    key: str
    descending: bool
    refused: bool = False  # the URL asked for a key or direction the list does not have


class Listing:
    """The columns of one list, its default order and its tiebreak (a unique column)."""

    def __init__(
        self,
        columns: Sequence[Column],
        *,
        default: str,
        tiebreak: Any,  # a unique SQL column; or a key function for `sort_rows`
        default_order: Callable[[bool], list] | None = None,
    ):
        self.columns = {c.key: c for c in columns}
        descending = default.startswith("-")
        self.default = Sort(default.lstrip("-"), descending)
        if self.default.key not in self.columns:
            raise ValueError(f"default sort {default!r} is not a column")
        self.tiebreak = tiebreak
        # The list's own order when no column was chosen (say: awaiting first, then deadline).
        self.default_order = default_order

    def sort_of(self, args) -> Sort:
        key = (args.get("sort") or "").strip()
        direction = (args.get("dir") or "").strip()
        if not key and not direction:
            return self.default
        column = self.columns.get(key)
        if column is None or column.order is None or direction not in ("", "asc", "desc"):
            return Sort(self.default.key, self.default.descending, refused=True)
        return Sort(key, direction == "desc")

    def shown(self, args, endpoint: str | None = None) -> Shown:
        """The list as `args` asks for it; its links go to `endpoint` (default: this request's;
        a page also rendered by a form's POST names its own GET endpoint)."""
        return Shown(self, self.sort_of(args), args, endpoint)

    def order(self, stmt: sa.Select, sort: Sort) -> sa.Select:
        """`stmt` ordered by `sort`, then by the tiebreak (in the same direction)."""
        default = self.default
        if self.default_order is not None and (sort.key, sort.descending) == (
            default.key,
            default.descending,
        ):
            return stmt.order_by(None).order_by(*self.default_order(sort.descending))
        column = self.columns[sort.key]
        expression = column.order.desc() if sort.descending else column.order.asc()
        expression = expression.nulls_last() if column.nulls_last else expression.nulls_first()
        tiebreak = self.tiebreak.desc() if sort.descending else self.tiebreak.asc()
        return stmt.order_by(None).order_by(expression, tiebreak)

    def sort_rows(self, rows: Iterable, sort: Sort) -> list:
        """`rows` (Python objects, for a list whose columns' `order` are key functions) sorted by
        `sort`; empty values last (or first: `nulls_last`) either way, as SQL does; rows with
        equal values in the tiebreak's order (a key function too)."""
        rows = sorted(rows, key=self.tiebreak) if callable(self.tiebreak) else list(rows)
        key = self.columns[sort.key].order
        present = [r for r in rows if key(r) is not None]
        missing = [r for r in rows if key(r) is None]
        present.sort(key=key, reverse=sort.descending)
        return present + missing if self.columns[sort.key].nulls_last else missing + present

    @property
    def exported(self) -> list[Column]:
        return [c for c in self.columns.values() if c.value is not None]

    def export(self, stmt: sa.Select, fmt: str, name: str) -> Response:
        """The rows of `stmt` (already scoped, filtered and ordered) as a download."""
        return self.export_records(db.session.scalars(stmt.limit(EXPORT_LIMIT)), fmt, name)

    def export_records(self, records: Iterable, fmt: str, name: str) -> Response:
        """`records` (Python objects, already filtered and ordered) as a download."""
        exported = self.exported
        headings = [str(c.label) for c in exported]
        rows = ([plain(c.value(r)) for c in exported] for r in records)
        return table_response(fmt, name, headings, rows)


class Shown:
    """A listing as the current request shows it: its sort, links to re-sort and to export."""

    def __init__(self, listing: Listing, sort: Sort, args, endpoint: str | None = None):
        self.listing = listing
        self.sort = sort
        self.args = args
        self.endpoint = endpoint
        fmt = (args.get("export") or "").strip()
        self.export_format = fmt if fmt in EXPORT_FORMATS else None

    def order(self, stmt: sa.Select) -> sa.Select:
        return self.listing.order(stmt, self.sort)

    @property
    def chosen(self) -> bool:
        """The reader chose a column (a refused or no choice: the list's default order)."""
        return bool(self.args.get("sort")) and not self.sort.refused

    @property
    def sort_args(self) -> dict[str, str]:
        """The sort chosen, as query arguments (for a pager, an export or a filter form)."""
        if not self.chosen:
            return {}
        return {"sort": self.sort.key, "dir": "desc" if self.sort.descending else "asc"}

    def url(self, **changes) -> str:
        """This list with its filters and sort, `changes` applied (None drops an argument)."""
        args = {k: v for k, v in self.args.lists() if k not in PAGING_ARGS}
        for key, value in changes.items():
            if value is None:
                args.pop(key, None)
            else:
                args[key] = [value]
        endpoint = self.endpoint or request.endpoint
        return url_for(endpoint, **(request.view_args or {}), **args)

    def sortable(self, key: str) -> bool:
        column = self.listing.columns.get(key)
        return column is not None and column.order is not None

    def direction(self, key: str) -> str | None:
        """ "ascending" / "descending" for the column the list is sorted by (aria-sort)."""
        if self.sort.key != key:
            return None
        return "descending" if self.sort.descending else "ascending"

    def sort_url(self, key: str) -> str:
        """Sorted by `key`: ascending first, the other way when it is sorted by it already."""
        if self.sort.key == key:
            return self.url(sort=key, dir="asc" if self.sort.descending else "desc")
        return self.url(sort=key, dir="asc")

    def export_url(self, fmt: str) -> str:
        return self.url(export=fmt)


def escape_like(text: str) -> str:
    """`text` for a LIKE pattern with backslash as the escape: its % and _ are taken as such."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains(text: str, *columns) -> sa.ColumnElement[bool]:
    """SQL: one of `columns` contains `text`, whatever its case (a claim number or VIN typed in
    part, say); `%` and `_` in `text` are taken as such."""
    pattern = f"%{escape_like(text.upper())}%"
    return sa.or_(*(sa.func.upper(c).like(pattern, escape="\\") for c in columns))


def selected(name: str = "number") -> list[str]:
    """The keys of the records ticked in a list (checkboxes `name`), each once, in order. A
    bulk action takes all of them or none: nothing ticked, or too many, is refused."""
    keys = list(dict.fromkeys(k.strip() for k in request.form.getlist(name) if k.strip()))
    if not keys:
        raise ValidationFailed(_("Nothing was done: tick at least one row first."))
    if len(keys) > MAX_SELECTED:
        raise ValidationFailed(
            _("Nothing was done: tick at most %(n)d rows at a time.", n=MAX_SELECTED)
        )
    return keys


# -- values and files ------------------------------------------------------------------------------


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def plain(value: Any) -> Any:
    """A cell's value for a file: labels as text, times in the portal's time zone, no tzinfo
    (Excel has none), money and numbers kept as they are."""
    if isinstance(value, enum.Enum):
        return labels.label(value)  # a status or kind by its label, as the page shows it
    if value is None or isinstance(value, bool | int | Decimal | str):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(_zone())
        return value.replace(tzinfo=None, microsecond=0)
    if isinstance(value, date):
        return value
    return str(value)  # a lazy label


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def csv_bytes(headings: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headings)
    for row in rows:
        writer.writerow([_text(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx_bytes(headings: Sequence[str], rows: Iterable[Sequence], title: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31] or "Sheet")
    sheet.append(list(headings))
    for row in rows:
        cells = []
        for value in row:
            if isinstance(value, Decimal):
                cell = WriteOnlyCell(sheet, value=float(value))
                cell.number_format = "#,##0.00" if value.as_tuple().exponent == -2 else "General"
            elif isinstance(value, datetime):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = "yyyy-mm-dd hh:mm"
            elif isinstance(value, date):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = "yyyy-mm-dd"
            else:
                cell = WriteOnlyCell(sheet, value=value)
            cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def table_response(fmt: str, name: str, headings: Sequence[str], rows: Iterable[Sequence]):
    """The table as a download in `fmt` (csv or xlsx), named `name`.`fmt`."""
    if fmt == "xlsx":
        body, mimetype = xlsx_bytes(headings, rows, name), XLSX_TYPE
    else:
        body, mimetype = csv_bytes(headings, rows), "text/csv; charset=utf-8"
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
