"""analysis claim summaries: counted claims grouped by cell, part and station, kept by triggers

The analyses over every counted claim still aggregated the million rows of
`analysis_counted_claim` several times per page (1.5-8 s in `bench/analysis.py`). This revision
groups them once more, in summaries a page reads in a few milliseconds:

- `analysis_counted_claim` gains what the pages computed per request: the claim's months in
  service (`mis`), its approved labor hours (`labor_hours`, kept by a trigger on `claim_line`),
  and three flags that depend on the vehicle's other counted claims: `first_failure` (the
  vehicle's first counted claim: its failure in the reliability data), `repeat_repair` (a claim
  on the same vehicle and causal part within 90 days of the previous one) and
  `first_at_station` (the first of the vehicle's claims at that station: distinct vehicles per
  station). The claim trigger recomputes the flags of the vehicles whose rows it changed.
- `analysis_claim_cell`: claims, cost and first failures by model, sale day, production month
  and MIS (Nevada chart, MIS, production and sale month, model, life data).
- `analysis_claim_part`: claims and cost by model, causal part and responsible supplier.
- `analysis_claim_station`: claims, cost, labor hours, repeat repairs and distinct vehicles by
  model and repairing station (claim rates by station and region, outlier stations).
- `analysis_station_vehicle`: vehicles by selling station and model (kept by a trigger on
  `vehicle`).

One statement-level trigger on `analysis_counted_claim` applies each statement's changes to the
three claim summaries as grouped deltas (old rows -1, new rows +1), so they are exact in the
transaction that changes a claim, a line or a vehicle. The summaries hold every counted claim
with a repair date; the analyses read them only when no counted claim is repaired after the
as-of date (the usual case: as of today) and subtract the claims of vehicles sold too recently
to count. SQLite keeps none of them.

Revision ID: 0028_analysis_claim_summaries
Revises: 0027_i18n_message_keys
Create Date: 2026-12-05 16:40:00.000000

"""

import importlib.util
from pathlib import Path

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0028_analysis_claim_summaries"
down_revision = "0027_i18n_message_keys"
branch_labels = None
depends_on = None

ACC = "analysis_counted_claim"

# 1 + whole months from the sale to the repair (`conventions.months_in_service`).
MIS_FUNCTION = """
CREATE FUNCTION analysis_months_in_service(sold date, repaired date) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT 1 + (CAST(date_part('year', repaired) AS integer) - CAST(date_part('year', sold) AS integer)) * 12
         + CAST(date_part('month', repaired) AS integer) - CAST(date_part('month', sold) AS integer)
         - CASE WHEN date_part('day', repaired) < date_part('day', sold)
                 AND repaired <> CAST(date_trunc('month', repaired) + interval '1 month - 1 day' AS date)
                THEN 1 ELSE 0 END
$$
"""

LABOR_HOURS = (
    "COALESCE((SELECT sum(l.approved_hours) FROM claim_line l "
    "WHERE l.claim_id = {r}.id AND CAST(l.kind AS text) = 'labor'), 0)"
)

# The flags of the vehicles `vehicles`: see the module's docstring (`outliers._repeats`,
# `queries.life_data`).
FLAGS_FUNCTION = f"""
CREATE FUNCTION analysis_counted_claim_flags(vehicles integer[]) RETURNS void LANGUAGE sql AS $$
UPDATE {ACC} f
SET first_failure = x.first_failure, repeat_repair = x.repeat_repair,
    first_at_station = x.first_at_station
FROM (
    SELECT claim_id,
           repair_date IS NOT NULL AND row_number() OVER (
               PARTITION BY vehicle_id ORDER BY repair_date, claim_id) = 1 AS first_failure,
           repair_date IS NOT NULL AND causal_part_id IS NOT NULL AND COALESCE(
               repair_date - lag(repair_date) OVER (
                   PARTITION BY vehicle_id, causal_part_id ORDER BY repair_date, claim_id) <= 90,
               false) AS repeat_repair,
           repair_date IS NOT NULL AND row_number() OVER (
               PARTITION BY vehicle_id, station_id
               ORDER BY repair_date IS NULL, claim_id) = 1 AS first_at_station
    FROM {ACC} WHERE vehicle_id = ANY(vehicles)
) x
WHERE f.claim_id = x.claim_id
  AND (f.first_failure, f.repeat_repair, f.first_at_station)
      IS DISTINCT FROM (x.first_failure, x.repeat_repair, x.first_at_station)
$$
"""


