"""The analysis pages (统计分析): fault analysis, reliability, compensation, early warnings,
outlier stations and the suppliers' quality reports.

Auditors, finance and admins see everything; a supplier's user sees its own parts only (its
filters always carry its own supplier code, another supplier's part is a 404); a station gets
403. Every figure links to the claim list behind it (`analysis.claims`, the same filters with the
figure's dimension fixed). Filters that cannot be read are answered with their messages (400).
Every table downloads as CSV or XLSX (`?format=csv|xlsx`) with the current filters.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm import selectinload

from portal.analysis import charts, exports, queries, reports
from portal.analysis import filters as f
from portal.analysis.lists import CLAIMS, STATIONS, WARNINGS, claim_order
from portal.analysis.queries import GroupBy
from portal.auth.models import Role
from portal.auth.permissions import role_required
from portal.claims.labels import STATUS_LABELS, TYPE_LABELS
from portal.claims.models import Claim
from portal.extensions import db
from portal.labels import as_words
from portal.lists import Sort
from portal.money import CENT

bp = Blueprint("analysis", __name__)

OEM_ANALYSTS = (Role.AUDITOR, Role.FINANCE, Role.ADMIN)
ANALYSTS = (*OEM_ANALYSTS, Role.SUPPLIER)
TOP_N = 10
# A table on a page shows at most this many rows (those with most claims, in key order); its
# CSV and XLSX export has them all.
TABLE_ROWS = 100


def _read_filters():
    """The request's filters, or (with its messages) no filters: the page then says why."""
    try:
        return f.parse(request.args, current_user), []
    except f.FilterError as exc:
        return f.empty(current_user), exc.messages


def _export_format() -> str | None:
    fmt = request.args.get("format", "")
    return fmt if fmt in exports.FORMATS else None


def _per_vehicle(cost: Decimal, vehicles: int) -> Decimal | None:
    return (cost / vehicles).quantize(CENT) if vehicles else None


def _filter_choices(filters: f.Filters) -> dict:
    """The codes the filter form offers (a supplier's user: its own parts only)."""
    from portal.masterdata.models import FaultCode, Part, Station, Supplier, VehicleModel

    parts = sa.select(Part.number, Part.name).order_by(Part.number)
    if filters.supplier is not None:
        parts = parts.where(Part.supplier_id == filters.supplier.id)
    return {
        "model": db.session.execute(
            sa.select(VehicleModel.code, VehicleModel.name).order_by(VehicleModel.code)
        ).all(),
        "part": db.session.execute(parts).all(),
        "fault_code": db.session.execute(
            sa.select(FaultCode.code, FaultCode.description).order_by(FaultCode.code)
        ).all(),
        "supplier": []
        if filters.supplier is not None
        else db.session.execute(
            sa.select(Supplier.code, Supplier.name).order_by(Supplier.code)
        ).all(),
        "station": db.session.execute(
            sa.select(Station.code, Station.name).order_by(Station.code)
        ).all(),
        "region": [
            (r, r)
            for r in db.session.scalars(
                sa.select(Station.region).distinct().order_by(Station.region)
            )
        ],
        "contract": [(value, str(label)) for value, label in f.CONTRACT_LABELS.items()],
    }


# -- fault analysis (车辆故障分析) ---------------------------------------------------------------


RATE_HEADERS = (
    _l("Key"),
    _l("Vehicles"),
    _l("Claims"),
    _l("C/1000"),
    _l("Cost"),
    _l("Cost per vehicle"),
)


@bp.route("/")
@role_required(*ANALYSTS)
def index():
    return faults()


