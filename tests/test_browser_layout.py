"""Layout in headless Chromium: no sideways scroll where people work.

At 1366 px the review queue shows its Flags column and the old-part list its Inspection column
(no scrolling inside the table either), and the import page fits; at 390 px (a phone) the
station's claim list and old-parts list fit, one card per claim or part, and its claim page
does not scroll sideways (its tables scroll inside their box). Every role's home page fits both
widths. Each page is measured (the document's and each table's scrollWidth against the width
shown) in English and in Chinese, and screenshotted.

Chromium is never downloaded: without /usr/bin/chromium (or $CHROMIUM) or the playwright
package the module is skipped.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from tests import factories
from tests.browser_support import (  # noqa: F401 - fixtures
    CHROMIUM,
    CHROMIUM_ARGS,
    db_session,
    live_server,
    live_world,
    save_screenshot,
    sign_in,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).is_file() or importlib.util.find_spec("playwright") is None,
        reason="needs Chromium at /usr/bin/chromium (or $CHROMIUM) and the playwright package",
    ),
]

MEASURE = """() => {
  const doc = document.documentElement;
  const tables = [...document.querySelectorAll('.table-responsive')].map(
    (box) => ({scroll: box.scrollWidth, client: box.clientWidth}));
  return {scroll: doc.scrollWidth, client: doc.clientWidth, tables};
}"""


@pytest.fixture(scope="module")
def seeded(live_server):  # noqa: F811 - the fixture imported above
    """Flagged and clean claims in review (both stations), an approved claim with old parts,
    one of them inspected."""
    import sqlalchemy as sa

    from portal.auth.models import User
    from portal.claims.models import ClaimSettings
    from portal.extensions import db
    from portal.oldparts.models import Inspection, OldPartStatus

    with live_server.app.app_context():
        world = live_world()
        world.users = {
            key: db.session.scalar(sa.select(User).where(User.username == name))
            for key, name in live_server.usernames.items()
        }
        ClaimSettings.current().auto_approve_enabled = False
        fleet = factories.Fleet.build(world)
        over_standard = [
            {"kind": "part", "part_number": "P-100", "qty": 1},
            {"kind": "labor", "operation_code": "OP-1", "hours": "3.00", "description": "Corroded"},
        ]
        for i in range(4):
            extra = {"lines": over_standard} if i % 2 else {}
            factories.ClaimFactory(
                fleet=fleet,
                in_review=True,
                own_vehicle=True,
                station="station" if i % 2 else "station_b",
                odometer_km=20000 + i,
                **extra,
            )
        claim = factories.ClaimFactory(fleet=fleet, with_old_parts=True, own_vehicle=True)
        part = factories.old_parts(claim)[0]
        part.status, part.inspection = OldPartStatus.INSPECTED, Inspection.CONFIRMED_DEFECT
        for i in range(3):
            factories.ClaimFactory(
                fleet=fleet,
                own_vehicle=True,
                lines=[{"kind": "part", "part_number": "P-100", "qty": i + 1}],
            )
        # Returned claims whose long reasons are listed on the station's home page.
        for i in range(3):
            factories.ClaimFactory(
                fleet=fleet,
                returned=True,
                own_vehicle=True,
                odometer_km=30000 + i,
                reason="请补充故障件照片及仪表故障码截图后重新提交。Please attach photos of the "
                "failed part and a screenshot of the dashboard fault codes, then resubmit.",
            )
        db.session.commit()
        numbers = {"claim": claim.number}
        db.session.remove()
    return numbers


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


def open_as(chromium, live_server, who: str, width: int, language: str):  # noqa: F811
    context = chromium.new_context(
        base_url=live_server.url, locale="en-US", viewport={"width": 1366, "height": 900}
    )
    page = context.new_page()
    sign_in(page, live_server, who)
    page.wait_for_load_state()
    if language == "zh":  # the switch is in the menu, collapsed on a phone: switch first
        page.get_by_test_id("lang-switch").click()
        page.wait_for_load_state()
    page.set_viewport_size({"width": width, "height": 900})
    return context, page


CASES = [
    ("auditor", "/oem/review", 1366, '[data-testid="queue"] th[data-sort-key="flags"]'),
    ("auditor", "/old-parts/", 1366, '[data-testid="oldpart-list"] th[data-sort-key="inspection"]'),
    ("station", "/old-parts/", 1366, '[data-testid="oldpart-list"] th[data-sort-key="inspection"]'),
    ("admin", "/admin/masterdata/import", 1366, "form"),
    ("station", "/dealer/", 1366, '[data-testid="claim-list"]'),
    ("station", "/dealer/", 390, '[data-testid="claim-list"]'),
    # The station's claim page (with its old parts) and its old-parts list on a phone.
    ("station", "/claims/{claim}", 390, "h1"),
    ("station", "/old-parts/", 390, "h1"),
    # Every role's home page: what needs doing today and the trend, at both widths.
    *(
        (who, "/", width, '[data-testid="today"]')
        for who in ("station", "auditor", "finance", "supplier", "admin")
        for width in (1366, 390)
    ),
]


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize(("who", "path", "width", "shown"), CASES)
def test_the_page_fits_its_width(
    chromium,
    live_server,  # noqa: F811 - the fixture imported above
    seeded,
    tmp_path,
    who,
    path,
    width,
    shown,
    language,
):
    path = path.format(**seeded)
    context, page = open_as(chromium, live_server, who, width, language)
    try:
        response = page.goto(path)
        assert response.ok, f"{path}: {response.status}"
        measured = page.evaluate(MEASURE)
        name = path.strip("/").replace("/", "-")
        save_screenshot(page, tmp_path, f"layout-{who}-{name}-{width}-{language}")
        assert measured["scroll"] <= measured["client"], f"{path} at {width}px: {measured}"
        # On a phone, tables other than the station's claim list and old-parts list (cards)
        # may scroll inside their box; the page itself may not.
        boxed = width == 390 and path not in ("/dealer/", "/old-parts/")
        for table in [] if boxed else measured["tables"]:
            assert table["scroll"] <= table["client"], f"{path} at {width}px scrolls: {measured}"
        target = page.locator(shown).first
        box = target.bounding_box()
        assert box is not None, f"{shown} is not shown on {path}"
        assert box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, (shown, box)
    finally:
        context.close()
