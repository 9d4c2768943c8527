"""The audit log's pages: browse with filters, export CSV (auditors, finance, admins)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, render_template, request, stream_with_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.admin.forms import ROLE_LABELS
from portal.auditlog.operations import AuditKind
from portal.auditlog.queries import LogFilter, csv_rows, entries
from portal.auth.models import Role
from portal.auth.permissions import role_required
from portal.extensions import db

bp = Blueprint("auditlog", __name__)

READERS = (Role.AUDITOR, Role.FINANCE, Role.ADMIN)
PER_PAGE = 50

KIND_LABELS = {
    AuditKind.CLAIM_DECIDED: _l("Claim decided"),
    AuditKind.CLAIM_AUTO_APPROVED: _l("Claim approved automatically"),
    AuditKind.FINDING_CONFIRMED: _l("Supplier finding confirmed"),
    AuditKind.FINDING_OVERRULED: _l("Supplier finding overruled"),
    AuditKind.INSPECTION_RECORDED: _l("Inspection recorded"),
    AuditKind.OVERDUE_CHARGED: _l("Overdue old part charged"),
    AuditKind.OVERDUE_WAIVED: _l("Overdue charge waived"),
    AuditKind.ADJUSTMENT_CREATED: _l("Adjustment created"),
    AuditKind.RUN_STARTED: _l("Settlement run started"),
    AuditKind.RUN_COMPUTED: _l("Settlement run computed"),
    AuditKind.RUN_RELEASE_REQUESTED: _l("Settlement run release requested"),
    AuditKind.RUN_RELEASED: _l("Settlement run released"),
    AuditKind.RUN_DISCARDED: _l("Settlement run discarded"),
    AuditKind.RUN_RETRIED: _l("Settlement run retried"),
    AuditKind.STATEMENT_PAID: _l("Statement paid"),
    AuditKind.STATEMENT_FINAL: _l("Statement final"),
    AuditKind.CHARGEBACK_ACCEPTED: _l("Chargeback accepted"),
    AuditKind.CHARGEBACK_DISPUTED: _l("Chargeback disputed"),
    AuditKind.CHARGEBACK_UPHELD: _l("Dispute upheld"),
    AuditKind.CHARGEBACK_WAIVED: _l("Dispute waived"),
    AuditKind.SETTINGS_CHANGED: _l("Settings changed"),
    AuditKind.REASON_CODE_CHANGED: _l("Reason code changed"),
    AuditKind.USER_CHANGED: _l("User changed"),
    AuditKind.MASTERDATA_IMPORTED: _l("Master data imported"),
    AuditKind.MASTERDATA_CREATED: _l("Master-data record created"),
    AuditKind.MASTERDATA_UPDATED: _l("Master-data record edited"),
    AuditKind.MASTERDATA_REMOVED: _l("Master-data record removed"),
    AuditKind.CAMPAIGN_OPENED: _l("Campaign opened"),
    AuditKind.CAMPAIGN_EDITED: _l("Campaign edited"),
    AuditKind.CAMPAIGN_CLOSED: _l("Campaign closed"),
    AuditKind.CAMPAIGN_VEHICLES_ADDED: _l("Vehicles added to a campaign"),
}
assert set(KIND_LABELS) == set(AuditKind)


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai"))


@bp.route("/")
@role_required(*READERS)
def index():
    log_filter, problems = LogFilter.from_args(request.args)
    page = db.paginate(entries(log_filter, _zone()), per_page=PER_PAGE, error_out=False)
    return render_template(
        "auditlog/index.html",
        page=page,
        log_filter=log_filter,
        problems=problems,
        kinds=KIND_LABELS,
        roles={role.value: label for role, label in ROLE_LABELS.items()},
        zone=_zone(),
    )


@bp.route("/audit-log.csv")
@role_required(*READERS)
def export_csv():
    log_filter, _problems = LogFilter.from_args(request.args)
    rows = csv_rows(entries(log_filter, _zone()), _zone())
    return Response(
        stream_with_context(rows),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=audit-log.csv"},
    )


# What a subject names by its first word, as the UI says it (the rest is a code, number or key).
SUBJECT_LABELS = {
    "stations": _l("Stations"),
    "suppliers": _l("Suppliers"),
    "models": _l("Vehicle models"),
    "policies": _l("Warranty policies"),
    "parts": _l("Parts"),
    "part_models": _l("Models per part"),
    "labor_operations": _l("Labor operations"),
    "fault_codes": _l("Fault codes"),
    "vehicles": _l("Vehicles"),
    "contracts": _l("Extended warranty contracts"),
    "campaigns": _l("Campaigns"),
    "campaign_vehicles": _l("Campaign vehicles"),
    "campaign": _l("Campaign"),
    "chargeback": _l("Chargeback line"),
    "supplier_credit": _l("Adjustment: supplier credited on its next statement"),
    "station_credit": _l("Adjustment: station credited on its next statement"),
    "supplier_debit": _l("Adjustment: supplier credit taken back"),
}


def subject_label(subject: str) -> str:
    """The subject with its first word in the UI's language when it is a known kind."""
    head, _sep, rest = (subject or "").partition(" ")
    label = SUBJECT_LABELS.get(head)
    return f"{label} {rest}".strip() if label is not None else subject


@bp.app_template_filter("audit_subject")
def _audit_subject(subject: str) -> str:
    return subject_label(subject)


def kind_label(kind: str) -> str:
    try:
        return str(KIND_LABELS[AuditKind(kind)])
    except ValueError:
        return kind


@bp.app_template_filter("audit_kind")
def _audit_kind(kind: str) -> str:
    return kind_label(kind)


def problem_message(name: str, value: str) -> str:
    return _("%(field)s: “%(value)s” is not understood and was ignored.", field=name, value=value)


@bp.app_context_processor
def _helpers() -> dict:
    return {"audit_problem": problem_message}
