"""A station works a recall in headless Chromium: it looks up a VIN and sees the open recall
first, in red, above everything else on the page; it files the campaign claim from there (the
form comes filled with the campaign's package), submits it, and the claim is approved
automatically; the lookup then says the work is done. A repair claim's own VIN lookup shows the
same recall too.

Full-page screenshots land in the test's tmp_path (and in $SCREENSHOT_DIR when it is set).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser_support import (  # noqa: F401 - fixtures
    browser,
    db_session,
    live_server,
    live_world,
    page,
    save_screenshot,
    sign_in,
)
from tests.words_support import shown_day

pytestmark = pytest.mark.browser

REPAIRED = (date.today() - timedelta(days=1)).isoformat()


@pytest.fixture(scope="module")
def recall(live_server):  # noqa: F811 - the fixture imported above
    """RC-BR, a recall of 1.20 h of OP-1 and 1 x P-100 on two vehicles sold by ST-A; 60% charged
    to SU-A. At ST-A: labor 96.00 + part 100.00 + handling 10.00 = 206.00."""
    from portal.extensions import db

    with live_server.app.app_context():
        world = live_world()
        fleet = factories.Fleet.build(world)
        second = fleet.sibling_vehicle()
        factories.CampaignFactory(
            code="RC-BR",
            title="Oil pump may leak",
            operation=fleet.operation,
            hours=Decimal("1.20"),
            package=[(fleet.part, 1)],
            supplier=world.suppliers[0],
            recovery_share=Decimal("0.60"),
            vehicles=[fleet.vehicle, second],
        )
        values = {"vin": fleet.vehicle.vin, "second_vin": second.vin, "part": fleet.part.number}
        db.session.commit()
        db.session.remove()
    return values


def test_a_station_looks_up_a_vin_sees_the_recall_and_files_its_claim(
    page,  # noqa: F811 - the fixtures imported above
    live_server,  # noqa: F811
    recall,
    tmp_path,
):
    sign_in(page, live_server, "station")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    # The station's home says there is campaign work before anything is looked up.
    expect(page.get_by_test_id("campaign-work-alert")).to_contain_text("open recall")

    page.get_by_role("link", name="VIN lookup", exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("VIN lookup")
    page.get_by_placeholder("VIN").fill(recall["vin"].lower())
    page.get_by_role("button", name="Look up").click()

    banner = page.get_by_test_id("open-campaign")
    expect(banner).to_have_count(1)
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("OPEN RECALL")
    expect(banner).to_contain_text("RC-BR")
    expect(banner).to_contain_text("Oil pump may leak")
    expect(banner).to_have_class(re.compile(r"\balert-danger\b"))
    expect(banner).to_have_attribute("role", "alert")
    # Nobody can miss it: it stands above the vehicle and its coverage, inside the first screen.
    box = banner.bounding_box()
    vehicle_card = page.get_by_test_id("coverage").bounding_box()
    assert box is not None and vehicle_card is not None
    assert box["y"] < vehicle_card["y"]
    assert box["y"] + box["height"] < 900
    assert box["width"] > 600
    save_screenshot(page, tmp_path, "vin-lookup-open-recall")

    banner.get_by_test_id("file-campaign-claim").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("New claim"))
    # The form comes filled: the VIN, the campaign, and the package as its lines.
    expect(page.get_by_label("VIN")).to_have_value(recall["vin"])
    expect(page.get_by_label("Campaign", exact=True)).to_have_value("RC-BR")
    expect(page.get_by_test_id("lookup-campaign")).to_contain_text("RC-BR")
    labor = page.locator('[data-lines] tr[data-kind="labor"]')
    expect(labor.get_by_label("Labor operation")).to_have_value("OP-1")
    expect(labor.get_by_label("Hours")).to_have_value("1.20")
    part = page.locator('[data-lines] tr[data-kind="part"]')
    expect(part.get_by_label("Part number")).to_have_value(recall["part"])
    expect(page.locator('[data-total="total"]')).to_have_text("206.00")

    page.get_by_label("Odometer (km)").fill("15000")
    page.get_by_label("Repair date").fill(REPAIRED)
    page.evaluate("window.scrollTo(0, 0)")
    save_screenshot(page, tmp_path, "campaign-claim-form")
    page.get_by_test_id("save").click()
    expect(page.get_by_role("alert").first).to_contain_text("saved as a draft")
    number = page.get_by_role("heading", level=1).inner_text()
    assert re.fullmatch(r"CP-ST-A-\d{4}-\d{4}", number), number
    expect(page.get_by_test_id("claim-campaign")).to_have_text("RC-BR")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("submit").click()
    expect(page.get_by_role("alert").first).to_contain_text("approved automatically")
    expect(page.locator("[data-testid=claim-actions] [data-status]")).to_have_text("Approved")
    amounts = page.get_by_test_id("amounts")
    expect(amounts.locator('[data-amount="total"] td')).to_have_text(["206.00", "206.00"])
    expect(page.get_by_test_id("auto-decision")).to_be_visible()
    save_screenshot(page, tmp_path, "campaign-claim-approved")

    # Looked up again, the vehicle's recall is done and no longer calls for work.
    page.goto(f"/campaigns/vin?vin={recall['vin']}")
    expect(page.get_by_test_id("open-campaign")).to_have_count(0)
    expect(page.get_by_test_id("done-campaign")).to_contain_text(
        f"already done ({shown_day(date.fromisoformat(REPAIRED))})"
    )

    # The station's campaign work list keeps only the vehicle still to do.
    page.goto("/campaigns/work")
    rows = page.get_by_test_id("campaign-work").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(recall["second_vin"])


def test_a_repair_claims_vin_lookup_shows_the_open_recall_too(page, live_server, recall):  # noqa: F811
    sign_in(page, live_server, "station")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.goto("/claims/new?type=repair")
    page.get_by_label("VIN").fill(recall["second_vin"])
    alert = page.get_by_test_id("lookup-campaign")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("OPEN RECALL RC-BR: Oil pump may leak")
    expect(alert).to_have_class(re.compile(r"\balert-danger\b"))
    alert.get_by_role("link").click()
    expect(page.get_by_label("Campaign", exact=True)).to_have_value("RC-BR")
    expect(page.get_by_label("VIN")).to_have_value(recall["second_vin"])


def test_an_auditor_follows_the_recall_on_its_page_with_its_charts(
    page,  # noqa: F811 - the fixtures imported above
    live_server,  # noqa: F811
    recall,
    tmp_path,
):
    sign_in(page, live_server, "auditor")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.goto("/campaigns/RC-BR")
    expect(page.get_by_role("heading", level=1)).to_contain_text("RC-BR")
    chart = page.get_by_test_id("completion-over-time")
    expect(chart).to_be_visible()
    assert chart.bounding_box()["height"] > 100
    expect(page.get_by_test_id("completion-by-region")).to_be_visible()
    expect(page.get_by_test_id("by-region")).to_contain_text("East")
    save_screenshot(page, tmp_path, "campaign-page-charts")


def test_the_campaign_page_and_the_open_form_read_in_chinese(
    page,  # noqa: F811 - the fixtures imported above
    live_server,  # noqa: F811
    recall,
    tmp_path,
):
    sign_in(page, live_server, "auditor")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.goto("/campaigns/RC-BR")
    page.get_by_test_id("lang-switch").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_text("完成进度随时间变化")).to_be_visible()
    expect(page.get_by_test_id("completion-over-time")).to_be_visible()
    save_screenshot(page, tmp_path, "campaign-page-zh")
    page.goto("/campaigns/new")
    expect(page.get_by_label("通知所有服务站")).to_be_visible()
    save_screenshot(page, tmp_path, "campaign-open-form-zh")
