"""Text rendered for the reader (issue 15): notifications and timelines keep a message key and
its parameters and are written out when read, in the reader's language, with every code by its
label, amounts as CNY with thousands separators and dates in the reader's locale; what a refused
submit says is in the business's words in both languages; every message and label has its
Chinese translation."""

from __future__ import annotations

import importlib.util
import re
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

import portal
from portal import labels, messages
from portal.claims.models import ClaimEvent, ClaimSettings
from portal.extensions import db
from portal.notifications.models import Notification
from tests import i18n_support
from tests.factories import ClaimFactory, Fleet
from tests.words_support import CJK, RAW_MONEY, SNAKE_CASE, visible_text

ZH = "zh_CN"
# Labels that read the same in Chinese: the business uses the English word.
SAME_IN_CHINESE = {"VIN", "OEM"}


@pytest.fixture(scope="module", autouse=True)
def compiled_translations(app):
    if i18n_support.compile_catalogs():
        i18n_support.forget_loaded_catalogs(app)


@pytest.fixture
def fleet(world):
    return Fleet.build(world)


def page_text(html: str) -> str:
    return " ".join(visible_text(html))


def chinese(client):
    client.post(f"/lang/{ZH}")
    return client


# -- a label inside a sentence ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "words"),
    [
        ("Partially approved", "partially approved"),
        ("Outside coverage (goodwill)", "outside coverage (goodwill)"),
        ("Outsourced-purchase request", "outsourced-purchase request"),
        ("VIN", "VIN"),
        ("PDI check", "PDI check"),
        ("Paid in CNY", "paid in CNY"),
        ("ST-B", "ST-B"),
        ("4WD axle", "4WD axle"),
        ("A", "a"),
        ("", ""),
    ],
)
def test_a_label_reads_as_words_inside_an_english_sentence(app, title, words):
    with app.test_request_context(), force_locale("en"):
        assert labels.as_words(title) == words


def test_a_label_inside_a_sentence_keeps_codes_and_stays_unchanged_in_chinese(app):
    from portal.claims.models import ClaimStatus
    from portal.masterdata.models import OrgKind

    with app.test_request_context():
        with force_locale("en"):
            assert labels.label(ClaimStatus.PARTIALLY_APPROVED) == "Partially approved"
            assert labels.in_sentence(ClaimStatus.PARTIALLY_APPROVED) == "partially approved"
            assert labels.in_sentence("partially_approved", "claim_status") == "partially approved"
            assert labels.in_sentence(OrgKind.OEM) == "OEM"
            assert messages.format_param("word:claim_status", "approved") == "approved"
            assert messages.format_param("label:claim_status", "approved") == "Approved"
            assert messages.format_param("words:flag_rule", ["duplicate", "labor_hours"]) == (
                "possible duplicate, labor hours above standard"
            )
        with force_locale(ZH):
            chinese = labels.label(ClaimStatus.PARTIALLY_APPROVED)
            assert CJK.search(chinese)
            assert labels.in_sentence(ClaimStatus.PARTIALLY_APPROVED) == chinese
            assert messages.format_param("word:claim_status", "partially_approved") == chinese


# -- every message and every label -----------------------------------------------------------------


def made_up_params(message: messages.Message) -> dict:
    """Parameters for `message`: its example, or values made up from its placeholders' kinds."""
    names = re.findall(r"%\((\w+)\)", message.text._args[0])
    params = {}
    for name in names:
        kind = message.kinds.get(name)
        if name in message.example:
            params[name] = message.example[name]
        elif kind == "money":
            params[name] = "5658.93"
        elif kind == "decimal":
            params[name] = "12345"
        elif kind == "date":
            params[name] = "2026-11-30"
        elif kind == "datetime":
            params[name] = "2026-11-30T08:15:00+00:00"
        elif kind and kind.startswith(("label:", "labels:", "word:", "words:")):
            codes = list(labels.kinds()[kind.split(":", 1)[1]])
            params[name] = codes[:2] if kind.startswith(("labels:", "words:")) else codes[0]
        else:
            params[name] = f"X-{name.upper()}"
    return params