def _previous():
    """Revision 0026's module: its statements, restored by the downgrade."""
    path = Path(__file__).with_name("0026_analysis_counted_claim.py")
    spec = importlib.util.spec_from_file_location("analysis_0026", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _claim_apply(m) -> str:
    """0026's claim trigger, also writing `mis` and `labor_hours` and recomputing the flags of
    the vehicles whose rows changed."""
    columns = f"{m.COLUMNS}, mis, labor_hours"
    values = (
        f"{m.VALUES}, analysis_months_in_service(v.sale_date, n.repair_date), "
        f"{LABOR_HOURS.format(r='n')}"
    )
    upsert = ", ".join(
        f"{column} = EXCLUDED.{column}" for column in columns.split(", ") if column != "claim_id"
    )
    counts_n, counts_o = m.COUNTS.format(r="n"), m.COUNTS.format(r="o")
    facts_o, facts_n = m.FACTS.format(r="o"), m.FACTS.format(r="n")
    return f"""
CREATE OR REPLACE FUNCTION analysis_counted_claim_apply() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed integer := 0;
    rows_done integer;
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM {ACC} f USING old_rows o WHERE f.claim_id = o.id;
        GET DIAGNOSTICS changed = ROW_COUNT;
        IF changed > 0 THEN
            PERFORM analysis_counted_claim_flags(ARRAY(SELECT DISTINCT vehicle_id FROM old_rows));
        END IF;
    ELSIF TG_OP = 'UPDATE' THEN
        DELETE FROM {ACC} f USING new_rows n
        WHERE f.claim_id = n.id AND NOT ({counts_n});
        GET DIAGNOSTICS changed = ROW_COUNT;
        INSERT INTO {ACC} ({columns})
        SELECT {values}
        FROM new_rows n JOIN old_rows o ON o.id = n.id JOIN vehicle v ON v.id = n.vehicle_id
        WHERE {counts_n}
          AND (NOT ({counts_o}) OR {facts_o} IS DISTINCT FROM {facts_n})
        ON CONFLICT (claim_id) DO UPDATE SET {upsert};
        GET DIAGNOSTICS rows_done = ROW_COUNT;
        IF changed + rows_done > 0 THEN
            PERFORM analysis_counted_claim_flags(ARRAY(
                SELECT vehicle_id FROM old_rows UNION SELECT vehicle_id FROM new_rows));
        END IF;
    ELSE
        INSERT INTO {ACC} ({columns})
        SELECT {values} FROM new_rows n JOIN vehicle v ON v.id = n.vehicle_id
        WHERE {counts_n};
        GET DIAGNOSTICS changed = ROW_COUNT;
        IF changed > 0 THEN
            PERFORM analysis_counted_claim_flags(ARRAY(SELECT DISTINCT vehicle_id FROM new_rows));
        END IF;
    END IF;
    RETURN NULL;
END
$$
"""


VEHICLE_APPLY = f"""
CREATE OR REPLACE FUNCTION analysis_counted_claim_vehicle() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE {ACC} f
    SET model_id = n.model_id, sale_date = n.sale_date, production_date = n.production_date,
        mis = analysis_months_in_service(n.sale_date, f.repair_date)
    FROM new_rows n
    WHERE f.vehicle_id = n.id
      AND (f.model_id, f.sale_date, f.production_date)
          IS DISTINCT FROM (n.model_id, n.sale_date, n.production_date);
    RETURN NULL;
END
$$
"""

HOURS_APPLY = f"""
CREATE FUNCTION analysis_counted_claim_hours() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE {ACC} f SET labor_hours = {LABOR_HOURS.format(r="c")}
        FROM (SELECT DISTINCT claim_id AS id FROM new_rows) c
        WHERE f.claim_id = c.id AND f.labor_hours <> {LABOR_HOURS.format(r="c")};
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE {ACC} f SET labor_hours = {LABOR_HOURS.format(r="c")}
        FROM (SELECT DISTINCT claim_id AS id FROM old_rows) c
        WHERE f.claim_id = c.id AND f.labor_hours <> {LABOR_HOURS.format(r="c")};
    END IF;
    RETURN NULL;
END
$$
"""

# The claim summaries: (table, key columns as (name, expression over a row of
# analysis_counted_claim `r`), measures as (name, expression summed)).
SUMMARIES = (
    (
        "analysis_claim_cell",
        (
            ("model_id", "r.model_id"),
            ("sale_date", "r.sale_date"),
            ("production_month", "CAST(date_trunc('month', r.production_date) AS date)"),
            ("mis", "r.mis"),
        ),
        (
            ("claims", "1"),
            ("cost", "COALESCE(r.approved_total_amount, 0)"),
            ("failures", "CAST(r.first_failure AS integer)"),
        ),
    ),
    (
        "analysis_claim_part",
        (
            ("model_id", "r.model_id"),
            ("causal_part_id", "COALESCE(r.causal_part_id, 0)"),
            ("supplier_id", "COALESCE(r.responsible_supplier_id, 0)"),
        ),
        (("claims", "1"), ("cost", "COALESCE(r.approved_total_amount, 0)")),
    ),
    (
        "analysis_claim_station",
        (("model_id", "r.model_id"), ("station_id", "r.station_id")),
        (
            ("claims", "1"),
            ("cost", "COALESCE(r.approved_total_amount, 0)"),
            ("labor_hours", "r.labor_hours"),
            ("repeats", "CAST(r.repeat_repair AS integer)"),
            ("vehicles", "CAST(r.first_at_station AS integer)"),
        ),
    ),
)


def _delta(table, keys, measures, source: str, prune: bool = True) -> str:
    """Add the grouped rows of `source` (with a sign `s`) to `table`; with `prune`, delete the
    rows of the keys it touched that are left with no claim."""
    key_names = ", ".join(name for name, _ in keys)
    key_values = ", ".join(expression for _, expression in keys)
    sums = ", ".join(f"sum(r.s * {expression})" for _, expression in measures)
    changed = " OR ".join(f"sum(r.s * {expression}) <> 0" for _, expression in measures)
    update = ", ".join(f"{name} = t.{name} + EXCLUDED.{name}" for name, _ in measures)
    statement = (
        f"INSERT INTO {table} AS t ({key_names}, {', '.join(name for name, _ in measures)}) "
        f"SELECT {key_values}, {sums} "
        f"FROM {source} r WHERE r.mis IS NOT NULL "
        f"GROUP BY {', '.join(str(i + 1) for i in range(len(keys)))} HAVING {changed} "
        f"ON CONFLICT ({key_names}) DO UPDATE SET {update};\n"
    )
    if prune:
        same = " AND ".join(f"t.{name} = k.{name}" for name, _ in keys)
        named = ", ".join(f"{expression} AS {name}" for name, expression in keys)
        statement += (
            f"        DELETE FROM {table} t USING (SELECT DISTINCT {named} FROM {source} r "
            f"WHERE r.mis IS NOT NULL) k WHERE {same} AND t.claims = 0;\n"
        )
    return statement


def _summaries_apply(summaries=SUMMARIES) -> str:
    """The trigger function on `analysis_counted_claim`: nothing to do for a statement that
    changed no row (the claim trigger's statements often do not)."""
    sources = {
        "INSERT": ("new_rows", "(SELECT 1 AS s, n.* FROM new_rows n)"),
        "DELETE": ("old_rows", "(SELECT -1 AS s, o.* FROM old_rows o)"),
        "UPDATE": (
            "new_rows",
            "(SELECT -1 AS s, o.* FROM old_rows o UNION ALL SELECT 1, n.* FROM new_rows n)",
        ),
    }
    branches = []
    for event, (rows, source) in sources.items():
        body = "".join(
            "        " + _delta(*summary, source, prune=event != "INSERT") for summary in summaries
        )
        branches.append(
            f"IF TG_OP = '{event}' THEN\n"
            f"        IF NOT EXISTS (SELECT 1 FROM {rows}) THEN RETURN NULL; END IF;\n"
            f"{body}    END IF;"
        )
    return f"""
CREATE OR REPLACE FUNCTION analysis_claim_summaries_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {(chr(10) + "    ").join(branches)}
    RETURN NULL;
END
$$
"""


STATION_VEHICLES = """
CREATE FUNCTION analysis_station_vehicle_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO analysis_station_vehicle AS t (station_id, model_id, vehicles)
        SELECT COALESCE(selling_station_id, 0), model_id, count(*) FROM new_rows GROUP BY 1, 2
        ON CONFLICT (station_id, model_id) DO UPDATE SET vehicles = t.vehicles + EXCLUDED.vehicles;
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        INSERT INTO analysis_station_vehicle AS t (station_id, model_id, vehicles)
        SELECT station_id, model_id, sum(n) FROM (
            SELECT COALESCE(selling_station_id, 0) AS station_id, model_id, -1 AS n FROM old_rows
            UNION ALL
            SELECT COALESCE(selling_station_id, 0), model_id, 1 FROM new_rows) d
        GROUP BY 1, 2 HAVING sum(n) <> 0
        ON CONFLICT (station_id, model_id) DO UPDATE SET vehicles = t.vehicles + EXCLUDED.vehicles;
    ELSE
        INSERT INTO analysis_station_vehicle AS t (station_id, model_id, vehicles)
        SELECT COALESCE(selling_station_id, 0), model_id, -count(*) FROM old_rows GROUP BY 1, 2
        ON CONFLICT (station_id, model_id) DO UPDATE SET vehicles = t.vehicles + EXCLUDED.vehicles;
    END IF;
    DELETE FROM analysis_station_vehicle WHERE vehicles = 0;
    RETURN NULL;
END
$$
"""

TRIGGERS = (
    # (table, trigger, event, transition tables, function)
    ("claim_line", "claim_line_counted_insert", "INSERT", "NEW TABLE AS new_rows",
     "analysis_counted_claim_hours"),
    ("claim_line", "claim_line_counted_update", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows",
     "analysis_counted_claim_hours"),
    ("claim_line", "claim_line_counted_delete", "DELETE", "OLD TABLE AS old_rows",
     "analysis_counted_claim_hours"),
    (ACC, "counted_claim_summaries_insert", "INSERT", "NEW TABLE AS new_rows",
     "analysis_claim_summaries_apply"),
    (ACC, "counted_claim_summaries_update", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows",
     "analysis_claim_summaries_apply"),
    (ACC, "counted_claim_summaries_delete", "DELETE", "OLD TABLE AS old_rows",
     "analysis_claim_summaries_apply"),
    ("vehicle", "vehicle_station_insert", "INSERT", "NEW TABLE AS new_rows",
     "analysis_station_vehicle_apply"),
    ("vehicle", "vehicle_station_update", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows",
     "analysis_station_vehicle_apply"),
    ("vehicle", "vehicle_station_delete", "DELETE", "OLD TABLE AS old_rows",
     "analysis_station_vehicle_apply"),
)  # fmt: skip

FUNCTIONS = (
    "analysis_claim_summaries_apply()",
    "analysis_station_vehicle_apply()",
    "analysis_counted_claim_hours()",
    "analysis_counted_claim_flags(integer[])",
    "analysis_months_in_service(date, date)",
)


def _summary_table(name, keys, measures):
    types = {
        "model_id": sa.Integer(),
        "sale_date": sa.Date(),
        "production_month": sa.Date(),
        "mis": sa.Integer(),
        "causal_part_id": sa.Integer(),
        "supplier_id": sa.Integer(),
        "station_id": sa.Integer(),
        "claims": sa.Integer(),
        "cost": sa.BigInteger(),
        "failures": sa.Integer(),
        "labor_hours": sa.BigInteger(),
        "repeats": sa.Integer(),
        "vehicles": sa.Integer(),
    }
    op.create_table(
        name,
        *(sa.Column(key, types[key], nullable=False) for key, _ in keys),
        *(sa.Column(measure, types[measure], nullable=False) for measure, _ in measures),
        sa.PrimaryKeyConstraint(*(key for key, _ in keys), name=op.f(f"pk_{name}")),
    )


def upgrade():
    with op.batch_alter_table(ACC) as batch:
        batch.add_column(sa.Column("mis", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("labor_hours", sa.BigInteger(), server_default="0", nullable=False)
        )
        for flag in ("first_failure", "repeat_repair", "first_at_station"):
            batch.add_column(
                sa.Column(flag, sa.Boolean(), server_default=sa.false(), nullable=False)
            )
    op.create_index(
        op.f(f"ix_{ACC}_repair_date"),
        ACC,
        ["repair_date"],
        postgresql_include=["causal_part_id", "sale_date", "model_id"],
    )
    op.create_index(op.f(f"ix_{ACC}_sale_date"), ACC, ["sale_date"])
    for summary in SUMMARIES:
        _summary_table(*summary)
    op.create_table(
        "analysis_station_vehicle",
        sa.Column(
            "station_id", sa.Integer(), nullable=False, comment="the selling station, 0: none"
        ),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("vehicles", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("station_id", "model_id", name=op.f("pk_analysis_station_vehicle")),
    )
    if op.get_bind().dialect.name != "postgresql":
        return
    m = _previous()
    op.execute(MIS_FUNCTION)
    op.execute(FLAGS_FUNCTION)
    # this database's rows, set-based: then the triggers keep them
    op.execute(
        f"UPDATE {ACC} f SET mis = analysis_months_in_service(f.sale_date, f.repair_date), "
        "labor_hours = COALESCE(h.hours, 0), first_failure = x.first_failure, "
        "repeat_repair = x.repeat_repair, first_at_station = x.first_at_station "
        "FROM (SELECT claim_id, "
        "repair_date IS NOT NULL AND row_number() OVER (PARTITION BY vehicle_id "
        "ORDER BY repair_date, claim_id) = 1 AS first_failure, "
        "repair_date IS NOT NULL AND causal_part_id IS NOT NULL AND COALESCE(repair_date - "
        "lag(repair_date) OVER (PARTITION BY vehicle_id, causal_part_id "
        "ORDER BY repair_date, claim_id) <= 90, false) AS repeat_repair, "
        "repair_date IS NOT NULL AND row_number() OVER (PARTITION BY vehicle_id, station_id "
        f"ORDER BY repair_date IS NULL, claim_id) = 1 AS first_at_station FROM {ACC}) x "
        "LEFT JOIN (SELECT claim_id, sum(approved_hours) AS hours FROM claim_line "
        "WHERE CAST(kind AS text) = 'labor' GROUP BY claim_id) h ON h.claim_id = x.claim_id "
        "WHERE f.claim_id = x.claim_id"
    )
    for summary in SUMMARIES:
        op.execute(_delta(*summary, f"(SELECT 1 AS s, * FROM {ACC})").split(" ON CONFLICT")[0])
    op.execute(
        "INSERT INTO analysis_station_vehicle (station_id, model_id, vehicles) "
        "SELECT COALESCE(selling_station_id, 0), model_id, count(*) FROM vehicle GROUP BY 1, 2"
    )
    op.execute(_claim_apply(m))
    op.execute(VEHICLE_APPLY)
    op.execute(HOURS_APPLY)
    op.execute(_summaries_apply())
    op.execute(STATION_VEHICLES)
    for table, name, event, transition, function in TRIGGERS:
        op.execute(
            f"CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {transition} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        )
    for table in (ACC, "analysis_station_vehicle", *(summary[0] for summary in SUMMARIES)):
        op.execute(f"ANALYZE {table}")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table, name, *_ in TRIGGERS:
            op.execute(f"DROP TRIGGER {name} ON {table}")
        m = _previous()
        op.execute(m.CLAIM_APPLY.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"))
        op.execute(m.VEHICLE_APPLY.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"))
        for function in FUNCTIONS:
            op.execute(f"DROP FUNCTION {function}")
    op.drop_table("analysis_station_vehicle")
    for name, *_ in reversed(SUMMARIES):
        op.drop_table(name)
    op.drop_index(op.f(f"ix_{ACC}_sale_date"), ACC)
    op.drop_index(op.f(f"ix_{ACC}_repair_date"), ACC)
    with op.batch_alter_table(ACC) as batch:
        for column in ("first_at_station", "repeat_repair", "first_failure", "labor_hours", "mis"):
            batch.drop_column(column)
