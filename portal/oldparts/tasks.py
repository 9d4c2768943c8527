"""The daily overdue check of old parts.

With Redis, every worker makes sure tomorrow's run is scheduled (RQ scheduler; the job id is
the date, so many workers schedule it once) and each run schedules the next. In the embedded
default, `flask --app wsgi oldparts mark-overdue` runs it (from cron, or by hand).
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app

from portal.extensions import db
from portal.oldparts.operations import mark_overdue
from portal.oldparts.queries import local_today

log = logging.getLogger(__name__)
RUN_AT = time(1, 0)  # 01:00 local time, after the day's deadlines have passed


def run_overdue_check(today_iso: str | None = None) -> int:
    """The job: mark today's overdue parts, commit, and schedule tomorrow's run."""
    today = date.fromisoformat(today_iso) if today_iso else local_today()
    marked = mark_overdue(today)
    db.session.commit()
    log.info("old parts marked overdue on %s: %d", today, marked)
    if current_app.config.get("REDIS_URL"):
        schedule_next(today + timedelta(days=1))
    return marked


def schedule_next(day: date | None = None) -> str:
    """Schedule the run for `day` (default: tomorrow) on the RQ scheduler; answers the job id."""
    from rq import Queue

    from portal.jobs import execute, redis_connection

    day = day or local_today() + timedelta(days=1)
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai"))
    when = datetime.combine(day, RUN_AT, tzinfo=zone)
    job_id = f"oldparts-overdue-{day.isoformat()}"
    queue = Queue("default", connection=redis_connection())
    queue.enqueue_at(
        when, execute, "portal.oldparts.tasks:run_overdue_check", day.isoformat(), job_id=job_id
    )
    return job_id
