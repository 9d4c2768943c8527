"""analysis vehicle cohorts: vehicles by model, production month and sale day, kept by triggers

The analyses count the selection's vehicles by model, production month, sale month and age
on every page; on millions of vehicles that read every vehicle each time (`bench/analysis.py`).
`analysis_vehicle_cohort` holds those counts. On PostgreSQL statement-level triggers with
transition tables keep it exact in the transaction that inserts, updates or deletes vehicles
(one grouped upsert per statement, so a bulk import costs one aggregate, not a row each);
SQLite does not keep it and the analyses read `vehicle` there.

Revision ID: 0025_analysis_vehicle_cohort
Revises: 0024_analysis_indexes
Create Date: 2026-12-05 13:15:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0025_analysis_vehicle_cohort"
down_revision = "0024_analysis_indexes"
branch_labels = None
depends_on = None

APPLY = """
CREATE FUNCTION analysis_vehicle_cohort_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO analysis_vehicle_cohort AS c (model_id, sale_date, production_month, vehicles)
        SELECT model_id, sale_date, CAST(date_trunc('month', production_date) AS date), -count(*)
        FROM old_rows GROUP BY 1, 2, 3
        ON CONFLICT (model_id, sale_date, production_month)
        DO UPDATE SET vehicles = c.vehicles + EXCLUDED.vehicles;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO analysis_vehicle_cohort AS c (model_id, sale_date, production_month, vehicles)
        SELECT model_id, sale_date, CAST(date_trunc('month', production_date) AS date), count(*)
        FROM new_rows GROUP BY 1, 2, 3
        ON CONFLICT (model_id, sale_date, production_month)
        DO UPDATE SET vehicles = c.vehicles + EXCLUDED.vehicles;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        DELETE FROM analysis_vehicle_cohort c USING (SELECT DISTINCT model_id, sale_date,
            CAST(date_trunc('month', production_date) AS date) AS production_month
            FROM old_rows) o
        WHERE c.model_id = o.model_id AND c.sale_date = o.sale_date
          AND c.production_month = o.production_month AND c.vehicles = 0;
    END IF;
    RETURN NULL;
END
$$
"""

TRIGGERS = (
    ("insert", "INSERT", "REFERENCING NEW TABLE AS new_rows"),
    ("update", "UPDATE", "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    ("delete", "DELETE", "REFERENCING OLD TABLE AS old_rows"),
)


def upgrade():
    op.create_table(
        "analysis_vehicle_cohort",
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("sale_date", sa.Date(), nullable=False),
        sa.Column(
            "production_month",
            sa.Date(),
            nullable=False,
            comment="the first day of the production month",
        ),
        sa.Column("vehicles", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["vehicle_model.id"],
            name=op.f("fk_analysis_vehicle_cohort_model_id_vehicle_model"),
        ),
        sa.PrimaryKeyConstraint(
            "model_id", "sale_date", "production_month", name=op.f("pk_analysis_vehicle_cohort")
        ),
    )
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "INSERT INTO analysis_vehicle_cohort (model_id, sale_date, production_month, vehicles) "
        "SELECT model_id, sale_date, CAST(date_trunc('month', production_date) AS date), "
        "count(*) FROM vehicle GROUP BY 1, 2, 3"
    )
    op.execute(APPLY)
    for name, event, transition in TRIGGERS:
        op.execute(
            f"CREATE TRIGGER vehicle_cohort_{name} AFTER {event} ON vehicle {transition} "
            "FOR EACH STATEMENT EXECUTE FUNCTION analysis_vehicle_cohort_apply()"
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for name, _, _ in TRIGGERS:
            op.execute(f"DROP TRIGGER vehicle_cohort_{name} ON vehicle")
        op.execute("DROP FUNCTION analysis_vehicle_cohort_apply()")
    op.drop_table("analysis_vehicle_cohort")
