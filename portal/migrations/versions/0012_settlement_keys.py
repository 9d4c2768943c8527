"""settlement keys: one composite foreign key per statement line and chargeback

A statement line's (statement, run) and a chargeback's (statement, run, supplier) refer to the
statement, instead of separate keys to the statement, the run, the supplier and the claim: a run
writes a million rows in one statement and each key is checked row by row. The claim is named
without a foreign key (claims are never deleted). The chargebacks' index on (status,
disputed_at) becomes a partial index of the disputed ones (the auditors' queue); the indexes on
chargeback.run_id and statement_line.claim_id go (nothing looks them up).

Revision ID: 0012_settlement_keys
Revises: 0011_settlement
Create Date: 2026-11-24 21:05:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0012_settlement_keys"
down_revision = "0011_settlement"
branch_labels = None
depends_on = None

DISPUTED = sa.text("status = 'disputed'")


def upgrade():
    with op.batch_alter_table("statement", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_statement_id_run_id", ["id", "run_id"])
        batch_op.create_unique_constraint(
            "uq_statement_id_run_id_org_id", ["id", "run_id", "org_id"]
        )

    with op.batch_alter_table("statement_line", schema=None) as batch_op:
        batch_op.drop_constraint("fk_statement_line_claim_id_claim", type_="foreignkey")
        batch_op.drop_constraint("fk_statement_line_run_id_settlement_run", type_="foreignkey")
        batch_op.drop_constraint("fk_statement_line_statement_id_statement", type_="foreignkey")
        batch_op.drop_index("ix_statement_line_claim_id")
        batch_op.create_foreign_key(
            "fk_statement_line_statement_id_statement",
            "statement",
            ["statement_id", "run_id"],
            ["id", "run_id"],
            ondelete="CASCADE",
        )
        batch_op.alter_column(
            "run_id", existing_type=sa.Integer(), comment="the statement's run"
        )
        batch_op.alter_column(
            "claim_id",
            existing_type=sa.Integer(),
            comment="claim id (no foreign key: see the class)",
        )

    with op.batch_alter_table("chargeback", schema=None) as batch_op:
        batch_op.drop_constraint("fk_chargeback_claim_id_claim", type_="foreignkey")
        batch_op.drop_constraint("fk_chargeback_run_id_settlement_run", type_="foreignkey")
        batch_op.drop_constraint("fk_chargeback_supplier_id_supplier", type_="foreignkey")
        batch_op.drop_constraint("fk_chargeback_statement_id_statement", type_="foreignkey")
        batch_op.drop_index("ix_chargeback_run_id")
        batch_op.drop_index("ix_chargeback_status_disputed_at")
        batch_op.create_foreign_key(
            "fk_chargeback_statement_id_statement",
            "statement",
            ["statement_id", "run_id", "supplier_id"],
            ["id", "run_id", "org_id"],
            ondelete="CASCADE",
        )
        batch_op.create_index(
            "ix_chargeback_disputed_at_id",
            ["disputed_at", "id"],
            unique=False,
            postgresql_where=DISPUTED,
            sqlite_where=DISPUTED,
        )
        batch_op.alter_column(
            "run_id", existing_type=sa.Integer(), comment="the statement's run"
        )
        batch_op.alter_column(
            "supplier_id", existing_type=sa.Integer(), comment="the statement's organisation"
        )
        batch_op.alter_column(
            "claim_id", existing_type=sa.Integer(), comment="claim id (no foreign key)"
        )


def downgrade():
    with op.batch_alter_table("chargeback", schema=None) as batch_op:
        batch_op.alter_column("claim_id", existing_type=sa.Integer(), comment=None)
        batch_op.alter_column("supplier_id", existing_type=sa.Integer(), comment=None)
        batch_op.alter_column("run_id", existing_type=sa.Integer(), comment=None)
        batch_op.drop_index("ix_chargeback_disputed_at_id")
        batch_op.drop_constraint("fk_chargeback_statement_id_statement", type_="foreignkey")
        batch_op.create_foreign_key(
            "fk_chargeback_statement_id_statement",
            "statement",
            ["statement_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_foreign_key(
            "fk_chargeback_supplier_id_supplier", "supplier", ["supplier_id"], ["id"]
        )
        batch_op.create_foreign_key(
            "fk_chargeback_run_id_settlement_run",
            "settlement_run",
            ["run_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_foreign_key("fk_chargeback_claim_id_claim", "claim", ["claim_id"], ["id"])
        batch_op.create_index(
            "ix_chargeback_status_disputed_at", ["status", "disputed_at"], unique=False
        )
        batch_op.create_index("ix_chargeback_run_id", ["run_id"], unique=False)

    with op.batch_alter_table("statement_line", schema=None) as batch_op:
        batch_op.alter_column("claim_id", existing_type=sa.Integer(), comment=None)
        batch_op.alter_column("run_id", existing_type=sa.Integer(), comment=None)
        batch_op.drop_constraint("fk_statement_line_statement_id_statement", type_="foreignkey")
        batch_op.create_foreign_key(
            "fk_statement_line_statement_id_statement",
            "statement",
            ["statement_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_foreign_key(
            "fk_statement_line_run_id_settlement_run",
            "settlement_run",
            ["run_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_foreign_key(
            "fk_statement_line_claim_id_claim", "claim", ["claim_id"], ["id"]
        )
        batch_op.create_index("ix_statement_line_claim_id", ["claim_id"], unique=False)

    with op.batch_alter_table("statement", schema=None) as batch_op:
        batch_op.drop_constraint("uq_statement_id_run_id_org_id", type_="unique")
        batch_op.drop_constraint("uq_statement_id_run_id", type_="unique")
