"""The settlement pages (结算): finance runs a period and releases its statements, stations and
suppliers read their statements, suppliers review each chargeback line (追偿) and auditors
resolve the disputes.

Every view loads its record scoped to the user (another organisation's statement or chargeback
is a 404, so is a draft one), checks the role, calls one operation and commits once. A refused
action is rolled back and the page is shown again with the operation's message: 409 when the
record changed under the user (someone else acted first), 422 when what was sent is refused.
PDFs are rendered by workers, never inside a request: a PDF not rendered yet is queued and the
page waits for its job.
"""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy.orm import selectinload
from wtforms import SelectChoice

from portal import labels as portal_labels
from portal.auth.models import Role
from portal.auth.permissions import role_required
from portal.claims import attachments
from portal.claims.labels import TYPE_LABELS
from portal.claims.models import Claim
from portal.db import utcnow
from portal.errors import Conflict, DomainError, ValidationFailed
from portal.extensions import db
from portal.inputs import decimal_arg, parse_int
from portal.jobs import job_status
from portal.lists import contains, selected
from portal.masterdata.models import Organisation, Supplier
from portal.messages import money, month
from portal.oldparts.models import OldPart
from portal.oldparts.operations import REMOVES_FROM_RECOVERY
from portal.settlement import engine
from portal.settlement import operations as op
from portal.settlement import queries as q
from portal.settlement.adjustments import adjustments_of_claim
from portal.settlement.forms import (
    AcceptForm,
    ActionForm,
    ChargebackFilterForm,
    DisputeFilterForm,
    DisputeForm,
    EvidenceForm,
    MarkPaidForm,
    ResolveForm,
    StartRunForm,
    StatementFilterForm,
)
from portal.settlement.lists import (
    CHARGEBACKS,
    DISPUTES,
    RUN_TOTALS,
    RUNS,
    STATEMENT_LINES,
    STATEMENTS,
)
from portal.settlement.models import (
    UNRESOLVED_CHARGEBACKS,
    AdjustmentKind,
    Chargeback,
    ChargebackEvidence,
    ChargebackStatus,
    RunStatus,
    SettlementRun,
    Statement,
    StatementKind,
    StatementStatus,
)
from portal.web import after_commit, invalid_renders, load_or_404, page_action

bp = Blueprint("settlement", __name__)

# RQ's names of a job that has not ended yet.
PENDING_JOB_STATUSES = frozenset({"queued", "started", "deferred", "scheduled"})

RUN_BADGES = {
    RunStatus.QUEUED: "text-bg-secondary",
    RunStatus.RUNNING: "text-bg-info",
    RunStatus.DRAFT: "text-bg-warning",
    RunStatus.RELEASED: "text-bg-success",
    RunStatus.FAILED: "text-bg-danger",
    RunStatus.DISCARDED: "text-bg-light border",
}
STATEMENT_BADGES = {
    StatementStatus.DRAFT: "text-bg-warning",
    StatementStatus.RELEASED: "text-bg-primary",
    StatementStatus.FINAL: "text-bg-info",
    StatementStatus.PAID: "text-bg-success",
}
CHARGEBACK_BADGES = {
    ChargebackStatus.OPEN: "text-bg-warning",
    ChargebackStatus.ACCEPTED: "text-bg-success",
    ChargebackStatus.DISPUTED: "text-bg-danger",
    ChargebackStatus.UPHELD: "text-bg-dark",
    ChargebackStatus.WAIVED: "text-bg-light border",
}
# What a run is doing (SettlementRun.step), in the words of the progress bar.
STEP_LABELS = {
    "": _l("Waiting for a worker"),
    "queued": _l("Waiting for a worker"),
    "starting": _l("Starting"),
    "scope": _l("Finding the claims to settle"),
    "station_claims": _l("Station statements: claims"),
    "station_charges": _l("Station statements: scrap residuals and overdue parts"),
    "emergency_credits": _l("Station statements: emergency part credits"),
    "station_totals": _l("Station statement totals"),
    "chargebacks": _l("Supplier chargebacks"),
    "supplier_totals": _l("Supplier statement totals"),
    "totals": _l("Run totals"),
    "draft": _l("Draft ready"),
    "releasing": _l("Releasing: settling the claims"),
    "released": _l("Released"),
    "failed": _l("Failed"),
    "discarded": _l("Discarded"),
}
EVENT_LABELS = {
    "accepted": _l("Accepted"),
    "disputed": _l("Disputed"),
    "evidence_added": _l("Evidence added"),
    "upheld": _l("Dispute upheld"),
    "waived": _l("Dispute waived"),
}

portal_labels.register("run_step", STEP_LABELS)
portal_labels.register("chargeback_event", EVENT_LABELS)

labels = SimpleNamespace(
    run=q.RUN_STATUS_LABELS,
    run_badge=RUN_BADGES,
    kind=q.STATEMENT_KIND_LABELS,
    kind_short={StatementKind.STATION: _l("Station"), StatementKind.SUPPLIER: _l("Supplier")},
    statement=q.STATEMENT_STATUS_LABELS,
    statement_badge=STATEMENT_BADGES,
    chargeback={s.value: label for s, label in q.CHARGEBACK_STATUS_LABELS.items()},
    chargeback_badge={s.value: badge for s, badge in CHARGEBACK_BADGES.items()},
    step=STEP_LABELS,
    event=EVENT_LABELS,
)


