"""Announcements (信息发布): the OEM publishes to all stations, a region's, or a chosen list;
stations read them and each first read is kept as a receipt.

Who may do what:
- auditors publish; auditors, finance and admins see every announcement and its receipts;
- a station user sees only the announcements addressed to its station (anything else is 404);
- suppliers have nothing here (the views answer 403).

A region audience is resolved to that region's stations when published: the announcement goes
to the stations the region had then, and the chosen regions are not stored separately.
Operations flush and never commit; the view commits once.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy import orm
from sqlalchemy.exc import IntegrityError

from portal.announcements.models import Announcement, AnnouncementRead, announcement_station
from portal.auth.models import Role, User
from portal.claims import attachments
from portal.errors import DomainError, NotFound, ValidationFailed
from portal.extensions import db
from portal.masterdata.campaigns import Campaign
from portal.masterdata.models import Station
from portal.messages import define
from portal.notifications.operations import mark_read_by_link, notify_organisation

TITLE_MAX = 200
BODY_MAX = 20_000
OEM_VIEWERS = (Role.AUDITOR, Role.FINANCE, Role.ADMIN)
PUBLISHERS = (Role.AUDITOR,)
ANNOUNCED = define("announcement.published", _l("New announcement: %(title)s"))


class Audience(enum.StrEnum):
    ALL = "all"
    REGIONS = "regions"
    STATIONS = "stations"


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


# -- permissions ---------------------------------------------------------------------------------


def can_publish(user: User) -> bool:
    return user.role in PUBLISHERS


def can_view(announcement: Announcement, user: User) -> bool:
    """The OEM sees every announcement; a station only those addressed to it."""
    if user.role in OEM_VIEWERS:
        return True
    if user.role is Role.STATION:
        return announcement.is_for(user.organisation_id)
    return False


def addressed_to(station_id: int) -> sa.ColumnElement[bool]:
    """SQL: the announcement is for every station, or lists `station_id`."""
    listed = (
        sa.select(announcement_station.c.announcement_id)
        .where(
            announcement_station.c.announcement_id == Announcement.id,
            announcement_station.c.station_id == station_id,
        )
        .exists()
    )
    return sa.or_(Announcement.to_all.is_(True), listed)


def link_of(announcement: Announcement) -> str:
    """The local path notifications point to."""
    return f"/announcements/{announcement.id}"


# -- publishing ----------------------------------------------------------------------------------


def regions() -> list[str]:
    return list(db.session.scalars(sa.select(Station.region).distinct().order_by(Station.region)))


def publish(
    user: User,
    *,
    title: str,
    body: str,
    audience: Audience,
    region_names: list[str] | None = None,
    station_codes: list[str] | None = None,
    upload: Upload | None = None,
    campaign: Campaign | None = None,
) -> Announcement:
    """Create the announcement and notify every user of the stations it goes to. An
    announcement of a recall or service campaign names it (`campaign`): it links to it."""
    if not can_publish(user):
        raise DomainError(str(_l("Only auditors publish announcements.")))
    errors: dict[str, str] = {}
    title = (title or "").strip()
    body = (body or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if not title or len(title) > TITLE_MAX:
        errors["title"] = str(_l("1 to %(n)d characters", n=TITLE_MAX))
    if not body or len(body) > BODY_MAX:
        errors["body"] = str(_l("1 to %(n)d characters", n=BODY_MAX))
    stations = _audience_stations(audience, region_names or [], station_codes or [], errors)
    kind = _check_upload(upload, errors) if upload is not None else None
    if errors:
        raise ValidationFailed(str(_l("The announcement was not published.")), errors)

    announcement = Announcement(
        title=title,
        body=body,
        to_all=audience is Audience.ALL,
        published_by=user,
        stations=stations or [],
        campaign=campaign,
    )
    if upload is not None and kind is not None:
        content_type, ext = kind
        announcement.attachment_filename = attachments.clean_filename(upload.filename)
        announcement.attachment_stored_name = attachments.store_file(upload.data, ext)
        announcement.attachment_content_type = content_type
    db.session.add(announcement)
    db.session.flush()

    targets = stations if stations is not None else db.session.scalars(sa.select(Station)).all()
    for station in targets:
        notify_organisation(station.id, ANNOUNCED, {"title": title}, link_of(announcement))
    return announcement


def announcement_of(campaign: Campaign) -> Announcement | None:
    """The announcement published for `campaign`, if any (the first one)."""
    return db.session.scalar(
        sa.select(Announcement)
        .where(Announcement.campaign_id == campaign.id)
        .order_by(Announcement.id)
        .limit(1)
    )


def _audience_stations(
    audience: Audience, region_names: list[str], codes: list[str], errors: dict[str, str]
) -> list[Station] | None:
    """The chosen stations, or None for all of them."""
    if audience is Audience.ALL:
        return None
    if audience is Audience.REGIONS:
        wanted = sorted({r.strip() for r in region_names if r.strip()})
        if not wanted:
            errors["regions"] = str(_l("choose at least one region"))
            return []
        found = db.session.scalars(
            sa.select(Station).where(Station.region.in_(wanted)).order_by(Station.code)
        ).all()
        unknown = sorted(set(wanted) - {s.region for s in found})
        if unknown:
            errors["regions"] = str(_l("no station in %(regions)s", regions=", ".join(unknown)))
        return list(found)
    wanted = sorted({c.strip() for c in codes if c.strip()})
    if not wanted:
        errors["stations"] = str(_l("choose at least one station"))
        return []
    found = db.session.scalars(
        sa.select(Station).where(Station.code.in_(wanted)).order_by(Station.code)
    ).all()
    unknown = sorted(set(wanted) - {s.code for s in found})
    if unknown:
        errors["stations"] = str(_l("no such station: %(codes)s", codes=", ".join(unknown)))
    return list(found)


def _check_upload(upload: Upload, errors: dict[str, str]) -> tuple[str, str] | None:
    """(content type, extension) of an acceptable file; a problem goes into `errors`.

    The same rules as a claim's attachments: the type is read from the content, never the name.
    """
    try:
        return attachments.check_file(upload.data, "attachment")
    except ValidationFailed as refused:
        errors["attachment"] = refused.message
        return None


def attachment_path(announcement: Announcement) -> Path | None:
    if not announcement.attachment_stored_name:
        return None
    return attachments.storage_dir() / announcement.attachment_stored_name


# -- reading -------------------------------------------------------------------------------------


def record_read(announcement: Announcement, user: User) -> AnnouncementRead | None:
    """A station user opened the announcement: keep the first time, once per user.

    Its notification is marked read too. OEM users reading leave no receipt (None).
    """
    if user.role is not Role.STATION:
        return None
    if not announcement.is_for(user.organisation_id):
        raise NotFound(str(_l("There is no such page, or it is not yours to see.")))
    receipt = db.session.get(AnnouncementRead, (announcement.id, user.id))
    if receipt is None:
        receipt = AnnouncementRead(
            announcement_id=announcement.id, user_id=user.id, station_id=user.organisation_id
        )
        try:
            # Two tabs opening it at once: the second insert loses and the first time stays.
            with db.session.begin_nested():
                db.session.add(receipt)
        except IntegrityError:
            receipt = db.session.get(AnnouncementRead, (announcement.id, user.id))
    mark_read_by_link(user, link_of(announcement))
    return receipt


def read_at_of(user: User):
    """SQL: when `user` first read the announcement (NULL: not yet)."""
    return (
        sa.select(AnnouncementRead.read_at)
        .where(
            AnnouncementRead.announcement_id == Announcement.id,
            AnnouncementRead.user_id == user.id,
        )
        .correlate(Announcement)
        .scalar_subquery()
    )


def inbox(user: User) -> sa.Select:
    """A station user's announcements: unread (by this user) first, then read; newest first."""
    read_at = read_at_of(user)
    return (
        sa.select(Announcement)
        .where(addressed_to(user.organisation_id))
        .order_by(
            sa.case((read_at.is_(None), 0), else_=1),
            Announcement.published_at.desc(),
            Announcement.id.desc(),
        )
    )


