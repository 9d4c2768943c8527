"""The columns of the announcement lists (portal.lists): the OEM's list with its read counts,
a station's inbox, and one announcement's read receipts (one row per station it went to)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from portal.announcements.models import Announcement, AnnouncementRead
from portal.auth.models import User
from portal.lists import Column, Listing, keyed


def _publisher_name():
    return (
        sa.select(sa.func.coalesce(User.full_name, User.username))
        .where(User.id == Announcement.published_by_id)
        .correlate(Announcement)
        .scalar_subquery()
    )


def read_count():
    """SQL: how many stations opened the announcement at least once."""
    return (
        sa.select(sa.func.count(sa.distinct(AnnouncementRead.station_id)))
        .where(AnnouncementRead.announcement_id == Announcement.id)
        .correlate(Announcement)
        .scalar_subquery()
    )


def publisher(a: Announcement) -> str:
    return a.published_by.full_name or a.published_by.username


def audience_text(a: Announcement, targeted: int) -> str:
    if a.to_all:
        return _("All stations")
    return ngettext("%(num)d chosen station", "%(num)d chosen stations", targeted)


OEM_ANNOUNCEMENTS = Listing(
    [
        Column("published", _l("Published"), Announcement.published_at, lambda a: a.published_at),
        Column("title", _l("Title"), Announcement.title, lambda a: a.title),
        Column("audience", _l("Send to"), Announcement.to_all),
        Column("read", _l("Read"), read_count()),
        Column("by", _l("Published by"), _publisher_name(), publisher),
    ],
    default="-published",  # the newest first
    tiebreak=Announcement.id,
)

# The columns the OEM's export adds after the listing's own: counted per announcement.
READ_COLUMNS = (_l("Send to"), _l("Stations read"), _l("Stations sent to"))


def station_inbox(read_at) -> Listing:
    """A station user's inbox; `read_at` is the SQL of when this user first read each one
    (NULL: unread). Unread first, then the newest, unless a column is chosen."""
    return Listing(
        [
            Column(
                "published",
                _l("Published"),
                Announcement.published_at,
                lambda a: a.published_at,
            ),
            Column("title", _l("Title"), Announcement.title, lambda a: a.title),
            Column("read", _l("Read on"), read_at),
        ],
        default="-published",
        tiebreak=Announcement.id,
        default_order=lambda descending: [
            sa.case((read_at.is_(None), 0), else_=1),
            Announcement.published_at.desc(),
            Announcement.id.desc(),
        ],
    )


# -- read receipts: a Python list, sorted by the key functions below ------------------------------


def _first_read(row) -> datetime | None:
    return row.first_read_at


def _readers(row) -> str:
    return ", ".join(r.user.full_name or r.user.username for r in row.receipts)


RECEIPTS = Listing(
    [
        keyed("station", _l("Station"), lambda r: r.station.code),
        keyed("name", _l("Name"), lambda r: r.station.name),
        keyed("region", _l("Region"), lambda r: r.station.region),
        keyed("read", _l("First read"), _first_read, nulls_last=False),
        Column("readers", _l("Read by"), None, _readers),
    ],
    default="read",  # not read yet first: the stations to chase
    tiebreak=lambda r: r.station.code,
)
