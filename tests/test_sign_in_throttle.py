"""The sign-in throttle: only failures count, per account and per client address, on the page
and for API tokens, in memory and in Redis; the client address behind trusted proxies only."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine

from portal import create_app
from portal.auth.models import Role, UserSession
from portal.db import utcnow
from tests import factories
from tests.conftest import redis_url, test_config

TOKEN_PATH = "/api/v1/auth/token"  # noqa: S105 - a path, not a secret
PROXY = "10.0.0.2"  # the reverse proxy's socket address
ACCOUNT_LOCKED = "Too many failed sign-ins for this account. Try again in 15 minutes."
NETWORK_LOCKED = "Too many failed sign-ins from your network. Try again in 15 minutes."
WRONG = "Wrong username or password"


@pytest.fixture(
    params=[pytest.param("memory", id="memory"), pytest.param("redis", marks=pytest.mark.redis)]
)
def storage(request) -> str:
    """Where the failures are counted: the process's memory, or Redis (shared by processes)."""
    if request.param == "memory":
        return "memory://"
    url = redis_url()
    if url is None:
        pytest.skip("Redis is not reachable here; CI always has it")
    return url


def throttled_app(database_url: str, storage: str = "memory://", **settings):
    """An app with the throttle on (the suite's configuration turns it off), counting in its
    own key space."""
    return create_app(
        test_config(
            database_url,
            RATELIMIT_ENABLED=True,
            RATELIMIT_STORAGE_URI=storage,
            RATELIMIT_KEY_PREFIX=f"test-{uuid.uuid4().hex}",
            **settings,
        )
    )


def page_sign_in(
    client, username: str, password: str = factories.PASSWORD, *, addr=PROXY, xff=None
):
    headers = {"X-Forwarded-For": xff} if xff else {}
    return client.post(
        "/login",
        data={"username": username, "password": password},
        headers=headers,
        environ_base={"REMOTE_ADDR": addr},
    )


def api_sign_in(client, username: str, password: str = factories.PASSWORD, *, addr=PROXY, xff=None):
    headers = {"X-Forwarded-For": xff} if xff else {}
    return client.post(
        TOKEN_PATH,
        json={"username": username, "password": password},
        headers=headers,
        environ_base={"REMOTE_ADDR": addr},
    )


@pytest.fixture
def clock():
    """Time stands still until the test moves it (after the world's users were made)."""
    start = utcnow().replace(microsecond=0) + timedelta(minutes=1)
    with time_machine.travel(start, tick=False) as traveller:
        yield traveller


# -- a company behind one proxy --------------------------------------------------------------------


def test_two_hundred_colleagues_sign_in_through_one_proxy_within_a_minute(
    database_url, world, storage, clock
):
    app = throttled_app(database_url, storage, TRUSTED_PROXIES=1)
    names = [f"clerk{i:03d}" for i in range(200)]
    factories.users(Role.STATION, world.stations[0], names)
    for i, name in enumerate(names):
        # Half of them behind one NAT address of the office, half with addresses of their own.
        xff = "192.0.2.10" if i % 2 else f"192.0.2.{i // 2 + 11}"
        page = page_sign_in(app.test_client(), name, xff=xff)
        assert page.status_code == 302, (name, page.status_code)
        token = api_sign_in(app.test_client(), name, xff=xff)
        assert token.status_code == 200, (name, token.status_code)
        clock.shift(timedelta(milliseconds=250))  # 200 people in 50 seconds


def test_a_few_typos_in_the_office_slow_nobody(database_url, world, clock):
    app = throttled_app(database_url, TRUSTED_PROXIES=1)
    names = [f"clerk{i:03d}" for i in range(30)]
    factories.users(Role.STATION, world.stations[0], names)
    for name in names:
        assert (
            page_sign_in(app.test_client(), name, "Typo-password-1", xff="192.0.2.10").status_code
            == 200
        )
        assert page_sign_in(app.test_client(), name, xff="192.0.2.10").status_code == 302


# -- an account with too many failures -------------------------------------------------------------