def test_every_message_is_written_out_in_both_languages_without_a_code(app):
    assert len(messages.MESSAGES) > 40  # the rules' messages and the notifications' at least
    wrong = []
    with app.test_request_context():
        for key, message in sorted(messages.MESSAGES.items()):
            params = made_up_params(message)
            with force_locale("en"):
                english = messages.render(key, params)
            with force_locale(ZH):
                chinese_text = messages.render(key, params)
            if not CJK.search(chinese_text):
                wrong.append(f"{key}: not translated: {chinese_text!r}")
            for text in (english, chinese_text):
                if SNAKE_CASE.search(text) or RAW_MONEY.search(text):
                    wrong.append(f"{key}: a code or an unformatted amount in {text!r}")
    assert not wrong, "\n".join(wrong)


def test_amounts_dates_and_codes_in_messages_are_the_readers(app):
    key = "claim.decided"
    params = {"number": "RP-1", "status": "partially_approved", "amount": "5658.93"}
    with app.test_request_context():
        with force_locale("en"):
            assert messages.render(key, params) == (
                "Claim RP-1 was decided: partially approved, approved CN¥5,658.93."
            )
        with force_locale(ZH):
            text = messages.render(key, params)
    assert "5,658.93" in text and "¥" in text
    assert "partially_approved" not in text and "部分批准" in text
    with app.test_request_context(), force_locale(ZH):
        paid = messages.render(
            "settlement.statement_paid",
            {"number": "ST-1", "paid_on": "2026-11-30", "reference": "B-7"},
        )
    assert "2026年11月30日" in paid


def test_every_label_has_its_chinese_translation(app):
    untranslated = []
    with app.test_request_context(), force_locale(ZH):
        kinds = labels.kinds()
        assert {"claim_status", "flag_rule", "disposition", "chargeback_status"} <= set(kinds)
        for kind, table in sorted(kinds.items()):
            for code, text in table.items():
                chinese_label = str(text)
                if not CJK.search(chinese_label) and chinese_label not in SAME_IN_CHINESE:
                    untranslated.append(f"{kind} {code}: {chinese_label!r}")
    assert not untranslated, "labels without a Chinese translation:\n" + "\n".join(untranslated)


def test_a_code_without_a_label_is_shown_as_stored_never_lost(app):
    with app.test_request_context():
        assert labels.label("no_such_status", "claim_status") == "no_such_status"
        assert labels.label(None) == ""


# -- notifications ---------------------------------------------------------------------------------


def test_a_decision_told_in_english_is_read_in_chinese_by_a_chinese_reader(fleet, login_as):
    claim = ClaimFactory(
        fleet=fleet,
        partially_approved=True,
        lines=[{"kind": "part", "part_number": "P-100", "qty": 60}],
        cuts={0: {"approved_amount": Decimal("5658.93"), "reason": "partial_approval"}},
    )
    stored = db.session.scalar(
        sa.select(Notification).where(Notification.message_key == "claim.decided")
    )
    amount = claim.approved_total_amount
    assert amount > Decimal("1000")  # so that it shows a thousands separator
    assert stored.params["status"] == "partially_approved"
    assert stored.params["amount"] == str(amount)

    station = chinese(login_as("station"))
    page = page_text(station.get("/notifications/").get_data(as_text=True))
    assert claim.number in page
    assert "部分批准" in page and f"¥{amount:,.2f}" in page
    assert "partially_approved" not in page and str(amount) not in page

    station.post("/lang/en")
    page = page_text(station.get("/notifications/").get_data(as_text=True))
    # The status reads as a word inside the English sentence, as its label in Chinese.
    assert (
        f"Claim {claim.number} was decided: partially approved, approved CN¥{amount:,.2f}." in page
    )


def test_a_notification_written_before_message_keys_is_shown_as_stored(world, login_as):
    me = world.users["station"]
    db.session.add(Notification(user_id=me.id, message="Welcome to the portal", link=None))
    db.session.flush()
    page = login_as("station").get("/notifications/").get_data(as_text=True)
    assert "Welcome to the portal" in page


# -- the claim's timeline, flags and refusals ------------------------------------------------------


