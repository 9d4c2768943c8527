"""Settlement under real concurrency and real crashes (PostgreSQL, and Redis for the worker).

Each test builds its data in a database where work really commits (`committing_app`), then
lets two threads race, or kills a worker with SIGKILL in the middle of a run, and checks that
every claim still lands on exactly one statement with the right totals.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal import jobs
from portal.auth.models import User
from portal.claims.models import ClaimSettings
from portal.errors import Conflict
from portal.extensions import db
from portal.settlement import engine
from portal.settlement import operations as settle
from portal.settlement.models import (
    Chargeback,
    LineKind,
    RunStatus,
    SettlementRun,
    Statement,
    StatementLine,
)
from tests.conftest import redis_url
from tests.factories import ClaimFactory, Fleet, World

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parent.parent
CLAIMS = 3  # each 230.00 to station A and 225.00 from supplier A


@dataclass
class Data:
    finance_id: int
    claim_ids: list[int]


def build(app, claims: int = CLAIMS) -> Data:
    with app.app_context():
        world = World.build()
        ClaimSettings.current().auto_approve_enabled = False
        fleet = Fleet.build(world)
        ids = [ClaimFactory(fleet=fleet, approved=True).id for _ in range(claims)]
        db.session.commit()
        return Data(world.users["finance"].id, ids)


def finance(data: Data) -> User:
    return db.session.get(User, data.finance_id)


def queued_run(data: Data) -> int:
    """A run row waiting for a worker (what start_run leaves before its job runs)."""
    period = engine.current_period()
    run = SettlementRun(
        period=period,
        status=RunStatus.QUEUED,
        open_slot=1,
        vat_rate=Decimal("0.13"),
        cutoff=engine.period_cutoff(engine.parse_period(period)),
        created_by_id=data.finance_id,
    )
    db.session.add(run)
    db.session.commit()
    return run.id


def assert_each_claim_once(run_id: int, data: Data) -> None:
    """Every claim on one station line and one chargeback, and the totals of 3 x 230.00 /
    3 x 225.00 (VAT 13%: 89.70 / 87.75)."""
    claim_lines = db.session.scalars(
        sa.select(StatementLine.claim_id).where(StatementLine.kind == LineKind.CLAIM)
    ).all()
    assert sorted(claim_lines) == sorted(data.claim_ids)
    assert sorted(db.session.scalars(sa.select(Chargeback.claim_id)).all()) == sorted(
        data.claim_ids
    )
    statements = db.session.scalars(sa.select(Statement).order_by(Statement.kind)).all()
    assert {s.run_id for s in statements} == {run_id}
    assert [(s.kind.value, s.net, s.vat, s.gross) for s in statements] == [
        ("station", Decimal("690.00"), Decimal("89.70"), Decimal("779.70")),
        ("supplier", Decimal("675.00"), Decimal("87.75"), Decimal("762.75")),
    ]
    run = db.session.get(SettlementRun, run_id)
    assert (run.status, run.claim_count, run.station_net, run.supplier_net) == (
        RunStatus.DRAFT,
        CLAIMS,
        Decimal("690.00"),
        Decimal("675.00"),
    )


def race(*targets) -> list:
    """Run the targets in threads released at the same moment; answers their results (or the
    exception each raised) in order."""
    barrier = threading.Barrier(len(targets))
    results: list = [None] * len(targets)

    def body(index: int, target) -> None:
        barrier.wait()
        try:
            results[index] = target()
        except Exception as exc:  # noqa: BLE001 - reported to the test, which asserts on it
            results[index] = exc

    threads = [threading.Thread(target=body, args=(i, t)) for i, t in enumerate(targets)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_two_starts_of_the_same_period_at_once_make_one_run(committing_app):
    data = build(committing_app)
    period = engine.current_period()

    def start():
        with committing_app.app_context():
            try:
                run = settle.start_run(finance(data), period)
                db.session.commit()  # the caller commits; the job starts then
                return ("started", run.id)
            except Conflict:
                db.session.rollback()
                return ("conflict", None)

    results = race(start, start)
    assert not any(isinstance(r, Exception) for r in results), [repr(r)[:600] for r in results]
    assert sorted(r[0] for r in results) == ["conflict", "started"], results
    with committing_app.app_context():
        (run,) = db.session.scalars(sa.select(SettlementRun)).all()
        assert run.id == next(r[1] for r in results if r[0] == "started")
        assert_each_claim_once(run.id, data)


def test_two_workers_computing_one_run_at_once_write_one_draft(committing_app, monkeypatch):
    data = build(committing_app)
    with committing_app.app_context():
        run_id = queued_run(data)
    # A short pause per step keeps the first worker busy while the second arrives.
    monkeypatch.setitem(committing_app.config, "SETTLEMENT_STEP_PAUSE", 0.05)

    def compute():
        with committing_app.app_context():
            return engine.compute_run(run_id)

    results = race(compute, compute)
    # The second finds the run locked ("busy") or already computed ("skipped").
    assert sorted(results) in (["busy", "draft"], ["draft", "skipped"]), results
    with committing_app.app_context():
        assert_each_claim_once(run_id, data)
        # Computing it again once drafted changes nothing.
        assert engine.compute_run(run_id) == "skipped"
        assert_each_claim_once(run_id, data)


# -- a worker killed in the middle of a run ------------------------------------------------------


def wait_for(condition, timeout: float, what: str, every: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def start_worker(app, queue: str, log: Path, pause: float) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": app.config["REDIS_URL"],
        "SECRET_KEY": "test-secret-key",
        "SETTLEMENT_STEP_PAUSE": str(pause),
        "RATELIMIT_ENABLED": "false",
    }
    flask = Path(sys.executable).parent / "flask"
    with log.open("ab") as out:
        return subprocess.Popen(
            [str(flask), "--app", "wsgi", "worker", "--burst", "--queues", queue],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, which the test kills
        )


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (an RQ worker's work horse)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def kill_worker(worker: subprocess.Popen) -> None:
    """SIGKILL the worker and its work horse, which RQ puts in a process group of its own:
    what a machine losing power does to both."""
    for group in [worker.pid, *children(worker.pid)]:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
    worker.wait(timeout=10)


def run_row(run_id: int) -> tuple[str, int]:
    row = db.session.execute(
        sa.select(SettlementRun.status, SettlementRun.progress).where(SettlementRun.id == run_id)
    ).one()
    db.session.rollback()  # a fresh snapshot next time
    return row.status.value, row.progress


def advisory_locks(run_id: int) -> int:
    held = db.session.scalar(
        sa.text(
            "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' "
            "AND classid = :ns AND objid = :id "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ),
        {"ns": engine.LOCK_NAMESPACE, "id": run_id},
    )
    db.session.rollback()
    return held


@pytest.fixture
def worker_queue(committing_app, monkeypatch):
    """A queue of this test's own on the test Redis, so that no other worker takes its jobs."""
    url = redis_url()
    if url is None:
        pytest.skip("Redis is not reachable here; CI always has it")
    name = f"settlement-crash-{uuid.uuid4().hex[:12]}"
    monkeypatch.setitem(committing_app.config, "REDIS_URL", url)
    monkeypatch.setitem(committing_app.config, "SETTLEMENT_STALE_SECONDS", 1)
    job_ids: list[str] = []
    real_enqueue = jobs.enqueue

    def enqueue(*args, **kwargs) -> str:
        job_ids.append(real_enqueue(*args, queue=name, **kwargs))
        return job_ids[-1]

    monkeypatch.setattr(jobs, "enqueue", enqueue)  # the jobs an operation asks for start here
    yield name
    with committing_app.app_context():
        connection = jobs.redis_connection()
        for pattern in [f"rq:*{name}*", *(f"rq:*{job_id}*" for job_id in job_ids)]:
            for key in connection.scan_iter(pattern):
                connection.delete(key)
        connection.close()
        committing_app.extensions.pop("portal_redis", None)