def read_times(user: User, announcement_ids: list[int]) -> dict[int, datetime]:
    """When `user` first read each of the announcements (those read only)."""
    if not announcement_ids:
        return {}
    rows = db.session.execute(
        sa.select(AnnouncementRead.announcement_id, AnnouncementRead.read_at).where(
            AnnouncementRead.user_id == user.id,
            AnnouncementRead.announcement_id.in_(announcement_ids),
        )
    )
    return dict(rows.all())


def unread_for(user: User, limit: int = 5) -> list[Announcement]:
    """The newest announcements addressed to `user`'s station that `user` has not opened yet
    (for the panel on the station's home page)."""
    if user.role is not Role.STATION:
        return []
    read = (
        sa.select(AnnouncementRead.announcement_id)
        .where(
            AnnouncementRead.announcement_id == Announcement.id,
            AnnouncementRead.user_id == user.id,
        )
        .exists()
    )
    return list(
        db.session.scalars(
            sa.select(Announcement)
            .where(addressed_to(user.organisation_id), ~read)
            .order_by(Announcement.published_at.desc(), Announcement.id.desc())
            .limit(limit)
        )
    )


# -- read receipts (the OEM's view) --------------------------------------------------------------


@dataclass(frozen=True)
class ReadStats:
    """As in "5 of 8 stations read": the stations that opened it at least once (`read`), of
    those it went to (`targeted`)."""

    read: int
    targeted: int


