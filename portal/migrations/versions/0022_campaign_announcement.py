"""campaign announcements: an announcement may announce a recall or service campaign

`announcement.campaign_id` names the campaign an announcement was published for when the
campaign was opened; the announcement links to it (the station's own affected vehicles for a
station, the campaign's page for the OEM). Deleting a campaign leaves the announcement.

Revision ID: 0022_campaign_announcement
Revises: 0021_lists_decision_target
Create Date: 2026-12-05 13:10:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0022_campaign_announcement"
down_revision = "0021_lists_decision_target"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("announcement", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "campaign_id",
                sa.Integer(),
                nullable=True,
                comment="the recall or service campaign it announces (its page is linked)",
            )
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_announcement_campaign_id_campaign"),
            "campaign",
            ["campaign_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index(batch_op.f("ix_announcement_campaign_id"), ["campaign_id"])


def downgrade():
    with op.batch_alter_table("announcement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_announcement_campaign_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_announcement_campaign_id_campaign"), type_="foreignkey"
        )
        batch_op.drop_column("campaign_id")
