"""Signing in and out, sessions, CSRF, role gates (the sign-in throttle: test_sign_in_throttle)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine

from portal import create_app
from portal.auth.models import Role, User, UserSession
from portal.db import utcnow
from portal.extensions import db
from tests import factories
from tests.conftest import login, test_config


def test_a_user_signs_in_with_the_right_password(client, world, db_session):
    response = login(client, "station_a")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/dealer/")
    db_session.expire_all()
    assert db.session.get(User, world.users["station"].id).last_login_at is not None


def test_usernames_are_case_insensitive_at_sign_in(client, world):
    assert login(client, "STATION_A").status_code == 302


@pytest.mark.parametrize(("username", "password"), [("station_a", "wrong-pass-1"), ("nobody", "x")])
def test_a_wrong_password_or_unknown_user_gets_one_message(client, world, username, password):
    response = login(client, username, password)
    assert response.status_code == 200
    assert "Wrong username or password" in response.get_data(as_text=True)
    assert client.get("/dealer/").status_code == 302  # still signed out


def test_a_disabled_user_cannot_sign_in(client, world):
    world.users["station"].active = False
    db.session.flush()
    response = login(client, "station_a")
    assert response.status_code == 200
    assert "disabled" in response.get_data(as_text=True)


def test_a_disabled_user_is_signed_out_of_an_open_session(client, world, login_as):
    login_as("station")
    assert client.get("/dealer/").status_code == 200
    world.users["station"].active = False
    db.session.flush()
    assert client.get("/dealer/").status_code == 302


def test_passwords_are_hashed_with_argon2(world):
    user = world.users["station"]
    assert user.password_hash.startswith("$argon2id$")
    assert factories.PASSWORD not in user.password_hash


def test_production_hashes_passwords_at_full_argon2_cost(database_url):
    """Only the suite's configuration lowers the cost; an app without it hashes at RFC 9106's
    low-memory profile (64 MiB, 3 passes)."""
    from argon2 import extract_parameters
    from argon2.profiles import RFC_9106_LOW_MEMORY

    config = test_config(database_url)
    del config["PASSWORD_HASH_PARAMETERS"]
    production = create_app(config)
    with production.app_context():
        user = User()
        user.set_password(factories.PASSWORD)
        assert extract_parameters(user.password_hash) == RFC_9106_LOW_MEMORY
        assert user.check_password(factories.PASSWORD)
        assert not user.check_password("Wrong-password-1")


def test_the_session_is_cleared_at_sign_in(client, world):
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    login(client, "station_a")
    with client.session_transaction() as session:
        assert "planted" not in session


def test_sign_in_follows_only_local_next_urls(client, world):
    response = client.post(
        "/login?next=https://evil.example/x",
        data={"username": "station_a", "password": factories.PASSWORD},
    )
    assert response.headers["Location"].endswith("/dealer/")
    client.post("/logout")
    response = client.post(
        "/login?next=/dealer/", data={"username": "station_a", "password": factories.PASSWORD}
    )
    assert response.headers["Location"] == "/dealer/"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/x",
        "/\\evil.example",
        "https://evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
    ],
)
def test_sign_in_never_redirects_off_site(client, world, target):
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"username": "station_a", "password": factories.PASSWORD},
    )
    assert response.headers["Location"].endswith("/dealer/")


def test_sign_out_needs_a_post_and_ends_the_session(client, world, login_as):
    login_as("auditor")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 302
    assert client.get("/oem/review").status_code == 302


def _copy_of_session_cookie(client):
    """Another browser holding a copy of `client`'s session cookie, as a thief would."""
    thief = client.application.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def _open_sessions(user) -> list[UserSession]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(UserSession).where(
                UserSession.user_id == user.id, UserSession.revoked_at.is_(None)
            )
        )
    )


