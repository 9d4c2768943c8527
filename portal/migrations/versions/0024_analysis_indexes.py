"""analysis indexes: claims by causal part, fault code and responsible supplier; vehicles by sale date

The analyses select the counted claims of one part, fault code or supplier (a supplier's own
views, the drill-down, the reliability of a part) and the vehicles sold in a few months (the
forecast's future sales); without these each of them read every claim or vehicle
(`bench/analysis.py`).

Revision ID: 0024_analysis_indexes
Revises: 0023_money2_audit_log
Create Date: 2026-12-05 13:10:00.000000

"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "0024_analysis_indexes"
down_revision = "0023_money2_audit_log"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.create_index("ix_claim_causal_part_id", ["causal_part_id"], unique=False)
        batch_op.create_index("ix_claim_fault_code_id", ["fault_code_id"], unique=False)
        batch_op.create_index(
            "ix_claim_responsible_supplier_id", ["responsible_supplier_id"], unique=False
        )
    with op.batch_alter_table("vehicle", schema=None) as batch_op:
        batch_op.create_index("ix_vehicle_sale_date", ["sale_date"], unique=False)


def downgrade():
    with op.batch_alter_table("vehicle", schema=None) as batch_op:
        batch_op.drop_index("ix_vehicle_sale_date")
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.drop_index("ix_claim_responsible_supplier_id")
        batch_op.drop_index("ix_claim_fault_code_id")
        batch_op.drop_index("ix_claim_causal_part_id")
