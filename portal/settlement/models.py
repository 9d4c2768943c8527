"""Settlement (结算): runs, station and supplier statements, chargebacks and their disputes.

Exactly once is kept by the database, not only by the code:

- at most one run is open (queued, running or draft) at any time: `settlement_run.open_slot`
  is unique and set only while the run is open;
- a station statement line is unique per (kind, source): a claim is paid once, a station
  charge deducted once, an emergency-part credit given once, whatever run writes it;
- a chargeback is unique per claim: a claim is charged back to its supplier once.

A discarded draft deletes its statements, lines and chargebacks, which frees them for the next
run; a released run never loses them.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import messages
from portal.db import UTCDateTime, enum_type, utcnow
from portal.extensions import db
from portal.money import Hours, Money, Rate

if TYPE_CHECKING:
    from portal.auth.models import User
    from portal.claims.models import Claim
    from portal.masterdata.models import Organisation

DEFAULT_VAT_RATE = Decimal("0.13")


class RunStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DRAFT = "draft"  # computed, ready to inspect and release
    RELEASED = "released"
    FAILED = "failed"
    DISCARDED = "discarded"


OPEN_RUN_STATUSES = frozenset({RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.DRAFT})


class StatementKind(enum.StrEnum):
    STATION = "station"
    SUPPLIER = "supplier"


class StatementStatus(enum.StrEnum):
    DRAFT = "draft"  # in a draft run: finance only
    RELEASED = "released"  # visible to its station / supplier; a supplier's lines may be open
    FINAL = "final"  # supplier statement with no open or disputed line
    PAID = "paid"


class LineKind(enum.StrEnum):
    """What a station statement line is for; `source_id` names the row it comes from."""

    CLAIM = "claim"  # the claim's approved amount (source: claim)
    SCRAP_RESIDUAL = "scrap_residual"  # minus the residual of a scrapped part (station charge)
    OVERDUE = "overdue"  # minus an overdue old part (station charge)
    EMERGENCY_CREDIT = "emergency_credit"  # plus part value + freight of a drop-shipped part


class ChargebackStatus(enum.StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    DISPUTED = "disputed"
    UPHELD = "upheld"
    WAIVED = "waived"


UNRESOLVED_CHARGEBACKS = frozenset({ChargebackStatus.OPEN, ChargebackStatus.DISPUTED})


class SettlementSettings(db.Model):
    """Settlement settings (one row): the VAT rate statements show."""

    __tablename__ = "settlement_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    vat_rate: Mapped[Decimal] = mapped_column(Rate(), default=DEFAULT_VAT_RATE)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    __table_args__ = (sa.CheckConstraint("vat_rate >= 0 AND vat_rate < 1000000", name="vat_range"),)

    @classmethod
    def current(cls) -> SettlementSettings:
        settings = db.session.get(cls, 1)
        if settings is None:
            settings = cls(id=1, vat_rate=DEFAULT_VAT_RATE)
            db.session.add(settings)
            db.session.flush()
        return settings


class SettlementRun(db.Model):
    """One settlement batch for a period (a calendar month)."""

    __tablename__ = "settlement_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(sa.String(7), index=True, comment="YYYY-MM")
    status: Mapped[RunStatus] = mapped_column(
        enum_type(RunStatus, "run_status"), default=RunStatus.QUEUED
    )
    # 1 while the run is open (queued, running, draft), NULL after: unique, so one open run.
    open_slot: Mapped[int | None] = mapped_column(unique=True, default=1)
    progress: Mapped[int] = mapped_column(default=0)
    step: Mapped[str] = mapped_column(sa.String(40), default="")
    vat_rate: Mapped[Decimal] = mapped_column(Rate())
    cutoff: Mapped[datetime] = mapped_column(
        UTCDateTime(), comment="claims decided before this instant (the period's end) are in"
    )
    job_id: Mapped[str | None] = mapped_column(sa.String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(sa.Text, default="")

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    computed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    released_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    discarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    discarded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))

    # Totals written with the draft.
    claim_count: Mapped[int] = mapped_column(default=0)
    station_statement_count: Mapped[int] = mapped_column(default=0)
    supplier_statement_count: Mapped[int] = mapped_column(default=0)
    station_net: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    supplier_net: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))

    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    released_by: Mapped[User | None] = relationship(foreign_keys=[released_by_id])
    discarded_by: Mapped[User | None] = relationship(foreign_keys=[discarded_by_id])

    __table_args__ = (
        sa.CheckConstraint("progress >= 0 AND progress <= 100", name="progress_range"),
        sa.CheckConstraint(
            "(status IN ('queued', 'running', 'draft')) = (open_slot IS NOT NULL)",
            name="open_slot_iff_open",
        ),
        sa.CheckConstraint("open_slot IS NULL OR open_slot = 1", name="open_slot_one"),
        sa.CheckConstraint("status <> 'released' OR released_at IS NOT NULL", name="released_at"),
    )

    def __repr__(self) -> str:
        return f"<SettlementRun {self.id} {self.period} {self.status.value}>"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_RUN_STATUSES


class Statement(db.Model):
    """A station's or a supplier's statement in one run."""

    __tablename__ = "statement"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(sa.ForeignKey("settlement_run.id", ondelete="CASCADE"))
    kind: Mapped[StatementKind] = mapped_column(enum_type(StatementKind, "statement_kind"))
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    period: Mapped[str] = mapped_column(sa.String(7))
    number: Mapped[str] = mapped_column(sa.String(60), unique=True)
    status: Mapped[StatementStatus] = mapped_column(
        enum_type(StatementStatus, "statement_status"), default=StatementStatus.DRAFT
    )
    line_count: Mapped[int] = mapped_column(default=0)
    net: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    vat: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    gross: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    final_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paid_on: Mapped[date | None]
    paid_reference: Mapped[str] = mapped_column(sa.String(80), default="")
    paid_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The PDF rendered by a worker (stored under UPLOAD_FOLDER/statements), and when.
    pdf_stored_name: Mapped[str | None] = mapped_column(sa.String(80))
    pdf_rendered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    pdf_job_id: Mapped[str | None] = mapped_column(sa.String(64))

    run: Mapped[SettlementRun] = relationship()
    org: Mapped[Organisation] = relationship()
    paid_by: Mapped[User | None] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("run_id", "kind", "org_id", name="uq_statement_run_kind_org"),
        # What the lines' and chargebacks' composite foreign keys refer to: a line's run (and a
        # chargeback's supplier) is its statement's, checked with the one key per row.
        sa.UniqueConstraint("id", "run_id", name="uq_statement_id_run_id"),
        sa.UniqueConstraint("id", "run_id", "org_id", name="uq_statement_id_run_id_org_id"),
        sa.Index("ix_statement_kind_status_period", "kind", "status", "period"),
        sa.CheckConstraint("gross = net + vat", name="gross_is_net_plus_vat"),
        sa.CheckConstraint("status <> 'paid' OR paid_on IS NOT NULL", name="paid_has_date"),
    )

    def __repr__(self) -> str:
        return f"<Statement {self.number} {self.status.value}>"

    @property
    def is_released(self) -> bool:
        return self.status is not StatementStatus.DRAFT

    def can_view(self, user: User) -> bool:
        """Finance sees every statement; auditors released supplier statements (disputes);
        a station or supplier only its own released ones."""
        from portal.auth.models import Role

        if user.role is Role.FINANCE:
            return True
        if not self.is_released:
            return False
        if user.role is Role.AUDITOR:
            return self.kind is StatementKind.SUPPLIER
        expected = Role.STATION if self.kind is StatementKind.STATION else Role.SUPPLIER
        return user.role is expected and user.organisation_id == self.org_id


class StatementLine(db.Model):
    """One line of a station statement: a claim, a deduction or a credit, with its claim.

    A run writes a million of these in one statement, so each row carries one foreign key check,
    not four: (statement, run) refers to the statement, whose own keys refer to the run and the
    station. `claim_id` names the claim without a foreign key: a claim is never deleted (nothing
    in the portal deletes one), and a key check there would lock every claim row of the run.
    """

    __tablename__ = "statement_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(index=True)
    run_id: Mapped[int] = mapped_column(comment="the statement's run")
    kind: Mapped[LineKind] = mapped_column(enum_type(LineKind, "statement_line_kind"))
    source_id: Mapped[int] = mapped_column(comment="claim id, or station_charge id")
    claim_id: Mapped[int] = mapped_column(comment="claim id (no foreign key: see the class)")
    amount: Mapped[Decimal] = mapped_column(Money(), comment="signed: deductions are negative")

    statement: Mapped[Statement] = relationship()
    claim: Mapped[Claim] = relationship(primaryjoin="foreign(StatementLine.claim_id) == Claim.id")

    __table_args__ = (
        sa.ForeignKeyConstraint(
            ["statement_id", "run_id"], ["statement.id", "statement.run_id"], ondelete="CASCADE"
        ),
        # Exactly once: a claim paid, a charge deducted, a credit given on one statement only.
        sa.UniqueConstraint("kind", "source_id", name="uq_statement_line_kind_source"),
        sa.Index("ix_statement_line_run_id_kind", "run_id", "kind"),
        sa.CheckConstraint(
            "(kind IN ('claim', 'emergency_credit') AND amount >= 0) "
            "OR (kind IN ('scrap_residual', 'overdue') AND amount <= 0)",
            name="sign_by_kind",
        ),
    )


class Chargeback(db.Model):
    """A supplier statement line: what one claim recovers from its responsible supplier.

    As for statement lines, one foreign key check per row: (statement, run, supplier) refers to
    the statement, so a chargeback's run and supplier are its statement's; `claim_id` has no
    foreign key (claims are never deleted) but is unique.
    """

    __tablename__ = "chargeback"

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(index=True)
    run_id: Mapped[int] = mapped_column(comment="the statement's run")
    supplier_id: Mapped[int] = mapped_column(comment="the statement's organisation")
    # Exactly once: a claim is charged back once.
    claim_id: Mapped[int] = mapped_column(unique=True, comment="claim id (no foreign key)")
    status: Mapped[ChargebackStatus] = mapped_column(
        enum_type(ChargebackStatus, "chargeback_status"), default=ChargebackStatus.OPEN
    )
    # How the amount was reached (DESIGN 6), kept for the statement and the dispute.
    parts_amount: Mapped[Decimal] = mapped_column(Money(), comment="approved parts, after removal")
    removed_parts_amount: Mapped[Decimal] = mapped_column(
        Money(), comment="parts lines taken out by inspection (no_fault_found, misuse)"
    )
    labor_hours: Mapped[Decimal] = mapped_column(Hours(), comment="approved labor hours")
    labor_hours_charged: Mapped[Decimal] = mapped_column(Hours(), comment="capped by agreement")
    labor_amount: Mapped[Decimal] = mapped_column(Money(), comment="labor charged, after the cap")
    recovery_share: Mapped[Decimal] = mapped_column(Rate())
    recovery_amount: Mapped[Decimal] = mapped_column(Money())
    handling_fee_rate: Mapped[Decimal] = mapped_column(Rate())
    handling_fee: Mapped[Decimal] = mapped_column(Money())
    amount: Mapped[Decimal] = mapped_column(Money())

    dispute_reason: Mapped[str] = mapped_column(sa.Text, default="")
    disputed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    disputed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    resolution_reason: Mapped[str] = mapped_column(sa.Text, default="")
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    accepted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))

    statement: Mapped[Statement] = relationship()
    claim: Mapped[Claim] = relationship(primaryjoin="foreign(Chargeback.claim_id) == Claim.id")
    disputed_by: Mapped[User | None] = relationship(foreign_keys=[disputed_by_id])
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])
    accepted_by: Mapped[User | None] = relationship(foreign_keys=[accepted_by_id])
    events: Mapped[list[ChargebackEvent]] = relationship(
        back_populates="chargeback", order_by="ChargebackEvent.id", cascade="all, delete-orphan"
    )
    evidence: Mapped[list[ChargebackEvidence]] = relationship(
        back_populates="chargeback", order_by="ChargebackEvidence.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.ForeignKeyConstraint(
            ["statement_id", "run_id", "supplier_id"],
            ["statement.id", "statement.run_id", "statement.org_id"],
            ondelete="CASCADE",
        ),
        # The auditors' dispute queue, oldest first; open lines (all of a new run's) cost nothing.
        sa.Index(
            "ix_chargeback_disputed_at_id",
            "disputed_at",
            "id",
            postgresql_where=sa.text("status = 'disputed'"),
            sqlite_where=sa.text("status = 'disputed'"),
        ),
        sa.CheckConstraint("amount >= 0", name="amount_nonnegative"),
        sa.CheckConstraint("amount = recovery_amount + handling_fee", name="amount_is_sum"),
        sa.CheckConstraint(
            "status NOT IN ('disputed', 'upheld', 'waived') OR dispute_reason <> ''",
            name="dispute_has_reason",
        ),
        sa.CheckConstraint(
            "status NOT IN ('upheld', 'waived') OR resolution_reason <> ''",
            name="resolution_has_reason",
        ),
    )

    @property
    def is_open(self) -> bool:
        return self.status in UNRESOLVED_CHARGEBACKS

    @property
    def counts(self) -> bool:
        """Whether the line is in the statement's total (a waived line is not)."""
        return self.status is not ChargebackStatus.WAIVED


