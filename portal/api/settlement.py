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

Money is text with two decimals, like every other answer of the API (`serialize.money`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import current_app, jsonify, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from portal.labels import label
from portal.api.auth import api_view, json_body
from portal.api.blueprint import bp, not_found
from portal.api.claims import _positive_int
from portal.api.serialize import day, hours, moment, money
from portal.auth.models import Role, User
from portal.claims.payload import Malformed
from portal.errors import Conflict, ValidationFailed
from portal.extensions import db
from portal.inputs import page_args, parse_date
from portal.settlement import operations as ops
from portal.settlement import queries
from portal.settlement.engine import parse_period
from portal.settlement.models import (
    Chargeback,
    ChargebackEvidence,
    ChargebackStatus,
    RunStatus,
    SettlementRun,
    Statement,
    StatementKind,
    StatementStatus,
)

# -- shapes ----------------------------------------------------------------------------------------


def _rate(value) -> str:
    """A rate as exact text without trailing zeros ("0.13", "1")."""
    return format(value.normalize(), "f")


def run_json(run: SettlementRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "period": run.period,
        "status": run.status.value,
        "progress": ops.run_progress(run),
        "step": run.step,
        "error": run.error or None,
        "stale": ops.is_stale(run),
        "attempts": run.attempts,
        "vat_rate": _rate(run.vat_rate),
        "totals": {
            "claim_count": run.claim_count,
            "station_statement_count": run.station_statement_count,
            "supplier_statement_count": run.supplier_statement_count,
            "station_net": money(run.station_net),
            "supplier_net": money(run.supplier_net),
        },
        "created_at": moment(run.created_at),
        "created_by": run.created_by.username if run.created_by else None,
        "started_at": moment(run.started_at),
        "computed_at": moment(run.computed_at),
        "released_at": moment(run.released_at),
        "released_by": run.released_by.username if run.released_by else None,
        "discarded_at": moment(run.discarded_at),
    }


def statement_summary(statement: Statement) -> dict[str, Any]:
    return {
        "id": statement.id,
        "number": statement.number,
        "kind": statement.kind.value,
        "org_code": statement.org.code,
        "org_name": statement.org.name,
        "period": statement.period,
        "run_id": statement.run_id,
        "net": money(statement.net),
        "vat": money(statement.vat),
        "gross": money(statement.gross),
        "status": statement.status.value,
        "line_count": statement.line_count,
        "released_at": moment(statement.released_at),
        "paid_on": day(statement.paid_on),
    }


def statement_detail(statement: Statement) -> dict[str, Any]:
    data = statement_summary(statement)
    data.update(
        {
            "vat_rate": _rate(statement.run.vat_rate),
            "created_at": moment(statement.created_at),
            "final_at": moment(statement.final_at),
            "paid_reference": statement.paid_reference or None,
            "paid_at": moment(statement.paid_at),
            "lines": [
                {**line.as_dict(), "kind": line.kind} for line in queries.statement_lines(statement)
            ],
        }
    )
    return data


def _username(user: User | None) -> str | None:
    return user.username if user else None


def evidence_json(evidence: ChargebackEvidence) -> dict[str, Any]:
    return {
        "id": evidence.id,
        "filename": evidence.filename,
        "content_type": evidence.content_type,
        "size": evidence.size,
        "uploaded_at": moment(evidence.uploaded_at),
        "uploaded_by": _username(evidence.uploaded_by),
        "url": url_for(
            "api.chargeback_evidence",
            chargeback_id=evidence.chargeback_id,
            evidence_id=evidence.id,
        ),
    }


def chargeback_json(cb: Chargeback) -> dict[str, Any]:
    return {
        "id": cb.id,
        "statement_id": cb.statement_id,
        "statement_number": cb.statement.number,
        "claim_number": cb.claim.number,
        "supplier_code": cb.statement.org.code,
        "status": cb.status.value,
        "description": queries.chargeback_description(cb),
        "amount": money(cb.amount),
        "parts_amount": money(cb.parts_amount),
        "removed_parts_amount": money(cb.removed_parts_amount),
        "labor_hours": hours(cb.labor_hours),
        "labor_hours_charged": hours(cb.labor_hours_charged),
        "labor_amount": money(cb.labor_amount),
        "recovery_share": _rate(cb.recovery_share),
        "recovery_amount": money(cb.recovery_amount),
        "handling_fee_rate": _rate(cb.handling_fee_rate),
        "handling_fee": money(cb.handling_fee),
        "dispute_reason": cb.dispute_reason or None,
        "disputed_at": moment(cb.disputed_at),
        "disputed_by": _username(cb.disputed_by),
        "resolution_reason": cb.resolution_reason or None,
        "resolved_at": moment(cb.resolved_at),
        "resolved_by": _username(cb.resolved_by),
        "accepted_at": moment(cb.accepted_at),
        "accepted_by": _username(cb.accepted_by),
        "events": [
            {
                "action": e.action,
                "from_status": e.from_status,
                "to_status": e.to_status,
                "at": moment(e.at),
                "by": _username(e.user),
                "note": e.note,
            }
            for e in cb.events
        ],
        "evidence": [evidence_json(e) for e in cb.evidence],
    }


# -- loading ---------------------------------------------------------------------------------------


def load_run(run_id: int) -> SettlementRun:
    run = db.session.get(SettlementRun, run_id)
    if run is None:
        raise not_found(_("There is no settlement run #%(id)s.", id=run_id))
    return run


def load_statement(statement_id: int, user: User) -> Statement:
    """The statement if `user` may see it; another organisation's, or a draft for anyone but
    finance, is 404 like one that does not exist."""
    statement = db.session.get(Statement, statement_id)
    if statement is None or not statement.can_view(user):
        raise not_found(
            _("There is no statement #%(id)s, or it is not yours to see.", id=statement_id)
        )
    return statement


def load_chargeback(chargeback_id: int, user: User) -> Chargeback:
    cb = db.session.get(Chargeback, chargeback_id)
    if cb is None or not cb.statement.can_view(user):
        raise not_found(
            _("There is no chargeback #%(id)s, or it is not yours to see.", id=chargeback_id)
        )
    return cb


def _run_response(run: SettlementRun, status: int = 200, **headers):
    response = jsonify(run_json(run))
    response.status_code = status
    response.headers.update(headers)
    return response


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


def _text(data: dict, key: str) -> str:
    """A text field: missing is "" (the operation says it is required), another type is 400."""
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Malformed(str(_l("The request is malformed.")), {key: str(_l("must be text"))})
    return value


def _day(data: dict, key: str) -> date | None:
    """A date field: missing is None (the operation says it is required), another form is 400."""
    value = data.get(key)
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            return parse_date(value)
        except ValueError:
            pass
    raise Malformed(
        str(_l("The request is malformed.")), {key: str(_l("must be a date as YYYY-MM-DD"))}
    )


def _page(args, fields: dict[str, str]) -> tuple[int, int]:
    page, per_page = page_args(args, fields, per_page=current_app.config["PAGE_SIZE"])
    return page, per_page


def _choice(args, name: str, enum, fields: dict[str, str]):
    raw = args.get(name)
    if not raw:
        return None
    try:
        return enum(raw)
    except ValueError:
        fields[name] = str(
            _l("must be one of: %(values)s", values=", ".join(v.value for v in enum))
        )
        return None


def _period_filter(args, fields: dict[str, str]) -> str | None:
    raw = (args.get("period") or "").strip()
    if not raw:
        return None
    try:
        parse_period(raw)
    except ValueError:
        fields["period"] = str(_l("not a month (YYYY-MM)"))
    return raw


def _paged(query, order_by, page: int, per_page: int, shape, *options) -> dict[str, Any]:
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    items = db.session.scalars(
        query.options(*options).order_by(*order_by).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return {
        "items": [shape(item) for item in items],
        "page": page,
        "per_page": per_page,
        "total": total,
    }


# -- runs ------------------------------------------------------------------------------------------


@bp.route("/settlement/runs", methods=["POST"])
@api_view(Role.FINANCE)
def start_run(user: User):
    period = json_body().get("period")
    if not isinstance(period, str):
        raise ValidationFailed(
            str(_l("The period must be a month written YYYY-MM.")),
            {"period": str(_l("not a month (YYYY-MM)"))},
        )
    try:
        run = ops.start_run(user, period)
    except Conflict as conflict:
        if getattr(conflict, "run_id", None) is None:
            raise
        return _open_run_refusal(conflict)
    return _run_response(run, 201, Location=url_for("api.get_run", run_id=run.id))


@bp.route("/settlement/runs", methods=["GET"])
@api_view(Role.FINANCE)
def list_runs(user: User):
    """Runs, newest first; filters `status` and `period`, paged like `/claims`."""
    fields: dict[str, str] = {}
    query = sa.select(SettlementRun)
    status = _choice(request.args, "status", RunStatus, fields)
    if status is not None:
        query = query.where(SettlementRun.status == status)
    period = _period_filter(request.args, fields)
    if period:
        query = query.where(SettlementRun.period == period)
    page, per_page = _page(request.args, fields)
    if fields:
        raise ValidationFailed(str(_l("The query is malformed.")), fields)
    return jsonify(
        _paged(
            query,
            (SettlementRun.created_at.desc(), SettlementRun.id.desc()),
            page,
            per_page,
            run_json,
            joinedload(SettlementRun.created_by),
            joinedload(SettlementRun.released_by),
        )
    )


@bp.route("/settlement/runs/<int:run_id>", methods=["GET"])
@api_view(Role.FINANCE)
def get_run(user: User, run_id: int):
    return jsonify(run_json(load_run(run_id)))


@bp.route("/settlement/runs/<int:run_id>/release", methods=["POST"])
@api_view(Role.FINANCE)
def release_run(user: User, run_id: int):
    run = load_run(run_id)
    if run.status is RunStatus.RELEASED:  # the pages forgive a double click; the API says so
        raise Conflict(_("Settlement run #%(id)s is already released.", id=run.id))
    return _run_response(ops.request_release(run, user))


@bp.route("/settlement/runs/<int:run_id>/discard", methods=["POST"])
@api_view(Role.FINANCE)
def discard_run(user: User, run_id: int):
    run = load_run(run_id)
    if run.status is RunStatus.DISCARDED:
        raise Conflict(_("Settlement run #%(id)s is already discarded.", id=run.id))
    return _run_response(ops.discard_run(run, user))


@bp.route("/settlement/runs/<int:run_id>/retry", methods=["POST"])
@api_view(Role.FINANCE)
def retry_run(user: User, run_id: int):
    run = load_run(run_id)
    try:
        run = ops.retry_run(run, user)
    except Conflict as conflict:
        if getattr(conflict, "run_id", None) is None:
            raise
        return _open_run_refusal(conflict)
    return _run_response(run)


# -- statements ------------------------------------------------------------------------------------


@bp.route("/statements", methods=["GET"])
@api_view(*queries.STATEMENT_READERS)
def list_statements(user: User):
    """Statements the user may see, newest period first; filters `kind`, `period`, `status`,
    `run_id`; paged like `/claims`. A filter value that is not one of its choices is 422."""
    args = request.args
    fields: dict[str, str] = {}
    query = queries.visible_statements(user)
    kind = _choice(args, "kind", StatementKind, fields)
    if kind is not None:
        query = query.where(Statement.kind == kind)
    status = _choice(args, "status", StatementStatus, fields)
    if status is not None:
        query = query.where(Statement.status == status)
    period = _period_filter(args, fields)
    if period:
        query = query.where(Statement.period == period)
    if args.get("run_id"):
        run_id = _positive_int(args, "run_id", 0, None, fields)
        query = query.where(Statement.run_id == run_id)
    page, per_page = _page(args, fields)
    if fields:
        raise ValidationFailed(str(_l("The query is malformed.")), fields)
    return jsonify(
        _paged(
            query,
            (Statement.period.desc(), Statement.id.desc()),
            page,
            per_page,
            statement_summary,
            joinedload(Statement.org),
        )
    )


@bp.route("/statements/<int:statement_id>", methods=["GET"])
@api_view(*queries.STATEMENT_READERS)
def get_statement(user: User, statement_id: int):
    return jsonify(statement_detail(load_statement(statement_id, user)))


@bp.route("/statements/<int:statement_id>/paid", methods=["POST"])
@api_view(Role.FINANCE)
def mark_statement_paid(user: User, statement_id: int):
    statement = load_statement(statement_id, user)
    data = json_body()
    paid_on = _day(data, "paid_on")
    statement = ops.mark_paid(statement, user, paid_on, _text(data, "reference"))
    return jsonify(statement_detail(statement))


# -- chargebacks -----------------------------------------------------------------------------------


@bp.route("/chargebacks/<int:chargeback_id>", methods=["GET"])
@api_view(*queries.CHARGEBACK_READERS)
def get_chargeback(user: User, chargeback_id: int):
    return jsonify(chargeback_json(load_chargeback(chargeback_id, user)))


@bp.route("/chargebacks/<int:chargeback_id>/accept", methods=["POST"])
@api_view(Role.SUPPLIER)
def accept_chargeback(user: User, chargeback_id: int):
    cb = ops.accept_chargeback(load_chargeback(chargeback_id, user), user)
    return jsonify(chargeback_json(cb))


@bp.route("/chargebacks/<int:chargeback_id>/dispute", methods=["POST"])
@api_view(Role.SUPPLIER)
def dispute_chargeback(user: User, chargeback_id: int):
    """`{reason}` as JSON, or multipart with a `reason` field and evidence in `file` fields."""
    cb = load_chargeback(chargeback_id, user)
    if request.mimetype == "multipart/form-data":
        reason = request.form.get("reason", "")
        files = [(f.filename or "", f.read()) for f in request.files.getlist("file")]
    else:
        reason, files = _text(json_body(), "reason"), []
    cb = ops.dispute_chargeback(cb, user, reason, files)
    return jsonify(chargeback_json(cb))


@bp.route("/chargebacks/<int:chargeback_id>/resolve", methods=["POST"])
@api_view(Role.AUDITOR)
def resolve_chargeback(user: User, chargeback_id: int):
    cb = load_chargeback(chargeback_id, user)
    data = json_body()
    cb = ops.resolve_chargeback(cb, user, _text(data, "action"), _text(data, "reason"))
    return jsonify(chargeback_json(cb))


@bp.route("/chargebacks/<int:chargeback_id>/evidence", methods=["POST"])
@api_view(Role.SUPPLIER)
def add_evidence(user: User, chargeback_id: int):
    cb = load_chargeback(chargeback_id, user)
    upload = request.files.get("file")
    if upload is None:
        raise Malformed(
            str(_l("Send the file as multipart/form-data in the field `file`.")),
            {"file": str(_l("is required"))},
        )
    if cb.status is not ChargebackStatus.DISPUTED:
        raise Conflict(
            _(
                "Evidence can be added to a disputed chargeback only; this one is %(status)s.",
                status=label(cb.status),
            )
        )
    evidence = ops.add_evidence(cb, user, upload.filename or "", upload.read())
    body = evidence_json(evidence)
    return jsonify(body), 201, {"Location": body["url"]}


@bp.route("/chargebacks/<int:chargeback_id>/evidence/<int:evidence_id>", methods=["GET"])
@api_view(*queries.CHARGEBACK_READERS)
def chargeback_evidence(user: User, chargeback_id: int, evidence_id: int):
    cb = load_chargeback(chargeback_id, user)
    evidence = db.session.get(ChargebackEvidence, evidence_id)
    if evidence is None or evidence.chargeback_id != cb.id:
        raise not_found()
    path = ops.evidence_path(evidence)
    if not path.is_file():
        raise not_found()
    return send_file(
        path, mimetype=evidence.content_type, as_attachment=True, download_name=evidence.filename
    )
