"""Old parts (旧件): every failed part the OEM pays for, from approval to write-off (核销)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from portal.db import UTCDateTime, enum_type, utcnow
from portal.extensions import db
from portal.masterdata.models import Disposition
from portal.money import Money

if TYPE_CHECKING:
    from portal.auth.models import User
    from portal.claims.models import Claim, ClaimLine
    from portal.masterdata.models import Organisation, Part, Station, Supplier


class OldPartStatus(enum.StrEnum):
    AWAITING_RETURN = "awaiting_return"
    SHIPPED = "shipped"
    RECEIVED = "received"
    INSPECTED = "inspected"
    FORWARDED = "forwarded"
    WRITTEN_OFF = "written_off"


class Inspection(enum.StrEnum):
    CONFIRMED_DEFECT = "confirmed_defect"
    NO_FAULT_FOUND = "no_fault_found"
    MISUSE = "misuse"
    WRONG_PART = "wrong_part"


# Inspection results that take the part's line out of the supplier's recovery (DESIGN 5).
REMOVES_FROM_RECOVERY = frozenset({Inspection.NO_FAULT_FOUND, Inspection.MISUSE})


class FindingStatus(enum.StrEnum):
    """The party that pays never has the last word on its own part (DESIGN 5): a supplier's
    finding on a part it is charged for is a proposal until an auditor confirms or overrules it.
    A finding of the OEM (or of a supplier not charged for the part) takes effect at once and
    has no status."""

    PROPOSED = "proposed"
    CONFIRMED = "confirmed"
    OVERRULED = "overruled"


class ShipmentStatus(enum.StrEnum):
    PACKING = "packing"
    SHIPPED = "shipped"
    RECEIVED = "received"


class ReturnShipment(db.Model):
    """A box of old parts on its way: station -> OEM or supplier, or OEM -> supplier."""

    __tablename__ = "return_shipment"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(40), unique=True)
    from_org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    to_org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    status: Mapped[ShipmentStatus] = mapped_column(
        enum_type(ShipmentStatus, "shipment_status"), default=ShipmentStatus.PACKING
    )
    carrier: Mapped[str] = mapped_column(sa.String(80), default="")
    tracking_no: Mapped[str] = mapped_column(sa.String(80), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    from_org: Mapped[Organisation] = relationship(foreign_keys=[from_org_id])
    to_org: Mapped[Organisation] = relationship(foreign_keys=[to_org_id])
    created_by: Mapped[User] = relationship()

    __table_args__ = (
        sa.CheckConstraint(
            "status = 'packing' OR "
            "(shipped_at IS NOT NULL AND carrier <> '' AND tracking_no <> '')",
            name="shipped_has_carrier",
        ),
        sa.CheckConstraint("from_org_id <> to_org_id", name="goes_somewhere"),
    )


class OldPart(db.Model):
    """One unit of a failed part, with a tag number printed on it."""

    __tablename__ = "old_part"

    id: Mapped[int] = mapped_column(primary_key=True)
    tag: Mapped[str] = mapped_column(sa.String(60), unique=True)
    claim_id: Mapped[int] = mapped_column(sa.ForeignKey("claim.id"), index=True)
    claim_line_id: Mapped[int] = mapped_column(sa.ForeignKey("claim_line.id"), index=True)
    part_id: Mapped[int] = mapped_column(sa.ForeignKey("part.id"))
    station_id: Mapped[int] = mapped_column(sa.ForeignKey("station.id"))
    supplier_id: Mapped[int | None] = mapped_column(sa.ForeignKey("supplier.id"))
    disposition: Mapped[Disposition] = mapped_column(enum_type(Disposition, "old_part_disposition"))
    # Where the station sends it: the OEM (its returns warehouse) or the supplier.
    destination_org_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisation.id"))
    status: Mapped[OldPartStatus] = mapped_column(
        enum_type(OldPartStatus, "old_part_status"), default=OldPartStatus.AWAITING_RETURN
    )
    unit_price: Mapped[Decimal] = mapped_column(Money())
    deadline: Mapped[date | None]
    overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    waived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    waived_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    waive_reason: Mapped[str] = mapped_column(sa.Text, default="")

    shipment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("return_shipment.id"), index=True)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    receive_note: Mapped[str] = mapped_column(sa.Text, default="")
    inspection: Mapped[Inspection | None] = mapped_column(enum_type(Inspection, "inspection"))
    inspection_note: Mapped[str] = mapped_column(sa.Text, default="")
    inspected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    inspected_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    # A supplier's finding on its own part: what it proposed and the auditor's review of it.
    # `inspection` is the finding in force: the proposal until it is reviewed (it changes no
    # money while proposed), the auditor's result once overruled.
    finding_status: Mapped[FindingStatus | None] = mapped_column(
        enum_type(FindingStatus, "finding_status")
    )
    proposed_inspection: Mapped[Inspection | None] = mapped_column(
        enum_type(Inspection, "proposed_inspection")
    )
    finding_reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finding_reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    finding_review_note: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    forward_shipment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("return_shipment.id"))
    written_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    claim: Mapped[Claim] = relationship()
    line: Mapped[ClaimLine] = relationship()
    part: Mapped[Part] = relationship()
    station: Mapped[Station] = relationship(foreign_keys=[station_id])
    supplier: Mapped[Supplier | None] = relationship(foreign_keys=[supplier_id])
    destination: Mapped[Organisation | None] = relationship(foreign_keys=[destination_org_id])
    shipment: Mapped[ReturnShipment | None] = relationship(foreign_keys=[shipment_id])
    forward_shipment: Mapped[ReturnShipment | None] = relationship(
        foreign_keys=[forward_shipment_id]
    )
    finding_reviewed_by: Mapped[User | None] = relationship(foreign_keys=[finding_reviewed_by_id])
    events: Mapped[list[OldPartEvent]] = relationship(
        back_populates="old_part", order_by="OldPartEvent.id", cascade="all, delete-orphan"
    )
    photos: Mapped[list[OldPartPhoto]] = relationship(
        back_populates="old_part", order_by="OldPartPhoto.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.Index("ix_old_part_station_id_status", "station_id", "status"),
        sa.Index("ix_old_part_destination_org_id_status", "destination_org_id", "status"),
        sa.Index("ix_old_part_status_deadline", "status", "deadline"),
        sa.CheckConstraint(
            "disposition = 'scrap_at_station' OR destination_org_id IS NOT NULL",
            name="returned_has_destination",
        ),
        sa.CheckConstraint(
            "status <> 'inspected' OR inspection IS NOT NULL", name="inspected_has_result"
        ),
        sa.CheckConstraint(
            "status <> 'written_off' OR written_off_at IS NOT NULL", name="written_off_has_time"
        ),
        # The auditors' queue of supplier findings to review.
        sa.Index("ix_old_part_finding_status_inspected_at", "finding_status", "inspected_at"),
        sa.CheckConstraint(
            "finding_status IS NULL "
            "OR (proposed_inspection IS NOT NULL AND inspection IS NOT NULL)",
            name="finding_has_proposal",
        ),
        sa.CheckConstraint(
            "finding_status IS NULL OR finding_status = 'proposed' "
            "OR finding_reviewed_at IS NOT NULL",
            name="reviewed_finding_has_time",
        ),
        sa.CheckConstraint(
            "finding_status IS NULL OR finding_status <> 'overruled' OR finding_review_note <> ''",
            name="overruled_finding_has_reason",
        ),
    )

    @property
    def finding_pending(self) -> bool:
        """A supplier's finding on its own part waits for an auditor: it changes no money."""
        return self.finding_status is FindingStatus.PROPOSED

    @property
    def is_overdue(self) -> bool:
        return self.overdue_at is not None and self.waived_at is None

    def station_shipment_for(self, user: User) -> ReturnShipment | None:
        """The station's return shipment as `user` may see it: not to a supplier it did not go
        to (a part the OEM forwarded shows that supplier only the forwarding shipment)."""
        if self.shipment is None or self._hides_station_shipment(user):
            return None
        return self.shipment

    def events_for(self, user: User) -> list[tuple[OldPartEvent, str]]:
        """The timeline as `user` may read it: each event with its note, less the station's
        shipment (number, carrier, tracking) where that shipment is not `user`'s to see."""
        hidden = self._hides_station_shipment(user)
        return [
            (e, "" if hidden and e.action in STATION_SHIPMENT_EVENTS else e.display_note)
            for e in self.events
        ]

    def _hides_station_shipment(self, user: User) -> bool:
        from portal.auth.models import Role

        return user.role is Role.SUPPLIER and user.organisation_id != self.destination_org_id

    def days_left(self, today: date) -> int | None:
        return None if self.deadline is None else (self.deadline - today).days


