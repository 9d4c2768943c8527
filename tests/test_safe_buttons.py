"""Safe by default, through HTTP: Enter never decides a claim (the decision form's default
button is a disabled one), an empty save creates no draft, a station deletes its own draft (its
number is not used again), and the role home pages say what needs doing today."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from portal.claims.models import Claim, ClaimSettings, ClaimStatus
from tests.factories import ClaimFactory, Fleet


@pytest.fixture
def login_as(switching_login):
    return switching_login


@pytest.fixture
def fleet(world):
    ClaimSettings.current().auto_approve_enabled = False
    return Fleet.build(world)


def text(response) -> str:
    return response.get_data(as_text=True)


def first_submit_button(html: str, form_marker: str) -> str:
    """The first submit button of the form holding `form_marker`: the one Enter clicks."""
    start = html.index(form_marker)
    form = html[html.rindex("<form", 0, start) : html.index("</form>", start)]
    return re.search(r"<button[^>]*type=\"submit\"[^>]*>", form).group(0)


def test_enter_in_the_decision_form_decides_nothing(login_as, fleet):
    claim = ClaimFactory(fleet=fleet, in_review=True)
    page = text(login_as("auditor").get(f"/oem/claims/{claim.number}"))
    default = first_submit_button(page, 'data-testid="decision-form"')
    assert "disabled" in default and 'name="action"' not in default
    # Return and reject each ask before they are sent; the approval names its amount.
    assert f"Return claim {claim.number} to the station?" in page
    assert f"Approve claim {claim.number} for {claim.total_amount:,.2f}?" in page


def test_the_review_page_asks_in_chinese(login_as, fleet):
    claim = ClaimFactory(fleet=fleet, in_review=True)
    client = login_as("auditor")
    client.post("/lang/zh_CN")
    page = text(client.get(f"/oem/claims/{claim.number}"))
    assert f"批准索赔单 {claim.number}，金额 {claim.total_amount:,.2f}？" in page


def test_an_empty_save_creates_no_draft(login_as, fleet):
    client = login_as("station")
    response = client.post("/claims/new?type=repair", data={"vin": "", "complaint": "  "})
    assert response.status_code == 422
    assert "Nothing was saved: the form is empty." in text(response)
    form = text(client.get("/claims/new?type=repair"))
    assert "disabled" in first_submit_button(form, 'id="claim-form"')


def test_an_empty_save_is_refused_in_chinese(login_as, fleet, db_session):
    client = login_as("station")
    client.post("/lang/zh_CN")
    response = client.post("/claims/new?type=repair", data={})
    assert response.status_code == 422
    assert "未保存：表单是空的。" in text(response)
    assert db_session.scalar(sa.select(sa.func.count(Claim.id))) == 0


def test_a_station_deletes_its_draft_and_its_number_is_not_used_again(login_as, fleet, db_session):
    draft = ClaimFactory(fleet=fleet, own_vehicle=True)
    number = draft.number
    client = login_as("station")
    assert 'data-testid="delete-draft"' in text(client.get(f"/claims/{number}"))
    response = client.post(f"/claims/{number}/delete")
    assert response.status_code == 302
    assert f"Draft {number} was deleted." in text(client.get(response.headers["Location"]))
    assert db_session.scalar(sa.select(Claim).where(Claim.number == number)) is None
    assert client.get(f"/claims/{number}").status_code == 404
    following = ClaimFactory(fleet=fleet, own_vehicle=True)
    assert following.number != number and following.number > number


def test_only_a_never_submitted_draft_of_ones_own_station_is_deleted(login_as, fleet):
    submitted = ClaimFactory(fleet=fleet, own_vehicle=True, in_review=True)
    returned = ClaimFactory(fleet=fleet, own_vehicle=True, returned=True)
    theirs = ClaimFactory(fleet=fleet, own_vehicle=True, station="station_b")
    client = login_as("station")
    for claim in (submitted, returned):
        assert 'data-testid="delete-draft"' not in text(client.get(f"/claims/{claim.number}"))
        response = client.post(f"/claims/{claim.number}/delete")
        assert "only a draft that was never submitted can be deleted" in text(
            client.get(response.headers["Location"])
        )
    assert submitted.status is ClaimStatus.IN_REVIEW and returned.status is ClaimStatus.RETURNED
    assert client.post(f"/claims/{theirs.number}/delete").status_code == 404
    assert login_as("auditor").post(f"/claims/{theirs.number}/delete").status_code == 403


# -- what needs me today ---------------------------------------------------------------------------


def test_the_station_home_lists_what_needs_it_today(login_as, fleet):
    returned = ClaimFactory(fleet=fleet, own_vehicle=True, returned=True)
    ClaimFactory(fleet=fleet, own_vehicle=True, with_old_parts=True)
    page = text(login_as("station").get("/dealer/"))
    assert 'data-testid="today"' in page
    assert 'data-today-count="returned">1<' in page
    assert f'href="/claims/{returned.number}"' in page
    assert 'data-today-count="to_ship">2<' in page
    assert 'data-today-count="due_soon">0<' in page
    assert "Old parts overdue or due within 7 days" in page
    assert page.count("trend-bar h") == 12


def test_the_auditor_supplier_finance_and_admin_homes_say_what_needs_them(login_as, fleet, world):
    waiting = ClaimFactory(fleet=fleet, own_vehicle=True, in_review=True)
    auditor = text(login_as("auditor").get("/oem/review"))
    assert 'data-today-count="queue">1<' in auditor
    assert f'href="/oem/claims/{waiting.number}"' in auditor
    assert 'data-today-count="disputes">0<' in auditor
    finance = text(login_as("finance").get("/settlement/"))
    assert 'data-today="unsettled"' in finance and 'data-today="to_pay"' in finance
    supplier = text(login_as("supplier").get("/settlement/chargebacks"))
    assert 'data-today-count="open">0<' in supplier
    admin = text(login_as("admin").get("/admin/masterdata/"))
    assert 'data-today="users"' in admin
    for home in (auditor, finance, admin):
        assert home.count("trend-bar h") == 12
    # The supplier's: chargebacks accepted per week and its C/1000 per month.
    assert supplier.count("trend-bar h") == 24


def c1000_bars(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-month="([0-9-]+)" data-c1000="([0-9.]*)"', html))


def test_the_supplier_home_shows_its_own_c1000_month_by_month(login_as, fleet, world):
    from datetime import date

    from portal.analysis.documents import trend
    from portal.analysis.queries import Selection

    before = c1000_bars(text(login_as("supplier").get("/settlement/chargebacks")))
    assert len(before) == 12 and all(v in ("", "0.00") for v in before.values())
    # Another supplier's failed part does not move it; its own does.
    ClaimFactory(
        fleet=fleet,
        own_vehicle=True,
        approved=True,
        causal_part=fleet.part_b.number,  # supplier B's
        lines=[{"kind": "part", "part_number": fleet.part_b.number, "qty": 1}],
    )
    unmoved = c1000_bars(text(login_as("supplier").get("/settlement/chargebacks")))
    assert all(v in ("", "0.00") for v in unmoved.values())
    ClaimFactory(fleet=fleet, own_vehicle=True, approved=True)
    after = c1000_bars(text(login_as("supplier").get("/settlement/chargebacks")))
    expected = trend(Selection(as_of=date.today(), suppliers=(world.suppliers[0].code,)))
    assert sum(m.claims for m in expected) == 1
    assert after == {
        m.month: f"{m.per_1000:.2f}" if m.per_1000 is not None else "" for m in expected
    }
    assert any(float(v or 0) > 0 for v in after.values())
    assert "(C/1000)" in text(login_as("supplier").get("/settlement/chargebacks"))


def test_the_home_page_speaks_chinese(login_as, fleet):
    ClaimFactory(fleet=fleet, own_vehicle=True, returned=True)
    client = login_as("station")
    client.post("/lang/zh_CN")
    page = text(client.get("/dealer/"))
    assert "今天需要您处理的事" in page
    assert "What needs you today" not in page


def test_the_admin_sets_the_decision_target_and_late_claims_show_on_the_auditors_home(
    login_as, fleet, db_session
):
    from datetime import timedelta

    from portal.db import utcnow

    old = ClaimFactory(fleet=fleet, own_vehicle=True, in_review=True)
    ClaimFactory(fleet=fleet, own_vehicle=True, in_review=True)
    old.submitted_at = utcnow() - timedelta(days=15)
    db_session.flush()
    admin = login_as("admin")
    assert 'data-testid="decision-target-form"' in text(admin.get("/admin/rules"))
    refused = admin.post("/admin/rules/decision-target", data={"decision_target_days": "0"})
    assert refused.status_code == 422
    assert ClaimSettings.current().decision_target_days == 5
    saved = admin.post("/admin/rules/decision-target", data={"decision_target_days": "3"})
    assert "Decision target saved: 3 working days." in text(admin.get(saved.headers["Location"]))
    assert ClaimSettings.current().decision_target_days == 3
    assert (
        login_as("auditor")
        .post("/admin/rules/decision-target", data={"decision_target_days": "9"})
        .status_code
        == 403
    )
    home = text(login_as("auditor").get("/oem/review"))
    assert "Late: waiting longer than 3 working days" in home
    assert 'data-today-count="late">1<' in home


def test_the_admin_home_counts_the_recent_master_data_imports(login_as, world, db_session):
    import io
    from datetime import timedelta

    from portal.auditlog.models import AuditEntry
    from portal.db import utcnow

    admin = login_as("admin")
    before = text(admin.get("/admin/masterdata/"))
    assert 'data-today-count="imports">0<' in before
    csv = b"code,description,system\nFC901,Coolant leak,engine\nFC902,Gear noise,powertrain\n"
    done = admin.post(
        "/admin/masterdata/import",
        data={"kind": "fault_codes", "file": (io.BytesIO(csv), "codes.csv")},
        content_type="multipart/form-data",
    )
    assert done.status_code in (200, 302)
    # An import older than the window does not count.
    old = AuditEntry(kind="masterdata.imported", subject="parts", after={"rows": 9})
    old.at = utcnow() - timedelta(days=45)
    db_session.add(old)
    db_session.flush()
    home = text(admin.get("/admin/masterdata/"))
    assert 'data-today-count="imports">1<' in home
    assert "Master-data files imported in the last 30 days" in home
    assert 'href="/admin/masterdata/fault_codes"' in home and "2 rows" in home
    assert "9 rows" not in home
    assert "kind=masterdata.imported" in home
    admin.post("/lang/zh_CN")
    zh = text(admin.get("/admin/masterdata/"))
    assert "最近 30 天导入的基础数据文件" in zh and "2 行" in zh