@bp.app_context_processor
def settlement_helpers():
    return {"settlement_labels": labels, "disputes_waiting": disputes_waiting}


def disputes_waiting() -> int:
    """How many chargebacks wait for an auditor (the badge of the auditors' "Disputes")."""
    return db.session.scalar(
        sa.select(sa.func.count(Chargeback.id)).where(
            Chargeback.status == ChargebackStatus.DISPUTED
        )
    )


class ListPagination(Pagination):
    """A page of a list computed in Python (or of a statement's lines), shaped like
    `db.paginate` so the pager macro works on it."""

    def __init__(self, items=None, *, fetch=None, total: int | None = None, per_page: int):
        super().__init__(
            per_page=per_page, error_out=False, all_items=items, fetch=fetch, known=total
        )

    def _query_items(self) -> list:
        args = self._query_args
        if args["fetch"] is not None:
            return args["fetch"](self._query_offset, self.per_page)
        return args["all_items"][self._query_offset : self._query_offset + self.per_page]

    def _query_count(self) -> int:
        args = self._query_args
        return args["known"] if args["known"] is not None else len(args["all_items"])


def _page_size() -> int:
    return current_app.config["PAGE_SIZE"]


def _placed(form, render, *, field_of=None):
    """A refused form: the message on top, each field problem beside its field, and the page
    rendered again by `render(status)` with the refusal's status (`page_action` rolled back)."""

    def refused(exc: DomainError):
        flash(exc.message, "danger")
        for name, problem in exc.fields.items():
            field = getattr(form, field_of(name) if field_of else name, None)
            if field is not None:
                field.errors = [problem]
        return render(exc.status)

    return refused


def _run_page(exc: DomainError, run_id: int):
    return _render_run(run_id, status=exc.status)


def _statement_page(exc: DomainError, statement_id: int):
    return _render_statement(statement_id, status=exc.status)


def _chargeback_page(exc: DomainError, chargeback_id: int):
    return _render_chargeback(chargeback_id, status=exc.status)


def _check(form) -> None:
    """A POST form carries a valid CSRF token, or the request is malformed (400)."""
    if not form.validate_on_submit() and "csrf_token" in form.errors:
        abort(400)


# -- finance: runs ---------------------------------------------------------------------------------


@bp.route("/")
@role_required(Role.FINANCE)
def home():
    return _render_home()


def _render_home(*, status: int = 200, form: StartRunForm | None = None):
    form = form or StartRunForm(formdata=None, data={"period": engine.current_period()})
    open_run = op.open_run()
    shown = RUNS.shown(request.args)
    runs_stmt = shown.order(sa.select(SettlementRun)).options(
        selectinload(SettlementRun.created_by)
    )
    if shown.export_format and request.method == "GET":
        return RUNS.export(runs_stmt, shown.export_format, "settlement-runs")
    runs = db.paginate(runs_stmt, per_page=_page_size(), error_out=False)
    counted = sa.select(sa.func.count(Statement.id))
    overview = {
        "station_to_pay": db.session.scalar(
            counted.where(
                Statement.kind == StatementKind.STATION,
                Statement.status == StatementStatus.RELEASED,
            )
        ),
        "supplier_to_pay": db.session.scalar(
            counted.where(
                Statement.kind == StatementKind.SUPPLIER,
                Statement.status == StatementStatus.FINAL,
            )
        ),
        "awaiting_supplier": db.session.scalar(
            counted.where(
                Statement.kind == StatementKind.SUPPLIER,
                Statement.status == StatementStatus.RELEASED,
            )
        ),
        "disputes": disputes_waiting(),
    }
    return render_template(
        "settlement/home.html",
        form=form,
        open_run=open_run,
        open_stale=op.is_stale(open_run) if open_run else False,
        runs=runs,
        progress={r.id: op.run_progress(r) for r in runs.items},
        overview=overview,
        shown=shown,
        current_period=engine.current_period(),
    ), status


def _home_page(exc: DomainError):
    return _render_home(status=exc.status, form=StartRunForm())


@bp.route("/runs", methods=["POST"])
@role_required(Role.FINANCE)
@page_action(page=_home_page, category="danger")
def start_run():
    form = StartRunForm()
    _check(form)
    with invalid_renders(_placed(form, lambda status: _render_home(status=status, form=form))):
        run = op.start_run(current_user, form.period.data or "")
    return after_commit(lambda: _started(run))


def _started(run: SettlementRun):
    db.session.refresh(run)
    if run.status is RunStatus.DRAFT:
        flash(
            _(
                "The settlement of %(period)s is computed: inspect the draft, then release it.",
                period=month(run.period),
            ),
            "success",
        )
    elif run.status is RunStatus.FAILED:
        flash(_("The settlement run failed: %(error)s", error=run.error), "danger")
    else:
        flash(_("The settlement of %(period)s has started.", period=month(run.period)), "info")
    return redirect(url_for("settlement.run", run_id=run.id))


@bp.route("/runs/<int:run_id>")
@role_required(Role.FINANCE)
def run(run_id: int):
    return _render_run(run_id)


