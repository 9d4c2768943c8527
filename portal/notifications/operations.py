"""Tell people about what happened: a row per user in the portal, and an e-mail when SMTP is
configured (MAIL_SERVER); in the embedded default the e-mail is written to the log instead."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable
from email.message import EmailMessage
from typing import Any

import sqlalchemy as sa
from flask import current_app

from portal import messages
from portal.auth.models import Role, User
from portal.db import utcnow
from portal.extensions import db
from portal.notifications.models import Notification
from portal.security import local_path  # noqa: F401 - re-exported for the views

log = logging.getLogger(__name__)


def notify_organisation(
    organisation_id: int,
    key: str,
    params: dict[str, Any] | None = None,
    link: str | None = None,
    *,
    roles: Iterable[Role] | None = None,
) -> int:
    """A notification for every active user of the organisation, or only for those of `roles`:
    the users who may open `link` (the OEM's users have different roles, and an admin may not
    open a chargeback). The message is the key `key` of portal.messages with `params`: each
    reader reads it in their language. Answers how many were told."""
    params = messages.plain_params(params or {})
    english = messages.render_in("en", key, params)
    query = sa.select(User).where(User.organisation_id == organisation_id, User.active.is_(True))
    if roles is not None:
        query = query.where(User.role.in_(list(roles)))
    users = db.session.scalars(query).all()
    for user in users:
        db.session.add(
            Notification(
                user_id=user.id, message=english, message_key=key, params=params, link=link
            )
        )
        send_email(user, _in_language_of(user, key, params), link)
    db.session.flush()
    return len(users)


def _in_language_of(user: User, key: str, params: dict[str, Any]) -> str:
    languages = current_app.config["LANGUAGES"]
    locale = user.locale if user.locale in languages else current_app.config["BABEL_DEFAULT_LOCALE"]
    return messages.render_in(locale, key, params)


def send_email(user: User, message: str, link: str | None) -> None:
    server = current_app.config.get("MAIL_SERVER")
    if not server or not user.email:
        log.info("notification for %s: %s %s", user.username, message, link or "")
        return
    mail = EmailMessage()
    mail["Subject"] = message[:120]
    mail["From"] = current_app.config.get("MAIL_FROM", "warranty-portal@localhost")
    mail["To"] = user.email
    mail.set_content(f"{message}\n\n{link or ''}")
    try:
        with smtplib.SMTP(server, int(current_app.config.get("MAIL_PORT", 25)), timeout=10) as smtp:
            smtp.send_message(mail)
    except OSError:
        # The in-portal notification is the record; a mail server outage must not undo a decision.
        log.exception("could not e-mail %s", user.username)


def unread_count(user: User) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(Notification.id)).where(
            Notification.user_id == user.id, Notification.read_at.is_(None)
        )
    )


# -- reading (the notifications page and the header's bell) -------------------------------------


def mark_read(notification: Notification) -> None:
    """Mark one notification read; the first time it was read stays."""
    if notification.read_at is None:
        notification.read_at = utcnow()
        db.session.flush()


def mark_all_read(user: User) -> int:
    """Mark every unread notification of `user` read; answers how many were unread."""
    result = db.session.execute(
        sa.update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    return result.rowcount


def mark_read_by_link(user: User, link: str) -> None:
    """The user opened what the notifications point to: those notifications are read."""
    db.session.execute(
        sa.update(Notification)
        .where(
            Notification.user_id == user.id,
            Notification.link == link,
            Notification.read_at.is_(None),
        )
        .values(read_at=utcnow())
    )
