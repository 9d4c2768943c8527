"""Recalls and service campaigns (召回 / 服务活动): what the OEM fixes on listed vehicles.

A campaign is master data like a part or a policy (imported by CSV as `campaigns` and
`campaign_vehicles`, DESIGN 8): its code, title, kind, dates, the package of work (one labor
operation with its hours and a list of parts with quantities), the supplier that bears a share
of its cost, and the affected VINs. A campaign is *open* for a vehicle on a day when it is not
closed and the day lies within its start and end dates; stations see a vehicle's open campaigns
wherever its VIN is looked up and file a `campaign` claim for the work (portal/claims).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import UTCDateTime, enum_type, utcnow
from portal.extensions import db
from portal.masterdata.models import LaborOperation, Part, Supplier, Vehicle
from portal.money import Hours, Rate

if TYPE_CHECKING:
    from portal.auth.models import User


class CampaignKind(enum.StrEnum):
    RECALL = "recall"  # 召回: a safety defect, by law
    SERVICE = "service"  # 服务活动: a service campaign (quality fix, customer satisfaction)


class CampaignStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Campaign(db.Model):
    """A recall or service campaign (召回 / 服务活动) and its package of work."""

    __tablename__ = "campaign"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[CampaignKind] = mapped_column(enum_type(CampaignKind, "campaign_kind"))
    status: Mapped[CampaignStatus] = mapped_column(
        enum_type(CampaignStatus, "campaign_status"), default=CampaignStatus.OPEN
    )
    start_date: Mapped[date]
    end_date: Mapped[date | None] = mapped_column(comment="NULL: open-ended")
    operation_id: Mapped[int] = mapped_column(sa.ForeignKey("labor_operation.id"))
    hours: Mapped[Decimal] = mapped_column(Hours(), comment="labor hours of the package")
    supplier_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("supplier.id"), index=True, comment="NULL: the OEM bears it all"
    )
    recovery_share: Mapped[Decimal] = mapped_column(
        Rate(), default=Decimal("0"), comment="the supplier's share of each claim's cost"
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))

    operation: Mapped[LaborOperation] = relationship()
    supplier: Mapped[Supplier | None] = relationship()
    closed_by: Mapped[User | None] = relationship()
    parts: Mapped[list[CampaignPart]] = relationship(
        back_populates="campaign", order_by="CampaignPart.id", cascade="all, delete-orphan"
    )
    events: Mapped[list[CampaignEvent]] = relationship(
        back_populates="campaign", order_by="CampaignEvent.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.CheckConstraint("end_date IS NULL OR end_date >= start_date", name="dates_in_order"),
        sa.CheckConstraint("hours > 0", name="hours_positive"),
        sa.CheckConstraint(
            "recovery_share >= 0 AND recovery_share <= 1000000", name="recovery_share_fraction"
        ),
        sa.CheckConstraint(
            "supplier_id IS NOT NULL OR recovery_share = 0", name="share_needs_supplier"
        ),
        sa.CheckConstraint(
            "status <> 'closed' OR closed_at IS NOT NULL", name="closed_has_timestamp"
        ),
        sa.Index("ix_campaign_status_start_date", "status", "start_date"),
    )

    def __repr__(self) -> str:
        return f"<Campaign {self.code} {self.kind.value} {self.status.value}>"

    def is_open_on(self, day: date) -> bool:
        """Open for work on `day`: not closed, started, not ended."""
        return (
            self.status is CampaignStatus.OPEN
            and self.start_date <= day
            and (self.end_date is None or day <= self.end_date)
        )

    @property
    def is_recall(self) -> bool:
        return self.kind is CampaignKind.RECALL


def open_on(day: date) -> sa.ColumnElement[bool]:
    """SQL: the campaign is open for work on `day` (as `Campaign.is_open_on`)."""
    return sa.and_(
        Campaign.status == CampaignStatus.OPEN,
        Campaign.start_date <= day,
        sa.or_(Campaign.end_date.is_(None), Campaign.end_date >= day),
    )


class CampaignPart(db.Model):
    """A part of a campaign's package, with the quantity fitted per vehicle."""

    __tablename__ = "campaign_part"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign.id", ondelete="CASCADE"))
    part_id: Mapped[int] = mapped_column(sa.ForeignKey("part.id"), index=True)
    qty: Mapped[int]

    campaign: Mapped[Campaign] = relationship(back_populates="parts")
    part: Mapped[Part] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "part_id"),
        sa.CheckConstraint("qty > 0", name="qty_positive"),
    )


class CampaignVehicle(db.Model):
    """An affected vehicle of a campaign (召回范围)."""

    __tablename__ = "campaign_vehicle"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign.id", ondelete="CASCADE"))
    vehicle_id: Mapped[int] = mapped_column(sa.ForeignKey("vehicle.id"), index=True)

    campaign: Mapped[Campaign] = relationship()
    vehicle: Mapped[Vehicle] = relationship()

    __table_args__ = (sa.UniqueConstraint("campaign_id", "vehicle_id"),)


class CampaignEvent(db.Model):
    """Who opened, edited, extended or closed a campaign, and when. Kept forever."""

    __tablename__ = "campaign_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        sa.ForeignKey("campaign.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    action: Mapped[str] = mapped_column(sa.String(40))
    note: Mapped[str] = mapped_column(sa.Text, default="")  # what a person wrote
    # What the portal says about the event (portal.messages), written out when read.
    message_key: Mapped[str | None] = mapped_column(sa.String(60))
    params: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)

    campaign: Mapped[Campaign] = relationship(back_populates="events")
    user: Mapped[User | None] = relationship()

    @property
    def display_note(self) -> str:
        """The note as a reader reads it: the portal's words, then the person's."""
        from portal import messages

        said = ""
        if self.message_key in messages.MESSAGES:
            said = messages.render(self.message_key, self.params)
        return " · ".join(part for part in (said, self.note) if part)


def open_campaigns_of(vehicle: Vehicle, day: date | None = None) -> list[Campaign]:
    """The campaigns open on `day` (today) that list `vehicle`, recalls first."""
    day = day or date.today()
    return list(
        db.session.scalars(
            sa.select(Campaign)
            .join(CampaignVehicle, CampaignVehicle.campaign_id == Campaign.id)
            .where(CampaignVehicle.vehicle_id == vehicle.id, open_on(day))
            .order_by(Campaign.kind, Campaign.start_date, Campaign.code)
        )
    )
