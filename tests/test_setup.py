"""`flask --app wsgi setup`: a fresh installation needs nothing the README does not say."""

from __future__ import annotations

import os
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal import demo as demo_module
from portal.auth.models import User
from portal.claims.models import SEEDED_REASON_CODES, ClaimSettings, ReasonCode
from portal.extensions import db
from portal.masterdata.models import OEM_CODE, Organisation, OrgKind, Station
from portal.settlement.models import SettlementSettings
from tests.conftest import app_on_own_database, fresh_database_url, login

PASSWORD = "a-Good-pass-9"  # noqa: S105 - a test user's


def run(app, *args, **kwargs):
    return app.test_cli_runner().invoke(args=list(args), **kwargs)


def create_admin(app, username: str):
    """The README's first admin: `users create USERNAME --role admin --org OEM`."""
    return run(
        app, "users", "create", username, "--role", "admin", "--org", "OEM", "--password", PASSWORD
    )


def row_counts() -> dict[str, int]:
    db.session.expire_all()
    return {
        table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


def the_oem() -> Organisation | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(Organisation).where(Organisation.code == OEM_CODE))


def test_a_fresh_database_has_no_oem_so_users_create_names_setup(app):
    result = create_admin(app, "admin")
    assert result.exit_code == 1
    assert "No organisation has the code OEM" in result.output
    assert "flask --app wsgi setup" in result.output


def test_setup_creates_the_oem_and_the_default_rules_then_the_first_admin_can_sign_in(app, client):
    result = run(app, "setup", "--oem-name", "Huaxing Motors")
    assert result.exit_code == 0, result.output
    assert "OEM organisation OEM (Huaxing Motors): created." in result.output
    oem = the_oem()
    assert oem.kind is OrgKind.OEM and oem.name == "Huaxing Motors"
    assert {rc.code for rc in db.session.scalars(sa.select(ReasonCode))} == {
        code for code, *_ in SEEDED_REASON_CODES
    }
    claim_settings = db.session.get(ClaimSettings, 1)
    assert claim_settings.auto_approve_enabled
    assert claim_settings.auto_approve_threshold == Decimal("2000.00")
    assert db.session.get(SettlementSettings, 1).vat_rate == Decimal("0.13")
    assert "threshold 2000.00" in result.output and "VAT 13%" in result.output

    created = create_admin(app, "admin")
    assert created.exit_code == 0, created.output
    assert login(client, "admin", PASSWORD).status_code == 302


def test_setup_run_again_changes_nothing_and_says_what_exists(app):
    assert run(app, "setup", "--oem-name", "Huaxing Motors").exit_code == 0
    before = row_counts()
    again = run(app, "setup")
    assert again.exit_code == 0, again.output
    assert row_counts() == before
    assert "OEM organisation OEM (Huaxing Motors): exists." in again.output
    assert "Nothing to do: everything exists." in again.output
    same_name = run(app, "setup", "--oem-name", "Huaxing Motors")
    assert "Nothing to do" in same_name.output and row_counts() == before


def test_setup_with_another_name_renames_the_oem_and_adds_nothing(app):
    run(app, "setup", "--oem-name", "Huaxing Motors")
    before, oem_id = row_counts(), the_oem().id
    result = run(app, "setup", "--oem-name", "华星汽车 Huaxing Motors")
    assert result.exit_code == 0, result.output
    assert "renamed from Huaxing Motors to 华星汽车 Huaxing Motors" in result.output
    assert the_oem().id == oem_id and the_oem().name == "华星汽车 Huaxing Motors"
    assert row_counts() == before


def test_setup_without_a_name_calls_the_oem_oem(app):
    assert run(app, "setup").exit_code == 0
    assert the_oem().name == "OEM"


def test_setup_adds_a_missing_seeded_reason_code_and_leaves_a_deactivated_one_alone(app):
    run(app, "setup")
    db.session.execute(sa.delete(ReasonCode).where(ReasonCode.code == "misuse"))
    db.session.execute(
        sa.update(ReasonCode).where(ReasonCode.code == "not_covered").values(active=False)
    )
    db.session.commit()
    result = run(app, "setup")
    assert result.exit_code == 0, result.output
    assert "Reason codes: added misuse." in result.output
    db.session.expire_all()
    codes = {rc.code: rc.active for rc in db.session.scalars(sa.select(ReasonCode))}
    assert codes["misuse"] is True and codes["not_covered"] is False


def test_setup_refuses_a_name_too_long_and_creates_nothing(app):
    result = run(app, "setup", "--oem-name", "x" * 201)
    assert result.exit_code == 1
    assert "longer than 200" in result.output
    assert the_oem() is None


def test_setup_refuses_when_the_organisation_oem_is_not_the_oem(app):
    db.session.add(
        Station(
            code=OEM_CODE,
            name="A station called OEM",
            region="east",
            labor_rate=Decimal("80"),
            km_rate=Decimal("3"),
            parts_handling_rate=Decimal("0.1"),
        )
    )
    db.session.commit()
    result = run(app, "setup")
    assert result.exit_code == 1
    assert "exists but is a station" in result.output


def test_setup_before_db_upgrade_says_to_run_it_first(tmp_path, db_session):
    url = fresh_database_url(f"portal_setup_unmigrated_{os.getpid()}", tmp_path)
    with app_on_own_database(url, migrated=False) as empty, empty.app_context():
        result = run(empty, "setup")  # in the app context it finds pushed
    assert result.exit_code == 1, result.output
    assert "revision none" in result.output
    assert "flask --app wsgi db upgrade" in result.output


# -- the demo builds on what setup made ------------------------------------------------------------


@pytest.fixture
def organisations_only(monkeypatch):
    """The demo's first step alone (organisations): enough to see where its OEM comes from."""
    monkeypatch.setattr(demo_module, "STEPS", (demo_module.add_organisations,))


@pytest.mark.usefixtures("organisations_only")
def test_the_demo_reuses_the_oem_that_setup_made(app):
    run(app, "setup", "--oem-name", "Huaxing Motors")
    oem_id = the_oem().id
    demo_module.load_demo()
    db.session.commit()
    oems = db.session.scalars(sa.select(Organisation).where(Organisation.kind == OrgKind.OEM))
    assert [oem.id for oem in oems] == [oem_id]
    assert the_oem().name == demo_module.OEM_NAME
    assert db.session.scalar(sa.select(sa.func.count(Station.id))) == len(demo_module.STATIONS)


@pytest.mark.usefixtures("organisations_only")
def test_the_demo_adds_nothing_once_a_user_exists(app):
    run(app, "setup")
    create_admin(app, "boss")
    before = row_counts()
    assert demo_module.load_demo() == []
    assert row_counts() == before
    assert db.session.scalar(sa.select(User.username)) == "boss"
