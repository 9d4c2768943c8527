"""The admin's rules pages: the auto-adjudication settings change what a real submit does, a bad
value is refused beside its field with nothing saved, and reason codes are added, relabelled,
deactivated (then refused in decisions) and reactivated. Only admins see any of it."""

from __future__ import annotations

import logging
import re
import threading
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal import create_app
from portal.admin import operations
from portal.auth.models import User
from portal.claims.models import (
    ALWAYS_BLOCKING,
    FLAG_RULES,
    SEEDED_REASON_CODES,
    ClaimSettings,
    ReasonCode,
)
from portal.errors import DomainError, ValidationFailed
from tests.conftest import test_config
from tests.factories import ClaimFactory, Fleet, claim_payload
from tests.test_api_auth import Api, api_for, error_of

RULES = "/admin/rules"
CODES = "/admin/rules/reason-codes"


@pytest.fixture
def fleet(world):
    return Fleet.build(world)


@pytest.fixture
def admin(login_as):
    return login_as("admin")


@pytest.fixture
def api(app, world):
    """A separate client for the API, so the admin's browser session and the tokens never mix."""
    client = app.test_client()
    return {role: api_for(client, world, role) for role in ("station", "auditor")}


def settings(db_session) -> ClaimSettings:
    db_session.expire_all()
    return ClaimSettings.current()


CHOSEN = tuple(rule for rule in FLAG_RULES if rule not in ALWAYS_BLOCKING)


def save(admin, *, enabled: bool = True, threshold: str = "2000.00", blocking=CHOSEN):
    data = {"auto_approve_threshold": threshold, "blocking_rules": list(blocking)}
    if enabled:
        data["auto_approve_enabled"] = "y"
    return admin.post(RULES, data=data)


def submitted_status(station: Api, fleet: Fleet, **overrides) -> str:
    created = station.post("/claims", json=claim_payload(fleet, **overrides))
    assert created.status_code == 201, created.get_data(as_text=True)
    submitted = station.post(f"/claims/{created.get_json()['number']}/submit")
    assert submitted.status_code == 200, submitted.get_data(as_text=True)
    return submitted.get_json()["status"]


def field_errors(html: str, name: str) -> list[str]:
    """The error messages shown right after the input (and its help text) of field `name`."""
    found = re.search(
        rf'<input[^>]*\bid="{name}"[^>]*>\s*(?:<div class="form-text">.*?</div>\s*)?'
        r'((?:<div class="invalid-feedback">.*?</div>\s*)*)',
        html,
        re.S,
    )
    assert found, f"no field {name}"
    assert ("is-invalid" in found.group(0)) == bool(found.group(1))
    return re.findall(r'<div class="invalid-feedback">(.*?)</div>', found.group(1), re.S)


# -- auto-adjudication settings ------------------------------------------------------------------


def test_the_settings_page_shows_the_values_in_force(admin):
    html = admin.get(RULES).get_data(as_text=True)
    assert re.search(r'<input checked[^>]*id="auto_approve_enabled"', html)
    assert re.search(r'id="auto_approve_threshold"[^>]*value="2000.00"', html)
    # outside_coverage always blocks: shown ticked, and not for changing.
    assert re.search(r'id="blocking-outside_coverage" checked disabled', html)
    assert "never paid without an auditor" in html
    assert 'name="blocking_rules" type="checkbox" value="outside_coverage"' not in html
    for rule in ("duplicate", "labor_hours"):
        assert re.search(rf'<input checked[^>]*name="blocking_rules" [^>]*value="{rule}"', html)
    assert '<dd class="col-sm-7" data-testid="in-force-threshold">2,000.00</dd>' in html


def test_the_threshold_decides_what_a_real_submit_auto_approves(
    admin, api, fleet, db_session, caplog
):
    caplog.set_level(logging.INFO, logger="portal.admin.operations")
    response = save(admin, threshold="230.00")
    assert response.status_code == 302 and response.headers["Location"] == RULES
    assert settings(db_session).auto_approve_threshold == Decimal("230.00")
    # The clean repair claim totals 230.00: not under 230.00, so an auditor sees it...
    assert submitted_status(api["station"], fleet) == "in_review"

    assert save(admin, threshold="230.01").status_code == 302
    page = admin.get(RULES).get_data(as_text=True)
    # ...one fen more and it is approved on submit (a second claim: a different causal part).
    assert (
        submitted_status(
            api["station"],
            fleet,
            causal_part="P-200",
            lines=[{"kind": "part", "part_number": "P-200", "qty": 4}],  # 182.00 + 18.20
        )
        == "approved"
    )
    assert "Auto-adjudication settings saved by admin." in page
    assert '<dd class="col-sm-7" data-testid="in-force-threshold">230.01</dd>' in page
    # Who changed what is in the log (the schema keeps no history of the settings).
    admin_id = db_session.scalar(sa.select(User.id).where(User.username == "admin"))
    assert [r.getMessage() for r in caplog.records if r.name == "portal.admin.operations"] == [
        f"claim settings saved by admin (id {admin_id}): threshold 2000.00 -> 230.00",
        f"claim settings saved by admin (id {admin_id}): threshold 230.00 -> 230.01",
    ]


