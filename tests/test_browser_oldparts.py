"""Old parts in headless Chromium: a station ticks two parts, packs them into a return shipment
and marks it shipped; the OEM's auditor types both tags into the scan box (as a barcode scanner
would: the tag and Enter) and inspects them.

Full-page screenshots land in the test's tmp_path (and in $SCREENSHOT_DIR when it is set).
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
import sqlalchemy as sa
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
def tags(live_server):  # noqa: F811 - the fixture imported above
    """An auto-approved claim of station A with two units of P-100: their two tags."""
    from portal.auth.models import User
    from portal.claims.models import ClaimSettings
    from portal.extensions import db

    with live_server.app.app_context():
        world = live_world()
        settings = ClaimSettings.current()
        settings.auto_approve_enabled = True
        settings.auto_approve_threshold = Decimal("100000.00")
        fleet = factories.Fleet.build(world)
        user = db.session.scalar(
            sa.select(User).where(User.username == live_server.usernames["station"])
        )
        claim = factories.ClaimFactory(  # auto-approved: 2 x P-100, two old parts
            fleet=fleet,
            filer=user,
            submitted=True,
            lines=[{"kind": "part", "part_number": "P-100", "qty": 2}],
        )
        found = [part.tag for part in factories.old_parts(claim)]
        db.session.commit()
        db.session.remove()
    assert len(found) == 2
    return found


def test_a_station_ships_two_parts_and_the_oem_receives_and_inspects_them(
    page,  # noqa: F811 - the fixture imported above
    live_server,  # noqa: F811
    tags,
    tmp_path,
):
    sign_in(page, live_server, "station")
    page.get_by_role("link", name="Old parts", exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Old parts")
    listing = page.get_by_test_id("oldpart-list")
    for tag in tags:
        row = listing.locator(f'tr[data-tag="{tag}"]')
        expect(row).to_contain_text("Awaiting return")
        expect(row).to_contain_text("days left")
        row.get_by_role("checkbox").check()
    save_screenshot(page, tmp_path, "oldparts-1-station-list")
    page.get_by_test_id("create-shipment").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^RS\d{6}-"))
    number = page.get_by_role("heading", level=1).inner_text().strip()
    expect(page.get_by_test_id("destination")).to_contain_text("OEM")
    page.get_by_label("Carrier").fill("ZTO Express")
    page.get_by_label("Tracking number").fill("ZT0001234")
    save_screenshot(page, tmp_path, "oldparts-2-station-shipment")
    page.get_by_test_id("mark-shipped").click()
    expect(page.get_by_text(f"Shipment {number} is marked shipped.")).to_be_visible()
    expect(page.get_by_test_id("shipment-facts")).to_contain_text("ZT0001234")
    pdf = page.request.get(f"/old-parts/shipments/{number}/packing-list.pdf")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, live_server, "auditor")
    page.get_by_role("link", name="Old parts", exact=True).first.click()
    page.get_by_role("link", name="Shipments", exact=True).click()
    page.get_by_role("link", name=number).click()
    scan = page.get_by_label("Tag number")
    expect(scan).to_be_focused()
    save_screenshot(page, tmp_path, "oldparts-3-oem-scan")
    for left, tag in zip((1, 0), tags, strict=True):
        page.get_by_label("Tag number").fill(tag)
        page.get_by_label("Tag number").press("Enter")  # what a barcode scanner does
        expect(page.get_by_text(f"Old part {tag} received.")).to_be_visible()
        if left:
            expect(page.get_by_label("Tag number")).to_be_focused()
            expect(page.get_by_test_id("scan")).to_contain_text("1 part still to receive")
    expect(page.get_by_test_id("scan")).to_have_count(0)
    save_screenshot(page, tmp_path, "oldparts-4-oem-received")

    for tag, result, note in zip(
        tags,
        ("Confirmed defect", "No fault found"),
        ("Scored rotor", "Works on the bench"),
        strict=True,
    ):
        row = page.locator(f'[data-testid="shipment-parts"] tr[data-tag="{tag}"]')
        row.get_by_label(f"Inspection result for {tag}").select_option(label=result)
        row.get_by_label(f"Inspection note for {tag}").fill(note)
        asked: list[str] = []
        page.once("dialog", lambda d, asked=asked: (asked.append(d.message), d.accept()))
        row.get_by_role("button", name="Inspect").click()
        expect(page.get_by_text(f"Old part {tag} inspected: {result}.")).to_be_visible()
        assert asked and asked[0].startswith(f"Record “{result}” for old part {tag}"), asked
    parts = page.get_by_test_id("shipment-parts")
    expect(parts.locator(f'tr[data-tag="{tags[0]}"]')).to_contain_text("Confirmed defect")
    expect(parts.locator(f'tr[data-tag="{tags[1]}"]')).to_contain_text("No fault found")
    expect(page.get_by_test_id("forward")).to_be_visible()
    save_screenshot(page, tmp_path, "oldparts-5-oem-inspected")

    page.get_by_role("link", name=tags[0]).click()
    expect(page.get_by_test_id("timeline").locator("tr[data-action]")).to_have_count(5)
    save_screenshot(page, tmp_path, "oldparts-6-part-timeline")
