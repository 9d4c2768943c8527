"""The demo's logins: one per role (the README lists them), and one per further organisation.

Every demo login has the password `DEMO_PASSWORD`.
"""

from __future__ import annotations

from portal.auth.models import Role, User
from portal.auth.operations import create_user
from portal.demo.context import Demo
from portal.demo.masterdata import STATIONS, SUPPLIERS
from portal.extensions import db
from portal.masterdata.models import OEM_CODE

DEMO_PASSWORD = "demo-Pass-2026"  # noqa: S105 - the published password of the demo logins

# username, role, organisation code, full name: one login per role, a second station login
DEMO_USERS = (
    ("station", Role.STATION, STATIONS[0][0], "陈立新"),
    ("station2", Role.STATION, STATIONS[1][0], "赵海涛"),
    ("auditor", Role.AUDITOR, OEM_CODE, "刘晓梅"),
    ("finance", Role.FINANCE, OEM_CODE, "孙建华"),
    ("supplier", Role.SUPPLIER, SUPPLIERS[0][0], "周志强"),
    ("admin", Role.ADMIN, OEM_CODE, "王磊"),
)


def add_users(demo: Demo) -> None:
    for username, role, org_code, full_name in DEMO_USERS:
        demo.users[username] = create_user(
            username, role, org_code, DEMO_PASSWORD, full_name=full_name
        )
    db.session.commit()


def add_organisation_users(demo: Demo) -> None:
    """A login for each further station and supplier, so that each files or ships its own.

    They share the demo password; its hash is copied from the first station login rather than
    computed again (argon2 is slow on purpose).
    """
    password_hash = demo.users["station"].password_hash
    for user in demo.users.values():
        demo.org_users.setdefault(user.organisation.code, user)
    names = iter(("王建军", "李秀英", "张伟", "刘芳", "陈静", "杨勇", "黄磊", "赵敏", "吴涛"))
    for role, orgs in (
        (Role.STATION, demo.stations),
        (Role.SUPPLIER, list(demo.suppliers.values())),
    ):
        n = sum(1 for user in demo.users.values() if user.role is role)  # station, station2
        for org in orgs:
            if org.code in demo.org_users:
                continue
            n += 1
            user = User(
                username=f"{role.value}{n}",
                role=role,
                organisation=org,
                full_name=next(names),
                password_hash=password_hash,
            )
            db.session.add(user)
            demo.org_users[org.code] = user
    db.session.flush()
    db.session.commit()
