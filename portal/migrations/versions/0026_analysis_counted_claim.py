"""analysis counted claims: each counted claim with its vehicle's facts in one narrow row, kept by triggers

The analyses aggregate the counted claims (approved, partially approved, settled; every type
but the pre-authorisations) with their vehicle's model, sale and production dates. On a million
claims and three million vehicles joining the wide claim rows to the vehicles took seconds per
query (`bench/analysis.py`). `analysis_counted_claim` holds those claims, narrow and already
joined. On PostgreSQL statement-level triggers with transition tables keep it exact in the
transaction that changes a claim (its row is replaced, or removed when it no longer counts) or
a vehicle (its claims' model and dates follow); SQLite does not keep it and the analyses read
`claim` there. The counted statuses and types are `portal.analysis.conventions`'; a change of
them needs a migration that replaces the function.

Revision ID: 0026_analysis_counted_claim
Revises: 0025_analysis_vehicle_cohort
Create Date: 2026-12-05 13:25:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0026_analysis_counted_claim"
down_revision = "0025_analysis_vehicle_cohort"
branch_labels = None
depends_on = None

COUNTS = (
    "CAST({r}.status AS text) IN ('approved', 'partially_approved', 'settled') AND "
    "CAST({r}.type AS text) IN ('break_in', 'campaign', 'major_assembly', 'repair', 'roadside')"
)
COLUMNS = (
    "claim_id, vehicle_id, model_id, sale_date, production_date, station_id, causal_part_id, "
    "fault_code_id, responsible_supplier_id, contract_id, repair_date, approved_total_amount"
)
VALUES = (
    "n.id, n.vehicle_id, v.model_id, v.sale_date, v.production_date, n.station_id, "
    "n.causal_part_id, n.fault_code_id, n.responsible_supplier_id, n.contract_id, "
    "n.repair_date, n.approved_total_amount"
)
FACTS = (
    "({r}.vehicle_id, {r}.station_id, {r}.causal_part_id, {r}.fault_code_id, "
    "{r}.responsible_supplier_id, {r}.contract_id, {r}.repair_date, {r}.approved_total_amount)"
)

UPSERT = ", ".join(
    f"{column} = EXCLUDED.{column}" for column in COLUMNS.split(", ") if column != "claim_id"
)

# An update replaces only the rows of claims whose counting or facts changed: most updates of a
# claim (its revision, a comment, approved -> settled) leave its analysis row as it is.
CLAIM_APPLY = f"""
CREATE FUNCTION analysis_counted_claim_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM analysis_counted_claim f USING old_rows o WHERE f.claim_id = o.id;
    ELSIF TG_OP = 'UPDATE' THEN
        DELETE FROM analysis_counted_claim f USING new_rows n
        WHERE f.claim_id = n.id AND NOT ({COUNTS.format(r="n")});
        INSERT INTO analysis_counted_claim ({COLUMNS})
        SELECT {VALUES}
        FROM new_rows n JOIN old_rows o ON o.id = n.id JOIN vehicle v ON v.id = n.vehicle_id
        WHERE {COUNTS.format(r="n")}
          AND (NOT ({COUNTS.format(r="o")}) OR {FACTS.format(r="o")} IS DISTINCT FROM {FACTS.format(r="n")})
        ON CONFLICT (claim_id) DO UPDATE SET {UPSERT};
    ELSE
        INSERT INTO analysis_counted_claim ({COLUMNS})
        SELECT {VALUES} FROM new_rows n JOIN vehicle v ON v.id = n.vehicle_id
        WHERE {COUNTS.format(r="n")};
    END IF;
    RETURN NULL;
END
$$
"""

VEHICLE_APPLY = """
CREATE FUNCTION analysis_counted_claim_vehicle() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE analysis_counted_claim f
    SET model_id = n.model_id, sale_date = n.sale_date, production_date = n.production_date
    FROM new_rows n
    WHERE f.vehicle_id = n.id
      AND (f.model_id, f.sale_date, f.production_date)
          IS DISTINCT FROM (n.model_id, n.sale_date, n.production_date);
    RETURN NULL;
END
$$
"""

TRIGGERS = (
    ("claim", "insert", "INSERT", "REFERENCING NEW TABLE AS new_rows", "apply"),
    ("claim", "update", "UPDATE", "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows", "apply"),
    ("claim", "delete", "DELETE", "REFERENCING OLD TABLE AS old_rows", "apply"),
    ("vehicle", "update", "UPDATE", "REFERENCING NEW TABLE AS new_rows", "vehicle"),
)


def upgrade():
    op.create_table(
        "analysis_counted_claim",
        sa.Column("claim_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("vehicle_id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("sale_date", sa.Date(), nullable=False),
        sa.Column("production_date", sa.Date(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("causal_part_id", sa.Integer(), nullable=True),
        sa.Column("fault_code_id", sa.Integer(), nullable=True),
        sa.Column("responsible_supplier_id", sa.Integer(), nullable=True),
        sa.Column("contract_id", sa.Integer(), nullable=True),
        sa.Column("repair_date", sa.Date(), nullable=True),
        sa.Column("approved_total_amount", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("claim_id", name=op.f("pk_analysis_counted_claim")),
    )
    for column in ("vehicle_id", "causal_part_id", "fault_code_id", "responsible_supplier_id"):
        op.create_index(
            op.f(f"ix_analysis_counted_claim_{column}"), "analysis_counted_claim", [column]
        )
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"INSERT INTO analysis_counted_claim ({COLUMNS}) "
        f"SELECT {VALUES} FROM claim n JOIN vehicle v ON v.id = n.vehicle_id "
        f"WHERE {COUNTS.format(r='n')}"
    )
    op.execute(CLAIM_APPLY)
    op.execute(VEHICLE_APPLY)
    for table, name, event, transition, function in TRIGGERS:
        op.execute(
            f"CREATE TRIGGER {table}_counted_{name} AFTER {event} ON {table} {transition} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION analysis_counted_claim_{function}()"
        )
    op.execute("ANALYZE analysis_counted_claim")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table, name, *_ in TRIGGERS:
            op.execute(f"DROP TRIGGER {table}_counted_{name} ON {table}")
        op.execute("DROP FUNCTION analysis_counted_claim_apply()")
        op.execute("DROP FUNCTION analysis_counted_claim_vehicle()")
    for column in ("vehicle_id", "causal_part_id", "fault_code_id", "responsible_supplier_id"):
        op.drop_index(op.f(f"ix_analysis_counted_claim_{column}"), "analysis_counted_claim")
    op.drop_table("analysis_counted_claim")
