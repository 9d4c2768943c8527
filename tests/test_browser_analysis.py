"""The analysis pages in headless Chromium, in English and Chinese: an auditor opens the fault
analysis, drills down from a bar of the chart to the claims behind it, and reads the reliability,
compensation, early-warning and outlier pages. Screenshots land in the test's tmp_path (and in
$SCREENSHOT_DIR when it is set)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from tests.browser_support import (  # noqa: F401 - fixtures
    browser,
    db_session,
    live_server,
    live_world,
    page,
    save_screenshot,
    sign_in,
)
from tests.factories import ClaimFactory, Fleet, VehicleFactory, VehicleModelFactory

pytestmark = pytest.mark.browser

AS_OF = "2025-12-31"


@pytest.fixture(scope="module")
def history(live_server):  # noqa: F811 - the fixture imported above
    """48 AN1 vehicles sold over eight months of 2025, 26 auto-approved claims on P-100 and
    P-200 at stations A and B, spread over months in service."""
    from portal.auth.models import User
    from portal.claims.models import ClaimSettings, ClaimStatus
    from portal.extensions import db

    with live_server.app.app_context():
        world = live_world()
        settings = ClaimSettings.current()
        settings.auto_approve_enabled = True
        settings.auto_approve_threshold = Decimal("100000.00")
        fleet = Fleet.build(world)
        model = VehicleModelFactory(code="AN1", name="Analysis AN1")
        users = {
            key: db.session.scalar(
                sa.select(User).where(User.username == live_server.usernames[key])
            )
            for key in ("station", "station_b")
        }
        vehicles = []
        for month in range(1, 9):
            for n in range(6):
                vehicles.append(
                    VehicleFactory(
                        model=model,
                        selling_station=world.stations[n % 2],
                        sale_date=date(2025, month, 5),
                        production_date=date(2025, month, 1) - timedelta(days=20),
                    )
                )
        numbers = []
        for i, car in enumerate(vehicles[:26]):
            repair = car.sale_date + timedelta(days=20 + 23 * (i % 7))
            claim = ClaimFactory(
                fleet=fleet,
                submitted=True,
                filer=users["station" if i % 3 else "station_b"],
                vin=car.vin,
                repair_date=repair.isoformat(),
                fault_date=repair.isoformat(),
                causal_part="P-100" if i % 4 else "P-200",
            )
            assert claim.status is ClaimStatus.APPROVED, claim.flags
            numbers.append(claim.number)
        db.session.commit()
        db.session.remove()
    return numbers


def test_an_auditor_drills_down_from_a_chart_and_reads_every_analysis_in_both_languages(
    page,  # noqa: F811 - the fixtures imported above
    live_server,  # noqa: F811
    history,
    tmp_path,
):
    sign_in(page, live_server, "auditor")
    page.goto(f"/analysis/faults?model=AN1&as_of={AS_OF}&group_by=part")
    expect(page.get_by_test_id("total-claims")).to_have_text("26")
    save_screenshot(page, tmp_path, "analysis-faults-en")
    page.get_by_test_id("fault-chart").locator("[data-testid=bar]").first.click()
    expect(page).to_have_url(re.compile(r"/analysis/claims\?.*part=P-100"))
    expect(page.get_by_test_id("claim-list").locator("tbody tr")).to_have_count(19)
    expect(page.get_by_test_id("claim-count")).to_have_text("19")
    save_screenshot(page, tmp_path, "analysis-claims-en")

    page.goto(f"/analysis/faults?model=AN1&as_of={AS_OF}&group_by=months_in_service")
    page.get_by_test_id("nevada-cell").first.click()
    expect(page.get_by_test_id("claim-list")).to_be_visible()

    for name, path in (
        ("reliability", f"/analysis/reliability?model=AN1&as_of={AS_OF}"),
        ("compensation", f"/analysis/compensation?model=AN1&as_of={AS_OF}"),
        ("stations", f"/analysis/stations?model=AN1&as_of={AS_OF}"),
        ("warnings", "/analysis/warnings"),
    ):
        page.goto(path)
        save_screenshot(page, tmp_path, f"analysis-{name}-en")
    page.goto(f"/analysis/reliability?model=AN1&as_of={AS_OF}")
    expect(page.get_by_test_id("probability-plot")).to_be_visible()
    expect(page.get_by_test_id("methods")).to_contain_text("maximum likelihood")

    page.get_by_test_id("lang-switch").click()
    expect(page.get_by_test_id("methods")).to_contain_text("最大似然")
    save_screenshot(page, tmp_path, "analysis-reliability-zh")
    page.goto(f"/analysis/faults?model=AN1&as_of={AS_OF}&group_by=sale_month")
    expect(page.get_by_role("heading", name="车辆故障分析")).to_be_visible()
    save_screenshot(page, tmp_path, "analysis-faults-zh")
    page.get_by_test_id("fault-chart").locator("[data-testid=bar]").first.click()
    expect(page.get_by_test_id("claim-list")).to_be_visible()
    for name, path in (
        ("compensation", f"/analysis/compensation?model=AN1&as_of={AS_OF}"),
        ("stations", f"/analysis/stations?model=AN1&as_of={AS_OF}"),
        ("warnings", "/analysis/warnings"),
    ):
        page.goto(path)
        save_screenshot(page, tmp_path, f"analysis-{name}-zh")
