"""Announcements (信息发布) from the OEM to the stations, and who read them."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.auth.models import User
from portal.db import UTCDateTime, utcnow
from portal.extensions import db
from portal.masterdata.campaigns import Campaign
from portal.masterdata.models import Station

announcement_station = sa.Table(
    "announcement_station",
    db.metadata,
    sa.Column(
        "announcement_id", sa.ForeignKey("announcement.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("station_id", sa.ForeignKey("station.id", ondelete="CASCADE"), primary_key=True),
)


class Announcement(db.Model):
    """信息发布: a message from the OEM to all stations, a region's, or a chosen list."""

    __tablename__ = "announcement"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    to_all: Mapped[bool] = mapped_column(default=True)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    published_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    attachment_filename: Mapped[str | None] = mapped_column(sa.String(255))
    attachment_stored_name: Mapped[str | None] = mapped_column(sa.String(64))
    attachment_content_type: Mapped[str | None] = mapped_column(sa.String(64))
    campaign_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("campaign.id", ondelete="SET NULL"),
        index=True,
        comment="the recall or service campaign it announces (its page is linked)",
    )

    published_by: Mapped[User] = relationship()
    campaign: Mapped[Campaign | None] = relationship()
    stations: Mapped[list[Station]] = relationship(secondary=announcement_station)
    reads: Mapped[list[AnnouncementRead]] = relationship(
        back_populates="announcement", cascade="all, delete-orphan"
    )

    def is_for(self, station_id: int) -> bool:
        return self.to_all or any(s.id == station_id for s in self.stations)


class AnnouncementRead(db.Model):
    """Who read an announcement, and when (a read receipt)."""

    __tablename__ = "announcement_read"

    announcement_id: Mapped[int] = mapped_column(
        sa.ForeignKey("announcement.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), primary_key=True)
    station_id: Mapped[int] = mapped_column(sa.ForeignKey("station.id"), index=True)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    announcement: Mapped[Announcement] = relationship(back_populates="reads")
    user: Mapped[User] = relationship()