def read_stats(announcements: list[Announcement]) -> dict[int, ReadStats]:
    """Read counts for a page of announcements, in three queries whatever the page size."""
    ids = [a.id for a in announcements]
    if not ids:
        return {}
    all_stations = db.session.scalar(sa.select(sa.func.count(Station.id)))
    listed = dict(
        db.session.execute(
            sa.select(announcement_station.c.announcement_id, sa.func.count())
            .where(announcement_station.c.announcement_id.in_(ids))
            .group_by(announcement_station.c.announcement_id)
        ).all()
    )
    read = dict(
        db.session.execute(
            sa.select(
                AnnouncementRead.announcement_id,
                sa.func.count(sa.distinct(AnnouncementRead.station_id)),
            )
            .where(AnnouncementRead.announcement_id.in_(ids))
            .group_by(AnnouncementRead.announcement_id)
        ).all()
    )
    return {
        a.id: ReadStats(
            read=read.get(a.id, 0), targeted=all_stations if a.to_all else listed.get(a.id, 0)
        )
        for a in announcements
    }


@dataclass(frozen=True)
class StationReceipt:
    station: Station
    receipts: list[AnnouncementRead]  # each user of the station that read it, first reader first

    @property
    def first_read_at(self) -> datetime | None:
        return self.receipts[0].read_at if self.receipts else None


def receipts_by_station(announcement: Announcement) -> list[StationReceipt]:
    """Every station the announcement went to, with who of it read it and when; the stations
    that have not read it come first (they are the ones to chase)."""
    if announcement.to_all:
        stations = db.session.scalars(sa.select(Station).order_by(Station.code)).all()
    else:
        stations = sorted(announcement.stations, key=lambda s: s.code)
    reads = db.session.scalars(
        sa.select(AnnouncementRead)
        .where(AnnouncementRead.announcement_id == announcement.id)
        .options(orm.selectinload(AnnouncementRead.user))
        .order_by(AnnouncementRead.read_at, AnnouncementRead.user_id)
    ).all()
    by_station: dict[int, list[AnnouncementRead]] = {}
    for receipt in reads:
        by_station.setdefault(receipt.station_id, []).append(receipt)
    rows = [StationReceipt(s, by_station.get(s.id, [])) for s in stations]
    return sorted(rows, key=lambda r: r.first_read_at is not None)


def oem_list() -> sa.Select:
    return sa.select(Announcement).order_by(
        Announcement.published_at.desc(), Announcement.id.desc()
    )
