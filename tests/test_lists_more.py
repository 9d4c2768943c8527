"""The lists that came to the list framework last (portal.lists), through HTTP: return
shipments, suppliers' findings, disputes, campaigns, users, announcements and the audit log sort
by their columns (both ways), filter, and export exactly the rows the page selects as CSV and
XLSX, in the reader's scope; a bad sort key or filter never answers 500."""

from __future__ import annotations

from datetime import datetime

import pytest

from portal.claims.models import ClaimSettings
from portal.oldparts import operations as op
from tests.factories import ClaimFactory, Fleet, old_parts
from tests.test_lists import csv_rows, row_order, xlsx_rows


@pytest.fixture
def login_as(switching_login):
    return switching_login


@pytest.fixture
def fleet(world):
    ClaimSettings.current().auto_approve_enabled = False
    return Fleet.build(world)


BAD_SORTS = [{"sort": "password_hash"}, {"sort": "number", "dir": "sideways"}, {"sort": "id;--"}]


# -- old-part return shipments ---------------------------------------------------------------------


@pytest.fixture
def shipments(fleet, world):
    """Station A: a box of one part (packing) and a box of two (shipped); station B: one box."""
    station, station_b = world.users["station"], world.users["station_b"]
    tags = [p.tag for p in old_parts(ClaimFactory(fleet=fleet, with_old_parts=True, units=3))]
    one = op.create_return_shipment(station, tags[:1])
    two = op.create_return_shipment(station, tags[1:])
    op.ship(two, station, "ZTO", "TRACK-2")
    theirs_claim = ClaimFactory(fleet=fleet, with_old_parts=True, station="station_b", units=1)
    theirs = op.create_return_shipment(station_b, [p.tag for p in old_parts(theirs_claim)])
    return one, two, theirs


def test_shipments_sort_by_parts_both_ways_and_filter(login_as, shipments):
    one, two, theirs = shipments
    client = login_as("station")
    numbers = [one.number, two.number]
    up = client.get("/old-parts/shipments", query_string={"sort": "parts", "dir": "asc"})
    html = up.get_data(as_text=True)
    assert row_order(html, "data-shipment", numbers) == numbers
    assert 'aria-sort="ascending"' in html and theirs.number not in html
    down = client.get("/old-parts/shipments", query_string={"sort": "parts", "dir": "desc"})
    assert row_order(down.get_data(as_text=True), "data-shipment", numbers) == numbers[::-1]
    shipped = client.get("/old-parts/shipments", query_string={"status": "shipped"})
    assert row_order(shipped.get_data(as_text=True), "data-shipment", numbers) == [two.number]
    found = client.get("/old-parts/shipments", query_string={"q": "track-2"})
    assert row_order(found.get_data(as_text=True), "data-shipment", numbers) == [two.number]
    for args in (*BAD_SORTS, {"status": "lost"}, {"org": "NOPE"}):
        assert client.get("/old-parts/shipments", query_string=args).status_code == 200


def test_shipments_export_the_pages_rows_in_scope(login_as, shipments):
    one, two, theirs = shipments
    client = login_as("station")
    args = {"sort": "number", "dir": "desc"}
    rows = csv_rows(client.get("/old-parts/shipments", query_string={**args, "export": "csv"}))
    assert rows[0][:5] == ["Shipment", "Status", "From", "To", "Parts"]
    expected = sorted([one.number, two.number], reverse=True)
    assert [r[0] for r in rows[1:]] == expected
    by_number = {r[0]: r for r in rows[1:]}
    assert by_number[two.number][1] == "Shipped" and by_number[two.number][4] == "2"
    sheet = xlsx_rows(client.get("/old-parts/shipments", query_string={**args, "export": "xlsx"}))
    assert [r[0] for r in sheet[1:]] == expected
    assert isinstance(sheet[1][7], datetime)  # created: a real date cell
    filtered = csv_rows(
        client.get("/old-parts/shipments", query_string={"status": "packing", "export": "csv"})
    )
    assert [r[0] for r in filtered[1:]] == [one.number]
    # The OEM sees all three and filters by the station at the other end.
    auditor = login_as("auditor")
    all_rows = csv_rows(auditor.get("/old-parts/shipments", query_string={"export": "csv"}))
    assert {one.number, two.number, theirs.number} <= {r[0] for r in all_rows[1:]}
    code = theirs.from_org.code
    only_b = xlsx_rows(
        auditor.get("/old-parts/shipments", query_string={"org": code, "export": "xlsx"})
    )
    assert [r[0] for r in only_b[1:]] == [theirs.number]


def test_shipments_speak_chinese(login_as, shipments):
    client = login_as("station")
    client.post("/lang/zh_CN")
    rows = csv_rows(client.get("/old-parts/shipments", query_string={"export": "csv"}))
    assert rows[0][:3] == ["发运单", "状态", "自"]
    assert "装箱中" in {r[1] for r in rows[1:]}