def _render_run(run_id: int, *, status: int = 200):
    run = q.run_or_404(run_id)
    kind = request.args.get("kind", StatementKind.STATION.value)
    if kind not in {k.value for k in StatementKind}:
        kind = StatementKind.STATION.value
    search = request.args.get("q", "").strip()
    shown = RUN_TOTALS.shown(request.args)
    totals = None
    if run.status in (RunStatus.DRAFT, RunStatus.RELEASED):
        rows = q.totals_with_previous(run, StatementKind(kind))
        if search:
            needle = search.casefold()
            rows = [
                r for r in rows if needle in r["code"].casefold() or needle in r["name"].casefold()
            ]
        rows = RUN_TOTALS.sort_rows(rows, shown.sort)
        if shown.export_format and status == 200:
            name = f"settlement-run-{run.id}-{kind}s"
            return RUN_TOTALS.export_records(rows, shown.export_format, name)
        totals = ListPagination(rows, per_page=_page_size())
    busy = run.status in (RunStatus.QUEUED, RunStatus.RUNNING) or run.step == "releasing"
    return render_template(
        "settlement/run.html",
        run=run,
        progress=op.run_progress(run),
        busy=busy,
        stale=op.is_stale(run),
        kind=kind,
        search=search,
        totals=totals,
        shown=shown,
        previous=op.previous_run(run),
        form=ActionForm(formdata=None),
    ), status


@bp.route("/runs/<int:run_id>/progress")
@role_required(Role.FINANCE)
def run_progress(run_id: int):
    """The run's live state for the progress bar: it reloads the page once the run moves on."""
    run = q.run_or_404(run_id)
    return jsonify(
        status=run.status.value,
        progress=op.run_progress(run),
        step=run.step,
        stale=op.is_stale(run),
        status_label=str(q.RUN_STATUS_LABELS[run.status]),
        step_label=str(STEP_LABELS.get(run.step, run.step)),
    )


def _run_action(run_id: int, action, done):
    """Load, act through one operation; once committed (its job started), say how it went."""
    form = ActionForm()
    _check(form)
    result = action(q.run_or_404(run_id))

    def respond():
        done(result)
        return redirect(url_for("settlement.run", run_id=run_id))

    return after_commit(respond)


@bp.route("/runs/<int:run_id>/release", methods=["POST"])
@role_required(Role.FINANCE)
@page_action(page=_run_page, category="danger")
def release(run_id: int):
    def done(run: SettlementRun) -> None:
        db.session.refresh(run)
        if run.status is RunStatus.RELEASED:
            flash(
                _(
                    "The settlement of %(period)s is released: %(n)d statements are visible to "
                    "their stations and suppliers and %(claims)d claims are settled.",
                    period=month(run.period),
                    n=run.station_statement_count + run.supplier_statement_count,
                    claims=run.claim_count,
                ),
                "success",
            )
            return
        found = job_status(run.job_id) if run.job_id else None
        if found is not None and found.status == "failed":
            lines = (found.error or "").strip().splitlines()
            flash(
                _(
                    "The release failed and nothing was released: %(error)s",
                    error=lines[-1] if lines else found.status,
                ),
                "danger",
            )
        else:
            flash(_("The release has started."), "info")

    return _run_action(run_id, lambda run: op.request_release(run, current_user), done)


@bp.route("/runs/<int:run_id>/discard", methods=["POST"])
@role_required(Role.FINANCE)
@page_action(page=_run_page, category="danger")
def discard(run_id: int):
    def done(run: SettlementRun) -> None:
        flash(
            _(
                "The run of %(period)s is discarded; its claims wait for the next run.",
                period=month(run.period),
            ),
            "success",
        )

    return _run_action(run_id, lambda run: op.discard_run(run, current_user), done)


@bp.route("/runs/<int:run_id>/retry", methods=["POST"])
@role_required(Role.FINANCE)
@page_action(page=_run_page, category="danger")
def retry(run_id: int):
    """Retry a failed run, or resume one whose worker stopped: it is computed again from
    nothing (a crashed transaction left nothing behind), so this is safe to repeat."""

    def done(run: SettlementRun) -> None:
        db.session.refresh(run)
        if run.status is RunStatus.FAILED:
            flash(_("The settlement run failed again: %(error)s", error=run.error), "danger")
        else:
            again = _("The run of %(period)s was started again.", period=month(run.period))
            flash(again, "success")

    return _run_action(run_id, lambda run: op.retry_run(run, current_user), done)


@bp.route("/runs/<int:run_id>/pdfs", methods=["POST"])
@role_required(Role.FINANCE)
@page_action(page=_run_page, category="danger")
def render_pdfs(run_id: int):
    def queue(run: SettlementRun) -> SettlementRun:
        if run.status is not RunStatus.RELEASED:
            raise Conflict(_("Only the statements of a released run have PDFs."))
        op.queue_statement_pdfs(run, current_user)
        return run

    def done(run: SettlementRun) -> None:
        flash(_("The statement PDFs are being rendered again."), "success")

    return _run_action(run_id, queue, done)


# -- statements ------------------------------------------------------------------------------------


