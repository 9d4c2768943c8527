"""API tokens: issue, refusal, expiry, disabled users, the bearer challenge, CSRF."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal import create_app
from portal.auth.models import ApiToken
from portal.db import utcnow
from tests import factories
from tests.conftest import test_config

API = "/api/v1"
REFUSED = "Wrong username or password, or the account is disabled."


# -- helpers other API test modules use ------------------------------------------------------------


def token_for(client, username: str, password: str = factories.PASSWORD) -> str:
    """A bearer token obtained the way a dealer system gets one: through the API."""
    response = client.post(f"{API}/auth/token", json={"username": username, "password": password})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["token"]


class Api:
    """The test client with a bearer token on every request and paths under /api/v1."""

    def __init__(self, client, token: str):
        self.client = client
        self.token = token

    def open(self, method: str, path: str, **kwargs):
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return self.client.open(f"{API}{path}", method=method, headers=headers, **kwargs)

    def get(self, path: str, **kwargs):
        return self.open("GET", path, **kwargs)

    def post(self, path: str, **kwargs):
        return self.open("POST", path, **kwargs)

    def patch(self, path: str, **kwargs):
        return self.open("PATCH", path, **kwargs)


def api_for(client, world, role: str) -> Api:
    """An `Api` signed in as the world's user `role` ("station", "auditor", "station_b"...)."""
    return Api(client, token_for(client, world.usernames[role]))


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "fields"}
    return error


# -- issuing tokens --------------------------------------------------------------------------------


def test_a_token_is_issued_for_good_credentials_and_only_its_hash_is_kept(
    client, world, db_session
):
    before = utcnow()
    response = client.post(
        f"{API}/auth/token", json={"username": "station_a", "password": factories.PASSWORD}
    )
    assert response.status_code == 200
    body = response.get_json()
    token = body["token"]
    assert len(token) >= 43  # secrets.token_urlsafe(32)
    record = db_session.scalar(sa.select(ApiToken))
    assert record.user == world.users["station"]
    assert record.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in record.token_hash
    assert record.expires_at - before >= timedelta(days=30) - timedelta(minutes=1)
    assert record.expires_at - before <= timedelta(days=30, minutes=1)
    assert body["expires_at"] == record.expires_at.isoformat()
    assert record.last_used_at is None


def test_each_request_for_a_token_gets_a_new_one(client, world):
    assert token_for(client, "station_a") != token_for(client, "station_a")


def test_the_username_is_not_case_sensitive(client, world):
    assert token_for(client, "STATION_A")


def test_the_token_lifetime_is_configurable(app, client, world, db_session, monkeypatch):
    monkeypatch.setitem(app.config, "API_TOKEN_LIFETIME_DAYS", 1)
    token_for(client, "auditor")
    record = db_session.scalar(sa.select(ApiToken))
    assert record.expires_at - record.created_at == timedelta(days=1)


@pytest.mark.parametrize(
    ("username", "password"),
    [("station_a", "Wrong-password-1"), ("nobody", factories.PASSWORD), ("disabled", None)],
)
def test_bad_credentials_and_disabled_users_get_the_same_401(
    client, world, db_session, username, password
):
    if username == "disabled":
        world.users["finance"].active = False
        db_session.flush()
        username, password = "finance", factories.PASSWORD
    response = client.post(f"{API}/auth/token", json={"username": username, "password": password})
    error = error_of(response, 401)
    assert error == {"code": "unauthorized", "message": REFUSED, "fields": {}}
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert db_session.scalar(sa.select(sa.func.count(ApiToken.id))) == 0


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ("not json at all", {"body"}),
        ("[1, 2]", {"body"}),
        ("", set()),
        ("{}", {"username", "password"}),
        ('{"username": "station_a"}', {"password"}),
        ('{"username": 5, "password": "x"}', {"username"}),
    ],
)
def test_a_malformed_token_request_is_400(client, world, body, fields):
    response = client.post(
        f"{API}/auth/token", data=body, headers={"Content-Type": "application/json"}
    )
    error = error_of(response, 400)
    assert error["code"] == "malformed"
    assert set(error["fields"]) == fields


# -- using tokens ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "invalid_token"),
    [
        (None, False),
        ("Basic c3RhdGlvbl9hOlRlc3Q=", False),
        ("Bearer", False),
        ("Bearer ", False),
        ("Bearer not-a-token-we-issued", True),
    ],
)
def test_without_a_valid_token_the_api_answers_401_with_a_bearer_challenge(
    client, world, header, invalid_token
):
    headers = {"Authorization": header} if header else {}
    response = client.get(f"{API}/claims", headers=headers)
    error = error_of(response, 401)
    assert error["code"] == "unauthorized"
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer")
    assert ('error="invalid_token"' in challenge) is invalid_token


def test_a_signed_in_browser_session_is_no_api_credential(client, world, login_as):
    login_as("station")
    assert error_of(client.get(f"{API}/claims"), 401)["code"] == "unauthorized"


def test_a_valid_token_opens_the_api(client, world):
    api = api_for(client, world, "station")
    assert api.get("/claims").status_code == 200


def test_an_expired_token_is_refused(client, world, db_session):
    api = api_for(client, world, "station")
    record = db_session.scalar(sa.select(ApiToken))
    record.expires_at = utcnow() - timedelta(seconds=1)
    db_session.flush()
    response = api.get("/claims")
    error_of(response, 401)
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_a_disabled_users_token_stops_working(client, world, db_session):
    api = api_for(client, world, "station")
    world.users["station"].active = False
    db_session.flush()
    error_of(api.get("/claims"), 401)


def test_a_password_change_revokes_older_tokens(client, world, db_session):
    api = api_for(client, world, "station")
    world.users["station"].set_password("A-new-password-2")
    db_session.flush()
    error_of(api.get("/claims"), 401)
    fresh = Api(client, token_for(client, "station_a", "A-new-password-2"))
    assert fresh.get("/claims").status_code == 200


def test_using_a_token_records_when_it_was_last_used(client, world, db_session):
    api = api_for(client, world, "auditor")
    assert db_session.scalar(sa.select(ApiToken)).last_used_at is None
    before = utcnow()
    assert api.get("/claims").status_code == 200
    db_session.expire_all()
    used = db_session.scalar(sa.select(ApiToken)).last_used_at
    assert used is not None and used >= before - timedelta(seconds=1)


def test_unknown_api_paths_and_methods_answer_json(client, world):
    assert error_of(client.get(f"{API}/nothing-here"), 404)["code"] == "not_found"
    assert error_of(client.delete(f"{API}/claims"), 405)["code"] == "method_not_allowed"


# -- CSRF (the throttle on token requests: test_sign_in_throttle.py) -----------------------------


def test_the_api_needs_no_csrf_token(database_url, world):
    strict = create_app(test_config(database_url, WTF_CSRF_ENABLED=True))
    client = strict.test_client()
    body = {"username": "nobody", "password": "Wrong-password-1"}
    # Refused for the credentials, not for a missing CSRF token (which would be a 400).
    assert client.post(f"{API}/auth/token", json=body).status_code == 401
