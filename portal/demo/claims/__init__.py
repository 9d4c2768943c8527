"""The demo's claims (演示索赔单): half a year of a warranty department at work.

Several hundred claims and requests of every type, filed by the eight stations and reviewed by
the auditor, in every state (settlement, a later step, settles the older approved ones). Every
claim goes through the real workflow, so its number, amounts, flags, versions, events,
comments, attachments and notifications are what the portal itself makes: `create_claim`,
`add_attachment`, `submit_claim` (checks, flags, auto-approval), `decide_claim` (line cuts
with reason codes, rejections, returns), `update_claim` and a new submission for a returned
claim, `add_comment`, and the shipment and receipt of emergency parts. A claim the checks
refuse is a bug in the demo and raises.

`Planner` turns the stories into scripts (`planner`); then all events of all scripts run in the
order of their moments, each at its moment of a working day (`portal.demo.clock`), so that
ages in the queue, cycle times and "approved this month" read as in a portal in use for half
a year.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from portal.demo.claims.planner import Planner
from portal.demo.claims.script import Run
from portal.demo.clock import WORKDAY, local_moment, quiet_notifications, run_in_order
from portal.demo.context import Demo
from portal.extensions import db


def add_claims(demo: Demo) -> None:
    """Several hundred claims of every type in every state, over half a year."""
    planner = Planner(demo)
    events = planner.plan()
    rng = demo.rng
    last: dict[int, datetime] = {}
    for event in events:  # a moment of the working day, later than the script's previous one
        previous = last.get(id(event.script))
        moment = local_moment(event.day, rng.randint(*WORKDAY))
        if previous is not None and moment <= previous:
            moment = previous + timedelta(minutes=rng.randint(5, 50))
        event.moment = last[id(event.script)] = moment
    order = sorted(range(len(events)), key=lambda i: (events[i].moment, i))
    run = Run(planner.auditor)
    with quiet_notifications():
        run_in_order((events[i].moment, lambda event=events[i]: run(event)) for i in order)
    db.session.commit()
    demo.claims = list(run.claims.values())