def _chargeback_counts(statement_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per supplier statement: how many of its lines are in each chargeback status."""
    counts: dict[int, dict[str, int]] = {}
    if statement_ids:
        rows = db.session.execute(
            sa.select(Chargeback.statement_id, Chargeback.status, sa.func.count())
            .where(Chargeback.statement_id.in_(statement_ids))
            .group_by(Chargeback.statement_id, Chargeback.status)
        )
        for statement_id, cb_status, n in rows:
            counts.setdefault(statement_id, {})[cb_status.value] = n
    return counts


@bp.route("/statements")
@role_required(*q.STATEMENT_READERS)
def statements():
    """Finance: every statement, filtered; auditors: released supplier statements; a station or
    a supplier: its own released statements."""
    filters = StatementFilterForm.for_user(request.args, current_user)
    if not filters.validate():
        filters = StatementFilterForm.for_user(None, current_user)
    stmt = q.visible_statements(current_user).join(
        Organisation, Organisation.id == Statement.org_id
    )
    kind = getattr(filters, "kind", None)
    if kind is not None and kind.data:
        stmt = stmt.where(Statement.kind == StatementKind(kind.data))
    if filters.status.data:
        stmt = stmt.where(Statement.status == StatementStatus(filters.status.data))
    period = (filters.period.data or "").strip()
    if period:
        stmt = stmt.where(Statement.period == period)
    search = getattr(filters, "q", None)
    if search is not None and (search.data or "").strip():
        like = f"%{search.data.strip().lower()}%"
        stmt = stmt.where(
            sa.or_(
                sa.func.lower(Organisation.code).like(like),
                sa.func.lower(Organisation.name).like(like),
                sa.func.lower(Statement.number).like(like),
            )
        )
    shown = STATEMENTS.shown(request.args)
    stmt = shown.order(stmt).options(selectinload(Statement.org))
    if shown.export_format:
        return STATEMENTS.export(stmt, shown.export_format, "statements")
    page = db.paginate(stmt, per_page=_page_size(), error_out=False)
    return render_template(
        "settlement/statements.html",
        page=page,
        shown=shown,
        filters=filters,
        filtered=any(f.data for f in filters),
        counts=_chargeback_counts([s.id for s in page.items if s.kind is StatementKind.SUPPLIER]),
    )


def _can_pay(statement: Statement) -> bool:
    """Whether finance may record the payment now (operations.mark_paid's rules)."""
    if statement.kind is StatementKind.SUPPLIER:
        return statement.status is StatementStatus.FINAL
    return statement.status is StatementStatus.RELEASED


def _reviews(statement: Statement) -> bool:
    """Whether the current user is the supplier reviewing this statement's lines."""
    return (
        current_user.role is Role.SUPPLIER
        and statement.kind is StatementKind.SUPPLIER
        and statement.is_released
        and current_user.organisation_id == statement.org_id
    )


@bp.route("/statements/<int:statement_id>")
@role_required(*q.STATEMENT_READERS)
def statement(statement_id: int):
    return _render_statement(statement_id)


def _line_view(statement: Statement):
    """The reader's sort and filters of a statement's lines (a bad value: the default)."""
    shown = STATEMENT_LINES.shown(request.args)
    supplier = statement.kind is StatementKind.SUPPLIER
    sort = shown.sort.key
    if sort == "status" and not supplier:
        sort = "claim"
    status = request.args.get("status", "")
    if not supplier or status not in {s.value for s in ChargebackStatus}:
        status = ""
    search = (request.args.get("q") or "").strip()[:40]
    view = q.LineView(sort=sort, descending=shown.sort.descending, search=search, status=status)
    return shown, view


def _render_statement(statement_id: int, *, status: int = 200, paid_form=None):
    statement = q.statement_or_404(statement_id, current_user)
    shown, view = _line_view(statement)
    if shown.export_format and status == 200:
        rows = q.iter_statement_lines(statement, view=view)
        return STATEMENT_LINES.export_records(
            rows, shown.export_format, f"{statement.number}-lines"
        )
    lines = ListPagination(
        fetch=lambda offset, limit: q.statement_lines(statement, offset, limit, view),
        total=q.count_lines(statement, view),
        per_page=_page_size(),
    )
    claim_ids = {line.claim_id for line in lines.items}
    claims = (
        db.session.scalars(sa.select(Claim).where(Claim.id.in_(claim_ids))).all()
        if claim_ids
        else []
    )
    previous = op.previous_statement(statement)
    is_finance = current_user.role is Role.FINANCE
    return render_template(
        "settlement/statement.html",
        statement=statement,
        org_name=q.organisation_name(statement),
        lines=lines,
        shown=shown,
        line_view=view,
        line_statuses=q.CHARGEBACK_STATUS_LABELS,
        claim_links={c.id for c in claims if c.can_view(current_user)},
        counts=_chargeback_counts([statement.id]).get(statement.id, {})
        if statement.kind is StatementKind.SUPPLIER
        else {},
        previous=previous,
        reviews=_reviews(statement),
        open_total=_open_total(statement) if _reviews(statement) else None,
        can_pay=is_finance and _can_pay(statement),
        paid_form=paid_form or MarkPaidForm(formdata=None, data={"paid_on": engine.local_today()}),
        form=ActionForm(formdata=None),
    ), status


def _open_total(statement: Statement) -> Decimal:
    """What the open lines of a supplier statement come to (accepting them all pays that)."""
    total = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Chargeback.amount), 0)).where(
            Chargeback.statement_id == statement.id,
            Chargeback.status == ChargebackStatus.OPEN,
        )
    )
    return Decimal(total or 0).quantize(Decimal("0.01"))


