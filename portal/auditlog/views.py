"""The audit log's pages: browse with filters and sorts, export CSV and XLSX (auditors,
finance, admins)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, render_template, request, stream_with_context
from flask_babel import gettext as _

from portal import messages
from portal.admin.forms import ROLE_LABELS
from portal.auditlog import words
from portal.auditlog.queries import (
    CSV_COLUMNS,
    ENTRIES,
    LogFilter,
    csv_rows,
    filtered,
    row_values,
)
from portal.auth.models import Role
from portal.auth.permissions import role_required
from portal.extensions import db
from portal.lists import EXPORT_LIMIT, plain, table_response

bp = Blueprint("auditlog", __name__)

READERS = (Role.AUDITOR, Role.FINANCE, Role.ADMIN)
PER_PAGE = 50


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai"))


@bp.route("/")
@role_required(*READERS)
def index():
    log_filter, problems = LogFilter.from_args(request.args)
    shown = ENTRIES.shown(request.args)
    stmt = shown.order(filtered(log_filter, _zone()))
    page = db.paginate(stmt, per_page=PER_PAGE, error_out=False)
    return render_template(
        "auditlog/index.html",
        page=page,
        shown=shown,
        log_filter=log_filter,
        problems=problems,
        kinds=words.KIND_LABELS,
        roles={role.value: label for role, label in ROLE_LABELS.items()},
        zone=_zone(),
        clause_separator=messages.clause_separator(),
    )


def _exported() -> sa.Select:
    """The entries the page shows (its filters and order), every page of them."""
    log_filter, _problems = LogFilter.from_args(request.args)
    return ENTRIES.shown(request.args).order(filtered(log_filter, _zone()))


@bp.route("/audit-log.csv")
@role_required(*READERS)
def export_csv():
    rows = csv_rows(_exported(), _zone())
    return Response(
        stream_with_context(rows),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=audit-log.csv"},
    )


@bp.route("/audit-log.xlsx")
@role_required(*READERS)
def export_xlsx():
    """The same rows as the CSV, as a workbook: amounts and times as numbers, up to the lists'
    export limit (the CSV has none)."""
    zone = _zone()
    rows = (
        [plain(value) for value in row_values(e, zone)]
        for e in db.session.scalars(_exported().limit(EXPORT_LIMIT))
    )
    headings = [str(column) for column in CSV_COLUMNS]
    return table_response("xlsx", "audit-log", headings, rows)


@bp.app_template_filter("audit_subject")
def _audit_subject(subject: str, entry_kind: str = "") -> str:
    return words.subject_label(subject, entry_kind)


@bp.app_template_filter("audit_kind")
def _audit_kind(kind: str) -> str:
    return words.kind_label(kind)


@bp.app_template_filter("audit_changes")
def _audit_changes(values, entry_kind: str = "") -> list[tuple[str, str]]:
    return words.changes(values, entry_kind)


@bp.app_template_filter("audit_note")
def _audit_note(entry) -> str:
    return words.note_text(entry)


def problem_message(name: str, value: str) -> str:
    return _("%(field)s: “%(value)s” is not understood and was ignored.", field=name, value=value)


@bp.app_context_processor
def _helpers() -> dict:
    return {"audit_problem": problem_message}
