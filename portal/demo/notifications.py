"""The last step: the news of more than a week ago has been read.

A user opens a claim's or a statement's notification a few hours after it came, so the bell
shows only the last week's news. Announcements are read by their own step.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from portal.demo.clock import local_moment, run_in_order
from portal.demo.context import Demo
from portal.extensions import db
from portal.notifications.models import Notification
from portal.notifications.operations import mark_read

READ_AFTER = timedelta(hours=3)
UNREAD_DAYS = 7  # the news of the last week is still unread
READ_LINKS = ("/claims/", "/settlement/")


def read_older_notifications(demo: Demo) -> None:
    read_before = local_moment(demo.today - timedelta(days=UNREAD_DAYS), 0)
    older = db.session.scalars(
        sa.select(Notification)
        .where(
            sa.or_(*(Notification.link.startswith(link) for link in READ_LINKS)),
            Notification.created_at < read_before,
            Notification.read_at.is_(None),
        )
        .order_by(Notification.created_at, Notification.id)
    ).all()
    run_in_order(
        (notification.created_at + READ_AFTER, lambda n=notification: mark_read(n))
        for notification in sorted(older, key=lambda n: n.created_at + READ_AFTER)
    )