@bp.route("/statements/<int:statement_id>/paid", methods=["POST"])
@role_required(Role.FINANCE)
@page_action(page=_statement_page, category="danger")
def mark_paid(statement_id: int):
    statement = q.statement_or_404(statement_id, current_user)
    form = MarkPaidForm()
    _check(form)
    if form.paid_on.errors:  # not a date at all: the operation never sees it
        flash(_("Say when the statement was paid and give a reference."), "danger")
        return _render_statement(statement_id, status=422, paid_form=form)

    def render(status: int):
        return _render_statement(statement_id, status=status, paid_form=form)

    with invalid_renders(_placed(form, render)):
        op.mark_paid(statement, current_user, form.paid_on.data, form.reference.data or "")
    flash(_("Statement %(number)s is marked paid.", number=statement.number), "success")
    return redirect(url_for("settlement.statement", statement_id=statement_id))


@bp.route("/statements/<int:statement_id>/accept-all", methods=["POST"])
@role_required(Role.SUPPLIER)
@page_action(page=_statement_page, category="danger")
def accept_all(statement_id: int):
    statement = q.statement_or_404(statement_id, current_user)
    _check(ActionForm())
    accepted = op.accept_all_open(statement, current_user)
    if accepted:
        flash(
            _("%(n)d open lines accepted.", n=accepted)
            if accepted != 1
            else _("One open line accepted."),
            "success",
        )
    else:
        flash(_("No line was open."), "info")
    return redirect(url_for("settlement.statement", statement_id=statement_id))


@bp.route("/statements/<int:statement_id>.csv")
@role_required(*q.STATEMENT_READERS)
def statement_csv(statement_id: int):
    from portal.settlement import documents

    statement = q.statement_or_404(statement_id, current_user)

    def rows():
        # Streamed: the rows are read batch by batch while the response is sent, in the
        # request's context (kept for the generator by stream_with_context); the statement is
        # read again there, the view's session having ended with the view.
        yield from documents.statement_csv(db.session.get(Statement, statement_id))

    response = Response(stream_with_context(rows()), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{statement.number}.csv"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/statements/<int:statement_id>.pdf")
@role_required(*q.STATEMENT_READERS)
@page_action(
    back=lambda statement_id: url_for("settlement.statement", statement_id=statement_id),
    category="danger",
)
def statement_pdf(statement_id: int):
    """The rendered PDF, or (not rendered yet) its render job queued and a page that waits."""
    from portal.settlement import documents

    statement = q.statement_or_404(statement_id, current_user)
    path = documents.pdf_path(statement)
    if path is not None:
        response = send_file(
            path,
            mimetype="application/pdf",
            as_attachment=True,
            download_name=f"{statement.number}.pdf",
            max_age=0,
        )
        response.headers["Cache-Control"] = "private, no-store"
        return response
    job_id = statement.pdf_job_id
    found = job_status(job_id) if job_id else None
    if found is None or found.status not in PENDING_JOB_STATUSES:
        queued = op.queue_statement_pdf(statement, current_user)  # the job starts on commit
        return after_commit(lambda: _pdf_pending(statement_id, queued, job_status(queued)))
    return _pdf_pending(statement_id, job_id, found)


def _pdf_pending(statement_id: int, job_id: str, found):
    owned = found is not None and found.meta.get("owner_id") == current_user.id
    return render_template(
        "settlement/pdf_pending.html",
        statement=q.statement_or_404(statement_id, current_user),
        job_url=url_for("jobs.status", job_id=job_id) if owned else None,
    ), 202


# -- chargebacks: the supplier reviews, the auditor resolves ---------------------------------------


@bp.route("/chargebacks")
@role_required(Role.SUPPLIER)
def chargebacks():
    """The supplier's home: its statements with their open and disputed lines, and its lines
    filtered (by default those still waiting for it or for an auditor), sorted, exported."""
    supplier = db.session.get(Supplier, current_user.organisation_id)
    statements = db.session.scalars(
        q.visible_statements(current_user).order_by(Statement.period.desc(), Statement.id.desc())
    ).all()
    filters = ChargebackFilterForm(request.args)
    if not filters.validate():
        filters = ChargebackFilterForm(None)
    stmt, problems = _chargebacks_filtered(filters)
    shown = CHARGEBACKS.shown(request.args)
    stmt = shown.order(stmt).options(
        selectinload(Chargeback.claim), selectinload(Chargeback.statement)
    )
    if shown.export_format and not problems:
        return CHARGEBACKS.export(stmt, shown.export_format, "chargebacks")
    waiting = db.paginate(
        stmt if not problems else stmt.where(sa.false()),
        per_page=_page_size(),
        error_out=False,
    )
    counts = _chargeback_counts([s.id for s in statements])
    return render_template(
        "settlement/chargebacks.html",
        supplier=supplier,
        statements=statements,
        counts=counts,
        open_lines=sum(c.get("open", 0) for c in counts.values()),
        disputed_lines=sum(c.get("disputed", 0) for c in counts.values()),
        waiting=waiting,
        filters=filters,
        filtered=any(f.data for f in filters),
        shown=shown,
        form=AcceptForm(formdata=None),
    ), (400 if problems else 200)


