"""Settlement (结算) through the API: runs, statements and chargebacks (DESIGN 6 and 8).

Every view is load -> authorize -> act -> commit once (`api_view`), like the rest of the API:

- runs (`/settlement/runs...`): finance only (everyone else 403). Starting a run answers 201 with
  the run; without Redis the computation runs in-process, so the run is already a draft. A
  future or malformed period is 422 naming `period`; a run already open is 409 and the body
  carries `open_run_id` beside the error. Release, discard and retry answer the run; a run not
  in a state for it is 409.
- statements: finance sees all, auditors released supplier statements (they resolve disputes),
  a station or supplier its own released ones (`Statement.can_view`); admin 403. Anything else,
  a draft included, is 404. Finance marks a statement paid.
- chargebacks (a supplier statement's lines): the supplier accepts or disputes its own (another
  supplier's is 404), adds evidence to a dispute; an auditor upholds or waives a dispute.

Money is text with two decimals, like every other answer of the API (`portal.fields.Money`).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from portal.api.auth import api_view
from portal.api.blueprint import bp, not_found
from portal.api.schemas import (
    Chargeback,
    ChargebackDispute,
    ChargebackEvidence,
    ChargebackResolution,
    RunQuery,
    SettlementRun,
    SettlementRunCreate,
    SettlementRunList,
    Statement,
    StatementList,
    StatementPaid,
    StatementQuery,
    StatementSummary,
)
from portal.api.spec import declare, paged, respond
from portal.auth.models import Role, User
from portal.errors import Conflict, Malformed, ValidationFailed
from portal.extensions import db
from portal.settlement import operations as ops
from portal.settlement import queries
from portal.settlement.models import Chargeback as ChargebackRecord
from portal.settlement.models import ChargebackEvidence as EvidenceRecord
from portal.settlement.models import RunStatus
from portal.settlement.models import SettlementRun as RunRecord
from portal.settlement.models import Statement as StatementRecord
from portal.web import after_commit

UPLOAD = {
    "type": "object",
    "properties": {"file": {"type": "string", "format": "binary"}},
    "required": ["file"],
}
DISPUTE_UPLOAD = {
    "type": "object",
    "properties": {
        "reason": {"type": "string", "maxLength": 4000},
        "file": {"type": "array", "items": {"type": "string", "format": "binary"}},
    },
    "required": ["reason"],
}

# -- loading ---------------------------------------------------------------------------------------


def load_run(run_id: int) -> RunRecord:
    run = db.session.get(RunRecord, run_id)
    if run is None:
        raise not_found(_("There is no settlement run #%(id)s.", id=run_id))
    return run


def load_statement(statement_id: int, user: User) -> StatementRecord:
    """The statement if `user` may see it; another organisation's, or a draft for anyone but
    finance, is 404 like one that does not exist."""
    statement = db.session.get(StatementRecord, statement_id)
    if statement is None or not statement.can_view(user):
        raise not_found(
            _("There is no statement #%(id)s, or it is not yours to see.", id=statement_id)
        )
    return statement


def load_chargeback(chargeback_id: int, user: User) -> ChargebackRecord:
    cb = db.session.get(ChargebackRecord, chargeback_id)
    if cb is None or not cb.statement.can_view(user):
        raise not_found(
            _("There is no chargeback #%(id)s, or it is not yours to see.", id=chargeback_id)
        )
    return cb


def _run_answer(run: RunRecord, status: int = 200, headers: dict | None = None):
    """The run as it is once the action is committed and its job (in-process: already) ran."""

    def answer():
        db.session.refresh(run)
        return respond((SettlementRun.of(run), status, headers or {}), status)

    return after_commit(answer)


def _open_run_refusal(conflict: Conflict):
    """A 409 whose body also names the open run (`open_run_id`), so a script can follow it."""
    db.session.rollback()
    response = jsonify(
        {
            "error": {"code": conflict.code, "message": conflict.message, "fields": {}},
            "open_run_id": conflict.run_id,
        }
    )
    response.status_code = conflict.status
    return response


# -- runs ------------------------------------------------------------------------------------------


@bp.route("/settlement/runs", methods=["POST"])
@api_view(Role.FINANCE)
@declare(
    body=SettlementRunCreate,
    answer=SettlementRun,
    status=201,
    refuse=ValidationFailed,
    errors=(409, 503),
    location=True,
    tag="settlement",
)
def start_run(user: User, body: SettlementRunCreate):
    """Start the settlement run of a month.

    Without Redis the computation runs in-process, so the run is already a draft. A future or
    malformed period is 422 naming `period`; a run already open is 409 and the body carries
    `open_run_id` beside the error.
    """
    try:
        run = ops.start_run(user, body.period)
    except Conflict as conflict:
        if getattr(conflict, "run_id", None) is None:
            raise
        return _open_run_refusal(conflict)
    return _run_answer(run, 201, {"Location": url_for("api.get_run", run_id=run.id)})


@bp.route("/settlement/runs", methods=["GET"])
@api_view(Role.FINANCE)
@declare(query=RunQuery, answer=SettlementRunList, refuse=ValidationFailed, tag="settlement")
def list_runs(user: User, query: RunQuery):
    """Settlement runs, newest first; filters `status` and `period`, paged like `/claims`."""
    select = sa.select(RunRecord)
    if query.status is not None:
        select = select.where(RunRecord.status == query.status)
    if query.period:
        select = select.where(RunRecord.period == query.period)
    return SettlementRunList(
        **paged(
            select,
            (RunRecord.created_at.desc(), RunRecord.id.desc()),
            query.page,
            query.per_page,
            SettlementRun.of,
            joinedload(RunRecord.created_by),
            joinedload(RunRecord.released_by),
        )
    )


@bp.route("/settlement/runs/<id:run_id>", methods=["GET"])
@api_view(Role.FINANCE)
@declare(answer=SettlementRun, tag="settlement")
def get_run(user: User, run_id: int):
    """A settlement run: its status, progress and totals."""
    return SettlementRun.of(load_run(run_id))


@bp.route("/settlement/runs/<id:run_id>/release", methods=["POST"])
@api_view(Role.FINANCE)
@declare(answer=SettlementRun, errors=(409, 503), tag="settlement")
def release_run(user: User, run_id: int):
    """Release a draft run: its statements become visible and its claims settled (a job).

    A run released already is a 409 here (the pages forgive a double click).
    """
    run = load_run(run_id)
    if run.status is RunStatus.RELEASED:
        raise Conflict(_("Settlement run #%(id)s is already released.", id=run.id))
    return _run_answer(ops.request_release(run, user))


@bp.route("/settlement/runs/<id:run_id>/discard", methods=["POST"])
@api_view(Role.FINANCE)
@declare(answer=SettlementRun, errors=(409,), tag="settlement")
def discard_run(user: User, run_id: int):
    """Throw a draft or a failed run away; a run discarded already is a 409 here."""
    run = load_run(run_id)
    if run.status is RunStatus.DISCARDED:
        raise Conflict(_("Settlement run #%(id)s is already discarded.", id=run.id))
    return SettlementRun.of(ops.discard_run(run, user))


@bp.route("/settlement/runs/<id:run_id>/retry", methods=["POST"])
@api_view(Role.FINANCE)
@declare(answer=SettlementRun, errors=(409, 503), tag="settlement")
def retry_run(user: User, run_id: int):
    """Compute a failed (or stale) run again."""
    run = load_run(run_id)
    try:
        run = ops.retry_run(run, user)
    except Conflict as conflict:
        if getattr(conflict, "run_id", None) is None:
            raise
        return _open_run_refusal(conflict)
    return _run_answer(run)


# -- statements ------------------------------------------------------------------------------------


@bp.route("/statements", methods=["GET"])
@api_view(*queries.STATEMENT_READERS)
@declare(query=StatementQuery, answer=StatementList, refuse=ValidationFailed, tag="settlement")
def list_statements(user: User, query: StatementQuery):
    """Statements the user may see, newest period first.

    Filters `kind`, `period`, `status`, `run_id`; paged like `/claims`. Finance sees all,
    auditors released supplier statements, a station or supplier its own released ones.
    """
    select = queries.visible_statements(user)
    if query.kind is not None:
        select = select.where(StatementRecord.kind == query.kind)
    if query.status is not None:
        select = select.where(StatementRecord.status == query.status)
    if query.period:
        select = select.where(StatementRecord.period == query.period)
    if query.run_id is not None:
        select = select.where(StatementRecord.run_id == query.run_id)
    return StatementList(
        **paged(
            select,
            (StatementRecord.period.desc(), StatementRecord.id.desc()),
            query.page,
            query.per_page,
            StatementSummary.of,
            joinedload(StatementRecord.org),
        )
    )


@bp.route("/statements/<id:statement_id>", methods=["GET"])
@api_view(*queries.STATEMENT_READERS)
@declare(answer=Statement, tag="settlement")
def get_statement(user: User, statement_id: int):
    """A statement with its lines (a supplier statement's lines are its chargebacks)."""
    return Statement.of(load_statement(statement_id, user))


@bp.route("/statements/<id:statement_id>/paid", methods=["POST"])
@api_view(Role.FINANCE)
@declare(body=StatementPaid, answer=Statement, errors=(409, 422), tag="settlement")
def mark_statement_paid(user: User, statement_id: int, body: StatementPaid):
    """Record that a released statement was paid: `paid_on` (not in the future), `reference`."""
    statement = load_statement(statement_id, user)
    statement = ops.mark_paid(statement, user, body.paid_on, body.reference)
    return Statement.of(statement)


# -- chargebacks -----------------------------------------------------------------------------------


@bp.route("/chargebacks/<id:chargeback_id>", methods=["GET"])
@api_view(*queries.CHARGEBACK_READERS)
@declare(answer=Chargeback, tag="settlement")
def get_chargeback(user: User, chargeback_id: int):
    """A chargeback (a supplier statement's line) with its events and evidence."""
    return Chargeback.of(load_chargeback(chargeback_id, user))


@bp.route("/chargebacks/<id:chargeback_id>/accept", methods=["POST"])
@api_view(Role.SUPPLIER)
@declare(answer=Chargeback, errors=(400, 409, 422), tag="settlement")
def accept_chargeback(user: User, chargeback_id: int):
    """The supplier accepts its chargeback (empty body)."""
    return Chargeback.of(ops.accept_chargeback(load_chargeback(chargeback_id, user), user))


@bp.route("/chargebacks/<id:chargeback_id>/dispute", methods=["POST"])
@api_view(Role.SUPPLIER)
@declare(
    body=ChargebackDispute,
    answer=Chargeback,
    errors=(409, 413, 422),
    upload=DISPUTE_UPLOAD,
    tag="settlement",
)
def dispute_chargeback(user: User, chargeback_id: int, body: ChargebackDispute):
    """The supplier disputes its chargeback: `{reason}` as JSON, or multipart with a `reason`
    field and evidence in `file` fields."""
    cb = load_chargeback(chargeback_id, user)
    files = [(f.filename or "", f.read()) for f in request.files.getlist("file")]
    return Chargeback.of(ops.dispute_chargeback(cb, user, body.reason, files))


@bp.route("/chargebacks/<id:chargeback_id>/resolve", methods=["POST"])
@api_view(Role.AUDITOR)
@declare(body=ChargebackResolution, answer=Chargeback, errors=(409, 422), tag="settlement")
def resolve_chargeback(user: User, chargeback_id: int, body: ChargebackResolution):
    """An auditor settles a dispute: `action` uphold or waive, with a `reason`."""
    cb = load_chargeback(chargeback_id, user)
    return Chargeback.of(ops.resolve_chargeback(cb, user, body.action, body.reason))


@bp.route("/chargebacks/<id:chargeback_id>/evidence", methods=["POST"])
@api_view(Role.SUPPLIER)
@declare(
    answer=ChargebackEvidence, status=201, errors=(409, 413, 422), upload=UPLOAD, tag="settlement"
)
def add_evidence(user: User, chargeback_id: int):
    """Add a photo or a PDF (multipart field `file`) to a disputed chargeback."""
    cb = load_chargeback(chargeback_id, user)
    upload = request.files.get("file")
    if upload is None:
        raise Malformed(
            str(_l("Send the file as multipart/form-data in the field `file`.")),
            {"file": str(_l("is required"))},
        )
    evidence = ops.add_evidence(cb, user, upload.filename or "", upload.read())
    answer = ChargebackEvidence.of(evidence)
    return answer, 201, {"Location": answer.url}


@bp.route("/chargebacks/<id:chargeback_id>/evidence/<id:evidence_id>", methods=["GET"])
@api_view(*queries.CHARGEBACK_READERS)
@declare(download=True, tag="settlement")
def chargeback_evidence(user: User, chargeback_id: int, evidence_id: int):
    """Download a piece of a dispute's evidence."""
    cb = load_chargeback(chargeback_id, user)
    evidence = db.session.get(EvidenceRecord, evidence_id)
    if evidence is None or evidence.chargeback_id != cb.id:
        raise not_found()
    path = ops.evidence_path(evidence)
    if not path.is_file():
        raise not_found()
    return send_file(
        path, mimetype=evidence.content_type, as_attachment=True, download_name=evidence.filename
    )
