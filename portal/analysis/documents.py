"""Each supplier's monthly quality report (质量报告): a PDF rendered by a worker.

The report of a supplier for a month is as of the month's last day (today for the current month)
and holds its parts' C/1000 trend over the 12 months to then, the top faults and causal parts,
the Weibull fit of its parts' life data with the forecast, and its active early warnings. The
job renders it in the language of the reader who asked for it (a worker has no request) and stores
it under `<UPLOAD_FOLDER>/quality_reports/`; a past month's file is kept, the current month's is
rendered again after 12 hours. The charts are the pages' SVG, which WeasyPrint draws.

WeasyPrint is imported inside the renderer: it is heavy, and only the workers need it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from portal.analysis import charts, queries
from portal.analysis.conventions import last_day
from portal.analysis.models import EarlyWarning
from portal.analysis.queries import GroupBy, Selection
from portal.claims import attachments
from portal.db import utcnow
from portal.extensions import db
from portal.jobs import set_progress
from portal.masterdata.models import Supplier

FOLDER = "quality_reports"
JOB = "portal.analysis.documents:render_quality_report"
TEMPLATE = "analysis/pdf/quality_report.html"
LANGUAGES = ("en", "zh_CN")
TREND_MONTHS = 12
CURRENT_FOR = timedelta(hours=12)  # the current month's report is rendered again after


def parse_period(text: str, today: date) -> tuple[date, date] | None:
    """A report month `YYYY-MM` as (first day, as-of day), or None when it is malformed or in
    the future. The current month's report is as of today."""
    year, _sep, month = text.partition("-")
    if not (
        (year + month).isascii()
        and len(year) == 4
        and year.isdigit()
        and month.isdigit()
        and 1 <= int(month) <= 12
    ):
        return None
    first = date(int(year), int(month), 1)
    if first > today:
        return None
    end = date(first.year, first.month, last_day(first.year, first.month))
    return first, min(end, today)


def storage_dir() -> Path:
    path = attachments.storage_dir() / FOLDER
    path.mkdir(parents=True, exist_ok=True)
    return path


def pdf_file(supplier: Supplier, period: str, language: str) -> Path:
    return storage_dir() / f"{supplier.id}-{period}-{language}.pdf"


def current_pdf(supplier: Supplier, period: str, language: str, today: date) -> Path | None:
    """The stored report when it is still current: a past month's always, the current month's
    when rendered today."""
    path = pdf_file(supplier, period, language)
    if not path.exists():
        return None
    _first, as_of = parse_period(period, today) or (None, None)
    rendered = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    if as_of == today and rendered < utcnow() - CURRENT_FOR:
        return None
    return path


@dataclass(frozen=True)
class TrendMonth:
    month: str
    vehicles: int
    claims: int
    per_1000: float | None


def month_back(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def trend(selection: Selection) -> list[TrendMonth]:
    """Claims repaired in each of the 12 months to as_of per 1,000 vehicles in service then."""
    result = []
    for back in range(TREND_MONTHS - 1, -1, -1):
        first = month_back(selection.as_of, back)
        end = min(date(first.year, first.month, last_day(first.year, first.month)), selection.as_of)
        month = replace(selection, as_of=end, repaired_from=first)
        vehicles = queries.vehicle_count(month)
        claims, _cost = queries.claim_totals(month)
        per_1000 = claims * 1000 / vehicles if vehicles else None
        result.append(TrendMonth(f"{first.year:04d}-{first.month:02d}", vehicles, claims, per_1000))
    return result


def report_context(supplier: Supplier, period: str, as_of: date) -> dict:
    from portal.analysis.reliability import FitFailed, TooFewFailures
    from portal.analysis.reports import reliability_report

    selection = Selection(as_of=as_of, suppliers=(supplier.code,))
    months = trend(selection)
    set_progress(40)
    faults = sorted(
        (r for r in queries.claim_rates(selection, GroupBy.FAULT_CODE) if r.claims),
        key=lambda r: (-r.claims, str(r.key)),
    )[:10]
    parts = sorted(
        (r for r in queries.claim_rates(selection, GroupBy.PART) if r.claims),
        key=lambda r: (-r.claims, str(r.key)),
    )[:10]
    claims, cost = queries.claim_totals(selection)
    reliability, refusal, plot, forecast_chart = None, None, None, None
    try:
        reliability = reliability_report(selection)
    except (TooFewFailures, FitFailed) as exc:
        refusal = exc.message
    if reliability is not None:
        drawn = charts.reliability_charts(reliability)
        plot, forecast_chart = drawn["plot"], drawn["forecast_chart"]
    set_progress(70)
    warnings = db.session.scalars(
        sa.select(EarlyWarning)
        .where(EarlyWarning.supplier_id == supplier.id, EarlyWarning.active.is_(True))
        .order_by(EarlyWarning.p_value)
    ).all()
    trend_chart = charts.bar_chart(
        [charts.Bar(m.month, round(m.per_1000 or 0, 3)) for m in months],
        _("C/1000 by repair month"),
        testid="trend-chart",
    )
    return {
        "supplier": supplier,
        "period": period,
        "as_of": as_of,
        "claims": claims,
        "cost": cost,
        "months": months,
        "faults": faults,
        "parts": parts,
        "reliability": reliability,
        "refusal": refusal,
        "plot": plot,
        "forecast_chart": forecast_chart,
        "trend_chart": trend_chart,
        "warnings": warnings,
        "generated_at": utcnow(),
    }


def quality_report_pdf(supplier: Supplier, period: str, as_of: date, language: str) -> bytes:
    from weasyprint import HTML

    with force_locale(language):
        html = render_template(TEMPLATE, **report_context(supplier, period, as_of))
    return HTML(string=html).write_pdf()


def render_quality_report(supplier_id: int, period: str, language: str, today_iso: str) -> str:
    """The job: render a supplier's report for `period` in `language` and store it (replacing the
    previous one; safe to run twice). Answers the stored file's name."""
    supplier = db.session.get(Supplier, supplier_id)
    today = date.fromisoformat(today_iso)
    found = parse_period(period, today)
    if supplier is None or found is None or language not in LANGUAGES:
        raise ValueError(f"no report for supplier {supplier_id}, {period}, {language}")
    set_progress(10)
    data = quality_report_pdf(supplier, period, found[1], language)
    path = pdf_file(supplier, period, language)
    partial = path.with_suffix(f".{os.getpid()}.part")
    partial.write_bytes(data)
    partial.replace(path)
    set_progress(100)
    return path.name
