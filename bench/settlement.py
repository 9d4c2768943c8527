"""Benchmark: a settlement run over 1,000,000 approved claims on PostgreSQL, against its floor.

    .venv/bin/python bench/settlement.py [--claims 1000000] [--keep] [--statements]

Creates a fresh database (BENCH_DATABASE_URL, default portal_bench_settlement on the local
PostgreSQL), builds the schema with the migrations and fills it with set-based SQL: the OEM,
3,000 stations, 400 suppliers (recovery shares, labor-hour caps and handling fees varied),
5,000 parts, N approved / partially approved claims decided in the period with a responsible
supplier and three lines each (part, labor, other), old parts (some inspected no_fault_found or
misuse, which takes them out of the recovery), station charges (scrap residuals, overdue parts,
some waived), drop-shipped emergency parts to credit, and claims out of scope (in review,
rejected, pre-authorisations).

It then times the real code, in-process (no Redis): `start_run` computing the draft, and
`request_release` releasing it (after a checkpoint: in the portal the two are separate jobs with
finance's inspection of the draft between them, and each timed step starts from a checkpoint). It undoes the settlement and times the floor: hand-written SQL
that computes the same station and supplier totals into temporary tables and marks the claims
settled, in one transaction. The run's totals must equal the floor's (exit code 1 if not).
Target: compute + release within 2x the floor.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import sqlalchemy as sa
from common import database_exists, maintenance, recreate, run_script

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench_settlement"

# Organisations: 1 the OEM, 2 .. 1+S stations, 2+S .. 1+S+P suppliers; user id = org id, user 1
# is finance. Claims 1 .. N are in scope (line ids 3g-2 part, 3g-1 labor, 3g other); claims
# N+1 .. N+N/20 are not (in review, rejected, pre-authorisations, drop-shipped emergency parts).
FILL = """
INSERT INTO organisation (id, code, name, kind) VALUES (1, 'OEM', 'OEM', 'oem');
INSERT INTO organisation (id, code, name, kind)
SELECT 1 + g, 'ST' || lpad(g::text, 4, '0'), 'Station ' || g, 'station' FROM generate_series(1, :stations) g;
INSERT INTO station (id, region, labor_rate, km_rate, parts_handling_rate)
SELECT 1 + g, (ARRAY['East','North','South','Southwest','Northwest','Northeast','Central'])[1 + g % 7],
       6000 + (g % 5) * 1000, 350, 50000 + (g % 3) * 50000
FROM generate_series(1, :stations) g;
INSERT INTO organisation (id, code, name, kind)
SELECT 1 + :stations + g, 'SP' || lpad(g::text, 4, '0'), 'Supplier ' || g, 'supplier'
FROM generate_series(1, :suppliers) g;
INSERT INTO supplier (id, recovery_share, labor_hours_cap, handling_fee_rate)
SELECT 1 + :stations + g,
       CASE WHEN g % 100 = 0 THEN 0 ELSE 500000 + (g * 37 % 11) * 50000 END,
       CASE WHEN g % 3 = 0 THEN NULL ELSE 100 + (g % 4) * 100 END,
       CASE WHEN g % 100 = 0 THEN 0 ELSE (g % 5) * 25000 END
FROM generate_series(1, :suppliers) g;
INSERT INTO user_account (id, username, full_name, password_hash, role, organisation_id, active,
                          created_at, password_changed_at)
VALUES (1, 'finance', 'Finance', 'x', 'finance', 1, true, now(), now());
INSERT INTO user_account (id, username, full_name, password_hash, role, organisation_id, active,
                          created_at, password_changed_at)
SELECT 1 + g, 'user' || g, 'User ' || g, 'x', CASE WHEN g <= :stations THEN 'station' ELSE 'supplier' END,
       1 + g, g % 10 <> 0, now(), now()
FROM generate_series(1, :stations + :suppliers) g;
SELECT setval(pg_get_serial_sequence('organisation', 'id'), 1 + :stations + :suppliers);
SELECT setval(pg_get_serial_sequence('user_account', 'id'), 1 + :stations + :suppliers);
INSERT INTO part (id, number, name, "group", supplier_id, is_major_assembly, disposition, scrap_rate)
SELECT g, 'P' || lpad(g::text, 6, '0'), 'Part ' || g,
       (ARRAY['engine','brakes','electrical','body','chassis'])[1 + g % 5],
       2 + :stations + g % :suppliers, g % 50 = 0,
       (ARRAY['return_to_oem','return_to_supplier','scrap_at_station'])[1 + g % 3],
       CASE WHEN g % 3 = 2 THEN 100000 + (g % 4) * 50000 ELSE 0 END