def test_failed_sign_ins_lock_that_account_only_until_the_lock_passes(
    database_url, world, storage, clock
):
    app = throttled_app(database_url, storage)
    client = app.test_client()
    for attempt in range(1, 21):
        response = page_sign_in(client, "station_a", f"Guess-number-{attempt}")
        page = response.get_data(as_text=True)
        if attempt <= 5:
            assert response.status_code == 200, attempt
            assert WRONG in page
        else:
            assert response.status_code == 429, attempt
            assert response.headers["Retry-After"] == "900"
            assert ACCOUNT_LOCKED in page
            assert 'name="username"' in page  # the form again, to try later
    # Another account from the same address is not slowed down.
    assert page_sign_in(app.test_client(), "station_b").status_code == 302
    # The locked account is refused even with the right password, on the page and in the API.
    refused = page_sign_in(client, "STATION_A")
    assert refused.status_code == 429
    assert client.get("/dealer/").status_code == 302  # still signed out
    assert api_sign_in(client, "station_a").status_code == 429
    clock.shift(timedelta(minutes=10))
    refused = page_sign_in(client, "station_a")
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "300"
    assert "Try again in 5 minutes." in refused.get_data(as_text=True)
    clock.shift(timedelta(minutes=5, seconds=1))  # the oldest failure has left the window
    assert page_sign_in(client, "station_a").status_code == 302


def test_token_requests_count_and_refuse_like_the_page(database_url, world, storage, clock):
    app = throttled_app(database_url, storage)
    client = app.test_client()
    for _ in range(3):
        assert page_sign_in(client, "auditor", "Wrong-password-1").status_code == 200
    for _ in range(2):
        assert api_sign_in(client, "auditor", "Wrong-password-1").status_code == 401
    response = api_sign_in(client, "auditor")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "900"
    assert response.get_json() == {
        "error": {"code": "rate_limited", "message": ACCOUNT_LOCKED, "fields": {}}
    }
    assert api_sign_in(client, "finance").status_code == 200
    clock.shift(timedelta(minutes=15, seconds=1))
    assert api_sign_in(client, "auditor").status_code == 200


def test_an_unknown_username_is_locked_with_the_same_words(database_url, world, clock):
    app = throttled_app(database_url)
    client = app.test_client()
    for username in ("station_a", "nobody-here"):
        answers = [page_sign_in(client, username, "Wrong-password-1") for _ in range(6)]
        assert [a.status_code for a in answers] == [200] * 5 + [429]
        assert ACCOUNT_LOCKED in answers[-1].get_data(as_text=True)
        api = api_sign_in(client, username, "Wrong-password-1")
        assert api.status_code == 429
        assert api.get_json()["error"]["message"] == ACCOUNT_LOCKED


def test_a_successful_sign_in_forgets_the_accounts_failures(database_url, world, clock):
    app = throttled_app(database_url)
    client = app.test_client()
    for _ in range(4):
        assert page_sign_in(client, "supplier_a", "Wrong-password-1").status_code == 200
    assert page_sign_in(client, "supplier_a").status_code == 302
    client = app.test_client()
    for _ in range(5):
        assert page_sign_in(client, "supplier_a", "Wrong-password-1").status_code == 200
    assert page_sign_in(client, "supplier_a").status_code == 429


def test_the_account_limit_is_a_setting(database_url, world, clock):
    app = throttled_app(database_url, LOGIN_ACCOUNT_FAILURES="2 per hour")
    client = app.test_client()
    assert [page_sign_in(client, "admin", "Wrong-1").status_code for _ in range(3)] == [
        200,
        200,
        429,
    ]
    response = page_sign_in(client, "admin")
    assert response.headers["Retry-After"] == "3600"
    assert "Try again in 60 minutes." in response.get_data(as_text=True)


def test_the_refusal_is_in_the_users_language(database_url, world, clock):
    app = throttled_app(database_url)
    client = app.test_client()
    client.post("/lang/zh_CN")
    for _ in range(6):
        response = page_sign_in(client, "station_a", "Wrong-password-1")
    assert response.status_code == 429
    assert "此账户登录失败次数过多" in response.get_data(as_text=True)


# -- one address with many failures ----------------------------------------------------------------


