"""Benchmark: the portal under load, gunicorn with PostgreSQL and Redis, 1,000,000 claims.

    .venv/bin/python bench/load.py [--claims 1000000] [--users 50] [--duration 120] [--keep]

Fills a fresh database (BENCH_DATABASE_URL, default portal_bench_load) with the settlement
benchmark's filler (stations, suppliers, parts, N approved claims with their lines, old parts and
station charges), spread over the last year, settles them month by month with the real
settlement runs (so each supplier and station has released monthly statements), and adds what
the workload needs: vehicle models and policies, vehicles, fault codes, labor operations, part
prices, claims in review with their lines, and one login per simulated user.

Then it starts gunicorn on a loopback port (4 workers, gthread with 2 threads each: keep-alive
connections as from a proxy that keeps its upstream connections, and a worker runs its second
request while the first waits for PostgreSQL; `--worker-class sync` compares)
and drives the users for the duration, each in a closed loop without think time:

- stations (half the users): their claim-list page, the claims API list, `POST /api/v1/claims`
  and `/submit` of a repair claim (every submit check runs: VIN, dates, odometer, coverage,
  duplicate, labor hours, major assembly; some are flagged, the rest auto-approved or queued);
- auditors (three in ten): the review queue page (with a filter in turn) and an API decision
  on a claim in review of their own (each auditor decides its own claims: no 409s);
- suppliers (the rest): the statements page, a statement page, and the same through the API.

Every user signs in before the timed window (the page form with its CSRF token, and an API
token): the password hash is argon2id at production cost. The sign-in throttle stays on (it
counts failed sign-ins only, and none fail). Then every user runs its loop for --warmup seconds
(15 by default, not recorded): each worker compiles its templates and opens its database
connections, as on a server that has been up for a while; 0 measures the cold start too.

Two phases, each timed on its own:
1. the mixed workload above for --duration seconds; --think S makes each user pause between two
   requests (uniform between 0 and 2*S, as locust's `between`), 0 (the default) none: the
   harshest reading of "50 concurrent users";
2. the claim-submit phase for --submit-window seconds: the stations alone create and submit
   claims in closed loops, which measures the claims per second the server sustains.

It prints per phase and request kind the count, throughput, p50/p95/p99 latency and errors, the
totals, the CPU the gunicorn workers, the generator and the whole machine used, gunicorn's CPU
per request (and per claim in phase 2: the ceiling that CPU sets on claims per second), and the
targets: 0 errors, p95 < 200 ms for pages and API (phase 1), claim submit >= 150 per second
(phase 2).
Exit code 1 when a request failed. The load generator is one asyncio process with httpx on the
same machine: it takes CPU from the server, and its share is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import resource
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import httpx
import sqlalchemy as sa
from common import database_exists, maintenance, recreate, run_script
from gunicorn import version_info as gunicorn_version
from settlement import FILL as SETTLEMENT_FILL
from settlement import fill_params

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench_load"
DEFAULT_REDIS = "redis://127.0.0.1:6379/14"
PASSWORD = "load-Bench-2026"  # noqa: S105 (the bench database's only password)
VIN_PREFIX = "LLDBENCH"  # positions 1-8 of every vehicle's VIN; 9 is the check digit
TARGET_P95_MS = 200
TARGET_SUBMITS = 150

# What the workload needs beyond the settlement filler. Vehicles 1..V with valid VINs, sold
# 2 to 22 months ago; claims in review 1..R (number RP-L-r, ids after the filler's) with a
# part line and a labor line each, submitted over the last 30 days, a share of them flagged.
LOAD_FILL = """
INSERT INTO vehicle_model (id, code, name, break_in_days, break_in_min_km, break_in_max_km, break_in_price)
SELECT g, 'M' || g, 'Model ' || g, 90, 1500, 5000, 30000 FROM generate_series(1, 5) g;
SELECT setval(pg_get_serial_sequence('vehicle_model', 'id'), 5);
INSERT INTO warranty_policy (model_id, "group", months, km)
SELECT m, grp, CASE grp WHEN 'engine' THEN 60 ELSE 36 END, CASE grp WHEN 'engine' THEN 200000 ELSE 100000 END
FROM generate_series(1, 5) m CROSS JOIN unnest(ARRAY['engine','brakes','electrical','body','chassis']) grp;
INSERT INTO fault_code (id, code, description, system)
SELECT g, 'F' || lpad(g::text, 4, '0'), 'Fault ' || g, (ARRAY['engine','electrical','body','chassis'])[1 + g % 4]
FROM generate_series(1, 200) g;
SELECT setval(pg_get_serial_sequence('fault_code', 'id'), 200);
INSERT INTO labor_operation (id, code, description, standard_hours)
SELECT g, 'OP' || lpad(g::text, 4, '0'), 'Operation ' || g, 100 + (g % 5) * 50 FROM generate_series(1, 200) g;
SELECT setval(pg_get_serial_sequence('labor_operation', 'id'), 200);
INSERT INTO part_price (part_id, unit_price, valid_from, valid_to)
SELECT id, 1000 + (id::bigint * 7727) % 150000, NULL, NULL FROM part;
INSERT INTO vehicle (id, vin, model_id, engine_no, production_date, sale_date, selling_station_id,
                     owner_name, owner_phone, odometer_km)