# Events whose note names the station's return shipment (its number, carrier and tracking).
STATION_SHIPMENT_EVENTS = frozenset({"packed", "shipped"})


# The parts a shipment carries (those a station returns in it, or the OEM forwards in it), for the
# shipment list; loaded only where asked for (`undefer`).
ReturnShipment.parts_count = column_property(
    sa.select(sa.func.count(OldPart.id))
    .where(
        sa.or_(
            OldPart.shipment_id == ReturnShipment.id,
            OldPart.forward_shipment_id == ReturnShipment.id,
        )
    )
    .correlate_except(OldPart)
    .scalar_subquery(),
    deferred=True,
)


class OldPartEvent(db.Model):
    """A step in an old part's life: created, shipped, received, inspected, forwarded..."""

    __tablename__ = "old_part_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    old_part_id: Mapped[int] = mapped_column(
        sa.ForeignKey("old_part.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    action: Mapped[str] = mapped_column(sa.String(40))
    note: Mapped[str] = mapped_column(sa.Text, default="")  # what a person wrote
    # What the portal says about the event (portal.messages), written out when read.
    message_key: Mapped[str | None] = mapped_column(sa.String(60))
    params: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)

    old_part: Mapped[OldPart] = relationship(back_populates="events")
    user: Mapped[User | None] = relationship()

    @property
    def display_note(self) -> str:
        """The note as a reader reads it: the portal's words, then the person's."""
        from portal import messages

        said = ""
        if self.message_key in messages.MESSAGES:
            said = messages.render(self.message_key, self.params)
        return " · ".join(part for part in (said, self.note) if part)


