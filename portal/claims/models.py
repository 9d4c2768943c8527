"""Claims and requests (索赔单 / 申请单): one model and one lifecycle for every type."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask_babel import get_locale
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import labels
from portal.db import UTCDateTime, enum_type, utcnow
from portal.extensions import db
from portal.money import Hours, Money, Rate

if TYPE_CHECKING:
    from portal.auth.models import User
    from portal.masterdata.campaigns import Campaign
    from portal.masterdata.models import (
        FaultCode,
        LaborOperation,
        Organisation,
        Part,
        Station,
        Supplier,
        Vehicle,
        WarrantyContract,
    )


class ClaimType(enum.StrEnum):
    REPAIR = "repair"  # 保修单
    MAJOR_ASSEMBLY = "major_assembly"  # 大总成单
    APPRAISAL = "appraisal"  # 鉴定单
    BREAK_IN = "break_in"  # 走保单
    ROADSIDE = "roadside"  # 外出急救单
    OUTSOURCED_PURCHASE = "outsourced_purchase"  # 外购申请单
    EMERGENCY_PART = "emergency_part"  # 紧急调件单
    CAMPAIGN = "campaign"  # 召回 / 服务活动单

    @property
    def prefix(self) -> str:
        return TYPE_PREFIXES[self]


TYPE_PREFIXES = {
    ClaimType.REPAIR: "RP",
    ClaimType.MAJOR_ASSEMBLY: "MA",
    ClaimType.APPRAISAL: "AP",
    ClaimType.BREAK_IN: "BI",
    ClaimType.ROADSIDE: "RS",
    ClaimType.OUTSOURCED_PURCHASE: "OP",
    ClaimType.EMERGENCY_PART: "EP",
    ClaimType.CAMPAIGN: "CP",
}


class ClaimStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    PARTIALLY_APPROVED = "partially_approved"
    REJECTED = "rejected"
    RETURNED = "returned"  # 退单
    SETTLED = "settled"


EDITABLE_STATUSES = frozenset({ClaimStatus.DRAFT, ClaimStatus.RETURNED})
DECIDED_STATUSES = frozenset(
    {
        ClaimStatus.APPROVED,
        ClaimStatus.PARTIALLY_APPROVED,
        ClaimStatus.REJECTED,
        ClaimStatus.SETTLED,
    }
)
APPROVED_STATUSES = frozenset(
    {ClaimStatus.APPROVED, ClaimStatus.PARTIALLY_APPROVED, ClaimStatus.SETTLED}
)


class LineKind(enum.StrEnum):
    PART = "part"  # qty x unit price from the price list on the repair date
    LABOR = "labor"  # hours x the station's labor rate
    OTHER = "other"  # an amount: toll, invoice, freight
    TRIP = "trip"  # roadside round trip: km (qty) x the station's km rate
    PACKAGE = "package"  # break-in: the model's fixed package price


# The claims that hold the pre-authorisation they name (the partial unique indexes' condition).
LIVE_USE = "%s IS NOT NULL AND status NOT IN ('draft', 'rejected')"
LIVE_USE_EXCLUDED = frozenset({ClaimStatus.DRAFT, ClaimStatus.REJECTED})


class ClaimSequence(db.Model):
    """The last number handed out per type, station and month (claim numbers)."""

    __tablename__ = "claim_sequence"

    prefix: Mapped[str] = mapped_column(sa.String(4), primary_key=True)
    station_id: Mapped[int] = mapped_column(sa.ForeignKey("station.id"), primary_key=True)
    period: Mapped[str] = mapped_column(sa.String(4), primary_key=True, comment="YYMM")
    last_value: Mapped[int]


class Claim(db.Model):
    """A claim or request a station files. Amounts are stored, recomputed by the operations."""

    __tablename__ = "claim"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(40), unique=True)
    type: Mapped[ClaimType] = mapped_column(enum_type(ClaimType, "claim_type"))
    status: Mapped[ClaimStatus] = mapped_column(
        enum_type(ClaimStatus, "claim_status"), default=ClaimStatus.DRAFT
    )
    version: Mapped[int] = mapped_column(default=1)  # the submission: + 1 per resubmission
    # Optimistic concurrency: + 1 on every change (each event, edit, attachment, settlement);
    # the API's ETag and the edit form's hidden field name it, and a stale one is refused.
    revision: Mapped[int] = mapped_column(default=1, server_default="1")
    station_id: Mapped[int] = mapped_column(sa.ForeignKey("station.id"))
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # The vehicle: the VIN as typed, and the vehicle once it is known.
    vin: Mapped[str] = mapped_column(sa.String(17), default="")
    vehicle_id: Mapped[int | None] = mapped_column(sa.ForeignKey("vehicle.id"))
    odometer_km: Mapped[int | None]
    repair_date: Mapped[date | None]
    fault_date: Mapped[date | None]
    fault_code_id: Mapped[int | None] = mapped_column(sa.ForeignKey("fault_code.id"))
    causal_part_id: Mapped[int | None] = mapped_column(sa.ForeignKey("part.id"))
    complaint: Mapped[str] = mapped_column(sa.Text, default="")
    cause: Mapped[str] = mapped_column(sa.Text, default="")
    correction: Mapped[str] = mapped_column(sa.Text, default="")
    goodwill_reason: Mapped[str] = mapped_column(sa.Text, default="")
    # An outsourced-purchase request whose approved cap pays this claim's purchased parts, and
    # the appraisal a major-assembly claim was accepted on. Each is used up by one live claim.
    outsourced_request_id: Mapped[int | None] = mapped_column(sa.ForeignKey("claim.id"))
    appraisal_id: Mapped[int | None] = mapped_column(sa.ForeignKey("claim.id"))
    # The extended warranty contract a claim is covered only thanks to (set on submit).
    contract_id: Mapped[int | None] = mapped_column(sa.ForeignKey("warranty_contract.id"))
    # Emergency part transfer (紧急调件): regular shipment (应发货) or drop-shipment (代发货).
    fulfilment: Mapped[str | None] = mapped_column(sa.String(16))
    shipper_org_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisation.id"))
    carrier: Mapped[str] = mapped_column(sa.String(80), default="")
    tracking_no: Mapped[str] = mapped_column(sa.String(80), default="")
    freight_amount: Mapped[Decimal | None] = mapped_column(Money())
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    shipped_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A campaign claim (召回 / 服务活动单): the campaign whose work it is; once per VIN.
    campaign_id: Mapped[int | None] = mapped_column(sa.ForeignKey("campaign.id"))

    # Rates in force when the claim was priced (a later rate change does not reprice it).
    labor_rate: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    km_rate: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    parts_handling_rate: Mapped[Decimal] = mapped_column(Rate(), default=Decimal("0"))

    # Claimed amounts (each a sum of rounded lines; handling rounded once on the parts sum).
    parts_amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    handling_amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    labor_amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    other_amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    total_amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    # Approved amounts: set by the decision (or auto-approval).
    approved_parts_amount: Mapped[Decimal | None] = mapped_column(Money())
    approved_handling_amount: Mapped[Decimal | None] = mapped_column(Money())
    approved_labor_amount: Mapped[Decimal | None] = mapped_column(Money())
    approved_other_amount: Mapped[Decimal | None] = mapped_column(Money())
    approved_total_amount: Mapped[Decimal | None] = mapped_column(Money())

    # One bit per rule in FLAG_RULES that flagged the current version: the queue filters and
    # counts on it without a join (claim_flag keeps the explanations).
    flag_mask: Mapped[int] = mapped_column(default=0)
    auto_decision_rule: Mapped[str | None] = mapped_column(sa.String(64))
    responsible_supplier_id: Mapped[int | None] = mapped_column(sa.ForeignKey("supplier.id"))
    decision_reason: Mapped[str] = mapped_column(sa.Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    # An approved appraisal or outsourced-purchase request is valid until this day.
    valid_until: Mapped[date | None]

    station: Mapped[Station] = relationship(foreign_keys=[station_id])
    vehicle: Mapped[Vehicle | None] = relationship()
    fault_code: Mapped[FaultCode | None] = relationship()
    causal_part: Mapped[Part | None] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    shipped_by: Mapped[User | None] = relationship(foreign_keys=[shipped_by_id])
    responsible_supplier: Mapped[Supplier | None] = relationship(
        foreign_keys=[responsible_supplier_id]
    )
    outsourced_request: Mapped[Claim | None] = relationship(
        remote_side=[id], foreign_keys=[outsourced_request_id]
    )
    appraisal: Mapped[Claim | None] = relationship(remote_side=[id], foreign_keys=[appraisal_id])
    contract: Mapped[WarrantyContract | None] = relationship()
    shipper_org: Mapped[Organisation | None] = relationship(foreign_keys=[shipper_org_id])
    campaign: Mapped[Campaign | None] = relationship()
    lines: Mapped[list[ClaimLine]] = relationship(
        back_populates="claim", order_by="ClaimLine.position", cascade="all, delete-orphan"
    )
    flags: Mapped[list[ClaimFlag]] = relationship(
        back_populates="claim", order_by="ClaimFlag.id", cascade="all, delete-orphan"
    )
    events: Mapped[list[ClaimEvent]] = relationship(
        back_populates="claim", order_by="ClaimEvent.id", cascade="all, delete-orphan"
    )
    versions: Mapped[list[ClaimVersion]] = relationship(
        back_populates="claim", order_by="ClaimVersion.version", cascade="all, delete-orphan"
    )
    comments: Mapped[list[ClaimComment]] = relationship(
        back_populates="claim", order_by="ClaimComment.id", cascade="all, delete-orphan"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="claim", order_by="Attachment.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.Index("ix_claim_station_id_status", "station_id", "status"),
        sa.Index("ix_claim_station_id_created_at", "station_id", "created_at"),
        sa.Index("ix_claim_vin", "vin"),
        # The review queue (oldest first, keyset on submitted_at, id) with its common filters.
        sa.Index("ix_claim_status_submitted_at_id", "status", "submitted_at", "id"),
        sa.Index("ix_claim_status_type_submitted_at_id", "status", "type", "submitted_at", "id"),
        sa.Index(
            "ix_claim_status_station_submitted_at_id", "status", "station_id", "submitted_at", "id"
        ),
        # Counts per type on the queue page: an index-only scan on PostgreSQL.
        sa.Index(
            "ix_claim_status_type_station_id_counts",
            "status",
            "type",
            "station_id",
            postgresql_include=["flag_mask", "total_amount", "submitted_at"],
        ),
        sa.Index("ix_claim_vehicle_id_causal_part_id", "vehicle_id", "causal_part_id"),
        # The analyses' selections: one part, fault code or responsible supplier.
        sa.Index("ix_claim_causal_part_id", "causal_part_id"),
        sa.Index("ix_claim_fault_code_id", "fault_code_id"),
        sa.Index("ix_claim_responsible_supplier_id", "responsible_supplier_id"),
        # A pre-authorisation is used up by one live claim: a draft has not used it yet, a
        # rejected claim gave it back.
        sa.Index(
            "uq_claim_outsourced_request_id_live",
            "outsourced_request_id",
            unique=True,
            postgresql_where=sa.text(LIVE_USE % "outsourced_request_id"),
            sqlite_where=sa.text(LIVE_USE % "outsourced_request_id"),
        ),
        sa.Index(
            "uq_claim_appraisal_id_live",
            "appraisal_id",
            unique=True,
            postgresql_where=sa.text(LIVE_USE % "appraisal_id"),
            sqlite_where=sa.text(LIVE_USE % "appraisal_id"),
        ),
        # A campaign's work is done once per vehicle: one live claim per campaign and vehicle.
        sa.Index(
            "uq_claim_campaign_id_vehicle_id_live",
            "campaign_id",
            "vehicle_id",
            unique=True,
            postgresql_where=sa.text(LIVE_USE % "campaign_id"),
            sqlite_where=sa.text(LIVE_USE % "campaign_id"),
        ),
        sa.CheckConstraint("version >= 1", name="version_positive"),
        sa.CheckConstraint("revision >= 1", name="revision_positive"),
        sa.CheckConstraint("odometer_km IS NULL OR odometer_km >= 0", name="odometer_nonnegative"),
        sa.CheckConstraint(
            "status = 'draft' OR submitted_at IS NOT NULL", name="submitted_has_timestamp"
        ),
        sa.CheckConstraint(
            "status NOT IN ('approved', 'partially_approved', 'rejected', 'settled') "
            "OR decided_at IS NOT NULL",
            name="decided_has_timestamp",
        ),
        sa.CheckConstraint(
            "status NOT IN ('approved', 'partially_approved', 'settled') "
            "OR approved_total_amount IS NOT NULL",
            name="approved_has_amount",
        ),
        sa.CheckConstraint(
            "fulfilment IS NULL OR fulfilment IN ('regular', 'drop_ship')", name="fulfilment_kind"
        ),
        sa.CheckConstraint(
            "received_at IS NULL OR shipped_at IS NOT NULL", name="received_after_shipped"
        ),
    )

    def __repr__(self) -> str:
        return f"<Claim {self.number} {self.type.value} {self.status.value}>"

    # Object-level permissions, used by views, API and templates alike.
    def can_view(self, user: User) -> bool:
        from portal.auth.models import Role

        if user.role is Role.STATION and user.organisation_id == self.station_id:
            return True
        if user.role in (Role.AUDITOR, Role.FINANCE):
            return self.status is not ClaimStatus.DRAFT
        # The station or supplier that drop-ships an emergency part sees the request it fulfils.
        return self.is_shipper(user)

    def is_shipper(self, user: User) -> bool:
        return (
            self.type is ClaimType.EMERGENCY_PART
            and self.status in APPROVED_STATUSES
            and self.shipper_org_id is not None
            and user.organisation_id == self.shipper_org_id
        )

    def can_edit(self, user: User) -> bool:
        from portal.auth.models import Role

        return (
            user.role is Role.STATION
            and user.organisation_id == self.station_id
            and self.status in EDITABLE_STATUSES
        )

    def can_comment(self, user: User) -> bool:
        from portal.auth.models import Role

        if self.status is ClaimStatus.DRAFT:
            return False
        if user.role is Role.STATION:  # the thread is the filing station's, not a shipper's
            return user.organisation_id == self.station_id
        return user.role is Role.AUDITOR

    def touch(self) -> None:
        """The claim changed: a new revision, so that an edit based on the old one is refused."""
        self.revision = (self.revision or 0) + 1

    @property
    def etag(self) -> str:
        """The HTTP entity tag of this revision of the claim (RFC 9110: a strong tag)."""
        return f'"{self.number}-r{self.revision}"'

    @property
    def used_by(self) -> Claim | None:
        """An appraisal or outsourced-purchase request: the live claim that used it up."""
        from portal.claims.preauth import using_claim

        return using_claim(self)

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE_STATUSES

    @property
    def is_flagged(self) -> bool:
        return self.flag_mask != 0

    @property
    def current_flags(self) -> list[ClaimFlag]:
        return [f for f in self.flags if f.version == self.version]


class ClaimLine(db.Model):
    """One line of a claim, with what was claimed and what was approved."""

    __tablename__ = "claim_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(sa.ForeignKey("claim.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    kind: Mapped[LineKind] = mapped_column(enum_type(LineKind, "line_kind"))
    part_id: Mapped[int | None] = mapped_column(sa.ForeignKey("part.id"), index=True)
    operation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("labor_operation.id"))
    qty: Mapped[int | None]
    hours: Mapped[Decimal | None] = mapped_column(Hours())
    unit_price: Mapped[Decimal | None] = mapped_column(
        Money(), comment="part price, labor rate or km rate used for the amount"
    )
    amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    description: Mapped[str] = mapped_column(sa.Text, default="")

    approved_qty: Mapped[int | None]
    approved_hours: Mapped[Decimal | None] = mapped_column(Hours())
    approved_amount: Mapped[Decimal | None] = mapped_column(Money())
    reason_code: Mapped[str | None] = mapped_column(sa.String(40))
    decision_note: Mapped[str] = mapped_column(sa.Text, default="")

    claim: Mapped[Claim] = relationship(back_populates="lines")
    part: Mapped[Part | None] = relationship()
    operation: Mapped[LaborOperation | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint("qty IS NULL OR qty > 0", name="qty_positive"),
        sa.CheckConstraint("hours IS NULL OR hours > 0", name="hours_positive"),
        sa.CheckConstraint("amount >= 0", name="amount_nonnegative"),
        sa.CheckConstraint("kind <> 'part' OR part_id IS NOT NULL", name="part_line_has_part"),
        sa.CheckConstraint(
            "approved_amount IS NULL OR approved_amount <= amount", name="approved_within_claimed"
        ),
    )


class ClaimFlag(db.Model):
    """A named rule that flagged a claim version, with its explanation."""

    __tablename__ = "claim_flag"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(sa.ForeignKey("claim.id", ondelete="CASCADE"))
    version: Mapped[int]
    rule: Mapped[str] = mapped_column(sa.String(40))
    field: Mapped[str | None] = mapped_column(sa.String(40))
    message: Mapped[str] = mapped_column(sa.Text, comment="the explanation in English")
    message_key: Mapped[str] = mapped_column(sa.String(40))
    params: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    claim: Mapped[Claim] = relationship(back_populates="flags")

    __table_args__ = (
        sa.Index("ix_claim_flag_claim_id_version_rule", "claim_id", "version", "rule"),
        sa.Index("ix_claim_flag_rule", "rule"),
    )

    @property
    def display_message(self) -> str:
        """The explanation in the reader's language."""
        from portal.claims.rules import MESSAGES, render_message

        if self.message_key in MESSAGES:
            return render_message(self.message_key, self.params)
        return self.message


