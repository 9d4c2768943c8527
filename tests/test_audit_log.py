"""The audit log (DESIGN 6): everything that moves money or changes rules is recorded with who,
when, what, before and after; auditors, finance and admins browse it with filters and export
it as CSV; the database refuses to change or remove an entry."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.admin import operations as admin
from portal.auditlog.models import AuditEntry
from portal.auditlog.operations import AuditKind, record
from portal.auth.operations import set_active
from portal.claims.models import ClaimSettings
from portal.errors import ValidationFailed
from portal.extensions import db
from portal.oldparts import operations as oldparts
from portal.settlement import operations as settle
from portal.settlement.models import StatementKind
from tests import words_support
from tests.factories import ClaimFactory, Fleet, SettlementRunFactory
from tests.test_settlement_engine import overdue_claim, statement_of

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


@pytest.fixture
def fleet(world):
    ClaimSettings.current().auto_approve_enabled = False
    return Fleet.build(world)


def kinds(**where) -> list[str]:
    query = sa.select(AuditEntry.kind).order_by(AuditEntry.id)
    for name, value in where.items():
        query = query.where(getattr(AuditEntry, name) == value)
    return list(db.session.scalars(query))


# -- append-only ---------------------------------------------------------------------------------


def test_the_database_refuses_to_change_or_remove_an_entry(world):
    entry = record(AuditKind.SETTINGS_CHANGED, world.users["admin"], subject="vat_rate")
    db.session.flush()
    for statement in (
        sa.text("UPDATE audit_log SET note = 'rewritten' WHERE id = :id"),
        sa.text("DELETE FROM audit_log WHERE id = :id"),
    ):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), db.session.begin_nested():
            db.session.execute(statement, {"id": entry.id})
    db.session.expire_all()
    kept = db.session.get(AuditEntry, entry.id)
    assert kept is not None and kept.note == ""


def test_the_orm_cannot_change_an_entry_either(world):
    entry = record(AuditKind.SETTINGS_CHANGED, world.users["admin"], subject="vat_rate")
    db.session.flush()
    savepoint = db.session.begin_nested()
    entry.amount_after = Decimal("1.00")
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        db.session.flush()
    savepoint.rollback()


# -- what is recorded ----------------------------------------------------------------------------


def test_a_decision_a_run_and_a_payment_are_recorded_with_amounts(world, fleet):
    claim = ClaimFactory(fleet=fleet, approved=True)
    entry = db.session.scalar(
        sa.select(AuditEntry).where(
            AuditEntry.kind == "claim.decided", AuditEntry.claim_number == claim.number
        )
    )
    assert entry.actor_name == "auditor" and entry.actor_role == "auditor"
    # claimed 230.00 (100.00 + 10.00 handling + 120.00), approved in full
    assert (entry.amount_before, entry.amount_after) == (Decimal("230.00"), Decimal("230.00"))
    assert entry.after["status"] == "approved" and len(entry.after["lines"]) == 2

    run = SettlementRunFactory(world=world, released=True)
    assert kinds(run_id=run.id) == [
        "settlement_run.started",
        "settlement_run.computed",
        "settlement_run.release_requested",
        "settlement_run.released",
    ]
    statement = statement_of(run, StatementKind.STATION, world.stations[0])

    settle.mark_paid(statement, world.users["finance"], date.today(), "BANK-1")
    db.session.commit()
    paid = db.session.scalar(
        sa.select(AuditEntry).where(
            AuditEntry.kind == "statement.paid", AuditEntry.statement_id == statement.id
        )
    )
    assert paid.amount_after == statement.gross and paid.after["reference"] == "BANK-1"


def test_waivers_settings_reason_codes_and_users_are_recorded(world, fleet):
    claim = overdue_claim(world, fleet)
    (old,) = oldparts.parts_of_claim(claim)
    oldparts.waive_overdue(old, world.users["auditor"], "Courier lost the box")
    waived = db.session.scalar(
        sa.select(AuditEntry).where(
            AuditEntry.kind == "overdue.waived", AuditEntry.claim_number == claim.number
        )
    )
    assert (waived.amount_before, waived.amount_after) == (Decimal("45.50"), Decimal("0.00"))
    admin.update_settlement_settings(world.users["admin"], vat_percent=Decimal("9"))
    vat = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.subject == "vat_rate"))
    assert Decimal(vat.before["vat_rate"]) == Decimal("0.13")
    assert Decimal(vat.after["vat_rate"]) == Decimal("0.09")
    admin.update_decision_target(world.users["admin"], 7)
    target = db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.subject == "decision_target_days")
    )
    assert target.after == {"decision_target_days": 7} and target.actor_name == "admin"
    admin.add_reason_code(world.users["admin"], "missing_photos", "Missing photos", "缺少照片")
    assert "reason_code.changed" in kinds(subject="missing_photos")
    set_active(world.users["station_b"], False, acting=world.users["admin"])
    assert kinds(subject="station_b")[-1] == "user.changed"
    disabled = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.subject == "station_b")
    ).all()[-1]
    assert (disabled.before, disabled.after) == ({"active": True}, {"active": False})


def test_a_refused_action_leaves_no_entry(world, fleet):
    before = db.session.scalar(sa.select(sa.func.count(AuditEntry.id)))
    with pytest.raises(ValidationFailed), db.session.begin_nested():
        admin.update_settlement_settings(world.users["admin"], vat_percent=Decimal("120"))
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id))) == before


# -- the page and the CSV ------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["auditor", "finance", "admin"])
def test_the_oems_auditors_finance_and_admins_browse_the_log(world, fleet, login_as, role):
    claim = ClaimFactory(fleet=fleet, approved=True)
    db.session.commit()
    client = login_as(role)
    page = client.get("/audit-log/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert claim.number in html and 'data-kind="claim.decided"' in html
    chinese = client.get("/audit-log/", headers=ZH).get_data(as_text=True)
    assert "审计日志" in chinese


@pytest.mark.parametrize("role", ["station", "supplier"])
def test_stations_and_suppliers_may_not_read_the_log(world, login_as, role):
    client = login_as(role)
    assert client.get("/audit-log/").status_code == 403
    assert client.get("/audit-log/audit-log.csv").status_code == 403


def test_the_log_filters_by_kind_claim_run_actor_and_date(world, fleet, login_as):
    one = ClaimFactory(fleet=fleet, approved=True)
    two = ClaimFactory(fleet=fleet, approved=True, own_vehicle=True)
    admin.update_settlement_settings(world.users["admin"], vat_percent=Decimal("9"))
    db.session.commit()
    client = login_as("finance")

    def shown(**args) -> str:
        response = client.get("/audit-log/", query_string=args)
        assert response.status_code == 200
        return response.get_data(as_text=True)

    html = shown(claim=one.number)
    assert one.number in html and two.number not in html
    html = shown(kind="settings.changed")
    assert 'data-kind="settings.changed"' in html and 'data-kind="claim.decided"' not in html
    assert 'data-kind="settings.changed"' in shown(actor="ADM")
    assert 'data-kind="settings.changed"' not in shown(actor="auditor")
    assert "Nothing in the audit log matches." in shown(
        **{"from": "2001-01-01", "to": "2001-01-31"}
    )
    assert one.number in shown(**{"from": "2001-01-01"})
    assert "Nothing in the audit log matches." in shown(run="999999")


@pytest.mark.parametrize(
    "args",
    [
        {"from": "yesterday"},
        {"to": "2026-13-45"},
        {"run": "abc"},
        {"kind": "nonsense"},
        {"run": "9" * 40},
    ],
)
def test_a_filter_that_does_not_parse_is_named_never_a_500(world, login_as, args):
    response = login_as("auditor").get("/audit-log/", query_string=args)
    assert response.status_code == 200
    assert "is not understood and was ignored" in response.get_data(as_text=True)


def test_the_log_exports_as_csv_with_the_filter(world, fleet, login_as):
    claim = ClaimFactory(fleet=fleet, approved=True)
    record(AuditKind.SETTINGS_CHANGED, world.users["admin"], subject="=HYPERLINK(1)")
    db.session.commit()
    response = login_as("admin").get(
        "/audit-log/audit-log.csv", query_string={"claim": claim.number}, buffered=True
    )
    assert response.status_code == 200 and response.mimetype == "text/csv"
    body = response.get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    # For people: headings, kinds, roles and fields by their labels (the API answers codes).
    assert rows[0][:5] == ["No.", "When", "Who", "Role", "What"]
    assert {row[4] for row in rows[1:]} >= {"Claim decided"}
    assert all(row[6] == claim.number for row in rows[1:])
    decided = next(row for row in rows[1:] if row[4] == "Claim decided")
    assert "Status: Approved" in decided[12] and "status" not in decided[12]
    everything = login_as("admin").get("/audit-log/audit-log.csv", buffered=True)
    everything = everything.get_data(as_text=True)
    assert "'=HYPERLINK(1)" in everything  # never a formula in a spreadsheet


def test_the_page_and_the_csv_name_fields_values_and_subjects_in_the_readers_words(
    world, fleet, login_as
):
    """An entry keeps codes (`recovery_share`, `open`, 12500.00); its reader sees labels, CNY
    amounts with thousands separators and percentages, in English and in Chinese."""
    claim = ClaimFactory(fleet=fleet, approved=True)
    admin_user = world.users["admin"]
    record(
        AuditKind.SETTINGS_CHANGED,
        admin_user,
        subject="claim_settings",
        before={"auto_approve": True, "threshold": Decimal("2000.00"), "blocking_rules": []},
        after={
            "auto_approve": False,
            "threshold": Decimal("12500.00"),
            "blocking_rules": ["duplicate"],
        },
    )
    record(
        AuditKind.CAMPAIGN_EDITED,
        admin_user,
        subject="campaign RC-9",
        before={"status": "open", "kind": "recall", "recovery_share": Decimal("1")},
        after={"status": "closed", "kind": "service", "recovery_share": Decimal("0.85")},
    )
    db.session.commit()
    client = login_as("auditor")
    text = " ".join(words_support.visible_text(client.get("/audit-log/").get_data(as_text=True)))
    for shown in (
        "Automatic approval rules",
        "Automatic approval threshold: CN¥12,500.00",
        "Automatic approval: no",
        "Rules that stop automatic approval: Possible duplicate",
        "Status: Open",
        "Recovery share: 85%",
        "Service campaign",
        "claimed, CN¥120.00 approved",
    ):
        assert shown in text, shown
    assert not words_support.SNAKE_CASE.findall(text), words_support.SNAKE_CASE.findall(text)
    assert not words_support.RAW_MONEY.findall(text)
    assert claim.number in text

    chinese = client.get("/audit-log/", headers=ZH).get_data(as_text=True)
    text = " ".join(words_support.visible_text(chinese))
    for shown in ("自动批准限额", "进行中", "类型: 服务活动", "追偿比例"):
        assert shown in text, shown
    assert not words_support.SNAKE_CASE.findall(text)

    rows = list(
        csv.reader(
            io.StringIO(client.get("/audit-log/audit-log.csv", headers=ZH).get_data(as_text=True))
        )
    )
    assert rows[0][0].lstrip("\ufeff") == "序号"
    settings_row = next(row for row in rows[1:] if "自动批准限额" in row[12])
    assert "¥12,500.00" in settings_row[12] and settings_row[4] == "设置已更改"


# -- the API ---------------------------------------------------------------------------------------


def test_the_api_reads_the_log_with_filters(client, world, fleet):
    from tests.test_api_auth import api_for, error_of

    claim = ClaimFactory(fleet=fleet, approved=True)
    db.session.commit()
    finance = api_for(client, world, "finance")
    response = finance.get("/audit-log", query_string={"claim": claim.number.lower()})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["total"] >= 1
    entry = next(e for e in body["items"] if e["kind"] == "claim.decided")
    from tests.test_openapi import conforms

    conforms(client.get("/api/v1/openapi.json").get_json(), "AuditLogList", body)
    assert (entry["actor"], entry["claim_number"], entry["amount_after"]) == (
        "auditor",
        claim.number,
        "230.00",
    )
    assert (
        finance.get("/audit-log", query_string={"kind": "settings.changed"}).get_json()["total"]
        == 0
    )
    error_of(finance.get("/audit-log", query_string={"kind": "nonsense"}), 400)
    error_of(finance.get("/audit-log", query_string={"from_date": "yesterday"}), 400)
    for role in ("station", "supplier"):
        error_of(api_for(client, world, role).get("/audit-log"), 403)


# -- campaigns and contracts: rules of who pays, master data -------------------------------------


def test_a_campaign_opened_edited_and_closed_and_its_vehicles_are_recorded(world, fleet):
    from portal.campaigns import operations as campaigns
    from portal.masterdata.campaigns import CampaignKind

    auditor = world.users["auditor"]
    terms = campaigns.CampaignInput(
        code="RC-LOG",
        title="Oil pump may leak",
        kind=CampaignKind.RECALL,
        start_date=date(2026, 1, 1),
        end_date=None,
        operation_code=fleet.operation.code,
        hours=Decimal("1.20"),
        parts=[(fleet.part.number, 1)],
        supplier_code=world.suppliers[0].code,
        recovery_share=Decimal("0.60"),
    )
    campaign = campaigns.open_campaign(auditor, terms)
    terms.recovery_share = Decimal("0.40")
    campaigns.edit_campaign(campaign, auditor, terms)
    campaigns.add_vehicles_produced(
        campaign, auditor, fleet.vehicle.model.code, date(2000, 1, 1), date(2030, 1, 1)
    )
    campaigns.close_campaign(campaign, auditor, "All done")
    db.session.flush()
    assert kinds(subject="campaign RC-LOG") == [
        "campaign.opened",
        "campaign.edited",
        "campaign.vehicles_added",
        "campaign.closed",
    ]
    edited = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.kind == "campaign.edited"))
    assert (edited.before, edited.after) == ({"recovery_share": "0.60"}, {"recovery_share": "0.40"})
    assert edited.actor_name == "auditor"


def test_a_contract_created_and_edited_is_recorded(world, fleet):
    from portal.masterdata import contracts

    admin_user = world.users["admin"]
    terms = contracts.Terms("basic", fleet.old_vehicle.sale_date, 60, 150000)
    row = contracts.create_contract(admin_user, "YB-LOG", fleet.old_vehicle.vin, terms)
    contracts.update_contract(
        admin_user, row, contracts.Terms("basic", fleet.old_vehicle.sale_date, 72, 150000)
    )
    assert (
        contracts.update_contract(
            admin_user, row, contracts.Terms("basic", fleet.old_vehicle.sale_date, 72, 150000)
        )
        == []
    )  # nothing changed: nothing recorded
    db.session.flush()
    assert kinds(subject="contracts YB-LOG,basic") == ["masterdata.created", "masterdata.updated"]
    edited = db.session.scalar(
        sa.select(AuditEntry).where(
            AuditEntry.kind == "masterdata.updated", AuditEntry.subject == "contracts YB-LOG,basic"
        )
    )
    assert (edited.before, edited.after) == ({"months": 60}, {"months": 72})


# -- chargebacks, findings: every step that moves money ------------------------------------------


def test_chargeback_reviews_and_the_final_statement_are_recorded(world, fleet):
    from tests.test_settlement_engine import chargeback_of

    accepted_claim = ClaimFactory(fleet=fleet, approved=True)
    waived_claim = ClaimFactory(fleet=fleet, approved=True)
    run = SettlementRunFactory(world=world, released=True)
    supplier, auditor = world.users["supplier"], world.users["auditor"]
    settle.accept_chargeback(chargeback_of(accepted_claim), supplier)
    settle.dispute_chargeback(chargeback_of(waived_claim), supplier, "Not ours")
    settle.resolve_chargeback(chargeback_of(waived_claim), auditor, "waive", "Goodwill")
    db.session.commit()
    assert kinds(claim_number=accepted_claim.number)[-1] == "chargeback.accepted"
    assert kinds(claim_number=waived_claim.number)[-2:] == [
        "chargeback.disputed",
        "chargeback.waived",
    ]
    waived = db.session.scalar(
        sa.select(AuditEntry).where(
            AuditEntry.kind == "chargeback.waived", AuditEntry.claim_number == waived_claim.number
        )
    )
    assert (waived.amount_before, waived.amount_after) == (Decimal("225.00"), Decimal("0.00"))
    assert waived.actor_name == "auditor" and waived.note == "Goodwill"
    statement = statement_of(run, StatementKind.SUPPLIER, world.suppliers[0])
    final = db.session.scalar(
        sa.select(AuditEntry).where(
            AuditEntry.kind == "statement.final", AuditEntry.statement_id == statement.id
        )
    )
    assert final.amount_after == Decimal("225.00")  # the waived line is out


def test_a_discarded_run_is_recorded(world, fleet):
    ClaimFactory(fleet=fleet, approved=True)
    run = SettlementRunFactory(world=world)
    settle.discard_run(run, world.users["finance"])
    db.session.commit()
    assert kinds(run_id=run.id)[-1] == "settlement_run.discarded"
    entry = db.session.scalar(
        sa.select(AuditEntry).where(
            AuditEntry.kind == "settlement_run.discarded", AuditEntry.run_id == run.id
        )
    )
    assert entry.actor_name == "finance"


def test_the_chinese_page_names_what_a_subject_is_in_chinese(world, login_as):
    record(AuditKind.CAMPAIGN_OPENED, world.users["auditor"], subject="campaign RC-ZH")
    record(AuditKind.MASTERDATA_UPDATED, world.users["admin"], subject="stations ST-A")
    record(AuditKind.RUN_COMPUTED, None, subject="2026-11", after={"period": "2026-11"})
    db.session.commit()
    html = login_as("finance").get("/audit-log/", headers=ZH).get_data(as_text=True)
    assert "活动 RC-ZH" in html and "服务站" in html and "系统" in html
    assert "campaign RC-ZH" not in html and "stations ST-A" not in html
    # A run's subject and period are months in the reader's words.
    assert "2026年11月" in html
    assert "2026-11" not in " ".join(words_support.visible_text(html))
    english = login_as("finance").get("/audit-log/").get_data(as_text=True)
    assert "Nov 2026" in english and "Period: Nov 2026" in english
