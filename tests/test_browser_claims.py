"""A station files a repair claim end to end in headless Chromium: the VIN lookup shows the
coverage, part and labor lines are added on the page, the claim is saved, submitted and approved.

Full-page screenshots land in the test's tmp_path (and in $SCREENSHOT_DIR when it is set).
"""

from __future__ import annotations

import re
from datetime import date, timedelta

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

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def fleet(live_server):  # noqa: F811 - the fixture imported above
    """Vehicles, parts, an operation and a fault code in the live server's database."""
    from portal.extensions import db

    with live_server.app.app_context():
        world = live_world()
        built = factories.Fleet.build(world)
        values = {
            "vin": built.vehicle.vin,
            "part": built.part.number,
            "operation": built.operation.code,
            "fault": built.fault.code,
        }
        db.session.commit()
        db.session.remove()
    return values


def test_a_station_files_a_repair_claim_through_the_form(page, live_server, fleet, tmp_path):  # noqa: F811
    repair_day = (date.today() - timedelta(days=2)).isoformat()
    fault_day = (date.today() - timedelta(days=3)).isoformat()

    page.goto("/login")
    page.get_by_label("Username").fill(live_server.usernames["station"])
    page.get_by_label("Password").fill(live_server.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My claims")

    page.get_by_role("link", name="New claim", exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New claim")
    page.locator('[data-type="repair"]').click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New claim: Warranty repair")

    # The header; the VIN lookup runs once 17 characters are typed.
    page.get_by_label("Odometer (km)").fill("15000")
    page.get_by_label("Repair date").fill(repair_day)
    page.get_by_label("VIN").fill(fleet["vin"])
    coverage = page.get_by_test_id("lookup-coverage")
    expect(coverage.locator('tr[data-group="basic"]')).to_contain_text("In coverage")
    expect(coverage.locator('tr[data-group="wear"]')).to_contain_text("Expired")
    expect(page.locator('[data-v="model"]')).to_contain_text("HX5")
    expect(page.get_by_text("No earlier claims for this vehicle.")).to_be_visible()

    page.get_by_label("Fault date").fill(fault_day)
    page.get_by_label("Fault code").fill(fleet["fault"])
    expect(page.locator("#fault_code ~ [data-lookup-name]")).to_contain_text("Misfire")
    page.get_by_label("Causal part").fill(fleet["part"])
    expect(page.locator("#causal_part ~ [data-lookup-name]")).to_contain_text("Oil pump")
    page.get_by_label("Complaint").fill("Oil pressure warning light on")
    page.get_by_label("Cause").fill("Oil pump worn")
    page.get_by_label("Correction").fill("Oil pump replaced")

    # The form starts with one part row; a labor row is added on the page.
    part_row = page.locator('[data-lines] tr[data-kind="part"]')
    part_row.get_by_label("Part number").fill(fleet["part"])
    expect(part_row.locator("[data-line-price]")).to_have_text("100.00")
    expect(part_row.locator("[data-line-amount]")).to_have_text("100.00")
    page.get_by_role("button", name="Add labor").click()
    labor_row = page.locator('[data-lines] tr[data-kind="labor"]')
    labor_row.get_by_label("Labor operation").fill(fleet["operation"])
    labor_row.get_by_label("Hours").fill("1.5")
    expect(labor_row.locator("[data-line-name]")).to_contain_text("standard")
    expect(page.locator('[data-total="handling"]')).to_have_text("10.00")
    expect(page.locator('[data-total="total"]')).to_have_text("230.00")
    # An extra row added and removed again leaves nothing behind.
    page.get_by_role("button", name="Add other cost").click()
    page.locator('[data-lines] tr[data-kind="other"]').get_by_label("Remove line").click()
    expect(page.locator("[data-lines] tr")).to_have_count(2)
    page.evaluate("window.scrollTo(0, 0)")  # the amounts card is sticky: screenshot from the top
    save_screenshot(page, tmp_path, "claim-form-en")

    page.get_by_test_id("save").click()
    expect(page.get_by_role("alert")).to_contain_text("saved as a draft")
    number = page.get_by_role("heading", level=1).inner_text()
    assert re.fullmatch(r"RP-ST-A-\d{4}-\d{4}", number)
    amounts = page.get_by_test_id("amounts")
    expect(amounts.locator('[data-amount="total"]')).to_contain_text("230.00")
    expect(page.get_by_test_id("coverage")).to_contain_text("In coverage")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("submit").click()
    expect(page.get_by_role("alert")).to_contain_text("approved automatically")
    expect(page.locator("[data-testid=claim-actions] [data-status]")).to_have_text("Approved")
    expect(amounts.locator('[data-amount="total"] td')).to_have_text(["230.00", "230.00"])
    expect(page.get_by_test_id("auto-decision")).to_be_visible()
    expect(page.get_by_test_id("timeline")).to_contain_text("Approved automatically")
    save_screenshot(page, tmp_path, "claim-page-en")

    # The new claim heads the station's list.
    page.get_by_role("link", name="My claims", exact=True).first.click()
    first_row = page.get_by_test_id("claim-list").locator("tbody tr").first
    expect(first_row).to_contain_text(number)
    expect(first_row).to_contain_text("Approved")
    save_screenshot(page, tmp_path, "claim-list-en")
