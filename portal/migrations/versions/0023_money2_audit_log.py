"""money integrity 2: adjustments of settled money, and the append-only audit log

`settlement_adjustment`: a late change to money already settled (a finding in force after the
chargeback, a waiver of an overdue charge already deducted) credited on the party's next
statement, once per (kind, source).

`audit_log`: everything that moves money or changes rules (who, when, what, before, after).
The database refuses UPDATE and DELETE of its rows: a trigger on PostgreSQL (and TRUNCATE) and
on SQLite.

Revision ID: 0023_money2_audit_log
Revises: 0022_campaign_announcement
Create Date: 2026-12-05 09:00:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0023_money2_audit_log"
down_revision = "0022_campaign_announcement"
branch_labels = None
depends_on = None

# A copy, not an import: a revision must not change when application code does.
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


def upgrade():
    op.create_table(
        "settlement_adjustment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "supplier_credit",
                "station_credit",
                "supplier_debit",
                name="adjustment_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "source_id", sa.Integer(), nullable=False,
            comment="old part (supplier) or station charge id",
        ),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("original_statement_id", sa.Integer(), nullable=False),
        sa.Column(
            "amount", sa.BigInteger(), nullable=False,
            comment="signed like the statement's net: a supplier credit is negative",
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("statement_id", sa.Integer(), nullable=True),
        sa.Column("settled_in_run_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(kind = 'supplier_credit' AND amount < 0) OR (kind = 'station_credit' AND amount > 0)"
            " OR (kind = 'supplier_debit' AND amount > 0)",
            name=op.f("ck_settlement_adjustment_sign_by_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claim.id"], name=op.f("fk_settlement_adjustment_claim_id_claim")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user_account.id"],
            name=op.f("fk_settlement_adjustment_created_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisation.id"],
            name=op.f("fk_settlement_adjustment_org_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["original_statement_id"], ["statement.id"],
            name=op.f("fk_settlement_adjustment_original_statement_id_statement"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["settled_in_run_id"], ["settlement_run.id"],
            name=op.f("fk_settlement_adjustment_settled_in_run_id_settlement_run"),
        ),
        sa.ForeignKeyConstraint(
            ["statement_id"], ["statement.id"],
            name=op.f("fk_settlement_adjustment_statement_id_statement"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlement_adjustment")),
        sa.UniqueConstraint(
            "kind", "source_id", name=op.f("uq_settlement_adjustment_kind_source")
        ),
    )
    with op.batch_alter_table("settlement_adjustment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_settlement_adjustment_claim_id"), ["claim_id"])
        batch_op.create_index(batch_op.f("ix_settlement_adjustment_org_id"), ["org_id"])
        batch_op.create_index(
            batch_op.f("ix_settlement_adjustment_original_statement_id"),
            ["original_statement_id"],
        )
        batch_op.create_index(
            batch_op.f("ix_settlement_adjustment_statement_id"), ["statement_id"]
        )

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=80), nullable=False),
        sa.Column("actor_role", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False, comment="what it was done to"),
        sa.Column("claim_number", sa.String(length=40), nullable=True),
        sa.Column(
            "run_id", sa.Integer(), nullable=True, comment="settlement run (no foreign key: kept)"
        ),
        sa.Column(
            "statement_id", sa.Integer(), nullable=True,
            comment="statement (no foreign key: kept)",
        ),
        sa.Column("amount_before", sa.BigInteger(), nullable=True),
        sa.Column("amount_after", sa.BigInteger(), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["user_account.id"], name=op.f("fk_audit_log_actor_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_at_id", ["at", "id"])
        batch_op.create_index("ix_audit_log_kind_at", ["kind", "at"])
        batch_op.create_index("ix_audit_log_actor_id_at", ["actor_id", "at"])
        batch_op.create_index("ix_audit_log_claim_number", ["claim_number"])
        batch_op.create_index("ix_audit_log_run_id", ["run_id"])

    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(POSTGRES_TRIGGER)
    elif bind.dialect.name == "sqlite":
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_refuse_change()")
    elif bind.dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    op.drop_table("audit_log")
    with op.batch_alter_table("settlement_adjustment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_settlement_adjustment_statement_id"))
        batch_op.drop_index(batch_op.f("ix_settlement_adjustment_original_statement_id"))
        batch_op.drop_index(batch_op.f("ix_settlement_adjustment_org_id"))
        batch_op.drop_index(batch_op.f("ix_settlement_adjustment_claim_id"))
    op.drop_table("settlement_adjustment")