def test_switching_auto_approval_off_sends_every_claim_to_an_auditor(admin, api, fleet, db_session):
    assert save(admin, enabled=False).status_code == 302
    assert settings(db_session).auto_approve_enabled is False
    assert submitted_status(api["station"], fleet) == "in_review"
    assert 'data-testid="in-force-enabled">Off<' in admin.get(RULES).get_data(as_text=True)
    assert save(admin, enabled=True).status_code == 302
    assert submitted_status(api["station"], fleet, causal_part="P-200") == "approved"


LABOR_OVER_STANDARD = [
    {"kind": "labor", "operation_code": "OP-1", "hours": "2.00", "description": "Seized bolts"}
]


def test_the_blocking_rules_decide_whether_a_flagged_claim_is_auto_approved(
    admin, api, fleet, db_session
):
    station = api["station"]
    assert submitted_status(station, fleet, lines=LABOR_OVER_STANDARD) == "in_review"
    assert save(admin, blocking=["duplicate"]).status_code == 302
    assert settings(db_session).blocking_rules == [
        "outside_coverage",
        "duplicate",
        "part_not_for_model",
    ]
    created = station.post(
        "/claims", json=claim_payload(fleet, causal_part="P-200", lines=LABOR_OVER_STANDARD)
    ).get_json()
    claim = station.post(f"/claims/{created['number']}/submit").get_json()
    assert claim["status"] == "approved"
    assert [f["rule"] for f in claim["flags"]] == ["labor_hours"]  # still flagged and shown


def test_outside_coverage_blocks_whatever_is_posted(admin, api, fleet, db_session):
    assert save(admin, blocking=[]).status_code == 302
    assert settings(db_session).blocking_rules == ["outside_coverage", "part_not_for_model"]
    goodwill = dict(vin=fleet.old_vehicle.vin, odometer_km=95000, goodwill_reason="VIP")
    assert submitted_status(api["station"], fleet, **goodwill) == "in_review"
    # Nothing else blocks now: a labor overrun under the threshold is approved.
    assert submitted_status(api["station"], fleet, lines=LABOR_OVER_STANDARD) == "approved"


@pytest.mark.parametrize(
    "threshold",
    ["", "-1", "-0.01", "abc", "12.345", "1e3", "NaN", "Infinity", "1 000", "10000000000000"],
)
def test_a_bad_threshold_is_refused_beside_the_field_and_nothing_is_saved(
    admin, db_session, threshold, caplog
):
    caplog.set_level(logging.INFO, logger="portal.admin.operations")
    before = settings(db_session)
    before = (before.auto_approve_enabled, before.auto_approve_threshold, before.blocking_rules)
    response = save(admin, enabled=False, threshold=threshold, blocking=[])
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert field_errors(html, "auto_approve_threshold")
    assert field_errors(html, "auto_approve_enabled") == []
    assert "The settings were not saved" in html
    after = settings(db_session)
    assert (
        after.auto_approve_enabled,
        after.auto_approve_threshold,
        after.blocking_rules,
    ) == before
    assert not [r for r in caplog.records if r.name == "portal.admin.operations"]
    # The page still says what is in force, and keeps what was typed for correcting.
    assert '<dd class="col-sm-7" data-testid="in-force-threshold">2,000.00</dd>' in html
    assert f'value="{threshold}"' in html or threshold == ""


@pytest.mark.parametrize("threshold", ["0", "0.5", "1999.99", "2,500.00", " 300 "])
def test_a_threshold_of_zero_or_more_with_two_decimals_is_taken_exactly(
    admin, db_session, threshold
):
    assert save(admin, threshold=threshold).status_code == 302
    expected = Decimal(threshold.strip().replace(",", ""))
    assert settings(db_session).auto_approve_threshold == expected