def test_why_a_claim_waits_for_an_auditor_is_said_in_the_readers_language(
    fleet, login_as, db_session
):
    settings = ClaimSettings.current()
    settings.auto_approve_threshold = Decimal("1000.00")
    claim = ClaimFactory(
        fleet=fleet, submitted=True, lines=[{"kind": "part", "part_number": "P-100", "qty": 25}]
    )
    queued = claim.events[-1]
    assert queued.action == "queued" and queued.message_key == "claim.queued_over_threshold"
    total = claim.total_amount
    assert total > Decimal("1000")
    assert queued.params == {"total": str(total), "threshold": "1000.00"}

    page = page_text(chinese(login_as("station")).get(f"/claims/{claim.number}").get_data(True))
    assert f"¥{total:,.2f}" in page and "¥1,000.00" in page
    assert "Total" not in page and "threshold" not in page and str(total) not in page


def test_an_auto_approval_names_its_rule_in_words(fleet, login_as):
    claim = ClaimFactory(fleet=fleet, submitted=True)
    assert claim.auto_decision_rule == "auto_approve_under_2000.00"  # the API's value is kept
    client = login_as("station")
    page = page_text(client.get(f"/claims/{claim.number}").get_data(as_text=True))
    assert "2,000.00" in page and "auto_approve_under" not in page
    page = page_text(chinese(client).get(f"/claims/{claim.number}").get_data(as_text=True))
    assert "auto_approve_under" not in page and "2,000.00" in page


def test_a_refused_submit_names_the_field_and_the_claim_type_in_chinese(fleet, login_as):
    claim = ClaimFactory(fleet=fleet, odometer_km=None)
    client = chinese(login_as("station"))
    response = client.post(f"/claims/{claim.number}/submit")
    assert response.status_code == 422
    page = page_text(response.get_data(as_text=True))
    assert "odometer_km" not in page and "repair" not in page
    assert not SNAKE_CASE.findall(page.replace("station_a", ""))
    with force_locale(ZH):
        field, kind = (
            str(labels.label("odometer_km", "claim_field")),
            str(labels.label("repair", "claim_type")),
        )
    assert field in page and kind in page


def test_a_refusal_through_the_api_keeps_the_rule_for_machines_and_words_for_people(
    client, world, fleet
):
    from tests.test_api_auth import api_for, error_of

    api = api_for(client, world, "station")
    claim = ClaimFactory(fleet=fleet, odometer_km=None)
    error = error_of(api.post(f"/claims/{claim.number}/submit"), 422)
    assert error["code"] == "rule_refused"
    assert error["fields"]["odometer_km"].startswith("required: ")
    assert "odometer_km" not in error["message"] and "Odometer (km)" in error["message"]


def test_the_responsible_supplier_of_a_decision_is_said_not_tagged(fleet, login_as):
    claim = ClaimFactory(fleet=fleet, approved=True)
    decided = claim.events[-1]
    assert decided.reason == "" and decided.message_key == "claim.responsible_supplier"
    page = page_text(login_as("station").get(f"/claims/{claim.number}").get_data(as_text=True))
    assert "[supplier" not in page and "Responsible supplier: SU-A" in page


# -- the revision that converts the rows written before --------------------------------------------


def revision():
    path = Path(portal.__file__).parent / "migrations/versions/0027_i18n_message_keys.py"
    spec = importlib.util.spec_from_file_location("revision_0020", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("text", "key", "params"),
    [
        (
            "Claim RP-1 was decided: partially_approved, approved 5658.93.",
            "claim.decided",
            {"number": "RP-1", "status": "partially_approved", "amount": "5658.93"},
        ),
        (
            "索赔单 RP-1 已审核：approved，批准金额 230.00。",
            "claim.decided",
            {"number": "RP-1", "status": "approved", "amount": "230.00"},
        ),
        (
            "Claim RP-2 was returned: Photos missing: please add them.",
            "claim.returned",
            {"number": "RP-2", "reason": "Photos missing: please add them."},
        ),
        (
            "Dispute on RP-3 upheld: the part shows wear",
            "settlement.dispute_resolved",
            {"number": "RP-3", "status": "upheld", "reason": "the part shows wear"},
        ),
        (
            "Settlement statement for 2026-10 released.",
            "settlement.released",
            {"period": "2026-10"},
        ),
    ],
)
def test_the_revision_reads_the_notifications_written_before(text, key, params):
    assert revision().match_notification(text) == (key, params)


