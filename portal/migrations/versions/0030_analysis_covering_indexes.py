"""analysis covering indexes: the recently sold vehicles and their claims without their rows

The claim summaries (0028) hold every counted claim; the analyses subtract the claims of
vehicles sold within the last month, and count the vehicles sold since by selling station.
Reading those rows from the tables took 0.1-0.5 s on 3,000,000 vehicles (`bench/analysis.py`);
on PostgreSQL the sale-date indexes of `vehicle` and `analysis_counted_claim` now include the
columns those queries read, so they are index-only scans (25 ms and 15 ms).

Revision ID: 0030_analysis_covering_indexes
Revises: 0029_analysis_snapshot
Create Date: 2026-12-05 17:00:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0030_analysis_covering_indexes"
down_revision = "0029_analysis_snapshot"
branch_labels = None
depends_on = None

VEHICLE_INCLUDE = ["selling_station_id", "model_id"]
CLAIM_INCLUDE = [
    "model_id",
    "station_id",
    "causal_part_id",
    "responsible_supplier_id",
    "repair_date",
    "approved_total_amount",
    "labor_hours",
    "first_at_station",
    "repeat_repair",
]


def _replace(table, name, include):
    op.drop_index(name, table)
    op.create_index(name, table, ["sale_date"], postgresql_include=include)


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    _replace("vehicle", "ix_vehicle_sale_date", VEHICLE_INCLUDE)
    _replace("analysis_counted_claim", "ix_analysis_counted_claim_sale_date", CLAIM_INCLUDE)


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    _replace("analysis_counted_claim", "ix_analysis_counted_claim_sale_date", [])
    _replace("vehicle", "ix_vehicle_sale_date", [])
