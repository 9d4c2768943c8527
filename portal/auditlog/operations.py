"""Writing to the audit log: one call, `record`, by the operation that moves money or changes a
rule, inside its transaction (the entry is committed or rolled back with the change itself)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from portal.auditlog.models import AuditEntry
from portal.extensions import db
from portal.messages import plain_params
from portal.money import round_money


class Actor(Protocol):
    id: int
    username: str
    role: Any


class AuditKind(enum.StrEnum):
    """What an entry records; the log page filters by these."""

    CLAIM_DECIDED = "claim.decided"
    CLAIM_AUTO_APPROVED = "claim.auto_approved"
    FINDING_CONFIRMED = "finding.confirmed"
    FINDING_OVERRULED = "finding.overruled"
    INSPECTION_RECORDED = "inspection.recorded"
    OVERDUE_CHARGED = "overdue.charged"
    OVERDUE_WAIVED = "overdue.waived"
    ADJUSTMENT_CREATED = "adjustment.created"
    RUN_STARTED = "settlement_run.started"
    RUN_COMPUTED = "settlement_run.computed"
    RUN_RELEASE_REQUESTED = "settlement_run.release_requested"
    RUN_RELEASED = "settlement_run.released"
    RUN_DISCARDED = "settlement_run.discarded"
    RUN_RETRIED = "settlement_run.retried"
    STATEMENT_PAID = "statement.paid"
    STATEMENT_FINAL = "statement.final"
    CHARGEBACK_ACCEPTED = "chargeback.accepted"
    CHARGEBACK_DISPUTED = "chargeback.disputed"
    CHARGEBACK_UPHELD = "chargeback.upheld"
    CHARGEBACK_WAIVED = "chargeback.waived"
    SETTINGS_CHANGED = "settings.changed"
    REASON_CODE_CHANGED = "reason_code.changed"
    USER_CHANGED = "user.changed"
    MASTERDATA_IMPORTED = "masterdata.imported"
    MASTERDATA_CREATED = "masterdata.created"
    MASTERDATA_UPDATED = "masterdata.updated"
    MASTERDATA_REMOVED = "masterdata.removed"
    CAMPAIGN_OPENED = "campaign.opened"
    CAMPAIGN_EDITED = "campaign.edited"
    CAMPAIGN_CLOSED = "campaign.closed"
    CAMPAIGN_VEHICLES_ADDED = "campaign.vehicles_added"


def _plain(value: Any) -> Any:
    """A value as JSON keeps it: amounts and dates as text, enums by value."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    return value


def record(
    kind: AuditKind,
    actor: Actor | None,
    *,
    subject: str = "",
    claim_number: str | None = None,
    run_id: int | None = None,
    statement_id: int | None = None,
    amount_before: Decimal | None = None,
    amount_after: Decimal | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str = "",
    message: tuple[str, dict[str, Any]] | None = None,
) -> AuditEntry:
    """Append one entry (flushed with the caller's work; the caller's boundary commits).

    `note` is what a person wrote; `message` what the portal says (a key of portal.messages and
    its parameters), written out when read in the reader's language."""
    entry = AuditEntry(
        actor_id=getattr(actor, "id", None),
        actor_name=(getattr(actor, "username", "") or "")[:80] if actor else "system",
        actor_role=str(getattr(getattr(actor, "role", None), "value", "") or "")[:16],
        kind=AuditKind(kind).value,
        subject=subject[:200],
        claim_number=claim_number,
        run_id=run_id,
        statement_id=statement_id,
        amount_before=None if amount_before is None else round_money(amount_before),
        amount_after=None if amount_after is None else round_money(amount_after),
        before=_plain(before) if before is not None else None,
        after=_plain(after) if after is not None else None,
        note=(note or "")[:4000],
        message_key=message[0] if message else None,
        params=plain_params(message[1]) if message else None,
    )
    db.session.add(entry)
    return entry