def test_the_operation_refuses_what_the_form_cannot_send(world, db_session):
    admin = world.users["admin"]
    with pytest.raises(ValidationFailed) as refused:
        operations.update_claim_settings(
            admin, enabled=True, threshold=Decimal("-1"), blocking_rules=["nonsense"]
        )
    assert set(refused.value.fields) == {"auto_approve_threshold", "blocking_rules"}
    with pytest.raises(ValidationFailed):
        operations.update_claim_settings(
            admin, enabled=True, threshold=Decimal("0.001"), blocking_rules=[]
        )
    with pytest.raises(DomainError, match="Only administrators"):
        operations.update_claim_settings(
            world.users["auditor"], enabled=False, threshold=Decimal("1"), blocking_rules=[]
        )
    assert settings(db_session).auto_approve_threshold == Decimal("2000.00")


def test_a_form_without_its_csrf_token_is_refused(database_url):
    guarded = create_app(test_config(database_url, WTF_CSRF_ENABLED=True))
    response = guarded.test_client().post(RULES, data={"auto_approve_threshold": "1.00"})
    assert response.status_code == 400
    assert "form expired" in response.get_data(as_text=True)


# -- who may see the rules -----------------------------------------------------------------------

PAGES = [
    ("GET", RULES),
    ("POST", RULES),
    ("GET", CODES),
    ("POST", CODES),
    ("GET", f"{CODES}/misuse"),
    ("POST", f"{CODES}/misuse"),
    ("POST", f"{CODES}/misuse/active"),
]


@pytest.mark.parametrize("role", ["station", "auditor", "finance", "supplier"])
def test_only_admins_may_see_or_change_the_rules(login_as, db_session, role):
    client = login_as(role)
    for method, path in PAGES:
        response = client.open(
            path,
            method=method,
            data={
                "auto_approve_threshold": "1.00",
                "code": "x_y",
                "label_en": "X",
                "label_zh": "X",
                "active": "0",
            },
        )
        assert response.status_code == 403, (method, path)
    assert settings(db_session).auto_approve_threshold == Decimal("2000.00")
    misuse = db_session.scalar(sa.select(ReasonCode).where(ReasonCode.code == "misuse"))
    assert misuse.active and misuse.label_en == "Misuse"
    assert db_session.scalar(sa.select(ReasonCode).where(ReasonCode.code == "x_y")) is None
    home = client.get("/", follow_redirects=True)
    assert home.status_code == 200 and 'href="/admin/rules"' not in home.get_data(as_text=True)


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(RULES)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_admins_find_the_rules_in_the_navigation(admin):
    html = admin.get("/admin/users").get_data(as_text=True)
    assert 'href="/admin/rules">Rules</a>' in html


# -- reason codes ----------------------------------------------------------------------------------


def codes_in_table(html: str) -> dict[str, str]:
    """code -> its status badge, as the list shows them."""
    rows = re.findall(
        r'<tr data-code="([^"]+)".*?<span class="badge[^"]*">([^<]+)</span>', html, re.S
    )
    return dict(rows)


def test_the_list_shows_every_code_with_both_labels(admin):
    html = admin.get(CODES).get_data(as_text=True)
    assert codes_in_table(html) == {code: "Active" for code, _en, _zh in SEEDED_REASON_CODES}
    assert '<td lang="zh-CN">旧件未按时返回</td>' in html
    assert '<td lang="en">Part not returned in time</td>' in html


def cut_labor(api, fleet, reason: str):
    """Submit a claim above the threshold and cut its labor line with `reason`."""
    created = (
        api["station"]
        .post(
            "/claims",
            json=claim_payload(
                fleet,
                lines=[
                    *claim_payload(fleet)["lines"],
                    {"kind": "part", "part_number": "P-100", "qty": 20},
                ],
            ),
        )
        .get_json()
    )
    claim = api["station"].post(f"/claims/{created['number']}/submit").get_json()
    assert claim["status"] == "in_review"
    labor_id = claim["lines"][1]["id"]
    body = {
        "action": "approve",
        "lines": [{"id": labor_id, "approved_hours": "1.00", "reason": reason}],
    }
    return api["auditor"].post(f"/claims/{claim['number']}/decision", json=body)


