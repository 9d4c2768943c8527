"""The lists that came to the list framework last (portal.lists), through HTTP: return
shipments, suppliers' findings, disputes, campaigns, users, announcements and the audit log sort
by their columns (both ways), filter, and export exactly the rows the page selects as CSV and
XLSX, in the reader's scope; a bad sort key or filter never answers 500."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from portal.claims.models import ClaimSettings
from portal.db import utcnow
from portal.oldparts import operations as op
from portal.oldparts.models import FindingStatus, Inspection, OldPartStatus
from portal.settlement import operations as settle
from tests.factories import ClaimFactory, Fleet, SettlementRunFactory, old_parts
from tests.factories.campaigns import CampaignFactory
from tests.test_lists import chargeback_of, csv_rows, parts, row_order, xlsx_rows


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


# -- suppliers' findings ---------------------------------------------------------------------------


@pytest.fixture
def findings(fleet, world, db_session):
    """Three parts with a supplier's finding: supplier A proposes no fault found (the oldest) and
    misuse, supplier B proposes no fault found and was confirmed already."""
    parts = old_parts(ClaimFactory(fleet=fleet, with_old_parts=True, units=3))
    su_a, su_b = world.suppliers[0], world.suppliers[1]
    setups = [
        (su_a, Inspection.NO_FAULT_FOUND, FindingStatus.PROPOSED, 3),
        (su_a, Inspection.MISUSE, FindingStatus.PROPOSED, 2),
        (su_b, Inspection.NO_FAULT_FOUND, FindingStatus.CONFIRMED, 1),
    ]
    for part, (supplier, proposed, status, days_ago) in zip(parts, setups, strict=True):
        part.supplier_id = supplier.id
        part.status = OldPartStatus.INSPECTED
        part.inspection = part.proposed_inspection = proposed
        part.finding_status = status
        part.inspected_at = utcnow() - timedelta(days=days_ago)
        if status is not FindingStatus.PROPOSED:
            part.finding_reviewed_at = utcnow()
    db_session.flush()
    db_session.expire_all()
    return parts


def test_findings_sort_both_ways_filter_and_default_to_those_waiting(login_as, findings, world):
    oldest, misuse, confirmed = (p.tag for p in findings)
    tags = [oldest, misuse, confirmed]
    client = login_as("auditor")
    page = client.get("/old-parts/findings").get_data(as_text=True)
    assert row_order(page, "data-tag", tags) == [oldest, misuse]  # waiting, oldest first
    down = client.get("/old-parts/findings", query_string={"sort": "inspected", "dir": "desc"})
    assert row_order(down.get_data(as_text=True), "data-tag", tags) == [misuse, oldest]
    up = client.get("/old-parts/findings", query_string={"sort": "supplier", "dir": "asc"})
    assert row_order(up.get_data(as_text=True), "data-tag", tags) == [oldest, misuse]
    up = client.get("/old-parts/findings", query_string={"sort": "proposed", "dir": "asc"})
    assert row_order(up.get_data(as_text=True), "data-tag", tags) == [misuse, oldest]
    down = client.get("/old-parts/findings", query_string={"sort": "proposed", "dir": "desc"})
    assert row_order(down.get_data(as_text=True), "data-tag", tags) == [oldest, misuse]
    every = client.get("/old-parts/findings", query_string={"review": "all", "sort": "tag"})
    assert row_order(every.get_data(as_text=True), "data-tag", tags) == sorted(tags)
    su_b = world.suppliers[1].code
    only_b = client.get("/old-parts/findings", query_string={"review": "all", "supplier": su_b})
    assert row_order(only_b.get_data(as_text=True), "data-tag", tags) == [confirmed]
    misuses = client.get("/old-parts/findings", query_string={"proposed": "misuse"})
    assert row_order(misuses.get_data(as_text=True), "data-tag", tags) == [misuse]
    by_part = client.get("/old-parts/findings", query_string={"part": "nothing-like-it"})
    assert row_order(by_part.get_data(as_text=True), "data-tag", tags) == []
    bad = ({"review": "x"}, {"supplier": "x"}, {"proposed": "x"}, {"part": "%_\\"}, *BAD_SORTS)
    for args in bad:
        assert client.get("/old-parts/findings", query_string=args).status_code == 200
    assert login_as("supplier").get("/old-parts/findings").status_code == 403


def test_findings_export_the_pages_rows(login_as, findings):
    oldest, misuse, confirmed = (p.tag for p in findings)
    client = login_as("auditor")
    args = {"sort": "inspected", "dir": "desc"}
    rows = csv_rows(client.get("/old-parts/findings", query_string={**args, "export": "csv"}))
    assert [r[0] for r in rows[1:]] == [misuse, oldest]
    heading = rows[0]
    assert rows[1][heading.index("Proposed")] == "Misuse"
    assert rows[1][heading.index("Review")] == "Waiting for review"
    sheet = xlsx_rows(
        client.get("/old-parts/findings", query_string={"review": "all", "export": "xlsx"})
    )
    assert [r[0] for r in sheet[1:]] == [oldest, misuse, confirmed]
    assert isinstance(sheet[1][heading.index("Inspected")], datetime)
    client.post("/lang/zh_CN")
    zh = csv_rows(client.get("/old-parts/findings", query_string={"export": "csv"}))
    assert "供应商" in zh[0] and "Misuse" not in str(zh)


# -- disputes --------------------------------------------------------------------------------------


@pytest.fixture
def released(world, fleet):
    """As in tests/test_lists.py: supplier A is charged for two claims of station A (1 and 3
    parts), supplier B for one of station B, by a released run."""
    claims = [
        ClaimFactory(fleet=fleet, approved=True, own_vehicle=True, lines=parts(1)),
        ClaimFactory(fleet=fleet, approved=True, own_vehicle=True, lines=parts(3)),
        ClaimFactory(
            fleet=fleet,
            approved=True,
            own_vehicle=True,
            station="station_b",
            causal_part="P-200",
            lines=[{"kind": "part", "part_number": "P-200", "qty": 2}],
        ),
    ]
    return SettlementRunFactory(world=world, released=True), claims


@pytest.fixture
def disputes(released, world, db_session):
    """Supplier A disputes both its chargebacks (1 and 3 parts); supplier B disputes its one,
    and an auditor upholds it."""
    _run, claims = released
    small, big, theirs = (chargeback_of(db_session, c) for c in claims)
    settle.dispute_chargeback(small, world.users["supplier"], "Not our pump.")
    settle.dispute_chargeback(big, world.users["supplier"], "Oil was dirty.")
    settle.dispute_chargeback(theirs, world.users["supplier_b"], "Wrong part.")
    settle.resolve_chargeback(theirs, world.users["auditor"], "uphold", "Photos show our part.")
    db_session.flush()
    return small, big, theirs, claims


def test_disputes_sort_both_ways_and_filter(login_as, disputes, world):
    small, big, theirs, claims = disputes
    ids = [str(cb.id) for cb in (small, big, theirs)]
    client = login_as("auditor")
    page = client.get("/settlement/disputes").get_data(as_text=True)
    assert row_order(page, "data-chargeback", ids) == ids[:2]  # waiting, oldest first
    up = client.get("/settlement/disputes", query_string={"sort": "amount", "dir": "asc"})
    assert row_order(up.get_data(as_text=True), "data-chargeback", ids) == ids[:2]
    down = client.get("/settlement/disputes", query_string={"sort": "amount", "dir": "desc"})
    assert row_order(down.get_data(as_text=True), "data-chargeback", ids) == ids[1::-1]
    upheld = client.get("/settlement/disputes", query_string={"status": "upheld"})
    assert row_order(upheld.get_data(as_text=True), "data-chargeback", ids) == [ids[2]]
    every = client.get(
        "/settlement/disputes", query_string={"status": "all", "sort": "supplier", "dir": "desc"}
    )
    names = {cb.id: cb.statement.org.name for cb in (small, theirs)}
    # Descending: by supplier, then the later chargeback first.
    expected = (
        [ids[2], ids[1], ids[0]] if names[theirs.id] > names[small.id] else ids[1::-1] + ids[2:]
    )
    assert row_order(every.get_data(as_text=True), "data-chargeback", ids) == expected
    by_vin = client.get("/settlement/disputes", query_string={"q": claims[1].number.lower()})
    assert row_order(by_vin.get_data(as_text=True), "data-chargeback", ids) == [ids[1]]
    su_b = client.get("/settlement/disputes", query_string={"supplier": "SU-B"})
    assert row_order(su_b.get_data(as_text=True), "data-chargeback", ids) == []
    bad = ({"status": "open"}, {"status": "x"}, {"supplier": "NOPE"}, {"q": "%_"}, *BAD_SORTS)
    for args in bad:
        assert client.get("/settlement/disputes", query_string=args).status_code == 200


def test_disputes_export_the_pages_rows(login_as, disputes):
    small, big, theirs, claims = disputes
    client = login_as("auditor")
    args = {"sort": "amount", "dir": "desc", "status": "all"}
    rows = csv_rows(client.get("/settlement/disputes", query_string={**args, "export": "csv"}))
    heading = rows[0]
    by_amount = sorted((small, big, theirs), key=lambda cb: cb.amount, reverse=True)
    assert [r[heading.index("Claim")] for r in rows[1:]] == [c.claim.number for c in by_amount]
    status = {r[heading.index("Claim")]: r[heading.index("Status")] for r in rows[1:]}
    assert status[claims[2].number] == "Upheld" and status[claims[0].number] == "Disputed"
    sheet = xlsx_rows(client.get("/settlement/disputes", query_string={"export": "xlsx"}))
    assert [r[heading.index("Claim")] for r in sheet[1:]] == [claims[0].number, claims[1].number]
    assert isinstance(sheet[1][heading.index("Disputed")], datetime)
    assert sheet[1][heading.index("Amount")] == small.amount  # a number, not text
    assert login_as("supplier").get("/settlement/disputes?export=csv").status_code == 403


# -- campaigns -------------------------------------------------------------------------------------


@pytest.fixture
def campaigns(fleet, world):
    """A recall of supplier A (started 30 days ago), a service campaign of supplier A (started
    5 days ago), a recall of supplier B and a closed recall."""
    su_a, su_b = world.suppliers[0], world.suppliers[1]
    older = CampaignFactory(code="RC-OLD", title="Brake hose", supplier=su_a)
    newer = CampaignFactory(
        code="SC-NEW",
        title="Software update",
        service=True,
        supplier=su_a,
        start_date=date.today() - timedelta(days=5),
    )
    theirs = CampaignFactory(code="RC-THEIRS", title="Seat belt", supplier=su_b)
    closed = CampaignFactory(code="RC-CLOSED", title="Old lamp", closed=True, supplier=su_a)
    return older, newer, theirs, closed


CODES = ["RC-OLD", "SC-NEW", "RC-THEIRS", "RC-CLOSED"]


def test_campaigns_sort_both_ways_and_filter(login_as, campaigns):
    client = login_as("auditor")
    page = client.get("/campaigns/").get_data(as_text=True)
    assert row_order(page, "data-campaign", CODES)[0] == "SC-NEW"  # the latest first
    assert "RC-CLOSED" not in row_order(page, "data-campaign", CODES)  # open ones by default
    up = client.get("/campaigns/", query_string={"sort": "title", "dir": "asc"})
    assert row_order(up.get_data(as_text=True), "data-campaign", CODES) == [
        "RC-OLD",
        "RC-THEIRS",
        "SC-NEW",
    ]
    down = client.get("/campaigns/", query_string={"sort": "title", "dir": "desc"})
    assert row_order(down.get_data(as_text=True), "data-campaign", CODES) == [
        "SC-NEW",
        "RC-THEIRS",
        "RC-OLD",
    ]
    service = client.get("/campaigns/", query_string={"kind": "service"})
    assert row_order(service.get_data(as_text=True), "data-campaign", CODES) == ["SC-NEW"]
    found = client.get("/campaigns/", query_string={"q": "lamp", "status": "all"})
    assert row_order(found.get_data(as_text=True), "data-campaign", CODES) == ["RC-CLOSED"]
    for args in ({"status": "x"}, {"kind": "x"}, {"q": "%"}, *BAD_SORTS):
        assert client.get("/campaigns/", query_string=args).status_code == 200


def test_campaigns_export_the_pages_rows_in_the_suppliers_scope(login_as, campaigns):
    client = login_as("supplier")
    args = {"status": "all", "sort": "code", "dir": "asc"}
    rows = csv_rows(client.get("/campaigns/", query_string={**args, "export": "csv"}))
    assert rows[0][:4] == ["Code", "Title", "Kind", "Status"] and "Affected" in rows[0]
    assert [r[0] for r in rows[1:]] == ["RC-CLOSED", "RC-OLD", "SC-NEW"]  # not RC-THEIRS
    assert rows[3][2] == "Service campaign" and rows[1][3] == "Closed"
    sheet = xlsx_rows(client.get("/campaigns/", query_string={**args, "export": "xlsx"}))
    assert [r[0] for r in sheet[1:]] == ["RC-CLOSED", "RC-OLD", "SC-NEW"]
    assert isinstance(sheet[1][4], datetime)  # the start date, a real date cell
    page = client.get("/campaigns/", query_string={"q": "RC-THEIRS", "status": "all"})
    assert row_order(page.get_data(as_text=True), "data-campaign", CODES) == []


# -- users -----------------------------------------------------------------------------------------

USERNAMES = ["admin", "auditor", "finance", "station_a", "station_b", "supplier_a", "supplier_b"]


def test_users_sort_both_ways_and_filter(login_as, world, db_session):
    world.users["station_b"].active = False
    db_session.flush()
    client = login_as("admin")
    page = client.get("/admin/users").get_data(as_text=True)
    assert row_order(page, "data-user", USERNAMES) == USERNAMES
    down = client.get("/admin/users", query_string={"sort": "username", "dir": "desc"})
    assert row_order(down.get_data(as_text=True), "data-user", USERNAMES) == USERNAMES[::-1]
    for direction, first, last in (("asc", "station_b", "admin"), ("desc", "admin", "station_b")):
        by_status = client.get("/admin/users", query_string={"sort": "active", "dir": direction})
        order = row_order(by_status.get_data(as_text=True), "data-user", ["admin", "station_b"])
        assert order == [first, last]  # disabled (false) sorts before active
    stations = client.get("/admin/users", query_string={"role": "station"})
    assert row_order(stations.get_data(as_text=True), "data-user", USERNAMES) == [
        "station_a",
        "station_b",
    ]
    org = world.users["supplier"].organisation.code
    of_org = client.get("/admin/users", query_string={"org": org})
    assert row_order(of_org.get_data(as_text=True), "data-user", USERNAMES) == ["supplier_a"]
    disabled = client.get("/admin/users", query_string={"active": "no"})
    assert row_order(disabled.get_data(as_text=True), "data-user", USERNAMES) == ["station_b"]
    found = client.get("/admin/users", query_string={"q": "SUPPLIER_", "sort": "username"})
    assert row_order(found.get_data(as_text=True), "data-user", USERNAMES) == [
        "supplier_a",
        "supplier_b",
    ]
    bad = ({"role": "root"}, {"org": "NOPE"}, {"active": "maybe"}, {"q": "%_"}, *BAD_SORTS)
    for args in bad:
        assert client.get("/admin/users", query_string=args).status_code == 200
    assert login_as("auditor").get("/admin/users?export=csv").status_code == 403


def test_users_export_the_pages_rows_and_no_secret(login_as, world, db_session):
    world.users["station_b"].active = False
    db_session.flush()
    client = login_as("admin")
    args = {"sort": "username", "dir": "desc", "role": "station"}
    rows = csv_rows(client.get("/admin/users", query_string={**args, "export": "csv"}))
    heading = rows[0]
    assert heading[:4] == ["Username", "Full name", "Email", "Role"]
    assert [r[0] for r in rows[1:]] == ["station_b", "station_a"]
    assert rows[1][heading.index("Status")] == "Disabled"
    assert rows[1][heading.index("Role")] != "station"  # its label, not the code
    sheet = xlsx_rows(client.get("/admin/users", query_string={"export": "xlsx"}))
    assert [r[0] for r in sheet[1:]] == USERNAMES
    assert isinstance(sheet[1][heading.index("Created")], datetime)
    for user in world.users.values():
        for secret in (user.password_hash, user.password_hash.split("$")[-1]):
            assert secret not in str(rows) and secret not in str(sheet)
    assert not any("password" in str(h).lower() for h in heading)