def _chargebacks_filtered(filters: ChargebackFilterForm) -> tuple[sa.Select, dict[str, str]]:
    """The supplier's released chargebacks the filters select; a refused amount is named in
    the problems (and put beside its field)."""
    stmt = sa.select(Chargeback).where(
        Chargeback.supplier_id == current_user.organisation_id,
        Chargeback.statement_id.in_(
            sa.select(Statement.id).where(
                Statement.org_id == current_user.organisation_id,
                Statement.status != StatementStatus.DRAFT,
            )
        ),
    )
    status = filters.status.data
    if not status:
        stmt = stmt.where(Chargeback.status.in_(list(UNRESOLVED_CHARGEBACKS)))
    elif status != "all":
        stmt = stmt.where(Chargeback.status == ChargebackStatus(status))
    period = (filters.period.data or "").strip()
    if period:
        stmt = stmt.where(
            Chargeback.statement_id.in_(sa.select(Statement.id).where(Statement.period == period))
        )
    search = (filters.q.data or "").strip().upper()[:40]
    if search:
        stmt = stmt.where(
            Chargeback.claim_id.in_(
                sa.select(Claim.id).where(contains(search, Claim.number, Claim.vin))
            )
        )
    problems: dict[str, str] = {}
    low = decimal_arg(request.args, "min_amount", problems)
    high = decimal_arg(request.args, "max_amount", problems)
    for name, message in problems.items():
        filters[name].errors = [message]
    if low is not None:
        stmt = stmt.where(Chargeback.amount >= low)
    if high is not None:
        stmt = stmt.where(Chargeback.amount <= high)
    return stmt, problems


def _confirm_accept(chargebacks: list[Chargeback], form: AcceptForm):
    """The confirmation page of an acceptance: each line, the count and the total."""
    total = sum((cb.amount for cb in chargebacks), Decimal("0"))
    return render_template(
        "settlement/accept_confirm.html",
        chargebacks=chargebacks,
        total=total,
        form=form,
        back=_back_target() or url_for("settlement.chargebacks"),
    )


def _back_target() -> str | None:
    target = request.form.get("next", "")
    if target.startswith("/settlement/") and "//" not in target and "\\" not in target:
        return target
    return None


@bp.route("/chargebacks/accept", methods=["POST"])
@role_required(Role.SUPPLIER)
@page_action(back=lambda: _back_target() or url_for("settlement.chargebacks"))
def accept_selected():
    """Accept the ticked chargebacks, all of them or none: first a confirmation page with
    their count and total, then (confirmed, the total unchanged) the acceptances."""
    form = AcceptForm()
    _check(form)
    ids = []
    for raw in selected("id"):
        try:
            ids.append(parse_int(raw))
        except ValueError:
            abort(404)
    found = [q.chargeback_or_404(i, current_user) for i in ids]
    if any(cb.supplier_id != current_user.organisation_id for cb in found):
        abort(404)
    done = [cb for cb in found if cb.status is not ChargebackStatus.OPEN]
    if done:
        raise Conflict(
            _(
                "Nothing was accepted: the chargeback for %(claim)s is %(status)s already. "
                "Untick it and try again.",
                claim=done[0].claim.number,
                status=labels.chargeback[done[0].status.value],
            )
        )
    total = sum((cb.amount for cb in found), Decimal("0"))
    if form.confirmed.data != "yes":
        return _confirm_accept(found, form)
    if form.total.data != str(total):
        raise Conflict(
            _(
                "Nothing was accepted: the ticked lines changed since you confirmed them "
                "(their total is %(total)s now). Check them again.",
                total=money(total),
            )
        )
    for cb in found:
        op.accept_chargeback(cb, current_user)
    flash(
        ngettext(
            "%(num)d chargeback accepted: %(total)s in total.",
            "%(num)d chargebacks accepted: %(total)s in total.",
            len(found),
            total=money(total),
        ),
        "success",
    )
    return redirect(_back_target() or url_for("settlement.chargebacks"))


@bp.route("/chargebacks/<int:chargeback_id>")
@role_required(*q.CHARGEBACK_READERS)
def chargeback(chargeback_id: int):
    return _render_chargeback(chargeback_id)


