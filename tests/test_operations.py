"""Running the portal: health checks, request ids and log lines, and Redis going away."""

from __future__ import annotations

import json
import logging
import os
import sys
import uuid

import pytest
import sqlalchemy as sa

from portal import create_app, logs
from portal.extensions import db
from portal.settlement import engine
from portal.settlement.models import RunStatus, SettlementRun
from tests.conftest import (
    IsolatedClient,
    app_on_own_database,
    fresh_database_url,
    login,
    redis_url,
    test_config,
)
from tests.test_api_auth import api_for, error_of
from tests.test_settlement_crash import Data
from tests.test_settlement_crash import queued_run as waiting_run

DOWN_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1: refused at once
UNAVAILABLE_EN = "Background jobs are not available right now; try again later."
UNAVAILABLE_ZH = "后台任务暂时不可用，请稍后再试。"


@pytest.fixture
def make_app():
    """`make_app(url, **config)`: another app; its pooled connections are closed at the end."""
    made = []

    def make(database_url: str, **config):
        app = create_app(test_config(database_url, **config))
        app.test_client_class = IsolatedClient
        made.append(app)
        return app

    yield make
    for app in made:
        with app.app_context():
            db.engine.dispose()
        if "portal_redis" in app.extensions:
            app.extensions["portal_redis"].close()


@pytest.fixture
def down_app(app, database_url, make_app):
    """The suite's database, with Redis configured (jobs and the sign-in throttle) but not
    answering."""
    return make_app(
        database_url,
        REDIS_URL=DOWN_REDIS,
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI=DOWN_REDIS,
        RATELIMIT_KEY_PREFIX=f"test-{uuid.uuid4().hex}",
    )


@pytest.fixture
def unmigrated_app(tmp_path, db_session):
    url = fresh_database_url(f"portal_unmigrated_{os.getpid()}", tmp_path)
    with app_on_own_database(url, migrated=False) as app:
        yield app


def assert_bare(response, status: int, body: str) -> None:
    """A health answer: the status, the tiny body, no cookie and nothing cached."""
    assert response.status_code == status
    assert response.get_json() == {"status": body}
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"


# -- health checks --------------------------------------------------------------------------------


def test_healthz_answers_ok_without_sign_in(client):
    assert_bare(client.get("/healthz"), 200, "ok")


def test_readyz_answers_ok_when_the_database_is_at_the_migrations_head(client):
    assert_bare(client.get("/readyz"), 200, "ok")


def test_healthz_needs_no_database_but_readyz_does(make_app):
    app = make_app("postgresql+psycopg://postgres@127.0.0.1:1/nowhere")
    client = app.test_client()
    assert_bare(client.get("/healthz"), 200, "ok")
    assert_bare(client.get("/readyz"), 503, "unavailable")


def test_readyz_is_unavailable_on_a_database_behind_head_and_logs_why(unmigrated_app, caplog):
    with caplog.at_level(logging.WARNING, logger="portal.health"):
        response = unmigrated_app.test_client().get("/readyz")
    assert_bare(response, 503, "unavailable")
    assert "revision" not in response.get_data(as_text=True)  # the details go to the log only
    (warning,) = [r for r in caplog.records if r.name == "portal.health"]
    assert "not ready: database" in warning.getMessage()
    assert "is at revision none" in warning.getMessage()
    assert warning.request_id == response.headers["X-Request-ID"]


def test_readyz_is_unavailable_when_redis_is_configured_but_down(down_app, caplog):
    with caplog.at_level(logging.WARNING, logger="portal.health"):
        assert_bare(down_app.test_client().get("/readyz"), 503, "unavailable")
    assert any("not ready: redis" in r.getMessage() for r in caplog.records)


@pytest.mark.redis
def test_readyz_answers_ok_with_redis_reachable(database_url, make_app):
    url = redis_url()
    if url is None:
        pytest.skip("Redis is not reachable here; CI always has it")
    app = make_app(database_url, REDIS_URL=url)
    assert_bare(app.test_client().get("/readyz"), 200, "ok")


def test_health_checks_need_no_csrf_token_and_set_no_cookie(database_url, make_app):
    client = make_app(database_url, WTF_CSRF_ENABLED=True).test_client()
    for _ in range(3):
        assert_bare(client.get("/healthz"), 200, "ok")
        assert_bare(client.get("/readyz"), 200, "ok")
    assert client.head("/readyz").status_code == 200
    assert client.get_cookie("session") is None
    assert client.post("/healthz").status_code == 405


# -- request ids and log lines ---------------------------------------------------------------------


