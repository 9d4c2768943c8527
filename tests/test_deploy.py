"""The README's production install, done as an operator does it (`-m deploy`).

Build the wheel, install it into a fresh virtual environment outside the checkout, and in an
empty working directory, against a new PostgreSQL database and Redis: `db upgrade`, `setup`,
the first users, master data from CSV files, gunicorn (two workers) and one `worker`; then a
claim travels through the API from a station to a released settlement, the sign-in page speaks
Chinese to a Chinese browser and `/readyz` is ready. Needs PostgreSQL and Redis (CI has both).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import PG_ADMIN_URL, _fresh_postgres_database, _postgres_reachable
from tests.conftest import drop_postgres_database as drop_database
from tests.packaging_support import ROOT, build_wheel

pytestmark = pytest.mark.deploy

REDIS_URL = "redis://127.0.0.1:6379/14"  # the suite uses 15; only 14 is flushed here
PASSWORD = "Deploy-pass-2026"  # noqa: S105 - a throwaway install's users
EXAMPLES = ROOT / "examples" / "csv"
VIN = "LWTA1C2B1RA000101"  # examples/csv/vehicles.csv: sold by ST-BJ01, LT-S5, basic 36 months


def redis_db_14():
    """A client on db 14, or None when Redis does not answer (or the run is told not to use it)."""
    if os.environ.get("TEST_REDIS_URL") == "none":
        return None
    from redis import Redis

    client = Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        client.close()
        return None
    return client


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Install:
    """The operator's machine: a virtual environment, a working directory and the environment."""

    venv: Path
    workdir: Path
    env: dict[str, str]
    processes: list[subprocess.Popen] = field(default_factory=list)

    def command(self, *args: str) -> list[str]:
        return [str(self.venv / "bin" / args[0]), *args[1:]]

    def run(self, *args: str) -> str:
        result = subprocess.run(
            self.command(*args),
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
        return result.stdout

    def run_together(self, *commands: tuple[str, ...]) -> list[str]:
        """Commands that do not depend on each other, at once (the machine has two cores)."""
        started = [
            (
                args,
                subprocess.Popen(
                    self.command(*args),
                    cwd=self.workdir,
                    env=self.env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                ),
            )
            for args in commands
        ]
        outputs = []
        for args, process in started:
            stdout, stderr = process.communicate(timeout=120)
            assert process.returncode == 0, f"{args}: {stdout}\n{stderr}"
            outputs.append(stdout)
        return outputs

    def start(self, name: str, *args: str) -> None:
        log = (self.workdir / f"{name}.log").open("w")
        self.processes.append(
            subprocess.Popen(
                self.command(*args),
                cwd=self.workdir,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        log.close()

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text()[-3000:]}" for path in self.workdir.glob("*.log")
        )

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)


class Site:
    """HTTP to the installed site, as a dealer system and a browser see it."""

    def __init__(self, base: str):
        self.base = base

    def get(self, path: str, headers: dict[str, str] | None = None):
        return self.open("GET", path, headers=headers)

    def open(self, method: str, path: str, *, token=None, body=None, headers=None):
        request = urllib.request.Request(self.base + path, method=method)  # noqa: S310 - loopback
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, data=data, timeout=30) as response:  # noqa: S310 - loopback
                return response.status, response.headers, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read().decode()

    def api(self, method: str, path: str, token=None, body=None, expect: int = 200) -> dict:
        status, _headers, text = self.open(method, "/api/v1" + path, token=token, body=body)
        assert status == expect, f"{method} {path}: {status} {text}"
        return json.loads(text)

    def token(self, username: str) -> str:
        body = {"username": username, "password": PASSWORD}
        return self.api("POST", "/auth/token", body=body)["token"]

    def wait_until_up(self, install: Install, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                if self.get("/healthz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        pytest.fail("gunicorn did not answer /healthz\n" + install.logs())

    def wait_for_run(self, token: str, run_id: int, status: str, install: Install) -> dict:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            run = self.api("GET", f"/settlement/runs/{run_id}", token)
            if run["status"] == status and run["step"] != "releasing":
                return run
            assert run["status"] != "failed", f"{run}\n{install.logs()}"
            time.sleep(0.5)
        pytest.fail(f"run {run_id} never became {status}: {run}\n{install.logs()}")


@pytest.fixture
def postgres_database():
    if os.environ.get("TEST_DATABASE_URL") == "sqlite" or not _postgres_reachable(PG_ADMIN_URL):
        pytest.skip("the deployer's test needs PostgreSQL at postgres@127.0.0.1:5432 (CI has it)")
    url = _fresh_postgres_database(f"portal_deploy_{os.getpid()}")
    yield url.replace("postgresql+psycopg://", "postgresql://")  # as an operator writes it
    drop_database(url)


@pytest.fixture
def redis_14():
    client = redis_db_14()
    if client is None:
        pytest.skip(f"the deployer's test needs Redis at {REDIS_URL} (CI has it)")
    client.flushdb()
    yield
    client.flushdb()
    client.close()


@pytest.fixture
def install(tmp_path, postgres_database, redis_14) -> Install:
    wheel = build_wheel(tmp_path / "build")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-compile", str(wheel)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    workdir = tmp_path / "srv"
    workdir.mkdir()
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"PYTHONPATH", "VIRTUAL_ENV", "FLASK_APP", "PYTHONHOME"}
        and not name.startswith(("TEST_", "PYTEST_"))
    }
    env.update(
        PATH=f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        DATABASE_URL=postgres_database,
        REDIS_URL=REDIS_URL,
        SECRET_KEY="deploy-test-" + os.urandom(16).hex(),
        UPLOAD_FOLDER=str(workdir / "uploads"),
    )
    setup = Install(venv, workdir, env)
    try:
        yield setup
    finally:
        setup.stop()


