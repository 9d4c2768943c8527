"""decision target: the working days within which auditors decide a claim (an admin setting)

A claim in review longer than `claim_settings.decision_target_days` working days is shown as
late on the auditors' home page.

Revision ID: 0021_lists_decision_target
Revises: 0016_money_integrity
Create Date: 2026-12-05 09:20:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0021_lists_decision_target"
down_revision = "0019_campaigns_recalls"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("claim_settings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("decision_target_days", sa.Integer(), nullable=False, server_default="5")
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_claim_settings_decision_target_days_range"),
            "decision_target_days BETWEEN 1 AND 60",
        )


def downgrade():
    with op.batch_alter_table("claim_settings", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("ck_claim_settings_decision_target_days_range"), type_="check"
        )
        batch_op.drop_column("decision_target_days")