def test_a_code_is_added_relabelled_deactivated_refused_then_reactivated(
    admin, api, fleet, db_session
):
    response = admin.post(
        CODES, data={"code": "missing_photos", "label_en": "Missing photos", "label_zh": "缺少照片"}
    )
    assert response.status_code == 302
    page = admin.get(CODES).get_data(as_text=True)
    assert "Reason code missing_photos added." in page
    assert codes_in_table(page)["missing_photos"] == "Active"
    listed = api["auditor"].get("/reason-codes").get_json()["items"]
    assert {
        "code": "missing_photos",
        "label_en": "Missing photos",
        "label_zh": "缺少照片",
    } in listed

    # Usable at once in a decision.
    decided = cut_labor(api, fleet, "missing_photos")
    assert decided.status_code == 200, decided.get_data(as_text=True)
    decided = decided.get_json()
    assert decided["lines"][1]["reason_code"] == "missing_photos"

    # Relabelled: the code stays, the labels change.
    edit = admin.get(f"{CODES}/missing_photos").get_data(as_text=True)
    assert 'value="Missing photos"' in edit and 'value="缺少照片"' in edit
    response = admin.post(
        f"{CODES}/missing_photos",
        data={"label_en": "Photos missing", "label_zh": "照片缺失", "code": "hijacked"},
    )
    assert response.status_code == 302
    db_session.expire_all()
    code = db_session.scalar(sa.select(ReasonCode).where(ReasonCode.code == "missing_photos"))
    assert (code.label_en, code.label_zh, code.active) == ("Photos missing", "照片缺失", True)

    # Deactivated: gone from the API's list, refused in a new decision, kept on the old one.
    response = admin.post(f"{CODES}/missing_photos/active", data={"active": "0"})
    assert response.status_code == 302
    page = admin.get(CODES).get_data(as_text=True)
    assert codes_in_table(page)["missing_photos"] == "Deactivated"
    assert list(codes_in_table(page))[-1] == "missing_photos"  # inactive codes last
    codes = [i["code"] for i in api["auditor"].get("/reason-codes").get_json()["items"]]
    assert "missing_photos" not in codes
    refused = error_of(cut_labor(api, fleet, "missing_photos"), 422)
    assert "lines[0].reason" in refused["fields"]
    kept = api["auditor"].get(f"/claims/{decided['number']}").get_json()
    assert kept["lines"][1]["reason_code"] == "missing_photos"

    # Reactivated: usable again.
    assert admin.post(f"{CODES}/missing_photos/active", data={"active": "1"}).status_code == 302
    assert cut_labor(api, fleet, "missing_photos").status_code == 200


def test_a_seeded_code_can_be_deactivated_too_and_decide_claim_refuses_it(
    admin, world, fleet, db_session
):
    from portal.claims.decisions import Decision, LineDecision, decide_claim

    assert admin.post(f"{CODES}/excessive_labor/active", data={"active": "0"}).status_code == 302
    db_session.expire_all()
    claim = ClaimFactory(fleet=fleet, in_review=True)
    cut = LineDecision(claim.lines[1].id, approved_hours=Decimal("1.00"), reason="excessive_labor")
    with pytest.raises(ValidationFailed) as refused:
        decide_claim(claim.id, world.users["auditor"], Decision("approve", [cut]))
    assert "lines[0].reason" in refused.value.fields


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"code": "misuse"}, "code", "misuse exists already"),
        ({"code": "Missing_Photos"}, "code", "lower_snake_case"),
        ({"code": "missing photos"}, "code", "lower_snake_case"),
        ({"code": "missing-photos"}, "code", "lower_snake_case"),
        ({"code": "1st_visit"}, "code", "lower_snake_case"),
        ({"code": "_hidden"}, "code", "lower_snake_case"),
        ({"code": "trailing_"}, "code", "lower_snake_case"),
        ({"code": "double__underscore"}, "code", "lower_snake_case"),
        ({"code": "照片"}, "code", "lower_snake_case"),
        ({"code": "x" * 41}, "code", "40"),
        ({"code": ""}, "code", "This field is required."),
        ({"label_en": "  "}, "label_en", "This field is required."),
        ({"label_zh": ""}, "label_zh", "This field is required."),
        ({"label_zh": "长" * 121}, "label_zh", "120"),
    ],
)
def test_a_duplicate_or_malformed_code_is_refused_beside_its_field(
    admin, db_session, data, field, message
):
    count = db_session.scalar(sa.select(sa.func.count(ReasonCode.id)))
    form = {"code": "missing_photos", "label_en": "Missing photos", "label_zh": "缺少照片", **data}
    response = admin.post(CODES, data=form)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    errors = field_errors(html, field)
    assert any(message in e for e in errors), errors
    assert "The reason code was not added" in html
    assert db_session.scalar(sa.select(sa.func.count(ReasonCode.id))) == count


