"""The nightly early-warning check (早期预警).

With Redis, every worker makes sure tomorrow's run is scheduled (RQ scheduler; the job id is the
date, so many workers schedule it once) and each run schedules the next, as the old parts'
overdue check does. Without Redis, `flask --app wsgi analysis warnings` runs it (from cron, or
by hand) and the warnings page's button runs it in-process.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from portal.analysis.early_warnings import check
from portal.analysis.models import EARLY_WARNING, EarlyWarning
from portal.auth.models import Role
from portal.db import utcnow
from portal.extensions import db
from portal.masterdata.models import OEM_CODE, Organisation, Part
from portal.notifications.operations import notify_organisation

log = logging.getLogger(__name__)
RUN_AT = time(2, 0)  # 02:00 local time, after the overdue check
JOB = "portal.analysis.tasks:run_early_warnings"
SNAPSHOT_JOB = "portal.analysis.tasks:refresh_snapshots"


def local_today() -> date:
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai"))
    return datetime.now(zone).date()


def raise_warnings(as_of: date) -> list[EarlyWarning]:
    """Store the check's findings at `as_of` (safe to run twice): a new (or re-raised) warning
    is told to the OEM's auditors and to the part's supplier; a warning the check no longer finds
    is set inactive. Answers the warnings newly raised."""
    findings = {(f.part_id, f.cohort): f for f in check(as_of)}
    existing = {(w.part_id, w.cohort): w for w in db.session.scalars(sa.select(EarlyWarning))}
    raised = []
    now = utcnow()
    for key, finding in findings.items():
        warning = existing.get(key)
        if warning is None:
            part = db.session.get(Part, finding.part_id)
            warning = EarlyWarning(part_id=part.id, supplier_id=part.supplier_id, cohort=key[1])
            db.session.add(warning)
            raised.append(warning)
        elif not warning.active:
            raised.append(warning)
        warning.as_of = as_of
        warning.vehicles = finding.vehicles
        warning.observed = finding.observed
        warning.expected = finding.expected
        warning.p_value = finding.p_value
        warning.evidence = finding.evidence
        warning.active = True
        warning.updated_at = now
    for key, warning in existing.items():
        if key not in findings and warning.active:
            warning.active = False
            warning.updated_at = now
    db.session.flush()
    oem = db.session.scalar(sa.select(Organisation).where(Organisation.code == OEM_CODE))
    for warning in raised:
        params = {
            "part": warning.part.number,
            "cohort": warning.cohort,
            "observed": warning.observed,
            "expected": f"{warning.expected:.1f}",
        }
        link = f"/analysis/warnings/{warning.id}"
        if oem is not None:
            notify_organisation(oem.id, EARLY_WARNING, params, link, roles=[Role.AUDITOR])
        notify_organisation(warning.supplier_id, EARLY_WARNING, params, link, roles=[Role.SUPPLIER])
        warning.notified_at = now
    db.session.flush()
    return raised


def run_early_warnings(as_of_iso: str | None = None) -> int:
    """The job: check, store, notify, commit, and schedule tomorrow's run (with Redis)."""
    as_of = date.fromisoformat(as_of_iso) if as_of_iso else local_today()
    raised = raise_warnings(as_of)
    db.session.commit()
    log.info("early warnings as of %s: %d raised", as_of, len(raised))
    refresh_snapshots()  # as of the date the pages default to
    if current_app.config.get("REDIS_URL") and as_of_iso is None:
        schedule_next(as_of + timedelta(days=1))
    return len(raised)


def refresh_snapshots(as_of_iso: str | None = None) -> str:
    """The job storing the figures too costly per request (the compensation analysis over every
    counted claim) as of today; run nightly after the early-warning check."""
    from portal.analysis import compensation

    as_of = date.fromisoformat(as_of_iso) if as_of_iso else date.today()
    compensation.store(as_of)
    db.session.commit()
    log.info("analysis snapshots stored as of %s", as_of)
    return as_of.isoformat()


def schedule_next(day: date | None = None) -> str:
    """Schedule the check for `day` (default: tomorrow) on the RQ scheduler; answers its id."""
    from rq import Queue

    from portal.jobs import execute, redis_connection

    day = day or local_today() + timedelta(days=1)
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai"))
    when = datetime.combine(day, RUN_AT, tzinfo=zone)
    job_id = f"analysis-warnings-{day.isoformat()}"
    queue = Queue("default", connection=redis_connection())
    queue.enqueue_at(when, execute, JOB, job_id=job_id)
    return job_id