FROM generate_series(1, :parts) g;
SELECT setval(pg_get_serial_sequence('part', 'id'), :parts);
CREATE UNLOGGED TABLE bench_plan (
    id int PRIMARY KEY, station_id int, part_id int, supplier_id int, disposition text,
    scrap_rate bigint, type text, status text, decided_at timestamptz, labor_rate bigint,
    handling_rate bigint, qty int, approved_qty int, unit_price bigint, hours bigint,
    approved_hours bigint, labor bigint, approved_labor bigint, other bigint);
INSERT INTO bench_plan
SELECT b.id, b.station_id, b.part_id,
       CASE WHEN b.id % 97 = 0 THEN NULL ELSE pt.supplier_id END, pt.disposition, pt.scrap_rate,
       b.type, b.status, b.decided_at, st.labor_rate, st.parts_handling_rate,
       b.qty, CASE WHEN b.status = 'partially_approved' THEN greatest(b.qty - 1, 1) ELSE b.qty END,
       b.unit_price, b.hours,
       CASE WHEN b.status = 'partially_approved' THEN b.hours * 3 / 4 ELSE b.hours END,
       (2 * b.hours * st.labor_rate + 100) / 200,
       (2 * (CASE WHEN b.status = 'partially_approved' THEN b.hours * 3 / 4 ELSE b.hours END)
          * st.labor_rate + 100) / 200,
       b.other
FROM (
    SELECT g AS id,
           2 + (g::bigint * 7919) % :stations AS station_id,
           1 + (g::bigint * 104729) % :parts AS part_id,
           (ARRAY['repair','repair','repair','repair','repair','major_assembly','roadside','break_in'])[1 + g % 8] AS type,
           CASE WHEN g % 7 = 3 THEN 'partially_approved' ELSE 'approved' END AS status,
           now() - interval '1 hour' - ((g::bigint * 104723) % (:days * 86400)) * interval '1 second' AS decided_at,
           1 + g % 3 AS qty,
           1000 + (g::bigint * 7727) % 150000 AS unit_price,
           50 + (g::bigint * 31) % 450 AS hours,
           (g::bigint * 13) % 8000 AS other
    FROM generate_series(1, :claims) g
) b
JOIN part pt ON pt.id = b.part_id
JOIN station st ON st.id = b.station_id;
INSERT INTO claim (id, number, type, status, version, station_id, created_by_id, created_at,
                   updated_at, submitted_at, decided_at, decided_by_id, vin, causal_part_id,
                   labor_rate, km_rate, parts_handling_rate, parts_amount, handling_amount,
                   labor_amount, other_amount, total_amount, approved_parts_amount,
                   approved_handling_amount, approved_labor_amount, approved_other_amount,
                   approved_total_amount, responsible_supplier_id, complaint, cause, correction,
                   goodwill_reason, decision_reason)
SELECT p.id, 'RP-S-' || p.id, p.type, p.status, 2, p.station_id, p.station_id,
       p.decided_at - interval '3 days', p.decided_at, p.decided_at - interval '2 days',
       p.decided_at, 1, 'LSETL' || lpad(p.id::text, 12, '0'), p.part_id,
       p.labor_rate, 350, p.handling_rate,
       a.parts, (2 * a.parts * p.handling_rate + 1000000) / 2000000, p.labor, p.other,
       a.parts + (2 * a.parts * p.handling_rate + 1000000) / 2000000 + p.labor + p.other,
       a.approved_parts, (2 * a.approved_parts * p.handling_rate + 1000000) / 2000000,
       p.approved_labor, p.other,
       a.approved_parts + (2 * a.approved_parts * p.handling_rate + 1000000) / 2000000
         + p.approved_labor + p.other,
       p.supplier_id, 'noise', 'defect', 'replaced', '', ''
FROM bench_plan p
CROSS JOIN LATERAL (SELECT p.qty * p.unit_price AS parts,
                           p.approved_qty * p.unit_price AS approved_parts) a;
INSERT INTO claim_line (id, claim_id, position, kind, part_id, qty, hours, unit_price, amount,
                        description, approved_qty, approved_hours, approved_amount, decision_note)
