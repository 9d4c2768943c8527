"""API bearer tokens: issued once, stored only as their SHA-256. Operations flush, never commit."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from portal.auth.models import ApiToken, User
from portal.db import utcnow
from portal.extensions import db
from portal.security import token_hash

DEFAULT_LIFETIME_DAYS = 30
# `last_used_at` is written at most this often, so that reading does not mean a write each time.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def lifetime() -> timedelta:
    return timedelta(days=current_app.config.get("API_TOKEN_LIFETIME_DAYS", DEFAULT_LIFETIME_DAYS))


def issue_token(user: User, now: datetime | None = None) -> tuple[str, ApiToken]:
    """A new token for `user`: the token itself (shown once) and its stored record."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    record = ApiToken(
        user=user, token_hash=token_hash(token), created_at=now, expires_at=now + lifetime()
    )
    db.session.add(record)
    db.session.flush()
    return token, record


def user_for_token(token: str, now: datetime | None = None) -> User | None:
    """The active user a valid, unexpired token belongs to, or None; records the use.

    A password change revokes the user's older tokens, as it signs out the user's sessions.
    """
    now = now or utcnow()
    record = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == token_hash(token)))
    if record is None or record.expires_at <= now:
        return None
    user = record.user
    if not user.active or record.created_at < user.password_changed_at:
        return None
    if record.last_used_at is None or now - record.last_used_at >= LAST_USED_RESOLUTION:
        record.last_used_at = now
    return user
