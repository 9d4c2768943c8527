"""Creating, disabling and resetting users. Operations flush, the caller commits."""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.auth.models import Role, User
from portal.errors import ValidationFailed
from portal.extensions import db
from portal.masterdata.models import Organisation

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{3,64}$")
MIN_PASSWORD_LENGTH = 8


_timing_probe: User | None = None


def authenticate(username: str, password: str) -> User | None:
    """The active user with these credentials, or None. An unknown username costs as much as a
    wrong password (a probe hash is verified), so timing does not tell which usernames exist."""
    global _timing_probe
    user = db.session.scalar(
        sa.select(User).where(sa.func.lower(User.username) == username.strip().lower())
    )
    if user is None:
        if _timing_probe is None:
            _timing_probe = User()
            _timing_probe.set_password("not-a-password-anyone-has-0")
        _timing_probe.check_password(password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    return user


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return str(_l("Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH))
    if password.isdigit() or password.isalpha():
        return str(_l("Mix letters with digits or symbols."))
    return None


def create_user(
    username: str,
    role: Role | str,
    org_code: str,
    password: str,
    *,
    full_name: str = "",
    email: str | None = None,
) -> User:
    """A new active user of `role` in the organisation `org_code`.

    The role must fit the organisation: station users belong to a station, supplier users to a
    supplier, auditors, finance and admins to the OEM.
    """
    errors: dict[str, str] = {}
    username = username.strip()
    if not USERNAME_RE.match(username):
        errors["username"] = str(_l("3-64 letters, digits, dots, dashes or underscores."))
    elif db.session.scalar(
        sa.select(User.id).where(sa.func.lower(User.username) == username.lower())
    ):
        errors["username"] = str(_l("This username is taken."))
    try:
        role = Role(role)
    except ValueError:
        errors["role"] = str(_l("Unknown role."))
    org = db.session.scalar(sa.select(Organisation).where(Organisation.code == org_code.strip()))
    if org is None:
        errors["org"] = str(_l("No organisation has the code %(code)s.", code=org_code))
    elif "role" not in errors and org.kind is not role.org_kind:
        errors["org"] = str(
            _l(
                "A %(role)s user must belong to a %(kind)s organisation; %(code)s is a %(actual)s.",
                role=role.value,
                kind=role.org_kind.value,
                code=org.code,
                actual=org.kind.value,
            )
        )
    problem = password_problem(password)
    if problem:
        errors["password"] = problem
    if errors:
        raise ValidationFailed(str(_l("The user was not created.")), errors)
    user = User(username=username, role=role, organisation=org, full_name=full_name, email=email)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def reset_password(user: User, password: str) -> None:
    problem = password_problem(password)
    if problem:
        raise ValidationFailed(problem, {"password": problem})
    user.set_password(password)


def set_active(user: User, active: bool, *, acting: User | None = None) -> None:
    if acting is not None and acting.id == user.id and not active:
        raise ValidationFailed(str(_l("You cannot disable your own account.")))
    user.active = active