class ClaimEvent(db.Model):
    """A transition or action on a claim: who, when, from, to, why. Kept forever."""

    __tablename__ = "claim_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(sa.ForeignKey("claim.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    action: Mapped[str] = mapped_column(sa.String(40))
    from_status: Mapped[str | None] = mapped_column(sa.String(24))
    to_status: Mapped[str | None] = mapped_column(sa.String(24))
    reason: Mapped[str] = mapped_column(sa.Text, default="")  # what a person wrote
    # What the portal says about the event (portal.messages), written out when read.
    message_key: Mapped[str | None] = mapped_column(sa.String(60))
    params: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    version: Mapped[int]

    claim: Mapped[Claim] = relationship(back_populates="events")
    user: Mapped[User | None] = relationship()

    @property
    def message(self) -> str:
        """The portal's own words on the event, in the reader's language ("" if none)."""
        from portal import messages

        if self.message_key in messages.MESSAGES:
            return messages.render(self.message_key, self.params)
        return ""

    @property
    def display_reason(self) -> str:
        """The reason as a reader reads it: the portal's words, then the person's."""
        return " · ".join(part for part in (self.message, self.reason) if part)


class ClaimVersion(db.Model):
    """What a claim said when it was submitted as version N (退单重报 keeps every version)."""

    __tablename__ = "claim_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(sa.ForeignKey("claim.id", ondelete="CASCADE"))
    version: Mapped[int]
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    snapshot: Mapped[dict[str, Any]] = mapped_column(sa.JSON)

    claim: Mapped[Claim] = relationship(back_populates="versions")
    submitted_by: Mapped[User | None] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("claim_id", "version", name="uq_claim_version_claim_version"),
    )


