"""contracts: extended warranty contracts (延保 / 服务协议) and the claims covered only thanks to one

`warranty_contract` holds one row per contract number and coverage group it extends on one
vehicle (start date, months, km). `claim.contract_id` names the contract a submitted claim is
covered only thanks to.

Revision ID: 0018_contracts_warranty
Revises: 0016_money_integrity
Create Date: 2026-12-05 09:10:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0018_contracts_warranty"
down_revision = "0016_money_integrity"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "warranty_contract",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column(
            "group", sa.String(length=32), nullable=False,
            comment="coverage group of the policies",
        ),
        sa.Column("vehicle_id", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column(
            "km", sa.Integer(), nullable=False, comment="odometer reading up to which it covers"
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "months > 0 AND km > 0", name=op.f("ck_warranty_contract_limits_positive")
        ),
        sa.ForeignKeyConstraint(
            ["vehicle_id"], ["vehicle.id"], name=op.f("fk_warranty_contract_vehicle_id_vehicle")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warranty_contract")),
        sa.UniqueConstraint(
            "number", "group", name=op.f("uq_warranty_contract_number_group")
        ),
    )
    op.create_index(
        op.f("ix_warranty_contract_vehicle_id"), "warranty_contract", ["vehicle_id"], unique=False
    )
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contract_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_claim_contract_id_warranty_contract"),
            "warranty_contract", ["contract_id"], ["id"],
        )


def downgrade():
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_claim_contract_id_warranty_contract"), type_="foreignkey"
        )
        batch_op.drop_column("contract_id")
    op.drop_index(op.f("ix_warranty_contract_vehicle_id"), table_name="warranty_contract")
    op.drop_table("warranty_contract")