@bp.route("/faults")
@role_required(*ANALYSTS)
def faults():
    filters, errors = _read_filters()
    group_by, problem = f.group_by(request.args, GroupBy.PART)
    if problem:
        errors.append(problem)
    selection = filters.selection
    fmt = _export_format()
    if fmt:
        rows = queries.claim_rates(selection, group_by)
        return exports.table_response(
            fmt,
            f"claim-rates-{group_by.value}-{selection.as_of.isoformat()}",
            [f.GROUP_LABELS[group_by], *RATE_HEADERS[1:]],
            (
                (r.key, r.vehicles, r.claims, r.per_1000, r.cost, _per_vehicle(r.cost, r.vehicles))
                for r in rows
            ),
        )
    # The Nevada chart counts the selection's vehicles by sale month, and every counted claim
    # has one row by part: the totals are their sums, not further queries.
    nevada = queries.nevada(selection)
    vehicles = sum(row.vehicles for row in nevada)
    by_part = queries.claim_rates(selection, GroupBy.PART, vehicles_total=vehicles)
    rows = by_part if group_by is GroupBy.PART else queries.claim_rates(selection, group_by)
    claims = sum(r.claims for r in by_part)
    cost = sum((r.cost for r in by_part), Decimal("0.00"))
    worst = sorted(
        (r for r in by_part if r.claims and r.key),
        key=lambda r: (-r.claims, -r.cost, r.key),
    )[:TOP_N]
    shown = _shown_rows(rows)
    rising = queries.rising(selection, GroupBy.PART, limit=TOP_N)
    chart_rows = [r for r in rows if r.key is not None][:60]
    by_rate = group_by is GroupBy.MONTHS_IN_SERVICE or group_by not in (
        GroupBy.PART,
        GroupBy.FAULT_CODE,
        GroupBy.SUPPLIER,
    )
    chart = charts.bar_chart(
        [
            charts.Bar(
                str(r.key),
                (r.per_1000 or 0) if by_rate else r.claims,
                url_for("analysis.claims", **filters.drill(group_by, r.key)),
            )
            for r in chart_rows
        ],
        _("C/1000 by %(group)s", group=as_words(str(f.GROUP_LABELS[group_by])))
        if by_rate
        else _("Claims by %(group)s", group=as_words(str(f.GROUP_LABELS[group_by]))),
        testid="fault-chart",
    )
    return render_template(
        "analysis/faults.html",
        filters=filters,
        errors=errors,
        choices=_filter_choices(filters),
        group_by=group_by,
        groups=f.GROUP_LABELS,
        rows=shown,
        all_rows=len(rows),
        chart=chart,
        chart_by_rate=by_rate,
        totals={
            "vehicles": vehicles,
            "claims": claims,
            "cost": cost,
            "per_1000": claims * 1000 / vehicles if vehicles else None,
            "per_vehicle": _per_vehicle(cost, vehicles),
        },
        worst=worst,
        rising=rising,
        nevada=nevada,
        nevada_width=max((len(n.claims) for n in nevada), default=0),
        per_vehicle=_per_vehicle,
        GroupBy=GroupBy,
    ), (400 if errors else 200)


def _shown_rows(rows: list) -> list:
    """The rows a page's table shows: all, or the TABLE_ROWS with most claims (in key order)."""
    if len(rows) <= TABLE_ROWS:
        return rows
    kept = sorted(range(len(rows)), key=lambda i: (-rows[i].claims, i))[:TABLE_ROWS]
    return [rows[i] for i in sorted(kept)]


# -- the claims behind a figure --------------------------------------------------------------------

CLAIM_HEADERS = (
    _l("Claim"),
    _l("Type"),
    _l("Status"),
    _l("Station"),
    _l("VIN"),
    _l("Repair date"),
    _l("Months in service"),
    _l("Causal part"),
    _l("Fault code"),
    _l("Supplier"),
    _l("Approved amount"),
)


def _claims_query(selection, sort: Sort | None = None):
    counted = queries.counted_claims(selection)
    return (
        sa.select(Claim, counted.c.mis)
        .join(counted, counted.c.claim_id == Claim.id)
        .options(
            selectinload(Claim.station),
            selectinload(Claim.causal_part),
            selectinload(Claim.fault_code),
            selectinload(Claim.responsible_supplier),
        )
        .order_by(*claim_order(sort or CLAIMS.default, counted.c.mis))
    )


def _claim_row(claim: Claim, mis: int) -> tuple:
    return (
        claim.number,
        str(TYPE_LABELS.get(claim.type, claim.type)),
        str(STATUS_LABELS.get(claim.status, claim.status)),
        claim.station.code,
        claim.vin,
        claim.repair_date,
        mis,
        claim.causal_part.number if claim.causal_part else "",
        claim.fault_code.code if claim.fault_code else "",
        claim.responsible_supplier.code if claim.responsible_supplier else "",
        claim.approved_total_amount,
    )


