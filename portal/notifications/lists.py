"""The notification list's columns (portal.lists)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.lists import Column, Listing
from portal.notifications.models import Notification

NOTIFICATIONS = Listing(
    [
        Column("created", _l("Received"), Notification.created_at, lambda n: n.created_at),
        Column("message", _l("Message"), None, lambda n: n.text),
        # Sorted by it (descending), the unread ones come first, then the latest read.
        Column("read", _l("Read"), Notification.read_at, lambda n: n.read_at, nulls_last=False),
    ],
    default="-created",
    tiebreak=Notification.id,
)
