"""The demo's nightly early-warning check (早期预警): last night's run, on the fleet's claims.

The scheduled job (`portal.analysis.tasks.run_early_warnings`) runs at 02:00 local time; the demo
runs it once, at last night's 02:00 (time-machine), for that day. On the fleet's history it finds
the T5 turbocharger of the last production months (`portal.demo.fleet.DEFECT_PART`), stores the
warnings and tells the OEM's auditors and the part's supplier: unread news on their bells.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from portal.analysis.tasks import RUN_AT, run_early_warnings
from portal.demo.clock import act, local_day, local_moment, quiet_notifications
from portal.demo.context import Demo, DemoError


def run_nightly_check(demo: Demo) -> None:
    minutes = RUN_AT.hour * 60 + RUN_AT.minute
    moment = local_moment(demo.today, minutes)
    if moment >= datetime.now(UTC):  # before 02:00 the last run was the night before
        moment = local_moment(demo.today - timedelta(days=1), minutes)
    with quiet_notifications():
        raised = act(moment, lambda: run_early_warnings(local_day(moment).isoformat()))
    if not raised:
        raise DemoError("the nightly check raised no early warning on the fleet's claims")