def test_a_request_gets_an_id_in_its_answer_and_on_its_access_line(client, caplog):
    with caplog.at_level(logging.INFO, logger="portal.access"):
        response = client.get("/login")
    request_id = response.headers["X-Request-ID"]
    assert len(request_id) == 32 and int(request_id, 16) >= 0
    (line,) = [r for r in caplog.records if r.name == "portal.access"]
    assert line.request_id == request_id
    assert (line.method, line.path, line.status) == ("GET", "/login", 200)
    assert isinstance(line.duration_ms, float) and line.duration_ms >= 0
    assert line.getMessage().startswith("GET /login 200 ")
    assert client.get("/login").headers["X-Request-ID"] != request_id


def test_a_sane_incoming_request_id_is_kept_on_every_line_of_the_request(unmigrated_app, caplog):
    with caplog.at_level(logging.DEBUG):
        response = unmigrated_app.test_client().get(
            "/readyz", headers={"X-Request-ID": "lb-7f3a:42"}
        )
    assert response.headers["X-Request-ID"] == "lb-7f3a:42"
    lines = [r for r in caplog.records if r.name in ("portal.health", "portal.access")]
    assert len(lines) == 2
    assert {r.request_id for r in lines} == {"lb-7f3a:42"}


@pytest.mark.parametrize(
    "incoming",
    ["x" * 129, "has space", "<script>", "引号", ""],
)
def test_an_insane_incoming_request_id_is_replaced(client, incoming):
    response = client.get("/healthz", headers={"X-Request-ID": incoming})
    assert response.headers["X-Request-ID"] != incoming
    assert len(response.headers["X-Request-ID"]) == 32


def test_lines_outside_a_request_carry_a_dash(caplog):
    with caplog.at_level(logging.INFO):
        logging.getLogger("portal.test").info("between requests")
    assert caplog.records[-1].request_id == "-"


@pytest.fixture
def json_logging(database_url, monkeypatch, make_app):
    """An app made with LOG_FORMAT=json; the text format is back after the test."""
    monkeypatch.setenv("LOG_FORMAT", "JSON")
    app = make_app(database_url)
    yield app
    monkeypatch.delenv("LOG_FORMAT")
    make_app(database_url)


def portal_handler() -> logging.Handler:
    (handler,) = [h for h in logging.getLogger().handlers if getattr(h, "portal_handler", False)]
    return handler


def test_log_format_json_writes_one_object_per_line_with_the_request_fields(json_logging, caplog):
    assert json_logging.config["LOG_FORMAT"] == "json"
    with caplog.at_level(logging.INFO, logger="portal.access"):
        response = json_logging.test_client().get("/login?next=/x")
    (record,) = [r for r in caplog.records if r.name == "portal.access"]
    line = json.loads(portal_handler().format(record))
    assert set(line) == {
        "timestamp", "level", "logger", "message", "request_id",
        "method", "path", "status", "duration_ms", "remote_addr",
    }  # fmt: skip
    assert line["request_id"] == response.headers["X-Request-ID"]
    assert (line["level"], line["logger"]) == ("INFO", "portal.access")
    assert (line["method"], line["path"], line["status"]) == ("GET", "/login", 200)
    assert line["timestamp"].endswith("+00:00")


@pytest.mark.parametrize(("proxies", "client_address"), [(0, "127.0.0.1"), (1, "203.0.113.9")])
def test_the_access_line_names_the_client_through_trusted_proxies_only(
    database_url, make_app, caplog, proxies, client_address
):
    app = make_app(database_url, TRUSTED_PROXIES=proxies)
    with caplog.at_level(logging.INFO, logger="portal.access"):
        app.test_client().get("/login", headers={"X-Forwarded-For": "203.0.113.9"})
    (line,) = [r for r in caplog.records if r.name == "portal.access"]
    assert line.remote_addr == client_address


def test_json_lines_keep_chinese_and_the_traceback():
    formatter = logs.JsonFormatter()
    try:
        raise ValueError("结算失败")
    except ValueError:
        record = logging.getLogger("portal.test").makeRecord(
            "portal.test", logging.ERROR, __file__, 1, "运行 %s", ("#7",), sys.exc_info()
        )
    line = json.loads(formatter.format(record))
    assert line["message"] == "运行 #7"
    assert "ValueError: 结算失败" in line["exception"]
    assert "method" not in line


def test_plain_text_is_the_default_log_format(app):
    assert app.config["LOG_FORMAT"] == "text"
    record = logging.getLogger("portal.test").makeRecord(
        "portal.test", logging.INFO, __file__, 1, "hello", (), None
    )
    record.request_id = "abc"
    assert portal_handler().format(record).endswith("INFO portal.test [abc]: hello")


