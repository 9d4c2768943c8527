"""The demo data set behind `flask --app wsgi demo` (演示数据).

A fictional OEM, 华星汽车 Huaxing Motors, its stations, suppliers, parts and vehicles
(`masterdata`), one login per role (`users`), then half a year of claims in every state
(`claims`), extended warranty contracts with a repair covered only thanks to one
(`contracts`), the auditor's announcements (`announcements`), old parts returned, inspected and
written off (`oldparts`), settlement runs with their statements and chargebacks
(`settlement`) and the older news read (`notifications`); a recall half done and a service
campaign just opened (`campaigns`) come right after the claims, so that their old parts come
back and their claims are settled like the others.

The data set is built by `STEPS`, run in order on one `Demo`; each step adds its rows through
the portal's own operations, keeps them on the `Demo` for the steps after it, and commits.
Each action runs at the moment of its story (`clock`, with time-machine), so every timestamp
comes from the operations themselves. Everything comes from `random.Random(seed)` and dates are
relative to `date.today()`, so the same seed on the same day gives the same data, and the data
stays realistic whenever it is loaded.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date

import sqlalchemy as sa

from portal.auth.models import User
from portal.demo.announcements import add_announcements
from portal.demo.campaigns import add_campaigns
from portal.demo.claims import add_claims
from portal.demo.context import Demo
from portal.demo.contracts import add_contracts
from portal.demo.masterdata import (
    OEM_NAME,
    STATIONS,
    add_fault_codes,
    add_labor_operations,
    add_organisations,
    add_parts,
    add_vehicle_models,
    add_vehicles,
)
from portal.demo.notifications import read_older_notifications
from portal.demo.oldparts import add_old_parts
from portal.demo.settlement import add_settlement
from portal.demo.users import DEMO_PASSWORD, DEMO_USERS, add_organisation_users, add_users
from portal.extensions import db
from portal.masterdata.models import OEM_CODE, Organisation

__all__ = [
    "DEFAULT_SEED",
    "DEMO_PASSWORD",
    "DEMO_USERS",
    "MASTER_DATA_STEPS",
    "OEM_NAME",
    "STATIONS",
    "STEPS",
    "add_organisations",
    "load_demo",
]

DEFAULT_SEED = 2026

DemoStep = Callable[[Demo], None]

MASTER_DATA_STEPS: tuple[DemoStep, ...] = (
    add_organisations,
    add_vehicle_models,
    add_parts,
    add_labor_operations,
    add_fault_codes,
    add_vehicles,
    add_users,
)
STEPS: tuple[DemoStep, ...] = (
    *MASTER_DATA_STEPS,
    add_organisation_users,
    add_claims,
    add_contracts,
    add_campaigns,
    add_announcements,
    add_old_parts,
    add_settlement,
    read_older_notifications,
)


def _holds_only_setup() -> bool:
    other_org = sa.select(Organisation.id).where(Organisation.code != OEM_CODE).limit(1)
    any_user = sa.select(User.id).limit(1)
    return db.session.scalar(other_org) is None and db.session.scalar(any_user) is None


def load_demo(seed: int = DEFAULT_SEED) -> list[tuple[str, str, str]]:
    """Load and commit the demo data set and answer its logins.

    `(username, role, organisation code)` in the order of `DEMO_USERS`; all use `DEMO_PASSWORD`.
    The demo goes only into a database that holds nothing but what `flask setup` makes (no
    other organisation, no user); otherwise nothing is added and the answer is the demo logins
    that exist.
    """
    if _holds_only_setup():
        demo = Demo(rng=random.Random(seed), today=date.today())
        session = db.session()
        expire_on_commit = session.expire_on_commit
        # Every action commits; the demo's objects stay loaded from one action to the next (it
        # expires them itself where a job changed rows behind the session's back).
        session.expire_on_commit = False
        try:
            for step in STEPS:
                step(demo)
        finally:
            session.expire_on_commit = expire_on_commit
    usernames = [username for username, *_ in DEMO_USERS]
    existing = set(db.session.scalars(sa.select(User.username).where(User.username.in_(usernames))))
    return [
        (username, role.value, org_code)
        for username, role, org_code, _ in DEMO_USERS
        if username in existing
    ]