def test_an_operator_installs_the_wheel_and_a_claim_goes_from_station_to_released_settlement(
    install,
):
    run, together = install.run, install.run_together

    # Nothing comes from the checkout: the app and its settings are the installed ones.
    where = run("python", "-c", "import config, portal, wsgi; print(portal.__file__)")
    assert where.startswith(str(install.venv)), where

    run("flask", "--app", "wsgi", "db", "upgrade")
    assert "created" in run("flask", "--app", "wsgi", "setup", "--oem-name", "Huaxing Motors")

    def user(name: str, role: str, org: str) -> tuple[str, ...]:
        return ("flask", "--app", "wsgi", "users", "create", name, "--role", role, "--org", org,
                "--password", PASSWORD)  # fmt: skip

    def load(kind: str) -> tuple[str, ...]:
        return ("flask", "--app", "wsgi", "import", kind, str(EXAMPLES / f"{kind}.csv"))

    # The README's import order, the kinds that do not depend on each other at once.
    together(
        load("suppliers"),
        load("stations"),
        load("models"),
        load("fault_codes"),
        user("admin", "admin", "OEM"),
        user("auditor", "auditor", "OEM"),
        user("finance", "finance", "OEM"),
    )
    together(
        load("policies"), load("parts"), load("vehicles"), user("station", "station", "ST-BJ01")
    )

    port = free_port()
    install.start("gunicorn", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "wsgi:app")
    install.start("worker", "flask", "--app", "wsgi", "worker")
    site = Site(f"http://127.0.0.1:{port}")
    site.wait_until_up(install)

    status, _headers, body = site.get("/readyz")
    assert (status, json.loads(body)) == (200, {"status": "ok"}), install.logs()

    # A station files a repair claim (two headlamps: above the auto-approval threshold).
    station = site.token("station")
    today = date.today()
    claim = site.api(
        "POST",
        "/claims",
        station,
        {
            "type": "repair",
            "vin": VIN,
            "odometer_km": 18900,
            "repair_date": (today - timedelta(days=2)).isoformat(),
            "fault_date": (today - timedelta(days=3)).isoformat(),
            "fault_code": "B2A10",
            "causal_part": "L-3001",
            "description": "Left headlamp dark",
            "lines": [{"kind": "part", "part_number": "L-3001", "qty": 2}],
        },
        expect=201,
    )
    number = claim["number"]
    submitted = site.api("POST", f"/claims/{number}/submit", station, {})
    assert submitted["status"] == "in_review", submitted

    auditor = site.token("auditor")
    decided = site.api("POST", f"/claims/{number}/decision", auditor, {"action": "approve"})
    assert decided["status"] == "approved", decided

    # Finance settles the month on the worker: queued -> draft, then released.
    finance = site.token("finance")
    period = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
    started = site.api("POST", "/settlement/runs", finance, {"period": period}, expect=201)
    draft = site.wait_for_run(finance, started["id"], "draft", install)
    assert draft["totals"]["claim_count"] == 1, draft
    site.api("POST", f"/settlement/runs/{started['id']}/release", finance, {})
    site.wait_for_run(finance, started["id"], "released", install)
    assert site.api("GET", f"/claims/{number}", station)["status"] == "settled"
    statements = site.api("GET", "/statements?kind=station", station)
    assert [s["period"] for s in statements["items"]] == [period], statements

    # The sign-in page in Chinese for a Chinese browser: the catalogue came with the wheel.
    status, headers, page = site.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert status == 200 and "登录" in page
    assert headers["X-Request-ID"]
    assert site.get("/readyz")[0] == 200
