"""Users: the CLI, the admin pages, and the rules that tie roles to organisations."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.auth import operations
from portal.auth.models import Role, User
from portal.errors import ValidationFailed
from portal.extensions import db
from tests import factories
from tests.conftest import login


def _user(name: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(User).where(User.username == name))


@pytest.mark.parametrize(
    ("role", "org_code"),
    [
        ("station", "ST-A"),
        ("supplier", "SU-A"),
        ("auditor", "OEM"),
        ("finance", "OEM"),
        ("admin", "OEM"),
    ],
)
def test_create_user_puts_each_role_in_its_kind_of_organisation(world, role, org_code):
    user = operations.create_user(f"new_{role}", role, org_code, "a-Good-pass-9")
    assert user.role is Role(role)
    assert user.organisation.code == org_code
    assert user.check_password("a-Good-pass-9")


@pytest.mark.parametrize(
    ("role", "org_code", "field"),
    [
        ("station", "OEM", "org"),
        ("station", "SU-A", "org"),
        ("supplier", "ST-A", "org"),
        ("auditor", "ST-A", "org"),
        ("finance", "SU-A", "org"),
        ("station", "NOPE", "org"),
        ("wizard", "OEM", "role"),
    ],
)
def test_create_user_refuses_a_role_outside_its_organisation_kind(world, role, org_code, field):
    with pytest.raises(ValidationFailed) as refused:
        operations.create_user("someone", role, org_code, "a-Good-pass-9")
    assert field in refused.value.fields


@pytest.mark.parametrize(
    ("username", "password", "field"),
    [
        ("station_a", "a-Good-pass-9", "username"),  # taken
        ("STATION_A", "a-Good-pass-9", "username"),  # taken, whatever the case
        ("x", "a-Good-pass-9", "username"),  # too short
        ("has space", "a-Good-pass-9", "username"),
        ("fresh", "short1", "password"),
        ("fresh", "onlyletters", "password"),
        ("fresh", "1234567890", "password"),
    ],
)
def test_create_user_refuses_bad_usernames_and_weak_passwords(world, username, password, field):
    with pytest.raises(ValidationFailed) as refused:
        operations.create_user(username, "auditor", "OEM", password)
    assert field in refused.value.fields


def test_cli_creates_a_user_who_can_sign_in(app, client, world):
    result = app.test_cli_runner().invoke(
        args=[
            "users",
            "create",
            "clerk",
            "--role",
            "station",
            "--org",
            "ST-B",
            "--password",
            "a-Good-pass-9",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Created clerk (station) in ST-B" in result.output
    assert login(client, "clerk", "a-Good-pass-9").headers["Location"].endswith("/dealer/")


def test_cli_refuses_with_the_reason_and_creates_nothing(app, world):
    result = app.test_cli_runner().invoke(
        args=[
            "users",
            "create",
            "clerk",
            "--role",
            "supplier",
            "--org",
            "ST-B",
            "--password",
            "a-Good-pass-9",
        ]
    )
    assert result.exit_code == 1
    assert "supplier user must belong to a supplier organisation" in result.output
    assert _user("clerk") is None


def test_cli_prompts_for_the_password_when_not_given(app, world):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "prompted", "--role", "auditor", "--org", "OEM"],
        input="a-Good-pass-9\na-Good-pass-9\n",
    )
    assert result.exit_code == 0, result.output
    assert _user("prompted").check_password("a-Good-pass-9")


def test_admin_lists_searches_and_filters_users(client, world, login_as):
    login_as("admin")
    page = client.get("/admin/users").get_data(as_text=True)
    assert "station_a" in page and "supplier_b" in page
    page = client.get("/admin/users?q=supplier").get_data(as_text=True)
    assert "supplier_a" in page and "station_a" not in page
    page = client.get("/admin/users?role=finance").get_data(as_text=True)
    assert "finance" in page and "auditor</td>" not in page


def test_admin_creates_a_user_on_the_page(client, world, login_as):
    login_as("admin")
    response = client.post(
        "/admin/users/new",
        data={
            "username": "newbie",
            "full_name": "New Bie",
            "role": "supplier",
            "org": "SU-B",
            "password": "a-Good-pass-9",
        },
    )
    assert response.status_code == 302
    assert _user("newbie").organisation.code == "SU-B"


def test_admin_page_shows_the_refusal_beside_the_field_and_creates_nothing(client, world, login_as):
    login_as("admin")
    response = client.post(
        "/admin/users/new",
        data={"username": "newbie", "role": "station", "org": "OEM", "password": "a-Good-pass-9"},
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "is-invalid" in page
    assert "station user must belong to a station organisation" in page
    assert _user("newbie") is None


def test_admin_disables_and_enables_a_user(client, world, login_as):
    target = world.users["station_b"]
    login_as("admin")
    assert client.post(f"/admin/users/{target.id}/active", data={"active": "0"}).status_code == 302
    assert _user("station_b").active is False
    assert login(client.application.test_client(), "station_b").status_code == 200  # refused
    client.post(f"/admin/users/{target.id}/active", data={"active": "1"})
    assert _user("station_b").active is True


def test_admin_cannot_disable_themself(client, world, login_as):
    login_as("admin")
    response = client.post(
        f"/admin/users/{world.users['admin'].id}/active",
        data={"active": "0"},
        follow_redirects=True,
    )
    assert "cannot disable your own account" in response.get_data(as_text=True)
    assert _user("admin").active is True


def test_admin_resets_a_password(client, world, login_as):
    target = world.users["supplier"]
    login_as("admin")
    response = client.post(
        f"/admin/users/{target.id}/password",
        data={"password": "brand-New-pass-7", "confirm": "brand-New-pass-7"},
    )
    assert response.status_code == 302
    assert _user("supplier_a").check_password("brand-New-pass-7")


def test_password_reset_refuses_a_mismatch_or_a_weak_password(client, world, login_as):
    target = world.users["supplier"]
    login_as("admin")
    for data in (
        {"password": "brand-New-pass-7", "confirm": "other-Pass-7"},
        {"password": "weak", "confirm": "weak"},
    ):
        response = client.post(f"/admin/users/{target.id}/password", data=data)
        assert response.status_code == 200
        assert "is-invalid" in response.get_data(as_text=True)
    assert _user("supplier_a").check_password("Test-password-1")


def test_unknown_user_id_is_404(client, world, login_as):
    login_as("admin")
    assert client.get("/admin/users/999999/password").status_code == 404


@pytest.mark.parametrize("role", ["station", "auditor", "finance", "supplier"])
def test_only_admins_manage_users(client, world, login_as, role):
    login_as(role)
    target = world.users["station_b"]
    assert client.get("/admin/users").status_code == 403
    assert client.post(f"/admin/users/{target.id}/active", data={"active": "0"}).status_code == 403
    assert client.post("/admin/users/new", data={"username": "x"}).status_code == 403
    assert _user("station_b").active is True


def test_the_users_list_pages(client, world, login_as):
    from portal.auth.models import Role

    for i in range(30):
        factories.user(Role.AUDITOR, world.oem, f"paged{i:02d}")
    login_as("admin")
    first = client.get("/admin/users").get_data(as_text=True)
    second = client.get("/admin/users?page=2").get_data(as_text=True)
    assert "page=2" in first and "Next" in first
    assert "paged29" not in first and "paged29" in second