class OldPartPhoto(db.Model):
    """A photo taken at inspection, stored under a random name outside the web root."""

    __tablename__ = "old_part_photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    old_part_id: Mapped[int] = mapped_column(
        sa.ForeignKey("old_part.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(sa.String(255), comment="the name the user gave it")
    stored_name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    content_type: Mapped[str] = mapped_column(sa.String(64))
    size: Mapped[int]
    uploaded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    old_part: Mapped[OldPart] = relationship(back_populates="photos")
    uploaded_by: Mapped[User] = relationship()

    __table_args__ = (sa.CheckConstraint("size > 0", name="size_positive"),)


class ChargeKind(enum.StrEnum):
    SCRAP_RESIDUAL = "scrap_residual"  # 折价处理: the residual value the station keeps
    OVERDUE = "overdue"  # an old part not shipped in time is charged back


class StationCharge(db.Model):
    """An amount to deduct on the station's next statement, with the line it comes from."""

    __tablename__ = "station_charge"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ChargeKind] = mapped_column(enum_type(ChargeKind, "charge_kind"))
    station_id: Mapped[int] = mapped_column(sa.ForeignKey("station.id"), index=True)
    claim_id: Mapped[int] = mapped_column(sa.ForeignKey("claim.id"), index=True)
    claim_line_id: Mapped[int] = mapped_column(sa.ForeignKey("claim_line.id"))
    old_part_id: Mapped[int | None] = mapped_column(sa.ForeignKey("old_part.id"), unique=True)
    amount: Mapped[Decimal] = mapped_column(Money())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    waived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set by the settlement run that deducts it; a charge is deducted once.
    settled_in_run_id: Mapped[int | None]

    claim: Mapped[Claim] = relationship()

    __table_args__ = (
        sa.CheckConstraint("amount >= 0", name="amount_nonnegative"),
        sa.CheckConstraint(
            "kind <> 'overdue' OR old_part_id IS NOT NULL", name="overdue_names_the_part"
        ),
        # A scrapped line leaves one residual; an overdue part one chargeback (old_part_id unique).
        sa.Index(
            "ux_station_charge_scrap_line",
            "claim_line_id",
            unique=True,
            sqlite_where=sa.text("kind = 'scrap_residual'"),
            postgresql_where=sa.text("kind = 'scrap_residual'"),
        ),
    )