@pytest.mark.redis
def test_a_worker_killed_mid_run_leaves_nothing_and_the_retry_writes_each_claim_once(
    committing_app, worker_queue, tmp_path
):
    data = build(committing_app)
    log = tmp_path / "worker.log"
    with committing_app.app_context():
        run = settle.start_run(finance(data), engine.current_period())
        db.session.commit()  # the caller commits; the job starts then
        run_id, first_job = run.id, run.job_id
        assert run_row(run_id) == ("queued", 0)  # on Redis, waiting for a worker
        assert jobs.job_status(first_job).status == "queued"

    worker = start_worker(committing_app, worker_queue, log, pause=1)
    try:
        with committing_app.app_context():
            # Heartbeats come through their own transactions while the run's stays open:
            # wait until the station lines are written (35%), uncommitted.
            wait_for(
                lambda: run_row(run_id)[0] == "running" and run_row(run_id)[1] >= 35,
                timeout=15,
                what="the worker to reach the station lines",
            )
            assert db.session.scalar(sa.select(sa.func.count(Statement.id))) == 0
    finally:
        kill_worker(worker)
    assert worker.returncode == -signal.SIGKILL, log.read_text()

    with committing_app.app_context():
        # PostgreSQL rolled the killed worker's transaction back and freed its lock.
        wait_for(lambda: advisory_locks(run_id) == 0, timeout=10, what="the lock to go")
        assert db.session.scalar(sa.select(sa.func.count(Statement.id))) == 0
        assert db.session.scalar(sa.select(sa.func.count(StatementLine.id))) == 0
        assert db.session.scalar(sa.select(sa.func.count(Chargeback.id))) == 0
        status, progress = run_row(run_id)
        assert status == "running" and progress >= 35
        assert jobs.job_status(first_job).status == "started"  # RQ does not know it died

        def stale():
            db.session.expire_all()
            return settle.is_stale(db.session.get(SettlementRun, run_id))

        wait_for(stale, timeout=5, what="the run to go stale", every=0.2)
        run = settle.retry_run(db.session.get(SettlementRun, run_id), finance(data))
        db.session.commit()  # the caller commits; the job starts then
        assert run.status is RunStatus.QUEUED and run.job_id != first_job

    worker = start_worker(committing_app, worker_queue, log, pause=0)
    try:
        worker.wait(timeout=120)  # a burst worker: it ends by itself; a loaded machine is slow
    finally:
        if worker.poll() is None:
            kill_worker(worker)
    assert worker.returncode == 0, log.read_text()

    with committing_app.app_context():
        run = db.session.get(SettlementRun, run_id)
        assert run.attempts == 2, log.read_text()
        assert_each_claim_once(run_id, data)

        committing_app.config["REDIS_URL"] = None  # release in-process (the fixture restores it)
        settle.request_release(run, finance(data))
        db.session.commit()  # the caller commits; the job starts then
        db.session.refresh(run)
        assert run.status is RunStatus.RELEASED
        assert {s.status.value for s in db.session.scalars(sa.select(Statement))} == {"released"}