def _render_chargeback(
    chargeback_id: int,
    *,
    status: int = 200,
    dispute_form=None,
    evidence_form=None,
    resolve_form=None,
):
    cb = q.chargeback_or_404(chargeback_id, current_user)
    claim = cb.claim
    old_parts = db.session.scalars(
        sa.select(OldPart)
        .where(OldPart.claim_id == claim.id)
        .options(selectinload(OldPart.part), selectinload(OldPart.photos))
        .order_by(OldPart.tag)
    ).all()
    from portal.oldparts.queries import visible_parts

    part_links = set()
    if old_parts:
        part_links = set(
            db.session.scalars(
                visible_parts(current_user)
                .where(OldPart.claim_id == claim.id)
                .with_only_columns(OldPart.id)
            )
        )
    reviews = op.can_review(cb, current_user)
    return render_template(
        "settlement/chargeback.html",
        cb=cb,
        claim=claim,
        claim_type=TYPE_LABELS[claim.type],
        can_view_claim=claim.can_view(current_user),
        old_parts=old_parts,
        part_links=part_links,
        removes=REMOVES_FROM_RECOVERY,
        can_accept=reviews and cb.status is ChargebackStatus.OPEN,
        can_add_evidence=reviews
        and cb.status is ChargebackStatus.DISPUTED
        and len(cb.evidence) < op.MAX_EVIDENCE_PER_CHARGEBACK,
        can_resolve=current_user.role is Role.AUDITOR and cb.status is ChargebackStatus.DISPUTED,
        form=ActionForm(formdata=None),
        dispute_form=dispute_form or DisputeForm(formdata=None),
        evidence_form=evidence_form or EvidenceForm(formdata=None),
        resolve_form=resolve_form or ResolveForm(formdata=None),
        max_files=op.MAX_EVIDENCE_PER_CHARGEBACK,
        max_mb=attachments.MAX_ATTACHMENT_BYTES // (1024 * 1024),
        age_days=(utcnow() - cb.disputed_at).days if cb.disputed_at else None,
        adjustments=[
            a
            for a in adjustments_of_claim(claim.id)
            if a.kind is not AdjustmentKind.STATION_CREDIT and a.org_id == cb.supplier_id
        ],
    ), status


def _back_to_chargeback(cb_id: int):
    """Back where the button was (the statement or the supplier's list), else the chargeback."""
    target = request.form.get("next", "")
    if target.startswith("/settlement/") and "//" not in target and "\\" not in target:
        return redirect(target)
    return redirect(url_for("settlement.chargeback", chargeback_id=cb_id))


@bp.route("/chargebacks/<int:chargeback_id>/accept", methods=["POST"])
@role_required(Role.SUPPLIER)
@page_action(page=_chargeback_page, category="danger")
def accept(chargeback_id: int):
    cb = q.chargeback_or_404(chargeback_id, current_user)
    form = AcceptForm()
    _check(form)
    open_ = cb.status is ChargebackStatus.OPEN
    if form.confirmed.data != "yes" and open_ and op.can_review(cb, current_user):
        return _confirm_accept([cb], form)  # the amount, before it is accepted
    op.accept_chargeback(cb, current_user)
    flash(_("The chargeback for %(claim)s is accepted.", claim=cb.claim.number), "success")
    return _back_to_chargeback(chargeback_id)


def _uploaded(field) -> list[tuple[str, bytes]]:
    """The files chosen in a multiple file input, each read up to one byte over the limit."""
    files = []
    for storage in field.data or []:
        if storage is not None and getattr(storage, "filename", ""):
            files.append((storage.filename, storage.read(attachments.MAX_ATTACHMENT_BYTES + 1)))
    return files


def _check_files(cb: Chargeback, files: list[tuple[str, bytes]]) -> None:
    """Refuse the whole dispute before anything is stored when one of its files is refused
    (operations.add_evidence stores each file as it goes)."""
    if len(cb.evidence) + len(files) > op.MAX_EVIDENCE_PER_CHARGEBACK:
        raise ValidationFailed(
            _("A dispute holds at most %(n)d files.", n=op.MAX_EVIDENCE_PER_CHARGEBACK),
            {"files": _("too many files")},
        )
    for filename, data in files:
        try:
            attachments.check_file(data, "files")
        except ValidationFailed as refused:
            raise ValidationFailed(f"{filename}: {refused.message}", refused.fields) from None


@bp.route("/chargebacks/<int:chargeback_id>/dispute", methods=["POST"])
@role_required(Role.SUPPLIER)
@page_action(page=_chargeback_page, category="danger")
def dispute(chargeback_id: int):
    cb = q.chargeback_or_404(chargeback_id, current_user)
    form = DisputeForm()
    _check(form)

    def render(status: int):
        return _render_chargeback(chargeback_id, status=status, dispute_form=form)

    with invalid_renders(
        _placed(form, render, field_of=lambda name: {"file": "files"}.get(name, name))
    ):
        files = _uploaded(form.files)
        _check_files(cb, files)
        op.dispute_chargeback(cb, current_user, form.reason.data or "", files)
    flash(
        _(
            "The chargeback for %(claim)s is disputed; an auditor will uphold or waive it.",
            claim=cb.claim.number,
        ),
        "success",
    )
    return redirect(url_for("settlement.chargeback", chargeback_id=chargeback_id))


@bp.route("/chargebacks/<int:chargeback_id>/evidence", methods=["POST"])
@role_required(Role.SUPPLIER)
@page_action(page=_chargeback_page, category="danger")
def add_evidence(chargeback_id: int):
    cb = q.chargeback_or_404(chargeback_id, current_user)
    form = EvidenceForm()
    _check(form)

    def refused(exc: ValidationFailed):
        flash(exc.message, "danger")
        form.files.errors = [exc.fields.get("files", exc.fields.get("file", exc.message))]
        return _render_chargeback(chargeback_id, status=exc.status, evidence_form=form)

    with invalid_renders(refused):
        files = _uploaded(form.files)
        if not files:
            raise ValidationFailed(_("Choose a photo or PDF file to add."), {"files": _("no file")})
        _check_files(cb, files)
        for filename, data in files:
            op.add_evidence(cb, current_user, filename, data)
    flash(_("Evidence added: %(names)s.", names=", ".join(f for f, _d in files)), "success")
    return redirect(url_for("settlement.chargeback", chargeback_id=chargeback_id) + "#evidence")