SELECT 3 * p.id - 3 + k.position, p.id, k.position, k.kind,
       CASE k.kind WHEN 'part' THEN p.part_id END,
       CASE k.kind WHEN 'part' THEN p.qty END,
       CASE k.kind WHEN 'labor' THEN p.hours END,
       CASE k.kind WHEN 'part' THEN p.unit_price END,
       CASE k.kind WHEN 'part' THEN p.qty * p.unit_price WHEN 'labor' THEN p.labor ELSE p.other END,
       k.kind,
       CASE k.kind WHEN 'part' THEN p.approved_qty END,
       CASE k.kind WHEN 'labor' THEN p.approved_hours END,
       CASE k.kind WHEN 'part' THEN p.approved_qty * p.unit_price
                   WHEN 'labor' THEN p.approved_labor ELSE p.other END,
       ''
FROM bench_plan p
CROSS JOIN (VALUES (1, 'part'), (2, 'labor'), (3, 'other')) k(position, kind);
INSERT INTO claim (id, number, type, status, version, station_id, created_by_id, created_at,
                   updated_at, submitted_at, decided_at, vin, labor_rate, km_rate,
                   parts_handling_rate, parts_amount, handling_amount, labor_amount, other_amount,
                   total_amount, approved_parts_amount, approved_total_amount, fulfilment,
                   shipper_org_id, freight_amount, shipped_at, received_at, complaint, cause,
                   correction, goodwill_reason, decision_reason)
SELECT :claims + e, 'RP-X-' || e, x.type, x.status, 1, s.station_id, s.station_id,
       t.at - interval '3 days', t.at, t.at - interval '2 days',
       CASE WHEN x.status IN ('approved', 'rejected') THEN t.at END,
       'LSETX' || lpad(e::text, 12, '0'), 8000, 350, 100000,
       10000 + e % 50000, 0, 0, 0, 10000 + e % 50000,
       CASE WHEN x.status = 'approved' THEN 10000 + e % 50000 END,
       CASE WHEN x.status = 'approved' THEN 10000 + e % 50000 END,
       CASE WHEN x.type = 'emergency_part' THEN 'drop_ship' END,
       CASE WHEN x.type = 'emergency_part' THEN 2 + (e * 13) % :stations END,
       CASE WHEN x.type = 'emergency_part' THEN 500 + e % 3000 END,
       CASE WHEN x.type = 'emergency_part' THEN t.at END,
       CASE WHEN x.type = 'emergency_part' AND e % 16 <> 2 THEN t.at + interval '10 minutes' END,
       '', '', '', '', ''
FROM generate_series(1, greatest(:claims / 20, 8)) e
CROSS JOIN LATERAL (SELECT 2 + (e::bigint * 7919) % :stations AS station_id) s
CROSS JOIN LATERAL (SELECT now() - interval '2 hours' - ((e::bigint * 104723) % (20 * 86400)) * interval '1 second' AS at) t
CROSS JOIN LATERAL (SELECT (ARRAY['repair','appraisal','emergency_part','repair'])[1 + e % 4] AS type,
                           (ARRAY['in_review','approved','approved','rejected'])[1 + e % 4] AS status) x;
SELECT setval(pg_get_serial_sequence('claim', 'id'), :claims + greatest(:claims / 20, 8));
SELECT setval(pg_get_serial_sequence('claim_line', 'id'), 3 * :claims);
INSERT INTO old_part (tag, claim_id, claim_line_id, part_id, station_id, supplier_id, disposition,
                      destination_org_id, status, unit_price, deadline, overdue_at, waive_reason,
                      received_at, receive_note, inspection, inspection_note, inspected_at,
                      inspected_by_id, created_at)
SELECT 'OP-' || p.id || '-' || u, p.id, 3 * p.id - 2, p.part_id, p.station_id, p.supplier_id,
       p.disposition, CASE p.disposition WHEN 'return_to_oem' THEN 1 ELSE 2 + :stations + p.part_id % :suppliers END,
       s.status, p.unit_price, (p.decided_at + interval '14 days')::date,
       CASE WHEN s.status = 'awaiting_return' THEN p.decided_at + interval '15 days' END, '',
       CASE WHEN s.status IN ('received', 'inspected') THEN p.decided_at + interval '5 days' END, '',
       CASE WHEN s.status = 'inspected'
            THEN (ARRAY['confirmed_defect','no_fault_found','misuse','wrong_part','confirmed_defect'])[1 + (p.id / 5 + u) % 5] END,
       '',
       CASE WHEN s.status = 'inspected' THEN p.decided_at + interval '6 days' END,
       CASE WHEN s.status = 'inspected' THEN 1 END,
       p.decided_at
