"""Signed-in browser sessions that the server can end. Operations flush, the caller commits.

The session cookie (and a remember-me cookie, were one issued) carries a random token as the
Flask-Login user id; the `user_session` row of its SHA-256 says whether it is still valid.
Signing out revokes that session; a password reset or disabling the user revokes all of the
user's sessions. `last_seen_at` is written at most every SESSION_TOUCH_INTERVAL.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from portal.auth.models import User, UserSession
from portal.db import utcnow
from portal.extensions import db
from portal.security import token_hash

SESSION_TOUCH_INTERVAL = timedelta(minutes=5)
USER_AGENT_LENGTH = 200


def start_session(user: User, *, user_agent: str | None = None, address: str | None = None) -> str:
    """A new session for `user`; answers its token, which `user.get_id()` now gives."""
    token = secrets.token_urlsafe(32)
    db.session.add(
        UserSession(
            user=user,
            token_hash=token_hash(token),
            user_agent=(user_agent or "")[:USER_AGENT_LENGTH] or None,
            address=address,
        )
    )
    db.session.flush()
    user.session_token = token
    return token


def user_for_session(token: str, now: datetime | None = None) -> User | None:
    """The active user of the unrevoked session `token`, or None (signed out). A session older
    than the user's last password change is over too, however the password was set."""
    now = now or utcnow()
    record = db.session.scalar(
        sa.select(UserSession)
        .options(joinedload(UserSession.user))
        .where(UserSession.token_hash == token_hash(token))
    )
    if record is None or record.revoked_at is not None:
        return None
    user = record.user
    if not user.active or record.created_at < user.password_changed_at:
        return None
    if now - record.last_seen_at >= SESSION_TOUCH_INTERVAL:
        record.last_seen_at = now
    user.session_token = token
    return user


def end_session(token: str) -> None:
    """Sign out the session `token` (the cookie that carries it no longer signs anyone in)."""
    db.session.execute(
        sa.update(UserSession)
        .where(UserSession.token_hash == token_hash(token), UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def end_all_sessions(user: User) -> None:
    """Sign out every session of `user`, on every browser."""
    db.session.execute(
        sa.update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
