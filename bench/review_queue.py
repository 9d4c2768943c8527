"""Benchmark: the review queue's queries with 1,000,000 claims on PostgreSQL.

    .venv/bin/python bench/review_queue.py [--claims 1000000] [--runs 30] [--keep]

Creates a fresh database (BENCH_DATABASE_URL, default portal_bench on the local PostgreSQL),
builds the schema with the migrations, fills it with set-based SQL (claims spread over two
years, every status and type, flags on a share of them), then times what the queue page runs
(one page of 25 + the counts per type and status) for the common filters, and prints p50/p95.
Target: p95 < 150 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import sqlalchemy as sa
from common import maintenance, recreate, run_script

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench"

FILL = """
INSERT INTO organisation (id, code, name, kind)
SELECT 1, 'OEM', 'OEM', 'oem';
INSERT INTO organisation (id, code, name, kind)
SELECT 1 + g, 'ST' || lpad(g::text, 4, '0'), 'Station ' || g, 'station' FROM generate_series(1, :stations) g;
INSERT INTO station (id, region, labor_rate, km_rate, parts_handling_rate)
SELECT 1 + g, (ARRAY['East','North','South','Southwest','Northwest','Northeast','Central'])[1 + g % 7],
       8000, 350, 100000 FROM generate_series(1, :stations) g;
INSERT INTO user_account (id, username, full_name, password_hash, role, organisation_id, active,
                          created_at, password_changed_at)
VALUES (1, 'bench', 'Bench', 'x', 'station', 2, true, now(), now());
INSERT INTO claim (id, number, type, status, version, station_id, created_by_id, created_at,
                   updated_at, submitted_at, decided_at, vin, labor_rate, km_rate,
                   parts_handling_rate, parts_amount, handling_amount, labor_amount, other_amount,
                   total_amount, approved_total_amount, complaint, cause, correction,
                   goodwill_reason, decision_reason, flag_mask)
SELECT g,
       'RP-B-' || g,
       (ARRAY['repair','repair','repair','repair','major_assembly','appraisal','break_in',
              'roadside','outsourced_purchase','emergency_part'])[1 + g % 10],
       s.status,
       1,
       2 + (g::bigint * 7919) % :stations,
       1,
       t.at, t.at, t.at,
       CASE WHEN s.status IN ('approved','partially_approved','rejected','settled') THEN t.at END,
       'LBENCH' || lpad(g::text, 11, '0'),
       8000, 350, 100000, 0, 0, 0, 0,
       (g::bigint * 7727) % 2000000,
       CASE WHEN s.status IN ('approved','partially_approved','settled') THEN (g::bigint * 7727) % 2000000 END,
       '', '', '', '', '',
       CASE WHEN g % 5 IN (0, 1) THEN 1 << (g % 3)::int ELSE 0 END
FROM generate_series(1, :claims) g
CROSS JOIN LATERAL (SELECT now() - ((g::bigint * 104729) % (730 * 86400)) * interval '1 second' AS at) t
CROSS JOIN LATERAL (SELECT (g::bigint * 2654435761 % 4294967291) % 100 AS h) m
CROSS JOIN LATERAL (SELECT CASE
     WHEN m.h < 12 THEN 'in_review' WHEN m.h < 14 THEN 'returned'
     WHEN m.h < 80 THEN 'approved' WHEN m.h < 86 THEN 'partially_approved'
     WHEN m.h < 91 THEN 'rejected' ELSE 'settled' END AS status) s;
INSERT INTO claim_flag (claim_id, version, rule, message, message_key, params, created_at)
SELECT id, 1, (ARRAY['duplicate','labor_hours','outside_coverage'])[1 + id % 3], 'bench',
       'duplicate', '{}', submitted_at
FROM claim WHERE id % 5 IN (0, 1);
SELECT setval(pg_get_serial_sequence('claim', 'id'), :claims);
"""

FILTERS = [
    ("default (in review)", {}),
    ("type=repair", {"type": "repair"}),
    ("station", {"station": "ST0042"}),
    ("station+flag", {"station": "ST0042", "flag": "any"}),
    ("region=East", {"region": "East"}),
    ("flag=any", {"flag": "any"}),
    ("flag=duplicate", {"flag": "duplicate"}),
    ("flag=none", {"flag": "none"}),
    ("age>=30 days", {"age": "30"}),
    ("amount 1000-5000", {"min_amount": "1000", "max_amount": "5000"}),
    ("region+type+flag", {"region": "North", "type": "repair", "flag": "any"}),
    ("status=returned", {"status": "returned"}),
    ("status=approved", {"status": "approved"}),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=1_000_000)
    parser.add_argument("--stations", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="reuse a filled database")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("SECRET_KEY", "bench")

    from flask_migrate import upgrade

    from portal import create_app
    from portal.extensions import db
    from portal.oem.queue import QueueFilter, queue_counts, queue_page

    if not args.keep:
        recreate(url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        if not args.keep:
            upgrade()
            started = time.perf_counter()
            with db.engine.begin() as conn:
                run_script(conn, FILL, {"claims": args.claims, "stations": args.stations})
            maintenance(db.engine, "VACUUM ANALYZE")
            print(f"filled {args.claims:,} claims in {time.perf_counter() - started:.1f} s")
        total = db.session.scalar(sa.text("SELECT count(*) FROM claim"))
        print(f"claims in the database: {total:,}")
        print(f"{'filter':<22}{'p50 ms':>9}{'p95 ms':>9}{'next p95':>10}  rows")
        worst = 0.0
        for label, query in FILTERS:
            f = QueueFilter.from_args(query)
            first, deeper = [], []
            rows = 0
            for _ in range(args.runs):
                t0 = time.perf_counter()
                page = queue_page(f)
                queue_counts(f)
                first.append((time.perf_counter() - t0) * 1000)
                rows = len(page.items)
                db.session.rollback()
                if page.next_cursor:  # the page after, as "Next" would ask for it
                    t0 = time.perf_counter()
                    queue_page(f, page.next_cursor)
                    deeper.append((time.perf_counter() - t0) * 1000)
                    db.session.rollback()
            p95 = statistics.quantiles(first, n=20)[18]
            next_p95 = statistics.quantiles(deeper, n=20)[18] if len(deeper) > 1 else 0.0
            worst = max(worst, p95, next_p95)
            print(
                f"{label:<22}{statistics.median(first):>9.1f}{p95:>9.1f}{next_p95:>10.1f}  {rows}"
            )
        verdict = "meets" if worst < 150 else "MISSES"
        print(f"worst p95: {worst:.1f} ms ({verdict} the 150 ms target)")


if __name__ == "__main__":
    main()
