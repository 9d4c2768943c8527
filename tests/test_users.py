"""Users: the CLI, the admin pages, and the rules that tie roles to organisations."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.auth import operations
from portal.auth.models import Role, User
from portal.auth.operations import MIN_PASSWORD_LENGTH, password_problem
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
        ("fresh", "Password1", "password"),  # short, and the most common password there is
        ("fresh", "Password1234", "password"),  # long enough, and common
        ("fresh", "qwertyuiop12", "password"),  # a keyboard row
        ("fresh", "123456789012", "password"),
        ("zhangwei", "Zhangwei-1990", "password"),  # the username and a year
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
    assert (
        "Supplier users must belong to an organisation of the kind supplier; ST-B is of the kind "
        "station." in result.output
    )
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


@pytest.mark.parametrize(
    ("role", "password", "refusal"),
    [
        (
            "station",
            "a-Good-pass-9",
            "Station users must belong to an organisation of the kind station; OEM is of the kind",
        ),
        ("auditor", "Password1234", "common password"),  # a weak initial password
    ],
)
def test_admin_page_shows_the_refusal_beside_the_field_and_creates_nothing(
    client, world, login_as, role, password, refusal
):
    login_as("admin")
    response = client.post(
        "/admin/users/new",
        data={"username": "newbie", "role": role, "org": "OEM", "password": password},
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "is-invalid" in page
    assert refusal in page  # role and kind read as words inside the sentence ("station")
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

    for i in range(30):
        factories.UserFactory(auditor=True, organisation=world.oem, username=f"paged{i:02d}")
    login_as("admin")
    first = client.get("/admin/users").get_data(as_text=True)
    second = client.get("/admin/users?page=2").get_data(as_text=True)
    assert "page=2" in first and "Next" in first
    assert "paged29" not in first and "paged29" in second


# -- strong passwords on every path that sets one -------------------------------------------------

WEAK = "Password1234"  # 12 characters, and one of the most common passwords with digits added


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("Tr0ub4dor&3", "at least 12 characters"),
        ("Password1234", "common password"),
        ("password1234", "common password"),
        ("qwertyuiop[]", "keyboard"),
        ("aaaaaaaaaaaa", "Repeated characters"),
        ("abcdefghijkl", "easy to guess"),
        ("123456789012", "common password"),
    ],
)
def test_short_and_guessable_passwords_are_refused_with_advice(password, reason):
    problem = password_problem(password)
    assert problem is not None
    assert reason in problem
    assert "unrelated words" in problem  # what to do instead


@pytest.mark.parametrize(
    "password", ["correct horse battery staple", "Mango-tractor-Lantern", "a-Good-pass-9"]
)
def test_long_unguessable_passwords_pass(password):
    assert password_problem(password) is None


def test_the_minimum_length_is_twelve():
    assert MIN_PASSWORD_LENGTH == 12
    assert "at least 12 characters" in password_problem("Xq7#vL9!pK2")  # 11, random


@pytest.mark.parametrize(
    ("password", "personal"),
    [
        ("Zhangwei-1990", ("clerk", "Zhang Wei", None)),
        ("Huangmeiling-88", ("huang.meiling", "", None)),
        ("Mchen@example.com1", ("someone", "", "mchen@example.com")),
    ],
)
def test_a_password_built_from_the_username_or_name_is_refused(password, personal):
    assert password_problem(password) is None  # strong enough for somebody else
    assert "username or the person's name" in password_problem(password, *personal)


def test_reset_password_refuses_a_weak_password_and_keeps_the_old_one(world):
    user = world.users["supplier"]
    with pytest.raises(ValidationFailed) as refused:
        operations.reset_password(user, WEAK)
    assert "common password" in refused.value.fields["password"]
    with pytest.raises(ValidationFailed):
        operations.reset_password(user, f"{user.username}-2026")  # the username and a year
    assert user.check_password(factories.PASSWORD)


def test_create_user_weighs_the_new_users_own_name(world):
    with pytest.raises(ValidationFailed) as refused:
        operations.create_user("lina", "auditor", "OEM", "Wanglina-2026", full_name="Wang Lina")
    assert "username or the person's name" in refused.value.fields["password"]
    assert _user("lina") is None


@pytest.mark.parametrize("password", ["Password1", WEAK])
def test_cli_refuses_a_weak_password_and_creates_nothing(app, world, password):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "clerk", "--role", "auditor", "--org", "OEM"],
        input=f"{password}\n{password}\n",
    )
    assert result.exit_code == 1
    assert "password:" in result.output
    assert _user("clerk") is None


def test_admin_page_refuses_a_weak_new_password(client, world, login_as):
    target = world.users["supplier"]
    login_as("admin")
    response = client.post(
        f"/admin/users/{target.id}/password", data={"password": WEAK, "confirm": WEAK}
    )
    assert response.status_code == 200
    assert "common password" in response.get_data(as_text=True)
    assert _user("supplier_a").check_password(factories.PASSWORD)


def test_weak_password_advice_is_translated(client, world, login_as):
    login_as("admin")
    client.post("/lang/zh_CN")
    response = client.post(
        "/admin/users/new",
        data={"username": "newbie", "role": "auditor", "org": "OEM", "password": "short"},
    )
    assert "请至少使用 12 个字符" in response.get_data(as_text=True)  # the refusal, not the hint
