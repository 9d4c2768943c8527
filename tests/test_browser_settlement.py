"""Settlement in headless Chromium: finance starts the month's run and watches its progress bar
while a real RQ worker computes it, releases the draft and downloads a statement's PDF; the
supplier then disputes a chargeback line with a reason and a photo.

With Redis reachable (CI always), the live server queues the jobs on Redis and a
`flask --app wsgi worker` subprocess runs them, slowed down by SETTLEMENT_STEP_PAUSE so that the
page is seen between 0% and 100%. Without Redis the jobs run in-process and the bar is only
seen complete. Screenshots land in the test's tmp_path (and in $SCREENSHOT_DIR when it is set).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from tests import factories
from tests.browser_support import (  # noqa: F401 - fixtures
    browser,
    db_session,
    live_world,
    page,
    save_screenshot,
    serving,
    sign_in,
)
from tests.conftest import redis_url

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture(scope="module")
def redis():
    url = redis_url()
    if url is not None:
        from redis import Redis

        with Redis.from_url(url) as client:
            client.flushdb()  # no job of another test for our worker
    return url


@pytest.fixture(scope="module")
def live_server(tmp_path_factory, redis):
    uploads = tmp_path_factory.mktemp("uploads")
    extra = {"UPLOAD_FOLDER": str(uploads)}
    if redis:
        extra["REDIS_URL"] = redis
    with serving(tmp_path_factory.mktemp("live"), **extra) as server:
        worker = None
        if redis:
            env = dict(
                os.environ,
                DATABASE_URL=server.app.config["SQLALCHEMY_DATABASE_URI"],
                REDIS_URL=redis,
                UPLOAD_FOLDER=str(uploads),
                SETTLEMENT_STEP_PAUSE="0.4",
            )
            worker = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
                cwd=ROOT,
                env=env,
                start_new_session=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        try:
            yield server
        finally:
            if worker is not None:
                os.killpg(worker.pid, signal.SIGTERM)
                try:
                    worker.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(worker.pid, signal.SIGKILL)
                    worker.wait()
            if redis:
                server.app.extensions.get("portal_redis") and server.app.extensions[
                    "portal_redis"
                ].close()


@pytest.fixture(scope="module")
def claims(live_server):
    """Three auto-approved repair claims of station A; supplier A is responsible for them."""
    from portal.auth.models import User
    from portal.claims.models import ClaimSettings, ClaimStatus
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
        numbers = []
        for _ in range(3):  # one vehicle each: the same repair twice would be flagged duplicate
            claim = factories.ClaimFactory(
                fleet=fleet, filer=user, submitted=True, own_vehicle=True
            )
            assert claim.status is ClaimStatus.APPROVED
            numbers.append(claim.number)
        db.session.commit()
        db.session.remove()
    return numbers


def test_finance_settles_the_month_and_a_supplier_disputes_a_line(
    page,  # noqa: F811 - the fixture imported above
    live_server,
    redis,
    claims,
    tmp_path,
):
    page.on("dialog", lambda dialog: dialog.accept())  # the confirm() of Release
    sign_in(page, live_server, "finance")
    page.get_by_role("link", name="Settlement", exact=True).first.click()
    save_screenshot(page, tmp_path, "settlement-1-home")
    page.get_by_test_id("start-run-button").click()

    # The run page follows the run: queued -> running (the bar moves) -> draft.
    expect(page.get_by_role("heading", level=1)).to_contain_text("Settlement run")
    seen = set()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = page.get_by_test_id("run-status").inner_text().strip()
        if status == "Draft":
            break
        bar = page.locator("[data-progress]").first
        if bar.count():
            seen.add(int(bar.get_attribute("data-progress") or 0))
            if len(seen) == 2:
                save_screenshot(page, tmp_path, "settlement-2-progress")
        page.wait_for_timeout(200)
    expect(page.get_by_test_id("run-status")).to_have_text("Draft")
    if redis:  # a worker ran it: the bar was seen on its way
        assert any(0 < value < 100 for value in seen), seen
    # 3 claims x 230.00 for station A; 3 x 225.00 recovered from supplier A.
    expect(page.get_by_test_id("claim-count")).to_have_text("3")
    expect(page.get_by_test_id("station-net")).to_contain_text("690.00")
    expect(page.get_by_test_id("supplier-net")).to_contain_text("675.00")
    save_screenshot(page, tmp_path, "settlement-3-draft")

    page.get_by_test_id("release").click()
    expect(page.get_by_test_id("run-status")).to_have_text("Released", timeout=60_000)
    save_screenshot(page, tmp_path, "settlement-4-released")

    # The station's statement, and its PDF (rendered by a worker, not by the request).
    page.get_by_test_id("totals-station").locator("tbody").get_by_role("link").first.click()
    expect(page.get_by_test_id("net")).to_contain_text("690.00")
    expect(page.get_by_test_id("gross")).to_contain_text("779.70")  # VAT 13% 89.70
    # After the release the worker renders every statement: the PDF is either there (the
    # button downloads it) or still being prepared (a page waits for it, then offers it).
    with page.expect_download(timeout=60_000) as download_info:
        page.get_by_test_id("pdf-download").click()
        page.wait_for_load_state()
        if page.url.endswith(".pdf"):
            save_screenshot(page, tmp_path, "settlement-5-pdf-pending")
            ready = page.locator("[data-pdf-state=ready] a").first
            expect(ready).to_be_visible(timeout=60_000)
            ready.click()
    pdf = Path(download_info.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF")

    # The supplier disputes one of its chargeback lines, with a reason and a photo.
    page.context.clear_cookies()
    sign_in(page, live_server, "supplier")
    page.get_by_role("link", name="Chargebacks", exact=True).first.click()
    save_screenshot(page, tmp_path, "settlement-6-supplier-home")
    page.locator("a[href*='/settlement/statements/']").first.click()
    expect(page.get_by_test_id("statement-lines")).to_contain_text(claims[0])
    page.locator("[data-testid^=dispute-]").first.click()
    expect(page.get_by_test_id("chargeback-status")).to_have_text("Open")
    form = page.get_by_test_id("dispute-form")
    form.locator("textarea").fill("旧件检测无故障 / The returned pump works on our test bench.")
    photo = tmp_path / "bench-test.png"
    photo.write_bytes(PNG)
    form.locator("input[type=file]").set_input_files(str(photo))
    page.get_by_test_id("dispute").click()
    expect(page.get_by_test_id("chargeback-status")).to_have_text("Disputed")
    expect(page.get_by_test_id("evidence")).to_contain_text("bench-test.png")
    expect(page.get_by_test_id("state-disputed")).to_contain_text("test bench")
    save_screenshot(page, tmp_path, "settlement-7-disputed")
    assert re.search(r"/settlement/chargebacks/\d+", page.url)
