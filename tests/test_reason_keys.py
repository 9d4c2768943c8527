"""An adjustment's reason and an automatic approval's audit note are kept as a message key and
parameters, written out when read in the reader's language (revision 0032 converts the rows
written before)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

import portal
from portal.auditlog import words
from portal.auditlog.models import AuditEntry
from portal.extensions import db
from tests import i18n_support
from tests.factories import ClaimFactory, Fleet
from tests.test_adjustments import adjustments_of, settled_and_charged
from tests.test_settlement_engine import inspect_part

ZH = "zh_CN"


@pytest.fixture(scope="module", autouse=True)
def compiled_translations(app):
    if i18n_support.compile_catalogs():
        i18n_support.forget_loaded_catalogs(app)


@pytest.fixture
def fleet(world):
    return Fleet.build(world)


def revision():
    path = Path(portal.__file__).parent / "migrations/versions/0032_reason_message_keys.py"
    spec = importlib.util.spec_from_file_location("revision_0032", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_an_adjustment_keeps_its_reason_as_a_key_and_reads_in_both_languages(app, world, fleet):
    claim, _first, original = settled_and_charged(world, fleet)
    inspect_part(world, claim, "no_fault_found")
    (credit,) = adjustments_of(claim)
    assert credit.reason == "" and credit.message_key == "adjustment.reason_supplier_credit"
    assert credit.params["result"] == "no_fault_found"
    entry = db.session.scalar(
        sa.select(AuditEntry).where(
            AuditEntry.kind == "adjustment.created", AuditEntry.claim_number == claim.number
        )
    )
    assert entry.note == "" and entry.message_key == credit.message_key
    with app.test_request_context():
        with force_locale("en"):
            english = credit.display_reason
            assert "no fault found after statement" in english and claim.number in english
            assert words.note_text(entry) == english
        with force_locale(ZH):
            chinese = credit.display_reason
            assert "未发现故障" in chinese and original.number in chinese
            assert words.note_text(entry) == chinese


def test_a_reason_a_person_wrote_stays_exactly_as_typed(app, world, fleet):
    claim, _first, _original = settled_and_charged(world, fleet)
    inspect_part(world, claim, "no_fault_found")
    (credit,) = adjustments_of(claim)
    credit.message_key, credit.params = None, None
    credit.reason = "Agreed with SU-A by phone: credit 105.00 ¥"
    with app.test_request_context(), force_locale(ZH):
        assert credit.display_reason == "Agreed with SU-A by phone: credit 105.00 ¥"


def test_an_automatic_approval_keeps_its_why_as_a_key_and_reads_in_both_languages(app, fleet):
    claim = ClaimFactory(fleet=fleet, submitted=True)
    entry = db.session.scalar(
        sa.select(AuditEntry).where(
            AuditEntry.kind == "claim.auto_approved", AuditEntry.claim_number == claim.number
        )
    )
    assert entry.note == "" and entry.message_key == "claim.auto_approved"
    assert entry.params["rule"] == "auto_approve_under_2000.00"
    with app.test_request_context():
        with force_locale("en"):
            assert "under the auto-approval limit of CN¥2,000.00" in words.note_text(entry)
        with force_locale(ZH):
            chinese = words.note_text(entry)
            assert "¥2,000.00" in chinese and "auto-approval" not in chinese


@pytest.mark.parametrize(
    ("text", "found"),
    [
        (
            "Old part OP-7: No fault found after statement S-1; recovery of claim RP-1 lowered.",
            (
                "adjustment.reason_supplier_credit",
                {"tag": "OP-7", "result": "no_fault_found", "statement": "S-1", "number": "RP-1"},
            ),
        ),
        (
            "逾期旧件 OP-8 的扣款已在结算单 S-2 中扣除，现予免除。",
            ("adjustment.reason_station_credit", {"tag": "OP-8", "statement": "S-2"}),
        ),
        (
            "Chargeback of claim RP-2 waived after statement S-3: the credit of 1,105.00 is "
            "taken back.",
            (
                "adjustment.reason_supplier_debit",
                {"number": "RP-2", "statement": "S-3", "amount": "1105.00"},
            ),
        ),
        ("Agreed by phone", None),
    ],
)
def test_the_revision_reads_the_adjustment_reasons_written_before(text, found):
    assert revision().match_reason(text) == found


def test_the_revision_reads_the_automatic_approvals_written_before():
    module = revision()
    assert module.match_auto_approval(
        "auto_approve_under_2000.00: No flags, and the total CN¥230.00 is under the "
        "auto-approval limit of CN¥2,000.00."
    ) == (
        "claim.auto_approved",
        {"total": "230.00", "threshold": "2000.00", "rule": "auto_approve_under_2000.00"},
        "",
    )
    assert module.match_auto_approval("auto_approve_under_2000.00: something else") == (
        "claim.auto_approved_by_rule",
        {"rule": "auto_approve_under_2000.00"},
        "something else",
    )
    assert module.match_auto_approval("A person's note") is None


def test_the_revision_converts_stored_audit_entries(app, fleet, world, db_session):
    claim = ClaimFactory(fleet=fleet)
    entry = AuditEntry(
        kind="claim.auto_approved",
        claim_number=claim.number,
        note="campaign_package: No flags, and exactly the package of campaign RC-1.",
    )
    other = AuditEntry(kind="claim.decided", claim_number=claim.number, note="Looks fine")
    db.session.add_all([entry, other])
    db.session.flush()
    module = revision()
    connection = db.session.connection()
    with module.audit_log_open(connection):
        assert module.convert_audit_log(connection) >= 1
    db.session.expire_all()
    assert (entry.message_key, entry.note) == ("claim.auto_approved_campaign", "")
    assert (other.message_key, other.note) == (None, "Looks fine")
    with app.test_request_context(), force_locale("en"):
        assert words.note_text(entry) == "No flags, and exactly the package of campaign RC-1."
