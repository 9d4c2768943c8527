"""The audit log through the API (read only): the entries a page at a time, newest first, with
the page's filters. Auditors, finance and admins; anyone else 403."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import current_app

from portal.api.auth import api_view
from portal.api.blueprint import bp
from portal.api.schemas import AuditLogEntry, AuditLogList, AuditLogQuery
from portal.api.spec import declare, paged
from portal.auditlog.queries import NEWEST_FIRST, LogFilter, filtered
from portal.auth.models import Role, User

READERS = (Role.AUDITOR, Role.FINANCE, Role.ADMIN)


@bp.route("/audit-log", methods=["GET"])
@api_view(*READERS)
@declare(query=AuditLogQuery, answer=AuditLogList, tag="audit-log")
def list_audit_log(user: User, query: AuditLogQuery):
    """Everything that moved money or changed a rule, newest first, a page at a time.

    Filters `kind`, `actor` (part of the user's name), `claim` (a claim number), `run` (a
    settlement run's id), `from_date` and `to_date` (local days, inclusive).
    """
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai"))
    log_filter = LogFilter(
        date_from=query.from_date,
        date_to=query.to_date,
        actor=query.actor,
        kind=query.kind.value if query.kind else "",
        claim_number=query.claim,
        run_id=query.run,
    )
    return AuditLogList(
        **paged(
            filtered(log_filter, zone),
            NEWEST_FIRST,
            query.page,
            query.per_page,
            AuditLogEntry.model_validate,
        )
    )
