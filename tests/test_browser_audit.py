"""An auditor decides a claim end to end in headless Chromium: the queue, the review page, a labor
line cut with a reason code while the running total follows, the approval; then the station sees
the claim partially approved with the cut line's approved value and reason.

Full-page screenshots land in the test's tmp_path (and in $SCREENSHOT_DIR when it is set).
"""

from __future__ import annotations

import struct
import zlib
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
from tests.test_claim_pages import TINY_PDF

pytestmark = pytest.mark.browser


def photo_png(width: int = 240, height: int = 160) -> bytes:
    """A small photo-like PNG: a grey gradient with a darker part in the middle."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = []
    for y in range(height):
        row = bytearray([0])
        for x in range(width):
            inside = width // 3 < x < 2 * width // 3 and height // 4 < y < 3 * height // 4
            shade = 70 if inside else 150 + (x + y) * 80 // (width + height)
            row += bytes((shade, shade + 8 if shade < 240 else shade, min(shade + 20, 255)))
        rows.append(bytes(row))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def seeded(live_server, tmp_path_factory):  # noqa: F811 - the fixture imported above
    """In the live server's database: a claim in review to decide (a part, and labor above the
    standard hours, with a photo and a receipt), and a few others waiting in the queue."""
    import sqlalchemy as sa

    from portal.auth.models import User
    from portal.claims import attachments
    from portal.claims import operations as ops
    from portal.claims.models import ClaimSettings
    from portal.db import utcnow
    from portal.extensions import db

    app = live_server.app
    app.config["UPLOAD_FOLDER"] = str(tmp_path_factory.mktemp("uploads"))
    with app.app_context():
        world = live_world()
        fleet = factories.Fleet.build(world)
        ClaimSettings.current().auto_approve_enabled = False
        station_a, station_b = (
            db.session.scalar(sa.select(User).where(User.username == name))
            for name in (live_server.usernames["station"], live_server.usernames["station_b"])
        )

        vin = fleet.sibling_vehicle(world.stations[0]).vin
        # An earlier claim of the same vehicle, decided a month ago.
        today = date.today()
        auditor = db.session.scalar(
            sa.select(User).where(User.username == live_server.usernames["auditor"])
        )
        earlier = factories.ClaimFactory(
            fleet=fleet,
            filer=station_a,
            auditor=auditor,
            approved=True,
            vin=vin,
            odometer_km=9200,
            repair_date=(today - timedelta(days=40)).isoformat(),
            fault_date=(today - timedelta(days=41)).isoformat(),
            causal_part=fleet.part_b.number,
            lines=[{"kind": "part", "part_number": fleet.part_b.number, "qty": 1}],
        )
        earlier.submitted_at = utcnow() - timedelta(days=39)

        decided = factories.ClaimFactory(  # a draft: its attachments go on before the submit
            fleet=fleet,
            filer=station_a,
            vin=vin,
            complaint="Oil pressure warning light on at idle",
            lines=[
                {"kind": "part", "part_number": fleet.part.number, "qty": 1},
                {
                    "kind": "labor",
                    "operation_code": fleet.operation.code,
                    "hours": "2.50",
                    "description": "Seized mounting bolts, had to be drilled out",
                },
            ],
        )
        decided.cause = "Oil pump worn, pressure below specification"
        decided.correction = "Oil pump replaced, pressure checked"
        attachments.add_attachment(decided, station_a, "oil-pump.png", photo_png())
        attachments.add_attachment(decided, station_a, "invoice-2291.pdf", TINY_PDF)
        ops.submit_claim(decided, station_a)

        others = [
            factories.ClaimFactory(
                fleet=fleet,
                filer=station_b,
                submitted=True,
                own_vehicle=True,
                causal_part=fleet.part_b.number,
                lines=[{"kind": "part", "part_number": fleet.part_b.number, "qty": 4}],
            ),
            factories.ClaimFactory(
                fleet=fleet,
                filer=station_a,
                submitted=True,
                own_vehicle=True,
                type="appraisal",
                lines=[],
            ),
        ]
        now = utcnow()
        decided.submitted_at = now - timedelta(days=16, hours=3)
        others[0].submitted_at = now - timedelta(days=9, hours=2)
        others[1].submitted_at = now - timedelta(days=2, hours=5)
        number = decided.number
        labor_id = decided.lines[1].id
        db.session.commit()
        db.session.remove()
    return {"number": number, "labor_id": labor_id}


def test_an_auditor_cuts_a_labor_line_and_the_station_sees_it(
    page,  # noqa: F811 - the fixture imported above
    live_server,  # noqa: F811
    seeded,
    tmp_path,
):
    number = seeded["number"]

    sign_in(page, live_server, "auditor")
    expect(page.get_by_role("heading", level=1)).to_have_text("Review queue")
    queue = page.get_by_test_id("queue")
    expect(queue.locator("tbody tr")).to_have_count(3)
    first = queue.locator("tbody tr").first
    expect(first).to_contain_text(number)  # the oldest first
    expect(first.locator('[data-flag="labor_hours"]')).to_be_visible()
    expect(page.locator('[data-count="in_review"]')).to_have_text("3")
    save_screenshot(page, tmp_path, "review-queue-en")

    page.get_by_test_id("queue").get_by_role("link", name=number).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(number)
    expect(page.get_by_test_id("coverage")).to_contain_text("In coverage")
    expect(page.get_by_test_id("earlier-claims").locator("[data-earlier]")).to_have_count(1)
    expect(page.get_by_test_id("flags")).to_contain_text("above its standard 1.5 hours")
    expect(page.locator('[data-line="2"] [data-standard-hours]')).to_contain_text("1.50 h")
    thumbnail = page.locator("img.attachment-thumb")
    expect(thumbnail).to_be_visible()
    assert thumbnail.evaluate("img => img.naturalWidth") == 240  # the photo itself loaded
    running = page.get_by_test_id("running-total")
    expect(running.locator('[data-running="total"]')).to_have_text("310.00")

    # Cut the labor line to 1.50 h: the line and the running total follow as the auditor types.
    labor = page.locator('[data-line="2"]')
    labor.get_by_label("Approved value of line 2").fill("1.50")
    expect(labor.locator("[data-line-amount]")).to_have_text("120.00")
    expect(running.locator('[data-running="total"]')).to_have_text("230.00")
    expect(running.locator("[data-running-cut]")).to_have_text("−80.00")
    expect(page.locator('[data-testid="amounts"] [data-running="labor"]')).to_have_text("120.00")
    expect(labor).to_have_class("line-cut")
    labor.get_by_label("Reason code of line 2").select_option(label="Excessive labor hours")
    labor.get_by_label("Note on line 2").fill("Standard time is 1.5 h; drilling not justified")
    save_screenshot(page, tmp_path, "review-page-en")

    asked = []

    def confirm(dialog):  # every confirmation asked is answered "OK"
        asked.append(dialog.message)
        dialog.accept()

    page.on("dialog", confirm)
    # Enter in a field decides nothing (the form's default button is a disabled one): no
    # "Return claim to the station?" to accept by a second Enter.
    labor.get_by_label("Note on line 2").press("Enter")
    page.wait_for_timeout(300)
    assert asked == []
    expect(page.get_by_test_id("decision-form")).to_be_visible()
    page.get_by_test_id("approve").click()
    # The approval asked first, naming the amount being approved.
    expect(page.get_by_role("alert").first).to_be_visible()
    page.remove_listener("dialog", confirm)
    assert asked == [f"Approve claim {number} for 230.00?"], asked
    # On to the next claim in the queue, with the decision confirmed.
    expect(page.get_by_role("alert").first).to_contain_text(
        f"Claim {number} is partially approved: CN¥230.00 approved of CN¥310.00 claimed."
    )
    expect(page.get_by_role("heading", level=1)).not_to_have_text(number)
    # The decided claim is read-only now, with the decision beside its lines.
    page.goto(f"/oem/claims/{number}")
    expect(page.get_by_test_id("decision")).to_contain_text("Partially approved")
    expect(page.get_by_test_id("approved-total")).to_have_text("230.00")
    expect(page.get_by_test_id("decision-form")).to_have_count(0)
    save_screenshot(page, tmp_path, "review-page-decided-en")
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, live_server, "station")
    page.goto(f"/claims/{number}")
    expect(page.locator("[data-testid=claim-actions] [data-status]")).to_have_text(
        "Partially approved"
    )
    cut_line = page.get_by_test_id("claim-lines").locator('[data-line="2"]')
    expect(cut_line).to_contain_text("120.00")
    expect(cut_line).to_contain_text("1.50 h")
    expect(cut_line).to_contain_text("Excessive labor hours")
    expect(cut_line).to_contain_text("Standard time is 1.5 h")
    amounts = page.get_by_test_id("amounts")
    expect(amounts.locator('[data-amount="total"] td')).to_have_text(["310.00", "230.00"])
    save_screenshot(page, tmp_path, "station-claim-partially-approved-en")

    # The auditor's pages in Chinese: labels, reason codes and flags in the reader's language.
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, live_server, "auditor")
    page.get_by_test_id("lang-switch").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("审核队列")
    expect(page.get_by_test_id("queue").locator("tbody tr")).to_have_count(2)
    save_screenshot(page, tmp_path, "review-queue-zh")
    page.get_by_test_id("queue").locator("tbody tr a").first.click()
    expect(page.get_by_test_id("approve")).to_have_text("批准")
    save_screenshot(page, tmp_path, "review-page-zh")