class ClaimComment(db.Model):
    """The thread between the station and the auditors on one claim."""

    __tablename__ = "claim_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(sa.ForeignKey("claim.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    claim: Mapped[Claim] = relationship(back_populates="comments")
    user: Mapped[User] = relationship()


class Attachment(db.Model):
    """A photo or PDF receipt, stored under a random name outside the web root."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(sa.ForeignKey("claim.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(255), comment="the name the user gave it")
    stored_name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    content_type: Mapped[str] = mapped_column(sa.String(64))
    size: Mapped[int]
    uploaded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    claim: Mapped[Claim] = relationship(back_populates="attachments")
    uploaded_by: Mapped[User] = relationship()

    __table_args__ = (sa.CheckConstraint("size > 0", name="size_positive"),)


# The rules that can flag a claim (rules.py) and those that always block auto-approval.
FLAG_RULES = ("outside_coverage", "duplicate", "labor_hours", "part_not_for_model")
ALWAYS_BLOCKING = frozenset({"outside_coverage", "part_not_for_model"})


def flag_bit(rule: str) -> int:
    """The bit of `rule` in Claim.flag_mask."""
    return 1 << FLAG_RULES.index(rule)


class ClaimSettings(db.Model):
    """Auto-adjudication settings (one row): unflagged claims under the threshold are approved."""

    __tablename__ = "claim_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    auto_approve_enabled: Mapped[bool] = mapped_column(default=True)
    auto_approve_threshold: Mapped[Decimal] = mapped_column(Money(), default=Decimal("2000.00"))
    # Flags that keep a claim from auto-approval; `outside_coverage` (never paid silently) and
    # `part_not_for_model` always do, whatever this list says.
    blocking_rules: Mapped[list[str]] = mapped_column(sa.JSON, default=lambda: list(FLAG_RULES))
    # The auditors' decision target: a claim in review longer than this many working days
    # (Monday to Friday) is late on their home page.
    decision_target_days: Mapped[int] = mapped_column(default=5, server_default="5")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    __table_args__ = (
        sa.CheckConstraint(
            "decision_target_days BETWEEN 1 AND 60", name="decision_target_days_range"
        ),
    )

    def blocks(self, rule: str) -> bool:
        return rule in ALWAYS_BLOCKING or rule in (self.blocking_rules or [])

    @classmethod
    def current(cls) -> ClaimSettings:
        """The settings row, made with the defaults on first use. Two first uses at once (the
        first submits of a fresh install) both insert-or-ignore it: neither fails."""
        settings = db.session.get(cls, 1)
        if settings is None:
            dialect = db.session.get_bind().dialect.name
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            db.session.execute(
                insert(cls.__table__).values(id=1).on_conflict_do_nothing(index_elements=["id"])
            )
            settings = db.session.get(cls, 1)
        return settings


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