def test_the_revision_leaves_a_text_it_does_not_know():
    assert revision().match_notification("Something else entirely") is None


@pytest.mark.parametrize(
    ("reason", "found"),
    [
        (
            "Total 2500.00 is not under the threshold 2000.00",
            (
                "claim.queued_over_threshold",
                {"total": "2500.00", "threshold": "2000.00"},
                "",
            ),
        ),
        (
            "Flagged: duplicate, labor_hours",
            ("claim.queued_flagged", {"rules": ["duplicate", "labor_hours"]}, ""),
        ),
        (
            "No flags and total 230.00 under 2000.00",
            ("claim.auto_approved", {"total": "230.00", "threshold": "2000.00"}, ""),
        ),
        (
            "Damage from an accident [supplier SU-B]",
            ("claim.responsible_supplier", {"supplier": "SU-B"}, "Damage from an accident"),
        ),
        (
            "No flags and exactly the package of campaign RC-2026-01",
            ("claim.auto_approved_campaign", {"campaign": "RC-2026-01"}, ""),
        ),
        (
            "Not the package of campaign RC-2026-01: 1.5 hours instead of 1.2; other lines",
            (
                "claim.queued_not_package",
                {
                    "campaign": "RC-2026-01",
                    "differences": [
                        {
                            "key": "campaign.differs.hours",
                            "params": {"hours": "1.5", "package": "1.2"},
                        },
                        {"key": "campaign.differs.lines", "params": {}},
                    ],
                },
                "",
            ),
        ),
        ("Not the package of campaign RC-2026-01: something a person wrote", None),
        ("Photos missing", None),
    ],
)
def test_the_revision_reads_the_timeline_reasons_written_before(reason, found):
    assert revision().match_claim_event(reason) == found


@pytest.mark.parametrize(
    ("note", "found"),
    [
        (
            "12 vehicles of M1 produced 2026-01-01 to 2026-03-31",
            (
                "campaign.vehicles_added",
                {"n": 12, "model": "M1", "start": "2026-01-01", "end": "2026-03-31"},
                "",
            ),
        ),
        ("1250 vehicles added from a file", ("campaign.vehicles_imported", {"n": 1250}, "")),
        ("Extended to the spring models", None),
    ],
)
def test_the_revision_reads_the_campaign_records_written_before(note, found):
    assert revision().match_campaign_event(note) == found


def test_the_revision_converts_stored_rows_and_they_read_in_chinese(app, fleet, world, db_session):
    claim = ClaimFactory(fleet=fleet)
    event = ClaimEvent(
        claim=claim,
        action="queued",
        reason="Total 2500.00 is not under the threshold 2000.00",
        version=1,
    )
    note = Notification(
        user_id=world.users["station"].id,
        message="Claim RP-9 was decided: partially_approved, approved 5658.93.",
    )
    db.session.add_all([event, note])
    db.session.flush()

    module = revision()
    connection = db.session.connection()
    assert module.convert_claim_events(connection) >= 1
    assert module.convert_notifications(connection) >= 1
    db.session.expire_all()

    assert event.reason == "" and event.message_key == "claim.queued_over_threshold"
    with app.test_request_context(), force_locale(ZH):
        assert "¥2,500.00" in event.display_reason
        assert "部分批准" in note.text and "¥5,658.93" in note.text


def test_an_exported_notification_list_reads_in_the_readers_language(fleet, login_as):
    claim = ClaimFactory(
        fleet=fleet,
        partially_approved=True,
        lines=[{"kind": "part", "part_number": "P-100", "qty": 60}],
        cuts={0: {"approved_amount": Decimal("5658.93"), "reason": "partial_approval"}},
    )
    client = chinese(login_as("station"))
    response = client.get("/notifications/", query_string={"export": "csv"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    body = response.get_data().decode("utf-8")
    assert claim.number in body and "部分批准" in body
    assert "partially_approved" not in body and "was decided" not in body


def test_an_enum_in_an_export_is_written_by_its_label():
    from portal.claims.models import ClaimStatus
    from portal.lists import plain

    with force_locale(ZH):
        assert plain(ClaimStatus.PARTIALLY_APPROVED) == "部分批准"
    with force_locale("en"):
        assert plain(ClaimStatus.PARTIALLY_APPROVED) == "Partially approved"