@bp.route("/claims")
@role_required(*ANALYSTS)
def claims():
    """The drill-down: exactly the counted claims of the filters."""
    filters, errors = _read_filters()
    shown = CLAIMS.shown(request.args)
    query = _claims_query(filters.selection, shown.sort)
    fmt = _export_format()
    if fmt and not errors:
        rows = (_claim_row(c, mis) for c, mis in db.session.execute(query))
        return exports.table_response(
            fmt, f"claims-{filters.selection.as_of.isoformat()}", CLAIM_HEADERS, rows
        )
    page = request.args.get("page", "1")
    page = int(page) if page.isdigit() and int(page) > 0 else 1
    # how many and their cost in one aggregate over the counted claims (the list's own rows)
    counted = queries.counted_claims(filters.selection)
    total, cost = db.session.execute(
        sa.select(sa.func.count(), sa.func.sum(counted.c.approved_total_amount))
    ).one()
    cost = (cost or Decimal(0)).quantize(CENT) if not errors else Decimal(0)
    per_page = 50
    items = (
        []
        if errors
        else db.session.execute(query.limit(per_page).offset((page - 1) * per_page)).all()
    )
    return render_template(
        "analysis/claims.html",
        filters=filters,
        errors=errors,
        items=items,
        total=0 if errors else total,
        cost=cost,
        page=page,
        pages=max(1, -(-total // per_page)),
        shown=shown,
        type_labels=TYPE_LABELS,
        status_labels=STATUS_LABELS,
    ), (400 if errors else 200)


# -- reliability -----------------------------------------------------------------------------------

FORECAST_HEADERS = (
    _l("Months ahead"),
    _l("Predicted claims"),
    _l("Lower bound"),
    _l("Upper bound"),
    _l("Predicted cost"),
)


@bp.route("/reliability")
@role_required(*ANALYSTS)
def reliability():
    from portal.analysis.reliability import FitFailed, TooFewFailures

    filters, errors = _read_filters()
    options, problems = f.forecast_options(request.args)
    errors.extend(problems.values())
    report, refusal = None, None
    try:
        report = reports.reliability_report(filters.selection, **options)
    except (TooFewFailures, FitFailed) as exc:
        refusal = exc.message
    fmt = _export_format()
    if fmt and report is not None:
        return exports.table_response(
            fmt,
            f"forecast-{filters.selection.as_of.isoformat()}",
            FORECAST_HEADERS,
            ((m.month, m.predicted, m.lower, m.upper, m.cost) for m in report.forecast),
        )
    observed = None
    if report is not None:
        observed = report.failures
    return render_template(
        "analysis/reliability.html",
        filters=filters,
        errors=errors,
        choices=_filter_choices(filters),
        options=options,
        report=report,
        refusal=refusal,
        observed=observed,
        charts=charts.reliability_charts(report) if report is not None else None,
    ), (400 if errors else 200)


# -- compensation analysis (车辆赔偿分析) ---------------------------------------------------------

RECOVERY_HEADERS = (
    _l("Claims"),
    _l("Approved cost"),
    _l("Charged back"),
    _l("Recovered"),
    _l("Recovery rate"),
    _l("Waived"),
    _l("Disputed"),
    _l("Open"),
)
RECOVERY_TABLES = {
    "supplier": _l("Supplier"),
    "part": _l("Causal part"),
    "period": _l("Statement period"),
}
CYCLE_LABELS = {
    "submit_decision": _l("Submitted to decided"),
    "decision_settled": _l("Decided to settled"),
    "settled_paid": _l("Settled to paid"),
    "submit_paid": _l("Submitted to paid"),
}


@bp.route("/compensation")
@role_required(*ANALYSTS)
def compensation():
    from portal.analysis.compensation import audit_queue
    from portal.analysis.compensation import compensation as compute

    filters, errors = _read_filters()
    report, computed_at = _compensation_report(filters.selection, compute)
    table = request.args.get("table", "supplier")
    fmt = _export_format()
    if fmt and table in RECOVERY_TABLES:
        rows = {"supplier": report.by_supplier, "part": report.by_part, "period": report.by_period}
        return exports.table_response(
            fmt,
            f"recovery-by-{table}-{filters.selection.as_of.isoformat()}",
            [RECOVERY_TABLES[table], *RECOVERY_HEADERS],
            (
                (
                    r.key,
                    r.claims,
                    r.cost,
                    r.charged,
                    r.recovered,
                    r.rate,
                    r.waived,
                    r.disputed,
                    r.open,
                )
                for r in rows[table]
            ),
        )
    oem = filters.supplier is None
    recovery_chart = charts.bar_chart(
        [
            charts.Bar(
                r.key,
                round((r.rate or 0) * 100, 1),
                url_for("analysis.claims", **filters.args(supplier=r.key)) if oem else None,
            )
            for r in report.by_supplier
            if r.key
        ],
        _("Recovery rate by supplier"),
        testid="recovery-chart",
    )
    return render_template(
        "analysis/compensation.html",
        filters=filters,
        errors=errors,
        choices=_filter_choices(filters),
        report=report,
        queue=audit_queue(filters.selection) if oem else None,
        oem=oem,
        recovery_chart=recovery_chart,
        tables=RECOVERY_TABLES,
        table_rows=TABLE_ROWS,
        cycle_labels=CYCLE_LABELS,
        computed_at=computed_at,
        can_refresh=current_user.role in OEM_ANALYSTS,
    ), (400 if errors else 200)


def _compensation_report(selection, compute):
    """(report, when it was computed or None when just now). Every counted claim as of today is
    read from the snapshot the nightly job stores (the first request of a day stores it);
    other selections are computed now."""
    from portal.analysis import compensation as c

    if not c.is_snapshot_selection(selection):
        return compute(selection), None
    found = c.stored(selection.as_of)
    if found is not None:
        return found
    report = compute(selection)
    if selection.as_of == date.today():
        c.store(selection.as_of, report)
        db.session.commit()
        return c.stored(selection.as_of)
    return report, None


@bp.route("/compensation/refresh", methods=["POST"])
@role_required(*OEM_ANALYSTS)
def refresh_compensation():
    """Compute the snapshot of every counted claim again now (a job; in-process without
    Redis)."""
    from portal.analysis.tasks import SNAPSHOT_JOB
    from portal.jobs import JobsUnavailable

    form = FlaskForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        _job_id, status = _run_job(SNAPSHOT_JOB)
    except JobsUnavailable as exc:
        flash(exc.message, "danger")
        return redirect(url_for("analysis.compensation"))
    if status is not None and status.status == "finished":
        flash(_("The compensation figures were computed again."), "success")
    elif status is not None and status.status == "failed":
        flash(_("Computing the compensation figures failed; the error has been logged."), "danger")
    else:
        flash(
            _("The compensation figures are being computed; reload the page in a minute."), "info"
        )
    return redirect(url_for("analysis.compensation"))


# -- early warnings (早期预警) -----------------------------------------------------------------


def _visible_warnings():
    from portal.analysis.models import EarlyWarning

    query = sa.select(EarlyWarning).options(
        selectinload(EarlyWarning.part), selectinload(EarlyWarning.supplier)
    )
    if current_user.role is Role.SUPPLIER:
        query = query.where(EarlyWarning.supplier_id == current_user.organisation_id)
    return query


@bp.route("/warnings")
@role_required(*ANALYSTS)
def warnings():
    from portal.analysis import early_warnings
    from portal.analysis.models import EarlyWarning

    shown = request.args.get("show", "active")
    query = _visible_warnings()
    if shown != "all":
        query = query.where(EarlyWarning.active.is_(True))
    found = db.session.scalars(
        query.order_by(EarlyWarning.active.desc(), EarlyWarning.p_value, EarlyWarning.id)
    ).all()
    sorting = WARNINGS.shown(request.args)
    if sorting.chosen:
        found = WARNINGS.sort_rows(found, sorting.sort)
    fmt = _export_format()
    if fmt:
        return exports.table_response(
            fmt,
            "early-warnings",
            (
                _l("Causal part"),
                _l("Supplier"),
                _l("Production month"),
                _l("Vehicles"),
                _l("Observed claims"),
                _l("Expected claims"),
                _l("Ratio"),
                _l("p-value"),
                _l("Active"),
                _l("As of"),
            ),
            (
                (
                    w.part.number,
                    w.supplier.code,
                    w.cohort,
                    w.vehicles,
                    w.observed,
                    w.expected,
                    round(w.ratio, 2) if w.ratio else None,
                    w.p_value,
                    w.active,
                    w.as_of,
                )
                for w in found
            ),
        )
    return render_template(
        "analysis/warnings.html",
        warnings=found,
        shown=shown,
        sorting=sorting,
        rules=early_warnings,
        can_run=current_user.role in (Role.AUDITOR, Role.ADMIN),
    )


@bp.route("/warnings/<int:warning_id>")
@role_required(*ANALYSTS)
def warning(warning_id: int):
    from portal.analysis.models import EarlyWarning

    found = db.session.get(EarlyWarning, warning_id)
    if found is None or not found.can_view(current_user):
        abort(404)
    from portal.notifications.operations import mark_read_by_link

    mark_read_by_link(current_user, request.path)
    db.session.commit()
    drill = {
        "part": found.part.number,
        "produced_from": found.cohort,
        "produced_to": found.cohort,
        "as_of": found.as_of.isoformat(),
    }
    chart = charts.bar_chart(
        [
            charts.Bar(
                str(k),
                observed,
                None,
                _("MIS %(k)s: %(o)s claims, %(e)s expected", k=k, o=observed, e=f"{expected:.1f}"),
            )
            for k, _vehicles, observed, expected in found.evidence
        ],
        _("Claims by months in service"),
        testid="warning-chart",
    )
    return render_template("analysis/warning.html", warning=found, drill=drill, chart=chart)


@bp.route("/warnings/check", methods=["POST"])
@role_required(Role.AUDITOR, Role.ADMIN)
def check_warnings():
    """Run the nightly check now (a job; in-process without Redis)."""
    from portal.analysis.tasks import JOB
    from portal.jobs import JobsUnavailable

    form = FlaskForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        _job_id, status = _run_job(JOB)
    except JobsUnavailable as exc:
        flash(exc.message, "danger")
        return redirect(url_for("analysis.warnings"))
    if status is not None and status.status == "finished":
        flash(_("The early-warning check ran: %(n)s new warnings.", n=status.result), "success")
    elif status is not None and status.status == "failed":
        flash(_("The early-warning check failed; the error has been logged."), "danger")
    else:
        flash(
            _("The early-warning check is queued; its warnings appear here when it is done."),
            "info",
        )
    return redirect(url_for("analysis.warnings"))


# -- outlier stations ------------------------------------------------------------------------------

STATION_HEADERS = (
    _l("Station"),
    _l("Region"),
    _l("Claims"),
    _l("Vehicles"),
    _l("Claims per vehicle"),
    _l("p-value"),
    _l("Cost per claim"),
    _l("Modified z"),
    _l("Labor hours per claim"),
    _l("Modified z"),
    _l("Repeat repairs"),
    _l("p-value"),
    _l("Flagged"),
)


@bp.route("/stations")
@role_required(*OEM_ANALYSTS)
def stations():
    """Outlier stations: the OEM's fraud signal (suppliers do not see other stations' tests)."""
    from portal.analysis import outliers

    filters, errors = _read_filters()
    found = outliers.outlier_stations(filters.selection)
    sorting = STATIONS.shown(request.args)
    if sorting.chosen:
        found = STATIONS.sort_rows(found, sorting.sort)
    fmt = _export_format()
    if fmt:

        def stat(s, metric):
            return s.tests[metric][2] if metric in s.tests else None

        return exports.table_response(
            fmt,
            f"outlier-stations-{filters.selection.as_of.isoformat()}",
            STATION_HEADERS,
            (
                (
                    s.code,
                    s.region,
                    s.claims,
                    s.vehicles,
                    s.claims_per_vehicle,
                    stat(s, "claims_per_vehicle"),
                    s.cost_per_claim,
                    stat(s, "cost_per_claim"),
                    s.hours_per_claim,
                    stat(s, "hours_per_claim"),
                    s.repeats,
                    stat(s, "repeats"),
                    s.flagged,
                )
                for s in found
            ),
        )
    chart = charts.bar_chart(
        [
            charts.Bar(
                s.code,
                round(max(s.tests.get("cost_per_claim", (0, 0, 0.0))[2], 0.0), 2),
                url_for("analysis.claims", **filters.args(station=s.code)),
            )
            for s in found
        ],
        _("Modified z-score of cost per claim"),
        testid="station-chart",
    )
    return render_template(
        "analysis/stations.html",
        filters=filters,
        errors=errors,
        choices=_filter_choices(filters),
        stations=found,
        rules=outliers,
        chart=chart,
        sorting=sorting,
    ), (400 if errors else 200)


# -- the suppliers' quality reports ----------------------------------------------------------------


def _run_job(path: str, *args):
    """Queue the job `path` (in-process without Redis) with no transaction of this request open
    while it writes, and none opened again by reading the user's expired attributes; answers the
    job's status. Raises `JobsUnavailable`."""
    from portal.jobs import enqueue, job_status

    owner_id = current_user.id
    session = db.session()
    session.expire_on_commit = False
    session.commit()
    job_id = enqueue(path, *args, owner_id=owner_id)
    return job_id, job_status(job_id)


def _report_supplier(code: str | None):
    """The supplier whose reports the user may read: a supplier's user its own (another code is
    a 404), the OEM's any (None until one is chosen)."""
    from portal.masterdata.models import Supplier

    own = f.supplier_of(current_user)
    if own is not None:
        if code not in (None, own.code):
            abort(404)
        return own
    if not code:
        return None
    found = db.session.scalar(sa.select(Supplier).where(Supplier.code == code))
    if found is None:
        abort(404)
    return found


def _language() -> str:
    from flask_babel import get_locale

    return "zh_CN" if get_locale().language == "zh" else "en"


@bp.route("/reports")
@role_required(*ANALYSTS)
def reports_index():
    from portal.analysis.documents import month_back
    from portal.masterdata.models import Supplier

    supplier = _report_supplier(request.args.get("supplier") or None)
    today = date.today()
    periods = [month_back(today, back).strftime("%Y-%m") for back in range(12)]
    suppliers = (
        db.session.scalars(sa.select(Supplier).order_by(Supplier.code)).all()
        if f.supplier_of(current_user) is None
        else []
    )
    return render_template(
        "analysis/reports.html", supplier=supplier, suppliers=suppliers, periods=periods
    )


@bp.route("/reports/<code>/<period>.pdf")
@role_required(*ANALYSTS)
def report_pdf(code: str, period: str):
    """The stored report, or (not rendered yet) its render job queued and a page that waits."""
    from flask import send_file

    from portal.analysis import documents
    from portal.jobs import JobsUnavailable

    supplier = _report_supplier(code)
    today = date.today()
    if documents.parse_period(period, today) is None:
        flash(_("%(value)s is not a past or current month (YYYY-MM).", value=period), "warning")
        return redirect(url_for("analysis.reports_index", supplier=supplier.code))
    language = _language()
    path = documents.current_pdf(supplier, period, language, today)
    if path is None:
        try:
            job_id, status = _run_job(
                documents.JOB, supplier.id, period, language, today.isoformat()
            )
        except JobsUnavailable as exc:
            flash(exc.message, "danger")
            return redirect(url_for("analysis.reports_index", supplier=supplier.code))
        if status is not None and status.status == "failed":
            flash(_("The report could not be prepared; the error has been logged."), "danger")
            return redirect(url_for("analysis.reports_index", supplier=supplier.code))
        return render_template(
            "analysis/report_pending.html",
            supplier=supplier,
            period=period,
            job_url=url_for("jobs.status", job_id=job_id),
        ), 202
    response = send_file(
        path,
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"quality-report-{supplier.code}-{period}.pdf",
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
