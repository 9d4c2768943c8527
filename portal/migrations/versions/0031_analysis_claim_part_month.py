"""analysis claim part months: counted claims by repair month, model and causal part

The fault page's rising parts compare each part's claims repaired in the last three months with
the three before: on a million claims that read some 400,000 recent rows per request (0.2-0.5 s
in `bench/analysis.py`). `analysis_claim_part_month` counts them by repair month; the page
reads the whole months from it and only the two months a window starts in from the claims.
Kept by the trigger function of revision 0028, which now applies each statement's changes to
this summary too.

Revision ID: 0031_analysis_claim_part_month
Revises: 0030_analysis_covering_indexes
Create Date: 2026-12-05 17:10:00.000000

"""

import importlib.util
from pathlib import Path

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0031_analysis_claim_part_month"
down_revision = "0030_analysis_covering_indexes"
branch_labels = None
depends_on = None

PART_MONTH = (
    "analysis_claim_part_month",
    (
        ("repair_month", "CAST(date_trunc('month', r.repair_date) AS date)"),
        ("model_id", "r.model_id"),
        ("causal_part_id", "COALESCE(r.causal_part_id, 0)"),
    ),
    (("claims", "1"),),
)


def _summaries():
    """Revision 0028's module: its summaries and the trigger function it writes."""
    path = Path(__file__).with_name("0028_analysis_claim_summaries.py")
    spec = importlib.util.spec_from_file_location("analysis_0028", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade():
    op.create_table(
        "analysis_claim_part_month",
        sa.Column("repair_month", sa.Date(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("causal_part_id", sa.Integer(), nullable=False),
        sa.Column("claims", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "repair_month", "model_id", "causal_part_id", name=op.f("pk_analysis_claim_part_month")
        ),
    )
    if op.get_bind().dialect.name != "postgresql":
        return
    m = _summaries()
    source = "(SELECT 1 AS s, * FROM analysis_counted_claim)"
    op.execute(m._delta(*PART_MONTH, source, prune=False).split(" ON CONFLICT")[0])
    op.execute(m._summaries_apply((*m.SUMMARIES, PART_MONTH)))
    op.execute("ANALYZE analysis_claim_part_month")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_summaries()._summaries_apply())
    op.drop_table("analysis_claim_part_month")
