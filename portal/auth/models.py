"""People and roles."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import UTCDateTime, enum_type, utcnow
from portal.extensions import db
from portal.masterdata.models import Organisation, OrgKind

_production_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile


def _hasher() -> PasswordHasher:
    """The password hasher: argon2id at its production cost, unless the app's configuration
    names other parameters (`PASSWORD_HASH_PARAMETERS`: only the test suite does, to make each
    sign-in cheap; never set it in production)."""
    parameters = has_app_context() and current_app.config.get("PASSWORD_HASH_PARAMETERS")
    if not parameters:
        return _production_hasher
    return PasswordHasher.from_parameters(parameters)


class Role(enum.StrEnum):
    """The five roles of DESIGN section 1."""

    STATION = "station"
    AUDITOR = "auditor"
    FINANCE = "finance"
    SUPPLIER = "supplier"
    ADMIN = "admin"

    @property
    def org_kind(self) -> OrgKind:
        """The kind of organisation a user of this role belongs to."""
        return {Role.STATION: OrgKind.STATION, Role.SUPPLIER: OrgKind.SUPPLIER}.get(
            self, OrgKind.OEM
        )


class User(UserMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    full_name: Mapped[str] = mapped_column(sa.String(120), default="")
    email: Mapped[str | None] = mapped_column(sa.String(200))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[Role] = mapped_column(enum_type(Role, "role"))
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(sa.String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    organisation: Mapped[Organisation] = relationship(back_populates="users")

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role.value}>"

    # The token of the signed-in session this user object was loaded for (portal.auth.sessions);
    # not a column.
    session_token = None

    # Flask-Login: a disabled user is not active and cannot sign in or stay signed in.
    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        """What Flask-Login keeps in the session cookie: the token of a `UserSession`, which the
        server can revoke (sign-out, a password reset, disabling the user)."""
        if self.session_token is None:
            raise AttributeError("the user has no signed-in session")
        return self.session_token

    # UserMixin compares get_id(), the session token here: two objects are the same user when
    # they are the same account, whichever session loaded them.
    __hash__ = object.__hash__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, User):
            return NotImplemented
        return self is other or (self.id is not None and self.id == other.id)

    def set_password(self, password: str) -> None:
        self.password_hash = _hasher().hash(password)
        self.password_changed_at = utcnow()

    def check_password(self, password: str) -> bool:
        hasher = _hasher()
        try:
            hasher.verify(self.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
        if hasher.check_needs_rehash(self.password_hash):
            self.password_hash = hasher.hash(password)
        return True

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles

    @property
    def station_id(self) -> int | None:
        return self.organisation_id if self.role is Role.STATION else None

    @property
    def supplier_id(self) -> int | None:
        return self.organisation_id if self.role is Role.SUPPLIER else None


class ApiToken(db.Model):
    """A bearer token for the JSON API. Only its SHA-256 is stored; the token is shown once."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()


class UserSession(db.Model):
    """A signed-in browser session. The session cookie carries a random token, of which only the
    SHA-256 is stored; a session whose row is revoked (or missing) is signed out."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    user_agent: Mapped[str | None] = mapped_column(sa.String(200))
    address: Mapped[str | None] = mapped_column(sa.String(45))

    user: Mapped[User] = relationship()