# -- Redis down: pages keep working, jobs say they cannot start ------------------------------------


def queued_run(world) -> SettlementRun:
    """An open run waiting for a job that Redis cannot be asked about."""
    run = db.session.get(SettlementRun, waiting_run(Data(world.users["finance"].id, [])))
    run.job_id = "job-in-a-redis-that-is-gone"
    db.session.commit()
    return run


def runs() -> int:
    return db.session.scalar(sa.select(sa.func.count(SettlementRun.id)))


def test_with_redis_down_sign_in_and_pages_work(down_app, world):
    client = down_app.test_client()
    run = queued_run(world)
    response = login(client, world.usernames["finance"])
    assert response.status_code == 302, response.get_data(as_text=True)
    assert client.get("/settlement/").status_code == 200
    page = client.get(f"/settlement/runs/{run.id}")
    assert page.status_code == 200
    assert client.get(f"/settlement/runs/{run.id}/progress").status_code == 200


def test_with_redis_down_starting_a_run_on_the_page_says_why_and_writes_nothing(down_app, world):
    client = down_app.test_client()
    login(client, world.usernames["finance"])
    response = client.post("/settlement/runs", data={"period": engine.current_period()})
    assert response.status_code == 503
    assert UNAVAILABLE_EN in response.get_data(as_text=True)
    assert runs() == 0


def test_with_redis_down_the_message_is_in_chinese_for_a_chinese_browser(down_app, world):
    client = down_app.test_client()
    login(client, world.usernames["finance"])
    response = client.post(
        "/settlement/runs",
        data={"period": engine.current_period()},
        headers={"Accept-Language": "zh-CN,zh;q=0.9"},
    )
    assert response.status_code == 503
    assert UNAVAILABLE_ZH in response.get_data(as_text=True)


def test_with_redis_down_the_api_answers_503_unavailable_and_writes_nothing(down_app, world):
    finance = api_for(down_app.test_client(), world, "finance")
    response = finance.post("/settlement/runs", json={"period": engine.current_period()})
    error = error_of(response, 503)
    assert error["code"] == "unavailable"
    assert error["message"] == UNAVAILABLE_EN
    assert runs() == 0


def test_with_redis_down_the_api_still_reads_a_run(down_app, world):
    run = queued_run(world)
    finance = api_for(down_app.test_client(), world, "finance")
    response = finance.get(f"/settlement/runs/{run.id}")
    assert response.status_code == 200
    assert response.get_json()["status"] == "queued"
    assert error_of(finance.post(f"/settlement/runs/{run.id}/retry"), 503)["code"] in {
        "unavailable",
    }


def test_with_redis_down_a_jobs_progress_answers_503_json(down_app, world):
    client = down_app.test_client()
    login(client, world.usernames["finance"])
    response = client.get("/jobs/some-job", headers={"Accept": "application/json"})
    error = error_of(response, 503)
    assert error == {"code": "unavailable", "message": UNAVAILABLE_EN, "fields": {}}


@pytest.fixture
def draft_run(world, app, tmp_path, monkeypatch):
    """A computed draft (in-process, by the suite's app without Redis) of one approved claim."""
    from tests.factories import ClaimFactory, Fleet, SettlementRunFactory

    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path / "uploads"))
    ClaimFactory(fleet=Fleet.build(world), approved=True)
    return SettlementRunFactory(world=world)


def test_with_redis_down_releasing_a_draft_says_why_and_leaves_it_a_draft(
    down_app, world, draft_run
):
    client = down_app.test_client()
    login(client, world.usernames["finance"])
    response = client.post(f"/settlement/runs/{draft_run.id}/release")
    assert response.status_code == 503
    assert UNAVAILABLE_EN in response.get_data(as_text=True)
    db.session.refresh(draft_run)
    assert (draft_run.status, draft_run.step) == (RunStatus.DRAFT, "draft")


def test_with_redis_down_a_statement_pdf_not_yet_rendered_says_why(
    down_app, world, draft_run, tmp_path, monkeypatch
):
    from portal.settlement.models import Statement

    monkeypatch.setitem(down_app.config, "UPLOAD_FOLDER", str(tmp_path / "uploads"))
    statement = db.session.scalars(
        sa.select(Statement).where(Statement.run_id == draft_run.id)
    ).first()
    client = down_app.test_client()
    login(client, world.usernames["finance"])
    response = client.get(f"/settlement/statements/{statement.id}.pdf")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/settlement/statements/{statement.id}")
    assert UNAVAILABLE_EN in client.get(response.headers["Location"]).get_data(as_text=True)
    db.session.refresh(statement)
    assert statement.pdf_job_id is None
