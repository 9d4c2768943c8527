"""The user list's columns (portal.lists). What it exports is what the page shows: never a
password hash, a session or any other secret of an account."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.admin.forms import ROLE_LABELS
from portal.auth.models import User
from portal.lists import Column, Listing, keyed
from portal.masterdata.models import Organisation


def _org(column):
    return (
        sa.select(column)
        .where(Organisation.id == User.organisation_id)
        .correlate(User)
        .scalar_subquery()
    )


USERS = Listing(
    [
        Column("username", _l("Username"), User.username, lambda u: u.username),
        Column("name", _l("Full name"), User.full_name, lambda u: u.full_name),
        Column("email", _l("Email"), User.email, lambda u: u.email or ""),
        Column("role", _l("Role"), User.role, lambda u: ROLE_LABELS[u.role]),
        Column("org", _l("Organisation"), _org(Organisation.code), lambda u: u.organisation.code),
        Column(
            "org_name",
            _l("Organisation name"),
            _org(Organisation.name),
            lambda u: u.organisation.name,
        ),
        Column("last_login", _l("Last sign-in"), User.last_login_at, lambda u: u.last_login_at),
        Column(
            "active",
            _l("Status"),
            User.active,
            lambda u: _l("Active") if u.active else _l("Disabled"),
        ),
        Column("created", _l("Created"), User.created_at, lambda u: u.created_at),
    ],
    default="username",
    tiebreak=User.id,
)


def _state(rc) -> str:
    return str(_l("Active") if rc.active else _l("Deactivated"))


# The reason codes (sorted in Python: database collations differ on "_"): active codes first,
# each group by code, unless a column is chosen.
REASON_CODES = Listing(
    [
        keyed("code", _l("Code"), lambda rc: rc.code),
        keyed("label_en", _l("English label"), lambda rc: rc.label_en),
        keyed("label_zh", _l("Chinese label"), lambda rc: rc.label_zh),
        Column("status", _l("Status"), lambda rc: not rc.active, _state),
    ],
    default="status",
    tiebreak=lambda rc: rc.code,
)