SELECT g, :prefix || CASE WHEN c.r = 10 THEN 'X' ELSE c.r::text END || d.s, 1 + g % 5, 'E' || g,
       s.sale - 30, s.sale, 2 + g % :stations, 'Owner ' || g, '138' || lpad(g::text, 8, '0'),
       5000 + (g::bigint * 37) % 50000
FROM generate_series(1, :vehicles) g
CROSS JOIN LATERAL (SELECT current_date - 60 - (g * 7) % 600 AS sale) s
CROSS JOIN LATERAL (SELECT lpad(g::text, 8, '0') AS s) d
CROSS JOIN LATERAL (SELECT (:vin_base + 9 * substr(d.s, 1, 1)::int + 8 * substr(d.s, 2, 1)::int
                            + 7 * substr(d.s, 3, 1)::int + 6 * substr(d.s, 4, 1)::int
                            + 5 * substr(d.s, 5, 1)::int + 4 * substr(d.s, 6, 1)::int
                            + 3 * substr(d.s, 7, 1)::int + 2 * substr(d.s, 8, 1)::int) % 11 AS r) c;
SELECT setval(pg_get_serial_sequence('vehicle', 'id'), :vehicles);
CREATE UNLOGGED TABLE load_plan AS
SELECT :base + g AS id, g, st.id AS station_id, st.labor_rate, st.km_rate, st.parts_handling_rate AS handling_rate,
       v.id AS vehicle_id, v.vin, v.odometer_km - 1000 AS odometer_km, pt.id AS part_id,
       pp.unit_price, 1 + g % 3 AS qty, 1 + g % 200 AS operation_id, 50 + g % 150 AS hours,
       now() - ((g::bigint * 104729) % (30 * 86400)) * interval '1 second' AS at
FROM generate_series(1, :reviews) g
JOIN station st ON st.id = 2 + (g::bigint * 7919) % :stations
JOIN vehicle v ON v.id = 1 + (g::bigint * 6133) % :vehicles
JOIN part pt ON pt.id = 1 + ((g::bigint * 104729) % :parts) + CASE WHEN (1 + (g::bigint * 104729) % :parts) % 50 = 0 THEN -1 ELSE 0 END
JOIN part_price pp ON pp.part_id = pt.id;
INSERT INTO claim (id, number, type, status, version, station_id, created_by_id, created_at,
                   updated_at, submitted_at, vin, vehicle_id, odometer_km, repair_date, fault_date,
                   fault_code_id, causal_part_id, labor_rate, km_rate, parts_handling_rate,
                   parts_amount, handling_amount, labor_amount, other_amount, total_amount,
                   complaint, cause, correction, goodwill_reason, decision_reason, flag_mask)
SELECT p.id, 'RP-L-' || p.g, 'repair', 'in_review', 1, p.station_id, p.station_id,
       p.at - interval '1 hour', p.at, p.at, p.vin, p.vehicle_id, p.odometer_km,
       (p.at - interval '1 day')::date, (p.at - interval '2 days')::date, 1 + p.g % 200, p.part_id,
       p.labor_rate, p.km_rate, p.handling_rate, a.parts, a.handling, a.labor, 0,
       a.parts + a.handling + a.labor, 'noise', 'defect', 'replaced', '', '',
       CASE WHEN p.g % 5 = 0 THEN 1 << (p.g / 5 % 3)::int ELSE 0 END
FROM load_plan p
CROSS JOIN LATERAL (SELECT p.qty * p.unit_price AS parts,
                           (2 * p.qty * p.unit_price * p.handling_rate + 1000000) / 2000000 AS handling,
                           (2 * p.hours * p.labor_rate + 100) / 200 AS labor) a;