def test_relabelling_needs_both_labels(admin, db_session):
    response = admin.post(f"{CODES}/misuse", data={"label_en": "Abuse", "label_zh": ""})
    assert response.status_code == 200
    assert field_errors(response.get_data(as_text=True), "label_zh")
    db_session.expire_all()
    misuse = db_session.scalar(sa.select(ReasonCode).where(ReasonCode.code == "misuse"))
    assert (misuse.label_en, misuse.label_zh) == ("Misuse", "使用不当")


def test_an_unknown_code_is_404(admin):
    assert admin.get(f"{CODES}/nope").status_code == 404
    assert admin.post(f"{CODES}/nope/active", data={"active": "0"}).status_code == 404


def test_every_change_to_a_code_is_logged_with_its_admin(admin, caplog):
    caplog.set_level(logging.INFO, logger="portal.admin.operations")
    admin.post(CODES, data={"code": "late_claim", "label_en": "Late", "label_zh": "逾期"})
    admin.post(f"{CODES}/late_claim", data={"label_en": "Filed late", "label_zh": "逾期提交"})
    admin.post(f"{CODES}/late_claim/active", data={"active": "0"})
    logged = [r.getMessage() for r in caplog.records if r.name == "portal.admin.operations"]
    assert len(logged) == 3
    assert logged[0].startswith("reason code late_claim added by admin")
    assert "relabelled by admin" in logged[1] and "Filed late" in logged[1]
    assert logged[2].startswith("reason code late_claim deactivated by admin")


def test_the_rules_pages_speak_chinese(app, admin):
    from tests import i18n_support

    if i18n_support.compile_catalogs():
        i18n_support.forget_loaded_catalogs(app)
    admin.post("/lang/zh_CN")
    page = admin.get(RULES).get_data(as_text=True)
    assert "自动审核" in page and "始终阻止自动批准" in page
    refused = save(admin, threshold="-1").get_data(as_text=True)
    assert field_errors(refused, "auto_approve_threshold") == [
        "请输入不小于 0、最多两位小数的金额，例如 2000.00。"
    ]
    codes = admin.get(CODES).get_data(as_text=True)
    assert "添加原因代码" in codes and "已停用" not in codes


def test_a_code_added_by_another_admin_meanwhile_is_refused_not_a_crash(
    world, db_session, monkeypatch
):
    """The uniqueness check and the insert are two steps; the unique index decides a race."""
    monkeypatch.setattr(operations, "code_taken", lambda code: False)
    with pytest.raises(ValidationFailed) as refused:
        operations.add_reason_code(world.users["admin"], "misuse", "Misuse again", "再次")
    assert refused.value.fields == {"code": "misuse exists already"}
    # Only the failed insert was undone: the session and the test's data are intact.
    assert db_session.scalar(sa.select(sa.func.count(ReasonCode.id))) == len(SEEDED_REASON_CODES)
    assert world.users["admin"].username == "admin"


def test_every_flag_rule_has_a_label_on_the_settings_page():
    from portal.admin.forms import FLAG_RULE_LABELS

    assert set(FLAG_RULE_LABELS) == set(FLAG_RULES)


@pytest.mark.postgres
def test_the_settings_row_made_by_two_first_uses_at_once_fails_neither(committing_app):
    """A fresh install's first submits read the settings at the same moment: the one that finds
    no row while the other is inserting it waits, then reads that row instead of failing."""
    from portal.extensions import db

    with committing_app.app_context():
        other = db.engine.connect()
        other.execute(sa.text("DELETE FROM claim_settings"))
        other.commit()
        # Another request is inserting the row and has not committed yet.
        other.execute(
            sa.text(
                "INSERT INTO claim_settings (id, auto_approve_enabled, auto_approve_threshold, "
                "blocking_rules, updated_at) VALUES (1, true, 50000, '[]', now())"
            )
        )
        found: dict = {}

        def first_use() -> None:
            with committing_app.app_context():
                try:
                    found["threshold"] = ClaimSettings.current().auto_approve_threshold
                    db.session.commit()
                except Exception as exc:  # noqa: BLE001 (the test reports what went wrong)
                    found["error"] = exc
                finally:
                    db.session.remove()

        thread = threading.Thread(target=first_use)
        thread.start()
        thread.join(timeout=1)  # it waits on the uncommitted row
        assert thread.is_alive()
        other.commit()
        other.close()
        thread.join(timeout=10)
        assert found == {"threshold": Decimal("500.00")}