FROM bench_plan p
CROSS JOIN generate_series(1, p.approved_qty) u
CROSS JOIN LATERAL (SELECT (ARRAY['inspected','inspected','inspected','inspected','received',
                                  'shipped','shipped','awaiting_return','awaiting_return','awaiting_return'])[1 + (p.id / 5 + 3 * u) % 10] AS status) s
WHERE p.id % 5 = 0 AND p.disposition <> 'scrap_at_station';
INSERT INTO station_charge (kind, station_id, claim_id, claim_line_id, old_part_id, amount,
                            created_at, waived_at)
SELECT 'scrap_residual', p.station_id, p.id, 3 * p.id - 2, NULL,
       (2 * p.approved_qty * p.unit_price * p.scrap_rate + 1000000) / 2000000,
       p.decided_at, CASE WHEN p.id % 40 = 0 THEN p.decided_at + interval '1 day' END
FROM bench_plan p
WHERE p.disposition = 'scrap_at_station' AND p.id % 4 = 0;
INSERT INTO station_charge (kind, station_id, claim_id, claim_line_id, old_part_id, amount,
                            created_at, waived_at)
SELECT 'overdue', op.station_id, op.claim_id, op.claim_line_id, op.id, op.unit_price,
       op.overdue_at, CASE WHEN op.id % 10 = 0 THEN op.overdue_at + interval '1 hour' END
FROM old_part op
WHERE op.status = 'awaiting_return' AND op.id % 2 = 0 AND op.overdue_at < now();
DROP TABLE bench_plan
"""

IN_SCOPE = (
    "c.status IN ('approved', 'partially_approved') AND c.decided_at < :cutoff "
    "AND c.type NOT IN ('appraisal', 'emergency_part', 'outsourced_purchase')"
)

# The floor: the least a settlement has to do, in one transaction. Station totals (claims minus
# charges plus emergency credits), supplier totals (per claim: recovery over parts not removed by
# inspection and labor capped by the agreement, plus handling fee, each rounded half-up), then
# claims settled and charges deducted.
FLOOR = f"""
CREATE TEMP TABLE floor_station (org_id int PRIMARY KEY, n bigint, net bigint);
CREATE TEMP TABLE floor_supplier (org_id int PRIMARY KEY, n bigint, net bigint);
INSERT INTO floor_station
SELECT org_id, count(*), sum(amount) FROM (
    SELECT c.station_id AS org_id, c.approved_total_amount AS amount FROM claim c WHERE {IN_SCOPE}
    UNION ALL
    SELECT ch.station_id, -ch.amount FROM station_charge ch
    WHERE ch.settled_in_run_id IS NULL AND ch.waived_at IS NULL AND ch.created_at < :cutoff
    UNION ALL
    SELECT e.shipper_org_id, coalesce(e.approved_parts_amount, 0) + coalesce(e.freight_amount, 0)
    FROM claim e
    WHERE e.type = 'emergency_part' AND e.status IN ('approved', 'partially_approved', 'settled')
      AND e.fulfilment = 'drop_ship' AND e.received_at < :cutoff
) x GROUP BY org_id;
INSERT INTO floor_supplier
SELECT supplier_id, count(*), sum(amount) FROM (
    SELECT supplier_id,
           (2 * (parts + labor) * share + 1000000) / 2000000
             + (2 * parts * fee_rate + 1000000) / 2000000 AS amount
    FROM (
        SELECT supplier_id, parts, share, fee_rate,
               CASE WHEN cap IS NULL OR hours <= cap THEN labor
                    ELSE least(labor, (2 * cap * labor_rate + 100) / 200) END AS labor
        FROM (
            SELECT c.responsible_supplier_id AS supplier_id, sp.recovery_share AS share,
                   sp.handling_fee_rate AS fee_rate, sp.labor_hours_cap AS cap, c.labor_rate,
                   coalesce(sum(ln.approved_amount) FILTER (
                       WHERE ln.kind = 'part' AND NOT EXISTS (
                           SELECT 1 FROM old_part op WHERE op.claim_line_id = ln.id
                             AND op.inspection IN ('no_fault_found', 'misuse'))), 0)::bigint AS parts,
                   coalesce(sum(ln.approved_hours) FILTER (WHERE ln.kind = 'labor'), 0)::bigint AS hours,
                   coalesce(sum(ln.approved_amount) FILTER (WHERE ln.kind = 'labor'), 0)::bigint AS labor
            FROM claim c
            JOIN supplier sp ON sp.id = c.responsible_supplier_id
            JOIN claim_line ln ON ln.claim_id = c.id AND ln.kind IN ('part', 'labor')
            WHERE {IN_SCOPE}
            GROUP BY c.id, sp.id
        ) per_claim
    ) capped
) charged
WHERE amount > 0
GROUP BY supplier_id;
UPDATE claim c SET status = 'settled', updated_at = now() WHERE {IN_SCOPE};
UPDATE station_charge ch SET settled_in_run_id = 0
WHERE ch.settled_in_run_id IS NULL AND ch.waived_at IS NULL AND ch.created_at < :cutoff
"""

# Undo a settlement (the run's or the floor's): claims back to what the fill made them.
RESET = """
DELETE FROM chargeback;
DELETE FROM statement_line;
DELETE FROM statement;
DELETE FROM settlement_run;
DELETE FROM notification;
DELETE FROM claim_event WHERE action = 'settled';
UPDATE claim SET status = CASE WHEN id % 7 = 3 THEN 'partially_approved' ELSE 'approved' END
WHERE status = 'settled';
UPDATE station_charge SET settled_in_run_id = NULL WHERE settled_in_run_id IS NOT NULL
"""


def fill_params(args: argparse.Namespace, days: int) -> dict:
    """FILL's parameters from the command line; the claims are decided over the last `days`."""
    return {
        "claims": args.claims,
        "stations": args.stations,
        "suppliers": args.suppliers,
        "parts": args.parts,
        "days": days,
    }