INSERT INTO claim_line (claim_id, position, kind, part_id, operation_id, qty, hours, unit_price,
                        amount, description, decision_note)
SELECT p.id, k.position, k.kind,
       CASE k.kind WHEN 'part' THEN p.part_id END,
       CASE k.kind WHEN 'labor' THEN p.operation_id END,
       CASE k.kind WHEN 'part' THEN p.qty END,
       CASE k.kind WHEN 'labor' THEN p.hours END,
       CASE k.kind WHEN 'part' THEN p.unit_price ELSE p.labor_rate END,
       CASE k.kind WHEN 'part' THEN p.qty * p.unit_price ELSE (2 * p.hours * p.labor_rate + 100) / 200 END,
       '', ''
FROM load_plan p
CROSS JOIN (VALUES (1, 'part'), (2, 'labor')) k(position, kind);
INSERT INTO claim_flag (claim_id, version, rule, message, message_key, params, created_at)
SELECT p.id, 1, f.rule, 'load bench', f.key, f.params::json, p.at
FROM load_plan p
CROSS JOIN LATERAL (SELECT (ARRAY['outside_coverage','duplicate','labor_hours'])[1 + p.g / 5 % 3] AS rule) r
CROSS JOIN LATERAL (SELECT r.rule,
    CASE r.rule WHEN 'outside_coverage' THEN 'outside_coverage_goodwill'
                WHEN 'duplicate' THEN 'duplicate' ELSE 'labor_over_standard' END AS key,
    CASE r.rule
        WHEN 'outside_coverage' THEN jsonb_build_object('group', 'engine', 'why', 'ended', 'reason', 'loyal customer')
        WHEN 'duplicate' THEN jsonb_build_object('other', 'RP-L-1', 'part', 'P000001', 'days', 30, 'date', '2026-01-01')
        ELSE jsonb_build_object('hours', '2.50', 'operation', 'OP0001', 'standard', '1.00', 'reason', 'seized bolts')
    END AS params) f
