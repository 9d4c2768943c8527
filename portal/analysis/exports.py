"""Every analysis table downloads as CSV and XLSX with the page's current filters.

A table is its column headings and its rows of plain values (numbers, text, `Decimal` money).
The CSV starts with a byte order mark so that Excel reads the UTF-8 Chinese right (as the
statements' CSV); the XLSX (openpyxl, write-only) keeps numbers and money as numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal

from flask import Response

FORMATS = ("csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def csv_bytes(headers: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([str(h) for h in headers])
    for row in rows:
        writer.writerow([_text(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx_bytes(headers: Sequence[str], rows: Iterable[Sequence], title: str) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31] or "Sheet")
    sheet.append([str(h) for h in headers])
    for row in rows:
        sheet.append([float(v) if isinstance(v, Decimal) else v for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def table_response(fmt: str, name: str, headers: Sequence[str], rows: Iterable[Sequence]):
    """The table as a download in `fmt` (csv or xlsx), named `name`.`fmt`."""
    rows = list(rows)
    if fmt == "xlsx":
        body, mimetype = xlsx_bytes(headers, rows, name), XLSX_TYPE
    else:
        body, mimetype = csv_bytes(headers, rows), "text/csv; charset=utf-8"
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