@bp.route("/chargebacks/<int:chargeback_id>/evidence/<int:evidence_id>")
@role_required(*q.CHARGEBACK_READERS)
def evidence(chargeback_id: int, evidence_id: int):
    """An evidence file, to those who may see its chargeback (404 to anyone else)."""
    cb = q.chargeback_or_404(chargeback_id, current_user)
    found = load_or_404(ChargebackEvidence, evidence_id, visible=lambda e: e.chargeback_id == cb.id)
    return attachments.send_stored(op.evidence_path(found), found.content_type, found.filename)


@bp.route("/chargebacks/<int:chargeback_id>/resolve", methods=["POST"])
@role_required(Role.AUDITOR)
@page_action(page=_chargeback_page, category="danger")
def resolve(chargeback_id: int):
    cb = q.chargeback_or_404(chargeback_id, current_user)
    form = ResolveForm()
    _check(form)

    def render(status: int):
        return _render_chargeback(chargeback_id, status=status, resolve_form=form)

    with invalid_renders(_placed(form, render)):
        op.resolve_chargeback(cb, current_user, form.action.data or "", form.reason.data or "")
    if cb.status is ChargebackStatus.WAIVED:
        message = _(
            "The dispute on %(claim)s is waived: the line no longer counts in the statement.",
            claim=cb.claim.number,
        )
    else:
        message = _(
            "The dispute on %(claim)s is upheld: the supplier pays the line.",
            claim=cb.claim.number,
        )
    flash(message, "success")
    following = _next_dispute(cb.id)
    if following is not None:
        return redirect(url_for("settlement.chargeback", chargeback_id=following))
    flash(_("No other dispute waits for a decision."), "info")
    return redirect(url_for("settlement.disputes"))


def _next_dispute(after_id: int) -> int | None:
    return db.session.scalar(
        sa.select(Chargeback.id)
        .where(Chargeback.status == ChargebackStatus.DISPUTED, Chargeback.id != after_id)
        .order_by(Chargeback.disputed_at, Chargeback.id)
        .limit(1)
    )


# The states of a chargeback a supplier disputed: waiting for an auditor, then decided.
DISPUTE_STATUSES = (ChargebackStatus.DISPUTED, ChargebackStatus.UPHELD, ChargebackStatus.WAIVED)


@bp.route("/disputes")
@role_required(Role.AUDITOR, Role.FINANCE)
def disputes():
    """Disputed chargebacks, oldest first, for the auditors to uphold or waive (finance reads
    them: they hold the supplier statements' money); the decided ones on asking (status), by
    supplier, claim number or VIN, sortable and exported."""
    suppliers = db.session.execute(
        sa.select(Supplier.code, Supplier.name).order_by(Supplier.code)
    ).all()
    filters = DisputeFilterForm(request.args)
    filters.supplier.choices = [SelectChoice("", _("All suppliers"))] + [
        SelectChoice(code, f"{code} · {name}") for code, name in suppliers
    ]
    filters.status.choices = [
        SelectChoice(s.value, q.CHARGEBACK_STATUS_LABELS[s]) for s in DISPUTE_STATUSES
    ] + [SelectChoice("all", _("All disputes"))]
    # A hand-made unknown supplier code or status: every supplier, what waits.
    if filters.supplier.data not in {code for code, _name in suppliers}:
        filters.supplier.data = ""
    if filters.status.data not in {c.value for c in filters.status.choices}:
        filters.status.data = ChargebackStatus.DISPUTED.value
    status = filters.status.data
    if status == "all":
        stmt = sa.select(Chargeback).where(Chargeback.disputed_at.is_not(None))
    else:
        stmt = sa.select(Chargeback).where(
            Chargeback.status == ChargebackStatus(status), Chargeback.disputed_at.is_not(None)
        )
    if filters.supplier.data:
        stmt = stmt.where(
            Chargeback.supplier_id.in_(
                sa.select(Supplier.id).where(Supplier.code == filters.supplier.data)
            )
        )
    search = (filters.q.data or "").strip().upper()[:40]
    if search:
        stmt = stmt.where(
            Chargeback.claim_id.in_(
                sa.select(Claim.id).where(contains(search, Claim.number, Claim.vin))
            )
        )
    shown = DISPUTES.shown(request.args)
    stmt = shown.order(stmt).options(
        selectinload(Chargeback.claim),
        selectinload(Chargeback.statement).selectinload(Statement.org),
        selectinload(Chargeback.evidence),
    )
    if shown.export_format:
        return DISPUTES.export(stmt, shown.export_format, "disputes")
    page = db.paginate(stmt, per_page=_page_size(), error_out=False)
    now = utcnow()
    return render_template(
        "settlement/disputes.html",
        page=page,
        filters=filters,
        shown=shown,
        filtered=bool(filters.supplier.data or search or status != ChargebackStatus.DISPUTED.value),
        waiting_only=not search and status == ChargebackStatus.DISPUTED.value,
        ages={cb.id: (now - cb.disputed_at).days for cb in page.items if cb.disputed_at},
    )