class StatementTimer:
    """Times every SQL statement on the engine; `report` prints the slow ones."""

    def __init__(self, engine: sa.Engine) -> None:
        self.rows: list[tuple[float, str]] = []
        self.active = False
        sa.event.listen(engine, "before_cursor_execute", self._before)
        sa.event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_started"] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        if self.active:
            elapsed = time.perf_counter() - conn.info.pop("bench_started", time.perf_counter())
            self.rows.append((elapsed, " ".join(statement.split())))

    def report(self, label: str, minimum: float = 0.2) -> None:
        for elapsed, statement in self.rows:
            if elapsed >= minimum:
                print(f"    {label} {elapsed:7.2f} s  {statement[:150]}")
        self.rows.clear()


def totals(conn: sa.Connection, query: str, params: dict | None = None) -> dict:
    return {(r[0], r[1]): (r[2], r[3]) for r in conn.execute(sa.text(query), params or {})}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=1_000_000)
    parser.add_argument("--stations", type=int, default=3000)
    parser.add_argument("--suppliers", type=int, default=400)
    parser.add_argument("--parts", type=int, default=5000)
    parser.add_argument("--keep", action="store_true", help="keep the database, reuse a filled one")
    parser.add_argument(
        "--statements", action="store_true", help="print every SQL statement of 0.2 s or more"
    )
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ.pop("REDIS_URL", None)

    from flask_migrate import upgrade

    from portal import create_app
    from portal.auth.models import User
    from portal.extensions import db
    from portal.settlement import operations
    from portal.settlement.engine import current_period
    from portal.settlement.models import RunStatus

    filled = False
    if args.keep and database_exists(url):  # reuse it if it holds the same number of claims
        probe = sa.create_engine(url)
        with probe.connect() as conn:
            try:
                lines = conn.scalar(sa.text("SELECT max(id) FROM claim_line"))
            except sa.exc.ProgrammingError:
                lines = None
        probe.dispose()
        filled = lines == 3 * args.claims
    if not filled:
        recreate(url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": None})
    params = fill_params(args, days=20)
    failed = False
    with app.app_context():
        engine = db.engine
        if filled:
            with engine.begin() as conn:
                run_script(conn, RESET, {})
            maintenance(engine, "VACUUM ANALYZE")
        else:
            upgrade()
            started = time.perf_counter()
            with engine.begin() as conn:
                run_script(conn, FILL, params)
            maintenance(engine, "VACUUM ANALYZE")
            print(f"filled {args.claims:,} claims in {time.perf_counter() - started:.1f} s")
        with engine.connect() as conn:
            counts = conn.execute(
                sa.text(
                    "SELECT (SELECT count(*) FROM claim), (SELECT count(*) FROM claim_line), "
                    "(SELECT count(*) FROM old_part), (SELECT count(*) FROM old_part "
                    "WHERE inspection IN ('no_fault_found', 'misuse')), "
                    "(SELECT count(*) FROM station_charge)"
                )
            ).one()
        print(
            f"claims {counts[0]:,}, lines {counts[1]:,}, old parts {counts[2]:,} "
            f"({counts[3]:,} removed from recovery), station charges {counts[4]:,}"
        )
        timer = StatementTimer(engine)

        # The run: the real code, in-process, each job timed from a checkpoint. Release is a job
        # of its own, started after finance has inspected the draft; the database checkpoints in
        # between (every checkpoint_timeout) as it did before the compute and does before the
        # floor, so no step starts with another's writes still to flush.
        finance = db.session.get(User, 1)

        def timed(label: str, step, reaches: RunStatus):
            maintenance(engine, "CHECKPOINT")
            timer.active = True
            t0 = time.perf_counter()
            run = step()
            seconds = time.perf_counter() - t0
            timer.active = False
            db.session.refresh(run)
            if run.status is not reaches:
                sys.exit(f"{label} did not reach {reaches.value}: {run.status.value} {run.error}")
            return run, seconds

        run, compute_s = timed(
            "compute", lambda: operations.start_run(finance, current_period()), RunStatus.DRAFT
        )
        print(f"compute (to draft):  {compute_s:8.2f} s  ({run.claim_count:,} claims)")
        if args.statements:
            timer.report("compute")
        run, release_s = timed(
            "release", lambda: operations.request_release(run, finance), RunStatus.RELEASED
        )
        print(f"release:             {release_s:8.2f} s")
        if args.statements:
            timer.report("release")
        run_id = run.id
        db.session.remove()
        with engine.connect() as conn:
            run_totals = totals(
                conn,
                "SELECT kind, org_id, line_count, net FROM statement WHERE run_id = :run",
                {"run": run_id},
            )
            run_settled = conn.scalar(
                sa.text("SELECT count(*) FROM claim WHERE status = 'settled'")
            )
            cutoff = conn.scalar(
                sa.text("SELECT cutoff FROM settlement_run WHERE id = :run"), {"run": run_id}
            )

        # Undo it, then the floor on the same data.
        t0 = time.perf_counter()
        with engine.begin() as conn:
            run_script(conn, RESET, {})
        maintenance(engine, "VACUUM ANALYZE", "CHECKPOINT")
        print(f"(reset in {time.perf_counter() - t0:.1f} s)")
        with engine.connect() as conn:
            t0 = time.perf_counter()
            with conn.begin():
                run_script(conn, FLOOR, {"cutoff": cutoff})
            floor_s = time.perf_counter() - t0
            floor_totals = totals(
                conn, "SELECT 'station', org_id, n, net FROM floor_station"
            ) | totals(conn, "SELECT 'supplier', org_id, n, net FROM floor_supplier")
            floor_settled = conn.scalar(
                sa.text("SELECT count(*) FROM claim WHERE status = 'settled'")
            )
        print(f"floor:               {floor_s:8.2f} s")

        def net(rows: dict, kind: str) -> int:
            return sum(v[1] for k, v in rows.items() if k[0] == kind)

        if run_totals == floor_totals and run_settled == floor_settled:
            print(
                f"totals OK: {sum(k[0] == 'station' for k in run_totals):,} station statements "
                f"net {net(run_totals, 'station') / 100:,.2f}, "
                f"{sum(k[0] == 'supplier' for k in run_totals):,} supplier statements "
                f"net {net(run_totals, 'supplier') / 100:,.2f}, {run_settled:,} claims settled"
            )
        else:
            failed = True
            diff = sorted(set(run_totals.items()) ^ set(floor_totals.items()))
            print(
                f"totals MISMATCH: settled {run_settled:,} vs {floor_settled:,}; "
                f"{len(diff)} differing statements, e.g. {diff[:6]}"
            )
        total_s = compute_s + release_s
        ratio = total_s / floor_s
        verdict = "meets" if ratio <= 2 else "MISSES"
        print(
            f"run (compute + release) {total_s:.2f} s / floor {floor_s:.2f} s = {ratio:.2f}x "
            f"({verdict} the 2x target)"
        )
        if args.keep:
            with engine.begin() as conn:
                run_script(conn, RESET, {})
        engine.dispose()
    if not args.keep:
        recreate(url, drop_only=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
