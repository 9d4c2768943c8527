"""Creating, disabling and resetting users. Operations flush, the caller commits."""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from zxcvbn import zxcvbn

from portal.auditlog.operations import AuditKind, record
from portal.auth.models import Role, User
from portal.auth.sessions import end_all_sessions
from portal.errors import ValidationFailed
from portal.extensions import db
from portal.labels import in_sentence, label
from portal.masterdata.models import Organisation

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{3,64}$")
MIN_PASSWORD_LENGTH = 12
# zxcvbn's score from 0 to 4; 3 means "safely unguessable" (about 10^8 guesses or more).
MIN_PASSWORD_SCORE = 3
ZXCVBN_MAX_LENGTH = 72  # zxcvbn refuses longer input; the first 72 characters are judged


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


# zxcvbn's warning about the weakest part of a password, in words we translate; an unknown
# warning (a later zxcvbn) falls back to the general advice.
PASSWORD_WARNINGS = {
    "Straight rows of keys are easy to guess.": _l(
        "Rows of keys on the keyboard are easy to guess."
    ),
    "Short keyboard patterns are easy to guess.": _l("Keyboard patterns are easy to guess."),
    'Repeats like "aaa" are easy to guess.': _l("Repeated characters are easy to guess."),
    'Repeats like "abcabcabc" are only slightly harder to guess than "abc".': _l(
        "Repeated words or groups of characters are easy to guess."
    ),
    'Sequences like "abc" or "6543" are easy to guess.': _l(
        "Sequences like abc or 6543 are easy to guess."
    ),
    "Recent years are easy to guess.": _l("Years are easy to guess."),
    "Dates are often easy to guess.": _l("Dates are easy to guess."),
    "This is a top-10 common password.": _l("This is one of the most common passwords."),
    "This is a top-100 common password.": _l("This is one of the most common passwords."),
    "This is a very common password.": _l("This is a very common password."),
    "This is similar to a commonly used password.": _l(
        "This is a common password with small changes."
    ),
    "A word by itself is easy to guess.": _l("A single word is easy to guess."),
    "Names and surnames by themselves are easy to guess.": _l("Names are easy to guess."),
    "Common names and surnames are easy to guess.": _l("Names are easy to guess."),
}


def _personal_words(*values: str | None) -> list[str]:
    """The username, name and e-mail of the account, whole, word by word and run together:
    zxcvbn counts a password built from them as easy to guess."""
    words: set[str] = set()
    for value in values:
        if value:
            parts = [w for w in re.split(r"[\W_]+", value.lower()) if w]
            words.update({value.lower(), "".join(parts)})
            words.update(w for w in parts if len(w) >= 3)
    return sorted(words)


def password_problem(password: str, *personal: str | None) -> str | None:
    """What makes `password` too weak, in words for the person choosing it, or None when it is
    strong enough: at least MIN_PASSWORD_LENGTH characters and a zxcvbn score of at least
    MIN_PASSWORD_SCORE, where `personal` (username, full name, e-mail) count as easy words."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return str(
            _l(
                "Use at least %(n)d characters: several unrelated words, or a long sentence "
                "only you would think of.",
                n=MIN_PASSWORD_LENGTH,
            )
        )
    result = zxcvbn(password[:ZXCVBN_MAX_LENGTH], user_inputs=_personal_words(*personal))
    if result["score"] >= MIN_PASSWORD_SCORE:
        return None
    if any(match.get("dictionary_name") == "user_inputs" for match in result["sequence"]):
        reason = _l("A password built from the username or the person's name is easy to guess.")
    else:
        reason = PASSWORD_WARNINGS.get(
            result["feedback"]["warning"], _l("This password is too easy to guess.")
        )
    advice = _l("Add more unrelated words, or use a long sentence only you would think of.")
    return f"{reason} {advice}"


def create_user(
    username: str,
    role: Role | str,
    org_code: str,
    password: str,
    *,
    full_name: str = "",
    email: str | None = None,
    acting: User | None = None,
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
                "%(role)s users must belong to an organisation of the kind %(kind)s; %(code)s is "
                "of the kind %(actual)s.",
                role=label(role),
                kind=in_sentence(role.org_kind),
                code=org.code,
                actual=in_sentence(org.kind),
            )
        )
    problem = password_problem(password, username, full_name, email)
    if problem:
        errors["password"] = problem
    if errors:
        raise ValidationFailed(str(_l("The user was not created.")), errors)
    user = User(username=username, role=role, organisation=org, full_name=full_name, email=email)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    record(
        AuditKind.USER_CHANGED,
        acting,
        subject=username,
        after={"created": True, "role": role, "org": org.code, "active": True},
    )
    return user


def reset_password(user: User, password: str, *, acting: User | None = None) -> None:
    """A new password for `user` (refused when weak); every session of the user is signed out."""
    problem = password_problem(password, user.username, user.full_name, user.email)
    if problem:
        raise ValidationFailed(problem, {"password": problem})
    user.set_password(password)
    end_all_sessions(user)
    record(AuditKind.USER_CHANGED, acting, subject=user.username, after={"password": "reset"})


def set_active(user: User, active: bool, *, acting: User | None = None) -> None:
    """Enable or disable `user`; disabling signs out every session of the user."""
    if acting is not None and acting.id == user.id and not active:
        raise ValidationFailed(str(_l("You cannot disable your own account.")))
    if user.active != active:
        record(
            AuditKind.USER_CHANGED,
            acting,
            subject=user.username,
            before={"active": user.active},
            after={"active": active},
        )
    user.active = active
    if not active:
        end_all_sessions(user)