WHERE p.g % 5 = 0;
INSERT INTO claim_event (claim_id, user_id, action, reason, version, from_status, to_status, at)
SELECT id, station_id, 'submitted', '', 1, 'draft', 'submitted', at FROM load_plan;
SELECT setval(pg_get_serial_sequence('claim', 'id'), :base + :reviews);
DROP TABLE load_plan;
CREATE TABLE bench_load (claims int)
"""


# -- the data set ------------------------------------------------------------------------------------


def filled_claims(url: str) -> int | None:
    """The claim count a reusable database was filled for (None: not a filled one)."""
    if not database_exists(url):
        return None
    probe = sa.create_engine(url)
    try:
        with probe.connect() as conn:
            return conn.scalar(sa.text("SELECT claims FROM bench_load"))
    except sa.exc.ProgrammingError:
        return None
    finally:
        probe.dispose()


def months_between(first: date, last: date) -> list[str]:
    months, day = [], first.replace(day=1)
    while day <= last:
        months.append(f"{day.year:04d}-{day.month:02d}")
        day = (day + timedelta(days=32)).replace(day=1)
    return months


def fill(url: str, args) -> None:
    """A fresh database: the settlement filler, monthly settlement runs, the load's own data."""
    from flask_migrate import upgrade

    from portal import create_app
    from portal.auth.models import User
    from portal.extensions import db
    from portal.masterdata.vin import check_digit
    from portal.settlement import engine as settlement_engine
    from portal.settlement import operations
    from portal.settlement.models import RunStatus

    recreate(url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": None})
    params = fill_params(args, days=365)
    with app.app_context():
        engine = db.engine
        upgrade()
        t0 = time.perf_counter()
        with engine.begin() as conn:
            run_script(conn, SETTLEMENT_FILL, params)
        maintenance(engine, "VACUUM ANALYZE")
        print(f"filled {args.claims:,} approved claims in {time.perf_counter() - t0:.1f} s")

        # Settle them month by month (the current month stays open), as finance would have.
        t0 = time.perf_counter()
        finance = db.session.get(User, 1)
        with engine.connect() as conn:
            oldest = conn.scalar(
                sa.text("SELECT min(decided_at) FROM claim WHERE decided_at IS NOT NULL")
            )
        zone = settlement_engine.zone()
        today = date.today()
        periods = months_between(
            oldest.astimezone(zone).date(), today.replace(day=1) - timedelta(days=1)
        )
        for period in periods:
            run = operations.start_run(finance, period)
            db.session.refresh(run)
            if run.status is RunStatus.DRAFT:
                run = operations.request_release(run, finance)
                db.session.refresh(run)
            if run.status is not RunStatus.RELEASED:
                sys.exit(f"settlement run {period} ended {run.status.value}: {run.error}")
        db.session.remove()
        maintenance(engine, "VACUUM ANALYZE")
        print(f"settled {len(periods)} months in {time.perf_counter() - t0:.1f} s")

        t0 = time.perf_counter()
        with engine.begin() as conn:
            base = conn.scalar(sa.text("SELECT max(id) FROM claim"))
            run_script(
                conn,
                LOAD_FILL,
                params
                | {
                    "base": base,
                    "vehicles": max(args.claims // 5, 1000),
                    "reviews": max(args.claims // 20, 2000),
                    "prefix": VIN_PREFIX,
                    "vin_base": int(check_digit(VIN_PREFIX + "0" * 9).replace("X", "10")),
                },
            )
            conn.execute(sa.text("INSERT INTO bench_load VALUES (:n)"), {"n": args.claims})
        maintenance(engine, "VACUUM ANALYZE")
        print(f"vehicles, prices and claims in review in {time.perf_counter() - t0:.1f} s")
        hasher = User()
        hasher.set_password(PASSWORD)  # the production hasher: argon2id at full cost
        with engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE user_account SET password_hash = :h"), {"h": hasher.password_hash}
            )
        engine.dispose()


# -- the simulated users -----------------------------------------------------------------------------


@dataclass
class Station:
    username: str
    vehicles: list[tuple[str, int]]  # VIN and the last known odometer
    parts: list[str]
    operations: list[tuple[str, int]]  # code and standard hours in hundredths


@dataclass
class Auditor:
    username: str
    claims: list[str]
    filters: list[str]
    done: int = 0  # claims decided so far (the submit phase does not decide)


@dataclass
class Supplier:
    username: str
    statements: list[int]


def plan_users(url: str, users: int) -> tuple[list[Station], list[Auditor], list[Supplier]]:
    """Who plays which user, each with data of its own (vehicles, claims to decide, statements)."""
    n_stations = max(users // 2, 1)
    n_auditors = max(users * 3 // 10, 1)
    n_suppliers = max(users - n_stations - n_auditors, 1)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        password_hash = conn.scalar(sa.text("SELECT password_hash FROM user_account WHERE id = 1"))
        for i in range(1, n_auditors + 1):
            conn.execute(
                sa.text(
                    "INSERT INTO user_account (username, full_name, password_hash, role, "
                    "organisation_id, active, created_at, password_changed_at) "
                    "VALUES (:u, :u, :h, 'auditor', 1, true, now(), now()) "
                    "ON CONFLICT (username) DO NOTHING"
                ),
                {"u": f"auditor{i}", "h": password_hash},
            )
        station_users = conn.scalars(
            sa.text(
                "SELECT u.username FROM user_account u JOIN station s ON s.id = u.organisation_id "
                "WHERE u.active AND u.role = 'station' ORDER BY u.id LIMIT :n"
            ),
            {"n": n_stations},
        ).all()
        supplier_users = conn.execute(
            sa.text(
                "SELECT u.username, array_agg(st.id ORDER BY st.period DESC) FROM user_account u "
                "JOIN statement st ON st.org_id = u.organisation_id AND st.status <> 'draft' "
                "WHERE u.active AND u.role = 'supplier' GROUP BY u.id ORDER BY u.id LIMIT :n"
            ),
            {"n": n_suppliers},
        ).all()
        vehicles = conn.execute(
            sa.text(
                "SELECT v.vin, greatest(v.odometer_km, coalesce(max(c.odometer_km), 0)) "
                "FROM vehicle v LEFT JOIN claim c ON c.vehicle_id = v.id AND c.status <> 'draft' "
                "WHERE v.id <= :n GROUP BY v.id ORDER BY v.id"
            ),
            {"n": n_stations * 400},
        ).all()
        parts = conn.scalars(
            sa.text("SELECT number FROM part WHERE NOT is_major_assembly ORDER BY id LIMIT 500")
        ).all()
        operations = [
            tuple(r)
            for r in conn.execute(sa.text("SELECT code, standard_hours FROM labor_operation"))
        ]
        in_review = conn.scalars(
            sa.text(
                "SELECT number FROM claim WHERE status = 'in_review' AND number LIKE 'RP-L-%' "
                "ORDER BY submitted_at, id"
            )
        ).all()
        station_codes = conn.scalars(
            sa.text("SELECT code FROM organisation WHERE kind = 'station' ORDER BY id LIMIT 50")
        ).all()
    engine.dispose()
    if len(station_users) < n_stations or len(supplier_users) < n_suppliers:
        sys.exit("the data set has too few station or supplier users for --users")
    filters = ["", "type=repair", "flag=any", "region=East", "status=returned"]
    filters += [f"station={code}" for code in station_codes[:5]]
    stations = [
        Station(name, [(v[0], v[1]) for v in vehicles[i::n_stations]], list(parts), operations)
        for i, name in enumerate(station_users)
    ]
    auditors = [
        Auditor(f"auditor{i + 1}", list(in_review[i::n_auditors]), filters[i:] + filters[:i])
        for i in range(n_auditors)
    ]
    suppliers = [Supplier(name, list(ids)) for name, ids in supplier_users]
    return stations, auditors, suppliers


# -- measuring -----------------------------------------------------------------------------------------


@dataclass
class Recorder:
    """Latency of every request by kind, and failures (a status other than the expected one)."""

    samples: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    examples: dict[str, str] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    on: bool = False

    async def call(
        self, client: httpx.AsyncClient, kind: str, method: str, url: str, expect: int, **kw
    ) -> httpx.Response | None:
        t0 = time.perf_counter()
        try:
            response = await client.request(method, url, **kw)
        except httpx.HTTPError as exc:
            response, problem = None, f"{type(exc).__name__}: {exc}"
        else:
            problem = (
                None
                if response.status_code == expect
                else f"{response.status_code}: {response.text[:300]}"
            )
        if self.on:
            self.samples[kind].append(time.perf_counter() - t0)
            if problem:
                self.errors[kind] += 1
                self.examples.setdefault(kind, problem)
        elif problem:  # a failure before the timed window stops the benchmark
            raise RuntimeError(f"{kind} {method} {url}: {problem}")
        return response if problem is None else None


async def sign_in(client: httpx.AsyncClient, rec: Recorder, username: str) -> dict[str, str]:
    """A page session (the login form with its CSRF token) and an API token."""
    page = await rec.call(client, "sign-in page", "GET", "/login", 200)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text)
    if match is None:
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    form = {"csrf_token": match.group(1), "username": username, "password": PASSWORD}
    await rec.call(client, "sign-in", "POST", "/login", 302, data=form)
    token = await rec.call(
        client,
        "api token",
        "POST",
        "/api/v1/auth/token",
        200,
        json={"username": username, "password": PASSWORD},
    )
    return {"Authorization": f"Bearer {token.json()['token']}"}


def claim_payload(user: Station, i: int, today: date) -> dict:
    vin, odometer = user.vehicles[i % len(user.vehicles)]
    rounds = i // len(user.vehicles)
    code, standard = user.operations[i % len(user.operations)]
    over = i % 5 == 4  # one in five: labor above the standard hours, with the reason (a flag)
    hours = (standard + 50) if over else standard
    return {
        "type": "repair",
        "vin": vin,
        "odometer_km": odometer + 10 * (rounds + 1),
        "repair_date": (today - timedelta(days=1)).isoformat(),
        "fault_date": (today - timedelta(days=2)).isoformat(),
        "fault_code": f"F{1 + i % 200:04d}",
        "causal_part": user.parts[i % len(user.parts)],
        "description": "Engine noise at idle",
        "lines": [
            {"kind": "part", "part_number": user.parts[i % len(user.parts)], "qty": 1},
            {
                "kind": "labor",
                "operation_code": code,
                "hours": f"{hours / 100:.2f}",
                "description": "seized bolts" if over else "",
            },
            {"kind": "other", "amount": "20.00", "description": "consumables"},
        ],
    }


async def think(seconds: float) -> None:
    """A user's pause between two requests: uniform between 0 and twice the mean (0: none)."""
    if seconds > 0:
        await asyncio.sleep(random.uniform(0, 2 * seconds))


async def run_station(
    client, rec: Recorder, user: Station, api: dict, until: float, pause: float = 0
) -> None:
    today, i = date.today(), 0
    while time.monotonic() < until:
        if pause >= 0:  # a negative pause: the submit phase, create and submit only
            await rec.call(client, "page  station claim list", "GET", "/dealer/", 200)
            await think(pause)
            await rec.call(
                client, "api   station claim list", "GET", "/api/v1/claims", 200, headers=api
            )
            await think(pause)
        created = await rec.call(
            client,
            "api   claim create",
            "POST",
            "/api/v1/claims",
            201,
            json=claim_payload(user, i, today),
            headers=api,
        )
        i += 1
        if created is None:
            continue
        await think(pause)
        number = created.json()["number"]
        submitted = await rec.call(
            client,
            "api   claim submit",
            "POST",
            f"/api/v1/claims/{number}/submit",
            200,
            headers=api,
        )
        if submitted is not None and rec.on:
            rec.outcomes[submitted.json()["status"]] += 1
        await think(pause)


async def run_auditor(
    client, rec: Recorder, user: Auditor, api: dict, until: float, pause: float = 0
) -> None:
    i = user.done
    while time.monotonic() < until:
        query = user.filters[i % len(user.filters)]
        await rec.call(client, "page  review queue", "GET", f"/oem/review?{query}", 200)
        await think(pause)
        if i < len(user.claims):
            body = (
                {"action": "reject", "reason": "Not a warranty failure"}
                if i % 10 == 9
                else {"action": "approve"}
            )
            await rec.call(
                client,
                "api   claim decision",
                "POST",
                f"/api/v1/claims/{user.claims[i]}/decision",
                200,
                json=body,
                headers=api,
            )
            await think(pause)
        i += 1
        user.done = i


async def run_supplier(
    client, rec: Recorder, user: Supplier, api: dict, until: float, pause: float = 0
) -> None:
    i = 0
    while time.monotonic() < until:
        statement = user.statements[i % len(user.statements)]
        await rec.call(client, "page  supplier statements", "GET", "/settlement/statements", 200)
        await think(pause)
        await rec.call(
            client, "page  supplier statement", "GET", f"/settlement/statements/{statement}", 200
        )
        await think(pause)
        await rec.call(
            client,
            "api   supplier statements",
            "GET",
            "/api/v1/statements?kind=supplier",
            200,
            headers=api,
        )
        await think(pause)
        await rec.call(
            client,
            "api   supplier statement",
            "GET",
            f"/api/v1/statements/{statement}",
            200,
            headers=api,
        )
        await think(pause)
        i += 1


@dataclass
class Phase:
    """One timed window: who runs, for how long, with which pause; what it measured."""

    name: str
    duration: float
    pause: float  # mean think time; negative: stations create and submit only
    rec: Recorder = field(default_factory=Recorder)
    window: float = 0.0
    worker_cpu: float = 0.0  # gunicorn workers' CPU seconds over the window
    machine_cpu: float = 0.0  # the whole machine's busy cores over the window
    generator_cpu: float = 0.0  # this process's CPU seconds over the window


async def drive(base_url: str, people, phases: list[Phase], master: int, warmup: float = 0) -> None:
    """Sign everyone in, warm the server up (every user's loop for `warmup` seconds, not
    recorded), then run each phase: every user's loop for the phase's duration."""
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients = [
        httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits, follow_redirects=False)
        for _ in people
    ]
    try:
        signing = asyncio.Semaphore(8)  # argon2 at full cost: a few at a time
        sign_in_rec = Recorder()

        async def signed(client, person):
            async with signing:
                return await sign_in(client, sign_in_rec, person.username)

        tokens = await asyncio.gather(*(signed(c, p) for c, p in zip(clients, people, strict=True)))
        runner = {Station: run_station, Auditor: run_auditor, Supplier: run_supplier}
        if warmup > 0:  # each worker compiles its templates and opens its connections first
            until = time.monotonic() + warmup
            idle = Recorder()
            await asyncio.gather(
                *(
                    runner[type(p)](c, idle, p, t, until, phases[0].pause)
                    for c, p, t in zip(clients, people, tokens, strict=True)
                )
            )
        for phase in phases:
            cast = [
                (c, p, t)
                for c, p, t in zip(clients, people, tokens, strict=True)
                if phase.pause >= 0 or isinstance(p, Station)
            ]
            busy0, cpu0 = machine_busy(), worker_cpu_seconds(master)
            own0 = resource.getrusage(resource.RUSAGE_SELF)
            phase.rec.on = True
            started = time.monotonic()
            until = started + phase.duration
            await asyncio.wait_for(
                asyncio.gather(
                    *(runner[type(p)](c, phase.rec, p, t, until, phase.pause) for c, p, t in cast)
                ),
                timeout=phase.duration + 180,
            )
            phase.window = time.monotonic() - started
            phase.rec.on = False
            own1 = resource.getrusage(resource.RUSAGE_SELF)
            busy1, cpu1 = machine_busy(), worker_cpu_seconds(master)
            phase.worker_cpu = cpu1 - cpu0
            phase.generator_cpu = own1.ru_utime + own1.ru_stime - own0.ru_utime - own0.ru_stime
            phase.machine_cpu = (
                (busy1[0] - busy0[0]) / max(busy1[1] - busy0[1], 1) * (os.cpu_count() or 1)
            )
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))


