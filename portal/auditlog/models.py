"""The audit log's one table (see the package's docstring)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal import messages
from portal.db import UTCDateTime, utcnow
from portal.extensions import db
from portal.money import Money

# Both databases refuse to change or remove an entry; the revision creates the same triggers.
REFUSAL = "audit_log is append-only"
POSTGRES_TRIGGER = f"""
CREATE OR REPLACE FUNCTION audit_log_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{REFUSAL}';
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
"""
SQLITE_TRIGGERS = (
    f"CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END",
    f"CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END",
)


class AuditEntry(db.Model):
    """One thing that moved money or changed a rule: who, when, what, before and after."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The user who acted (NULL: the system, e.g. a job); name and role as they were then.
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    actor_name: Mapped[str] = mapped_column(sa.String(80), default="")
    actor_role: Mapped[str] = mapped_column(sa.String(16), default="")
    kind: Mapped[str] = mapped_column(sa.String(60))
    subject: Mapped[str] = mapped_column(sa.String(200), default="", comment="what it was done to")
    claim_number: Mapped[str | None] = mapped_column(sa.String(40))
    run_id: Mapped[int | None] = mapped_column(comment="settlement run (no foreign key: kept)")
    statement_id: Mapped[int | None] = mapped_column(comment="statement (no foreign key: kept)")
    amount_before: Mapped[Decimal | None] = mapped_column(Money())
    amount_after: Mapped[Decimal | None] = mapped_column(Money())
    before: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    note: Mapped[str] = mapped_column(sa.Text, default="")  # what a person wrote
    # What the portal says about it (portal.messages), written out when read.
    message_key: Mapped[str | None] = mapped_column(sa.String(60))
    params: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)

    __table_args__ = (
        sa.Index("ix_audit_log_at_id", "at", "id"),
        sa.Index("ix_audit_log_kind_at", "kind", "at"),
        sa.Index("ix_audit_log_actor_id_at", "actor_id", "at"),
        sa.Index("ix_audit_log_claim_number", "claim_number"),
        sa.Index("ix_audit_log_run_id", "run_id"),
    )

    @property
    def display_note(self) -> str:
        """The note in the reader's language: the portal's words, then the person's."""
        said = ""
        if self.message_key in messages.MESSAGES:
            said = messages.render(self.message_key, self.params)
        return " · ".join(part for part in (said, self.note) if part)


@sa.event.listens_for(AuditEntry.__table__, "after_create")
def _append_only(target, connection, **kw) -> None:
    """A schema built from the models (not the revisions) refuses changes too."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(POSTGRES_TRIGGER)
    elif connection.dialect.name == "sqlite":
        for statement in SQLITE_TRIGGERS:
            connection.exec_driver_sql(statement)
