"""Nobody judges their own part, in headless Chromium: supplier A receives the pump routed to
it and records no fault found; the finding waits in the auditors' queue; the auditor overrules
it with a reason, and the chargeback stands (the line stays in supplier A's recovery).

Full-page screenshots land in the test's tmp_path (and in $SCREENSHOT_DIR when it is set).
"""

from __future__ import annotations

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
def shipped(live_server):  # noqa: F811 - the fixture imported above
    """An auto-approved claim of station A for one P-100, routed to supplier A and shipped:
    (tag, shipment number)."""
    from portal.auth.models import User
    from portal.claims.models import ClaimSettings
    from portal.extensions import db
    from portal.masterdata.models import Disposition
    from portal.oldparts import operations as op
    from portal.oldparts.models import OldPart

    with live_server.app.app_context():
        world = live_world()
        settings = ClaimSettings.current()
        settings.auto_approve_enabled = True
        settings.auto_approve_threshold = Decimal("100000.00")
        fleet = factories.Fleet.build(world)
        fleet.part.disposition = Disposition.RETURN_TO_SUPPLIER
        user = db.session.scalar(
            sa.select(User).where(User.username == live_server.usernames["station"])
        )
        claim = factories.ClaimFactory(fleet=fleet, filer=user, submitted=True)
        (tag,) = db.session.scalars(sa.select(OldPart.tag).where(OldPart.claim == claim))
        shipment = op.create_return_shipment(user, [tag])
        op.ship(shipment, user, "ZTO", "ZT0005678")
        number = shipment.number
        db.session.commit()
        db.session.remove()
    return tag, number


def test_a_supplier_proposes_no_fault_found_the_auditor_overrules_and_the_chargeback_stands(
    page,  # noqa: F811 - the fixture imported above
    live_server,  # noqa: F811
    shipped,
    tmp_path,
):
    tag, number = shipped
    sign_in(page, live_server, "supplier")
    page.goto(f"/old-parts/shipments/{number}")
    page.get_by_label("Tag number").fill(tag)
    page.get_by_label("Tag number").press("Enter")
    expect(page.get_by_text(f"Old part {tag} received.")).to_be_visible()
    row = page.locator(f'[data-testid="shipment-parts"] tr[data-tag="{tag}"]')
    row.get_by_label(f"Inspection result for {tag}").select_option(label="No fault found")
    row.get_by_label(f"Inspection note for {tag}").fill("Pump runs quietly on the bench")
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    row.get_by_role("button", name="Inspect").click()
    expect(page.get_by_text(f"Your finding on old part {tag}")).to_be_visible()
    assert asked and asked[0].startswith(f"Record “No fault found” for old part {tag}"), asked
    save_screenshot(page, tmp_path, "findings-1-supplier-proposes")
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, live_server, "auditor")
    page.get_by_role("link", name="Old parts", exact=True).first.click()
    page.get_by_test_id("findings-link").click()
    queue = page.get_by_test_id("findings")
    expect(queue.locator(f'tr[data-tag="{tag}"]')).to_contain_text("No fault found")
    expect(queue.locator(f'tr[data-tag="{tag}"]')).to_contain_text("Pump runs quietly")
    save_screenshot(page, tmp_path, "findings-2-auditor-queue")
    queue.get_by_role("link", name=tag).click()
    review = page.get_by_test_id("finding-review")
    review.get_by_label("Result in force").select_option(label="Confirmed defect")
    review.get_by_label("Reason").fill("Bearing play well beyond the limit: defect confirmed")
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    review.get_by_role("button", name="Overrule").click()
    expect(page.get_by_text(f"The supplier's finding on {tag} is overruled.")).to_be_visible()
    assert asked and tag in asked[0] and "is charged for claim" in asked[0]
    expect(page.get_by_test_id("findings")).to_have_count(0)  # nothing left to review
    page.goto(f"/old-parts/{tag}")
    expect(page.get_by_test_id("part-facts")).to_contain_text("Confirmed defect")
    expect(page.get_by_test_id("part-facts")).to_contain_text("overruled")
    timeline = page.get_by_test_id("timeline")
    expect(timeline.locator('tr[data-action="proposed_no_fault_found"]')).to_have_count(1)
    expect(timeline.locator('tr[data-action="finding_overruled"]')).to_contain_text(
        "Bearing play well beyond the limit"
    )
    save_screenshot(page, tmp_path, "findings-3-overruled")

    from portal.extensions import db
    from portal.oldparts import operations as op
    from portal.oldparts.models import OldPart

    with live_server.app.app_context():
        part = db.session.scalar(sa.select(OldPart).where(OldPart.tag == tag))
        assert op.lines_removed_from_recovery([part.claim_id]) == set()  # the chargeback stands
        db.session.remove()