# -- the server ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(url: str, args, workdir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = os.environ | {
        "DATABASE_URL": url,
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS),
        "SECRET_KEY": secrets.token_hex(32),
        "UPLOAD_FOLDER": str(workdir / "uploads"),
    }
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "--workers",
        str(args.workers),
        "--worker-class",
        args.worker_class,
        "--bind",
        f"127.0.0.1:{port}",
        "--timeout",
        "60",
        "--graceful-timeout",
        "5",
        # Longer than any wait for a worker under load: a keep-alive connection closed by the
        # server just as the client reuses it would fail that request.
        "--keep-alive",
        "75",
        "--error-logfile",
        str(workdir / "gunicorn.log"),
        "wsgi:app",
    ]
    if args.worker_class == "gthread":
        command[1:1] = ["--threads", str(args.threads)]
    if gunicorn_version >= (27,):  # its control socket would be shared with other gunicorns
        command[1:1] = ["--no-control-socket"]
    with (workdir / "app.log").open("wb") as log:  # the app's own log, kept out of the report
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, start_new_session=True, stdout=log, stderr=subprocess.STDOUT
        )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            if httpx.get(base_url + "/login", timeout=2).status_code == 200:
                return process, base_url
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    stop(process)
    log = (workdir / "gunicorn.log").read_text(errors="replace")[-3000:]
    sys.exit(f"gunicorn did not become ready:\n{log}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)


def worker_cpu_seconds(master: int) -> float:
    """User + system CPU of gunicorn's workers so far (from /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    except OSError:
        return 0.0
    for pid in children:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def machine_busy() -> tuple[int, int]:
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


# -- the report ------------------------------------------------------------------------------------


def quantile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] * 1000 if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000


def report(phase: Phase) -> bool:
    """Print one phase's table, CPU and verdicts; whether it had no errors."""
    rec, window = phase.rec, phase.window
    print(f"\n{phase.name}")
    print(
        f"{'request kind':<28}{'count':>8}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}"
    )

    def row(label: str, values: list[float], errors: int) -> None:
        print(
            f"{label:<28}{len(values):>8}{len(values) / window:>9.1f}{quantile(values, 50):>9.1f}"
            f"{quantile(values, 95):>9.1f}{quantile(values, 99):>9.1f}{errors:>8}"
        )

    for kind in sorted(rec.samples):
        row(kind, rec.samples[kind], rec.errors[kind])
    groups = {}
    for prefix in ("page", "api"):
        kinds = [k for k in rec.samples if k.startswith(prefix)]
        values = [v for k in kinds for v in rec.samples[k]]
        groups[prefix] = quantile(values, 95)
        if values:
            row(f"all {prefix}s", values, sum(rec.errors[k] for k in kinds))
    requests = sum(len(vs) for vs in rec.samples.values())
    row("total", [v for vs in rec.samples.values() for v in vs], sum(rec.errors.values()))
    errors = sum(rec.errors.values())
    submitted = len(rec.samples.get("api   claim submit", []))
    outcomes = ", ".join(f"{n} {status}" for status, n in sorted(rec.outcomes.items()))
    print(f"submitted claims: {outcomes or 'none'}")
    for kind, example in rec.examples.items():
        print(f"first error of {kind.split()[-1]!r} ({kind}): {example}")
    cores = os.cpu_count() or 1
    print(
        f"CPU over the window (cores): gunicorn workers {phase.worker_cpu / window:.2f}, "
        f"load generator {phase.generator_cpu / window:.2f}, whole machine "
        f"{phase.machine_cpu:.2f} of {cores}; gunicorn CPU per request "
        f"{phase.worker_cpu / max(requests, 1) * 1000:.1f} ms"
    )

    def verdict(ok: bool) -> str:
        return "meets" if ok else "MISSES"

    if phase.pause < 0:
        rate = submitted / window
        per_claim = phase.worker_cpu / max(submitted, 1) * 1000
        print(
            f"gunicorn CPU per claim (create + submit): {per_claim:.1f} ms, so at most "
            f"{cores / max(per_claim, 0.001) * 1000:.0f} claims/s on {cores} cores if the server "
            "had them all"
        )
        print(
            f"targets: 0 errors: {errors} ({verdict(errors == 0)}); "
            f"claim submit >= {TARGET_SUBMITS}/s: {rate:.1f}/s ({verdict(rate >= TARGET_SUBMITS)})"
        )
    else:
        print(
            f"targets: 0 errors: {errors} ({verdict(errors == 0)}); "
            f"p95 pages < {TARGET_P95_MS} ms: {groups['page']:.0f} ms "
            f"({verdict(groups['page'] < TARGET_P95_MS)}); "
            f"p95 API < {TARGET_P95_MS} ms: {groups['api']:.0f} ms "
            f"({verdict(groups['api'] < TARGET_P95_MS)})"
        )
    return errors == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=1_000_000)
    parser.add_argument("--stations", type=int, default=3000)
    parser.add_argument("--suppliers", type=int, default=400)
    parser.add_argument("--parts", type=int, default=5000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=120, help="seconds of load")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--worker-class", choices=("gthread", "sync"), default="gthread")
    parser.add_argument("--threads", type=int, default=2, help="per gthread worker")
    parser.add_argument("--keep", action="store_true", help="keep the database, reuse a filled one")
    parser.add_argument(
        "--think",
        type=float,
        default=0,
        help="mean seconds a user pauses between two requests (uniform 0 to twice that; 0: none)",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=15,
        help="seconds every user runs its loop before the timed windows, not recorded (0: none)",
    )
    parser.add_argument(
        "--submit-window",
        type=float,
        default=30,
        help="seconds of the second phase: stations only create and submit claims (0: skip)",
    )
    args = parser.parse_args()
    if not 1 <= args.duration <= 3600 or not 3 <= args.users <= 1000:
        sys.exit("--duration must be 1 to 3600 seconds and --users 3 to 1000")
    if not 0 <= args.warmup <= 600:
        sys.exit("--warmup must be 0 to 600 seconds")
    if not 0 <= args.think <= 60 or not 0 <= args.submit_window <= 3600:
        sys.exit("--think must be 0 to 60 seconds and --submit-window 0 to 3600")
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ.pop("REDIS_URL", None)

    if not (args.keep and filled_claims(url) == args.claims):
        fill(url, args)
    stations, auditors, suppliers = plan_users(url, args.users)
    with sa.create_engine(url).connect() as conn:
        claims = conn.scalar(sa.text("SELECT count(*) FROM claim"))
    threads = f", {args.threads} threads each" if args.worker_class == "gthread" else ""
    print(
        f"gunicorn: {args.workers} {args.worker_class} workers{threads} on 127.0.0.1; "
        f"PostgreSQL {url.rsplit('/', 1)[1]} ({claims:,} claims); Redis; sign-in throttle on"
    )
    print(
        f"users: {len(stations)} stations, {len(auditors)} auditors, {len(suppliers)} suppliers "
        "in closed loops; load generator: one asyncio process with httpx on the same cores"
    )
    phases = [
        Phase(
            f"mixed workload: {args.users} users for {args.duration:.0f} s, "
            + (f"think time {args.think:g} s on average" if args.think else "no think time"),
            args.duration,
            args.think,
        )
    ]
    if args.submit_window:
        phases.append(
            Phase(
                f"claim submit: the {len(stations)} stations create and submit repair claims "
                f"without think time for {args.submit_window:.0f} s",
                args.submit_window,
                -1,
            )
        )
    failed = True
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        process, base_url = start_gunicorn(url, args, Path(tmp))
        try:
            asyncio.run(
                drive(
                    base_url,
                    [*stations, *auditors, *suppliers],
                    phases,
                    process.pid,
                    args.warmup,
                )
            )
            verdicts = [report(phase) for phase in phases]  # every phase printed
            failed = not all(verdicts)
            if failed:  # the server's side of the errors
                print((Path(tmp) / "app.log").read_text(errors="replace")[-4000:])
        finally:
            stop(process)
    if not args.keep:
        recreate(url, drop_only=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