class ChargebackEvent(db.Model):
    """What happened to a chargeback: accepted, disputed, evidence added, upheld, waived."""

    __tablename__ = "chargeback_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    chargeback_id: Mapped[int] = mapped_column(
        sa.ForeignKey("chargeback.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    action: Mapped[str] = mapped_column(sa.String(40))
    from_status: Mapped[str | None] = mapped_column(sa.String(16))
    to_status: Mapped[str | None] = mapped_column(sa.String(16))
    note: Mapped[str] = mapped_column(sa.Text, default="")

    chargeback: Mapped[Chargeback] = relationship(back_populates="events")
    user: Mapped[User | None] = relationship()


class ChargebackEvidence(db.Model):
    """A file a supplier sends with a dispute: photo or PDF, checked by content."""

    __tablename__ = "chargeback_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    chargeback_id: Mapped[int] = mapped_column(
        sa.ForeignKey("chargeback.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(sa.String(255), comment="the name the user gave it")
    stored_name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    content_type: Mapped[str] = mapped_column(sa.String(64))
    size: Mapped[int]
    uploaded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    chargeback: Mapped[Chargeback] = relationship(back_populates="evidence")
    uploaded_by: Mapped[User] = relationship()

    __table_args__ = (sa.CheckConstraint("size > 0", name="size_positive"),)


class AdjustmentKind(enum.StrEnum):
    """Why a statement carries an adjustment (a correction of a statement already released)."""

    # A finding in force after the chargeback was released takes parts out of the recovery
    # (no_fault_found, misuse): the supplier is credited. Source: the old part.
    SUPPLIER_CREDIT = "supplier_credit"
    # An overdue old part waived after its charge was deducted: the station is credited.
    # Source: the station charge.
    STATION_CREDIT = "station_credit"
    # A chargeback waived after a supplier credit on it: the supplier owes nothing for the
    # claim any more (the waiver takes the whole chargeback off its statement), so the credit
    # is taken back on its next statement. Source: the supplier credit.
    SUPPLIER_DEBIT = "supplier_debit"


ADJUSTMENT_STATEMENT_KIND = {
    AdjustmentKind.SUPPLIER_CREDIT: StatementKind.SUPPLIER,
    AdjustmentKind.STATION_CREDIT: StatementKind.STATION,
    AdjustmentKind.SUPPLIER_DEBIT: StatementKind.SUPPLIER,
}


class Adjustment(db.Model):
    """A late change to money already settled, paid on the party's next statement (调整).

    Exactly once: unique per (kind, source), so a finding or a waiver adjusts once, whatever
    is retried or clicked twice; `statement_id` is the statement of the run that carries it
    (draft or released), `settled_in_run_id` the released run that paid it. An adjustment of a
    statement that is deleted (a draft recomputed or discarded) goes with it: the new draft
    computes from the facts as they are.
    """

    __tablename__ = "settlement_adjustment"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[AdjustmentKind] = mapped_column(enum_type(AdjustmentKind, "adjustment_kind"))
    source_id: Mapped[int] = mapped_column(comment="old part (supplier) or station charge id")
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    claim_id: Mapped[int] = mapped_column(sa.ForeignKey("claim.id"), index=True)
    original_statement_id: Mapped[int] = mapped_column(
        sa.ForeignKey("statement.id", ondelete="CASCADE"), index=True
    )
    amount: Mapped[Decimal] = mapped_column(
        Money(), comment="signed like the statement's net: a supplier credit is negative"
    )
    reason: Mapped[str] = mapped_column(sa.Text, default="")  # what a person wrote
    # Why the portal made it (portal.messages), written out when read.
    message_key: Mapped[str | None] = mapped_column(sa.String(60))
    params: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    statement_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("statement.id", ondelete="SET NULL"), index=True
    )
    settled_in_run_id: Mapped[int | None] = mapped_column(sa.ForeignKey("settlement_run.id"))

    original_statement: Mapped[Statement] = relationship(foreign_keys=[original_statement_id])
    statement: Mapped[Statement | None] = relationship(foreign_keys=[statement_id])
    claim: Mapped[Claim] = relationship()
    org: Mapped[Organisation] = relationship()
    created_by: Mapped[User | None] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("kind", "source_id", name="uq_settlement_adjustment_kind_source"),
        sa.CheckConstraint(
            "(kind = 'supplier_credit' AND amount < 0) OR (kind = 'station_credit' AND amount > 0)"
            " OR (kind = 'supplier_debit' AND amount > 0)",
            name="sign_by_kind",
        ),
    )

    @property
    def statement_kind(self) -> StatementKind:
        return ADJUSTMENT_STATEMENT_KIND[self.kind]

    @property
    def display_reason(self) -> str:
        """Why it was made, in the reader's language: the portal's words, then the person's."""
        said = messages.render(self.message_key, self.params) if self.has_message else ""
        return " · ".join(part for part in (said, self.reason) if part)

    @property
    def has_message(self) -> bool:
        return self.message_key in messages.MESSAGES

    def can_view(self, user: User) -> bool:
        """Finance and auditors see every adjustment; a station or supplier only its own."""
        from portal.auth.models import Role

        if user.role in (Role.FINANCE, Role.AUDITOR):
            return True
        expected = Role.STATION if self.kind is AdjustmentKind.STATION_CREDIT else Role.SUPPLIER
        return user.role is expected and user.organisation_id == self.org_id
