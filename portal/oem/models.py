"""The OEM's audit data: reason codes for cuts, announcements (信息发布) and their reads."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import get_locale
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import labels

from portal.auth.models import User
from portal.db import UTCDateTime, utcnow
from portal.extensions import db
from portal.masterdata.models import Station

SEEDED_REASON_CODES = (
    ("partial_approval", "Partial warranty approved", "部分保修批准"),
    ("duplicate_charge", "Duplicate charge", "重复收费"),
    ("excessive_labor", "Excessive labor hours", "工时过多"),
    ("not_covered", "Part not covered", "配件不在保修范围"),
    ("outside_coverage", "Outside coverage period", "超出保修期"),
    ("part_not_returned", "Part not returned in time", "旧件未按时返回"),
    ("misuse", "Misuse", "使用不当"),
    ("insufficient_documentation", "Insufficient documentation", "资料不全"),
    ("outsourced_cap", "Above the outsourced-purchase cap", "超出外购限价"),
)


class ReasonCode(db.Model):
    """Why an auditor cut a line (maintained by admins; the seeded eight come with the schema)."""

    __tablename__ = "reason_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    label_en: Mapped[str] = mapped_column(sa.String(120))
    label_zh: Mapped[str] = mapped_column(sa.String(120))
    active: Mapped[bool] = mapped_column(default=True)

    def label(self, locale: str) -> str:
        return self.label_zh if str(locale).startswith("zh") else self.label_en


def reason_code_label(code: str) -> str | None:
    """A reason code (maintained by admins) in the reader's language (portal.labels)."""
    reason = db.session.scalar(sa.select(ReasonCode).where(ReasonCode.code == code))
    return None if reason is None else reason.label(str(get_locale()))


labels.register("reason_code", {})
labels.register_resolver("reason_code", reason_code_label)


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

    published_by: Mapped[User] = relationship()
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