def test_a_copied_session_cookie_is_signed_out_by_the_sign_out(client, world, login_as):
    login_as("station")
    thief = _copy_of_session_cookie(client)
    assert thief.get("/dealer/").status_code == 200  # the copy works while the session is open
    client.post("/logout")
    response = thief.get("/dealer/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert _open_sessions(world.users["station"]) == []


def test_signing_out_ends_only_that_browsers_session(app, client, world, login_as):
    login_as("auditor")
    other = app.test_client()
    assert login(other, "auditor").status_code == 302
    other.post("/logout")
    assert client.get("/oem/review").status_code == 200
    assert other.get("/oem/review").status_code == 302
    assert len(_open_sessions(world.users["auditor"])) == 1


def test_a_password_reset_ends_every_session_of_the_user(app, client, world, login_as):
    login_as("finance")
    second_browser = app.test_client()
    assert login(second_browser, "finance").status_code == 302
    assert client.get("/settlement/").status_code == 200
    admin = app.test_client()
    assert login(admin, "admin").status_code == 302
    target = world.users["finance"]
    reset = admin.post(
        f"/admin/users/{target.id}/password",
        data={"password": "brand-New-pass-7", "confirm": "brand-New-pass-7"},
    )
    assert reset.status_code == 302
    assert client.get("/settlement/").status_code == 302
    assert second_browser.get("/settlement/").status_code == 302
    assert _open_sessions(target) == []
    assert admin.get("/admin/users").status_code == 200  # the admin's own session goes on


def test_a_password_set_by_any_path_ends_older_sessions(client, world, login_as):
    login_as("finance")
    world.users["finance"].set_password("brand-New-pass-7")
    db.session.flush()
    assert client.get("/settlement/").status_code == 302


def test_disabling_a_user_revokes_their_sessions_for_good(app, client, world, login_as):
    login_as("station")
    admin = app.test_client()
    login(admin, "admin")
    target = world.users["station"]
    admin.post(f"/admin/users/{target.id}/active", data={"active": "0"})
    assert _open_sessions(target) == []
    admin.post(f"/admin/users/{target.id}/active", data={"active": "1"})
    assert client.get("/dealer/").status_code == 302  # enabled again, but that session is over
    assert login(app.test_client(), "station_a").status_code == 302


def test_a_session_cookie_of_the_old_user_id_format_signs_nobody_in(client, world):
    user = world.users["station"]
    with client.session_transaction() as session:
        session["_user_id"] = f"{user.id}:{int(user.password_changed_at.timestamp())}"
        session["_fresh"] = True
    assert client.get("/dealer/").status_code == 302


def test_the_session_is_seen_again_at_most_every_five_minutes(client, world, login_as):
    with time_machine.travel(utcnow() + timedelta(minutes=1), tick=False) as clock:
        login_as("station")
        (record,) = _open_sessions(world.users["station"])
        signed_in = record.last_seen_at
        assert record.created_at == signed_in
        clock.shift(timedelta(minutes=4))
        assert client.get("/dealer/").status_code == 200
        assert _open_sessions(world.users["station"])[0].last_seen_at == signed_in
        clock.shift(timedelta(minutes=2))
        assert client.get("/dealer/").status_code == 200
        assert _open_sessions(world.users["station"])[0].last_seen_at == utcnow()


@pytest.mark.parametrize(
    ("role", "forbidden"),
    [
        ("station", ["/oem/review", "/settlement/", "/settlement/chargebacks", "/admin/users"]),
        ("supplier", ["/dealer/", "/oem/review", "/settlement/", "/admin/masterdata/"]),
        ("auditor", ["/dealer/", "/settlement/", "/admin/users"]),
        ("finance", ["/dealer/", "/oem/review", "/admin/users"]),
        ("admin", ["/dealer/", "/oem/review", "/settlement/chargebacks"]),
    ],
)
def test_roles_get_403_on_other_roles_pages(client, world, login_as, role, forbidden):
    login_as(role)
    for path in forbidden:
        assert client.get(path).status_code == 403, path


def test_signed_out_visitors_are_sent_to_login_with_next(client):
    response = client.get("/admin/users")
    assert response.status_code == 302
    assert "/login?next=" in response.headers["Location"]


def test_pages_carry_security_headers(client):
    response = client.get("/login")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_session_cookie_is_http_only_and_strict_session_protection(app, client, world):
    response = login(client, "station_a")
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert app.config["SESSION_PROTECTION"] == "strong"
    assert app.config["MAX_CONTENT_LENGTH"] > 0


def test_forms_without_a_csrf_token_are_refused(database_url, world):
    app = create_app(test_config(database_url, WTF_CSRF_ENABLED=True))
    client = app.test_client()
    response = client.post("/login", data={"username": "station_a", "password": factories.PASSWORD})
    assert response.status_code == 400
    assert "form expired" in response.get_data(as_text=True)


def test_role_decides_the_organisation_kind():
    assert Role.STATION.org_kind.value == "station"
    assert Role.SUPPLIER.org_kind.value == "supplier"
    assert {Role.AUDITOR.org_kind, Role.FINANCE.org_kind, Role.ADMIN.org_kind} == {
        Role.ADMIN.org_kind
    }
