"""A late finding becomes an adjustment, in headless Chromium: a claim is paid and charged back
to supplier A (225.00) in a released run; afterwards the auditor finds no fault in its returned
pump; finance reads the adjustment in the audit log; the next run credits supplier A 105.00 on
its statement, naming the statement it corrects.

Screenshots land in the test's tmp_path (and in $SCREENSHOT_DIR when it is set).
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


def _world(server):
    """The live server's world with its users (in its app context)."""
    from portal.auth.models import User
    from portal.extensions import db

    world = live_world()
    world.users = {
        key: db.session.scalar(sa.select(User).where(User.username == name))
        for key, name in server.usernames.items()
    }
    return world


@pytest.fixture(scope="module")
def settled(live_server):  # noqa: F811 - the fixture imported above
    """A claim approved, paid and charged back in a released run; its pump returned to the OEM
    and received, not inspected yet: (tag, claim number, the supplier statement's number)."""
    from portal.claims.models import ClaimSettings
    from portal.extensions import db
    from portal.oldparts import operations as op
    from portal.settlement.models import Statement, StatementKind

    with live_server.app.app_context():
        world = _world(live_server)
        ClaimSettings.current().auto_approve_enabled = False
        fleet = factories.Fleet.build(world)
        claim = factories.ClaimFactory(fleet=fleet, approved=True)
        run = factories.SettlementRunFactory(world=world, released=True)
        original = db.session.scalar(
            sa.select(Statement).where(
                Statement.run_id == run.id, Statement.kind == StatementKind.SUPPLIER
            )
        )
        assert original.net == Decimal("225.00")
        (part,) = op.parts_of_claim(claim)
        shipment = op.create_return_shipment(world.users["station"], [part.tag])
        op.ship(shipment, world.users["station"], "ZTO", "ZT0009876")
        op.receive(shipment, world.users["auditor"], part.tag)
        found = (part.tag, claim.number, original.number)
        db.session.commit()
        db.session.remove()
    return found


def test_a_no_fault_found_after_settlement_reaches_the_suppliers_next_statement(
    page,  # noqa: F811 - the fixture imported above
    live_server,  # noqa: F811
    settled,
    tmp_path,
):
    tag, number, original = settled
    sign_in(page, live_server, "auditor")
    page.goto(f"/old-parts/{tag}")
    form = page.get_by_test_id("inspect-form")
    form.get_by_label("Result").select_option(label="No fault found")
    form.get_by_label("Note").fill("Pump runs quietly on the bench")
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    form.get_by_role("button", name="Record inspection").click()
    expect(page.get_by_text(f"Old part {tag} inspected: No fault found.")).to_be_visible()
    # It asked first, naming the result chosen and what it does to the settled claim.
    assert asked and asked[0].startswith(f"Record “No fault found” for old part {tag}"), asked
    assert "the difference goes on the next statement" in asked[0]
    timeline = page.get_by_test_id("timeline")
    expect(timeline.locator('tr[data-action="adjustment_supplier_credit"]')).to_have_count(1)
    save_screenshot(page, tmp_path, "adjustment-1-late-finding")
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, live_server, "finance")
    page.goto("/audit-log/")
    page.get_by_label("What").select_option(label="Adjustment created")
    page.get_by_role("button", name="Filter").click()
    entry = page.get_by_test_id("audit-entries").locator('tr[data-kind="adjustment.created"]')
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text(number)
    expect(entry).to_contain_text("-105.00")
    save_screenshot(page, tmp_path, "adjustment-2-audit-log")
    page.get_by_role("button", name="Sign out").click()

    from portal.extensions import db
    from portal.settlement.models import Statement, StatementKind

    with live_server.app.app_context():
        run = factories.SettlementRunFactory(world=_world(live_server), released=True)
        statement_id = db.session.scalar(
            sa.select(Statement.id).where(
                Statement.run_id == run.id, Statement.kind == StatementKind.SUPPLIER
            )
        )
        db.session.commit()
        db.session.remove()

    sign_in(page, live_server, "supplier")
    page.goto(f"/settlement/statements/{statement_id}")
    line = page.locator(f'tr[data-kind="adjustment"][data-claim="{number}"]')
    expect(line).to_have_count(1)
    expect(line).to_contain_text(original)
    expect(line).to_contain_text("-105.00")
    expect(page.get_by_test_id("net")).to_contain_text("-105.00")
    save_screenshot(page, tmp_path, "adjustment-3-next-statement")