def test_many_failures_from_one_address_are_refused_for_every_account(
    database_url, world, storage, clock
):
    app = throttled_app(database_url, storage, LOGIN_ADDRESS_FAILURES="10 per 15 minutes")
    client = app.test_client()
    for i in range(10):  # one guess on each of ten accounts: no account limit is reached
        assert (
            page_sign_in(client, f"someone{i}", "Spring-2026-guess", addr="203.0.113.9").status_code
            == 200
        )
    response = page_sign_in(client, "station_a", addr="203.0.113.9")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "900"
    assert NETWORK_LOCKED in response.get_data(as_text=True)
    assert api_sign_in(client, "station_a", addr="203.0.113.9").status_code == 429
    assert page_sign_in(app.test_client(), "station_a", addr="198.51.100.4").status_code == 302
    clock.shift(timedelta(minutes=15, seconds=1))
    assert page_sign_in(app.test_client(), "station_a", addr="203.0.113.9").status_code == 302


def test_the_default_address_limit_is_a_hundred_failures(database_url, world, clock):
    app = throttled_app(database_url)
    for i in range(100):
        assert api_sign_in(app.test_client(), f"user{i}", "Summer-2026-guess").status_code == 401
    assert api_sign_in(app.test_client(), "station_a").status_code == 429


# -- the client address ----------------------------------------------------------------------------


def test_a_forged_x_forwarded_for_is_ignored_without_trusted_proxies(database_url, world, clock):
    app = throttled_app(database_url, LOGIN_ADDRESS_FAILURES="3 per 15 minutes")
    assert app.config["TRUSTED_PROXIES"] == 0
    for i in range(3):
        forged = f"198.51.100.{i + 1}"
        response = page_sign_in(
            app.test_client(), f"x{i}", "Wrong-password-1", addr="203.0.113.9", xff=forged
        )
        assert response.status_code == 200
    # Every attempt came from 203.0.113.9 whatever the header said: its limit is reached.
    response = page_sign_in(app.test_client(), "station_a", addr="203.0.113.9", xff="198.51.100.99")
    assert response.status_code == 429


def test_behind_a_trusted_proxy_each_client_address_counts_for_itself(database_url, world, clock):
    app = throttled_app(database_url, TRUSTED_PROXIES=1, LOGIN_ADDRESS_FAILURES="3 per 15 minutes")
    for i in range(3):
        assert (
            page_sign_in(app.test_client(), f"x{i}", "Wrong-1", xff="198.51.100.1").status_code
            == 200
        )
    assert page_sign_in(app.test_client(), "station_a", xff="198.51.100.1").status_code == 429
    # Another client behind the same proxy; a client header added in front is not believed.
    assert page_sign_in(app.test_client(), "station_a", xff="198.51.100.2").status_code == 302
    spoofed = page_sign_in(app.test_client(), "station_b", xff="198.51.100.2, 198.51.100.1")
    assert spoofed.status_code == 429


@pytest.mark.parametrize(
    ("proxies", "seen"), [(0, "203.0.113.9"), (1, "198.51.100.7"), (2, "198.51.100.7")]
)
def test_the_sessions_client_address_comes_through_trusted_proxies_only(
    database_url, world, db_session, proxies, seen
):
    app = throttled_app(database_url, TRUSTED_PROXIES=proxies)
    xff = "198.51.100.7, 203.0.113.9" if proxies == 2 else "198.51.100.7"
    client = app.test_client()
    assert page_sign_in(client, "station_a", addr="203.0.113.9", xff=xff).status_code == 302
    record = db_session.scalar(sa.select(UserSession))
    assert record.address == seen


def test_trusted_proxies_come_from_the_environment(monkeypatch, database_url):
    monkeypatch.setenv("TRUSTED_PROXIES", "2")
    monkeypatch.setenv("LOGIN_ACCOUNT_FAILURES", "8 per 30 minutes")
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "x"})
    assert app.config["TRUSTED_PROXIES"] == 2
    assert app.config["LOGIN_ACCOUNT_FAILURES"] == "8 per 30 minutes"
    assert app.wsgi_app.x_for == 2


# -- switched off, or its storage down -------------------------------------------------------------


def test_with_ratelimit_disabled_nothing_is_refused(client, world):
    for _ in range(20):
        assert page_sign_in(client, "station_a", "Wrong-password-1").status_code == 200
    assert page_sign_in(client, "station_a").status_code == 302


def test_sign_in_goes_on_when_redis_cannot_be_reached(database_url, world):
    app = throttled_app(database_url, "redis://127.0.0.1:1/0")
    assert page_sign_in(app.test_client(), "station_a", "Wrong-password-1").status_code == 200
    assert page_sign_in(app.test_client(), "station_a").status_code == 302
    assert api_sign_in(app.test_client(), "station_a").status_code == 200
