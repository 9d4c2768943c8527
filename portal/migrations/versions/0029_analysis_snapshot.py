"""analysis snapshots: figures too costly to compute per request, stored by a job with their time

The compensation analysis over every counted claim takes cycle-time percentiles over all of
them and joins a million claims to their statement lines and chargebacks (14-20 s in
`bench/analysis.py`); no grouped summary gives exact percentiles. The nightly job (and the
first request of a day, and the page's refresh button) stores the report of the unfiltered
selection as of that day in `analysis_snapshot`; the page shows it with the time it was
computed. Filtered selections are computed per request as before.

Revision ID: 0029_analysis_snapshot
Revises: 0028_analysis_claim_summaries
Create Date: 2026-12-05 16:50:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0029_analysis_snapshot"
down_revision = "0028_analysis_claim_summaries"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "analysis_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analysis_snapshot")),
        sa.UniqueConstraint("kind", "as_of", name="uq_analysis_snapshot_kind_as_of"),
    )


def downgrade():
    op.drop_table("analysis_snapshot")
