"""The last lists to join the list framework (portal.lists), through HTTP: the OEM's
announcements, a station's inbox, one announcement's read receipts and the audit log sort by
their columns (both ways), filter, and export exactly the rows the page selects as CSV and XLSX,
in the reader's scope and language; a bad sort or filter never answers 500."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from portal.announcements import operations as ops
from portal.auditlog.operations import AuditKind, record
from portal.db import utcnow
from portal.extensions import db
from tests import factories
from tests.test_lists import csv_rows, row_order, xlsx_rows
from tests.test_lists_more import BAD_SORTS

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


@pytest.fixture
def login_as(switching_login):
    return switching_login


@pytest.fixture
def announcements(world, db_session):
    """Three announcements published 3, 2 and 1 days ago: "Brake recall" to all stations,
    "Oil pump" to station B only, "Zinc coating" to all; the other station's user read the
    first."""
    auditor = world.users["auditor"]
    now = utcnow()
    brake = ops.publish(
        auditor, title="Brake recall", body="Check the pads.", audience=ops.Audience.ALL
    )
    pump = ops.publish(
        auditor,
        title="Oil pump",
        body="Only for the north.",
        audience=ops.Audience.STATIONS,
        station_codes=[world.stations[1].code],
    )
    zinc = ops.publish(
        auditor, title="Zinc coating", body="Brake lines too.", audience=ops.Audience.ALL
    )
    for days_ago, a in zip((3, 2, 1), (brake, pump, zinc), strict=True):
        a.published_at = now - timedelta(days=days_ago)
    db_session.flush()
    ops.record_read(brake, world.users["station_b"])
    db_session.flush()
    return brake, pump, zinc


def ids(html: str, made) -> list[int]:
    return [int(i) for i in row_order(html, "data-id", [str(a.id) for a in made])]


def test_the_oem_list_sorts_by_its_columns_both_ways(login_as, announcements):
    brake, pump, zinc = announcements
    client = login_as("auditor")
    newest = client.get("/announcements/").get_data(as_text=True)
    assert ids(newest, announcements) == [zinc.id, pump.id, brake.id]
    up = client.get("/announcements/", query_string={"sort": "title", "dir": "asc"})
    html = up.get_data(as_text=True)
    assert ids(html, announcements) == [brake.id, pump.id, zinc.id]
    assert 'aria-sort="ascending"' in html
    down = client.get("/announcements/", query_string={"sort": "title", "dir": "desc"})
    assert ids(down.get_data(as_text=True), announcements) == [zinc.id, pump.id, brake.id]
    # The most read first: the brake recall is the only one a station opened.
    read = client.get("/announcements/", query_string={"sort": "read", "dir": "desc"})
    assert ids(read.get_data(as_text=True), announcements)[0] == brake.id
    oldest = client.get("/announcements/", query_string={"sort": "published", "dir": "asc"})
    assert ids(oldest.get_data(as_text=True), announcements) == [brake.id, pump.id, zinc.id]
    for args in (*BAD_SORTS, {"from": "yesterday"}, {"to": "2026-13-45"}):
        assert client.get("/announcements/", query_string=args).status_code == 200


def test_the_oem_list_filters_by_words_and_days(app, login_as, announcements):
    brake, pump, zinc = announcements
    client = login_as("finance")
    # Words of the title or of the text, in any case.
    found = client.get("/announcements/", query_string={"q": "BRAKE"}).get_data(as_text=True)
    assert ids(found, announcements) == [zinc.id, brake.id]
    zone = ZoneInfo(app.config["BABEL_DEFAULT_TIMEZONE"])
    day = pump.published_at.astimezone(zone).date()
    on_day = client.get("/announcements/", query_string={"from": day, "to": day})
    assert ids(on_day.get_data(as_text=True), announcements) == [pump.id]
    nothing = client.get("/announcements/", query_string={"q": "no such words"})
    assert "No announcement matches these filters." in nothing.get_data(as_text=True)
    bad = client.get("/announcements/", query_string={"from": "yesterday"}).get_data(as_text=True)
    assert "Published from: must be a date as YYYY-MM-DD" in bad
    assert ids(bad, announcements) == [zinc.id, pump.id, brake.id]  # the bad value is left out


def test_the_oem_export_has_the_pages_rows_with_read_counts(login_as, announcements, world):
    _brake, _pump, _zinc = announcements
    client = login_as("auditor")
    args = {"q": "brake", "sort": "title", "dir": "asc"}
    rows = csv_rows(client.get("/announcements/", query_string={**args, "export": "csv"}))
    assert rows[0] == [
        "Published",
        "Title",
        "Published by",
        "Send to",
        "Stations read",
        "Stations sent to",
    ]
    assert [r[1] for r in rows[1:]] == ["Brake recall", "Zinc coating"]
    assert rows[1][3:] == ["All stations", "1", str(len(world.stations))]
    sheet = xlsx_rows(client.get("/announcements/", query_string={**args, "export": "xlsx"}))
    assert [r[1] for r in sheet[1:]] == ["Brake recall", "Zinc coating"]
    assert isinstance(sheet[1][0], datetime) and sheet[1][4] == 1  # numbers stay numbers
    everything = csv_rows(client.get("/announcements/", query_string={"export": "csv"}))
    by_title = {r[1]: r for r in everything[1:]}
    assert by_title["Oil pump"][3:] == ["1 chosen station", "0", "1"]
    chinese = csv_rows(client.get("/announcements/", query_string={"export": "csv"}, headers=ZH))
    assert chinese[0][:2] == ["发布时间", "标题"]
    assert "全部服务站" in {r[3] for r in chinese[1:]}


def test_a_stations_inbox_sorts_filters_and_exports_only_its_own(login_as, announcements, world):
    brake, _pump, zinc = announcements
    client = login_as("station")  # station A: the oil pump went to station B only
    inbox = client.get("/announcements/").get_data(as_text=True)
    assert ids(inbox, announcements) == [zinc.id, brake.id]
    client.get(f"/announcements/{zinc.id}")
    unread_first = client.get("/announcements/").get_data(as_text=True)
    assert ids(unread_first, announcements) == [brake.id, zinc.id]
    by_title = client.get("/announcements/", query_string={"sort": "title", "dir": "desc"})
    assert ids(by_title.get_data(as_text=True), announcements) == [zinc.id, brake.id]
    unread = client.get("/announcements/", query_string={"state": "unread"})
    assert ids(unread.get_data(as_text=True), announcements) == [brake.id]
    read = client.get("/announcements/", query_string={"state": "read"})
    assert ids(read.get_data(as_text=True), announcements) == [zinc.id]
    words = client.get("/announcements/", query_string={"q": "pads"})
    assert ids(words.get_data(as_text=True), announcements) == [brake.id]
    rows = csv_rows(client.get("/announcements/", query_string={"export": "csv"}))
    assert rows[0] == ["Published", "Title", "Read on"]
    assert [r[1] for r in rows[1:]] == ["Brake recall", "Zinc coating"]
    assert rows[1][2] == "" and rows[2][2] != ""  # read by this user, when
    sheet = xlsx_rows(client.get("/announcements/", query_string={"export": "xlsx"}))
    assert [r[1] for r in sheet[1:]] == ["Brake recall", "Zinc coating"]
    assert "Oil pump" not in str(sheet)
    for args in (*BAD_SORTS, {"state": "lost"}):
        assert client.get("/announcements/", query_string=args).status_code == 200


@pytest.fixture
def north_c(world, db_session):
    station = factories.StationFactory(code="ST-C", name="Station C", region="North")
    world.users["station_c"] = factories.UserFactory(
        station=True, organisation=station, username="station_c", full_name="Chen Jing"
    )
    db_session.flush()
    return station


def test_the_receipts_sort_filter_and_export(login_as, announcements, world, north_c):
    brake, _pump, _zinc = announcements
    ops.record_read(brake, world.users["station_c"])
    db.session.flush()
    client = login_as("auditor")
    url = f"/announcements/{brake.id}"
    codes = ["ST-A", "ST-B", "ST-C"]
    page = client.get(url).get_data(as_text=True)
    assert row_order(page, "data-station", codes)[0] == "ST-A"  # not read yet first
    by_code = client.get(url, query_string={"sort": "station", "dir": "desc"})
    assert row_order(by_code.get_data(as_text=True), "data-station", codes) == codes[::-1]
    by_code = client.get(url, query_string={"sort": "station", "dir": "asc"})
    assert row_order(by_code.get_data(as_text=True), "data-station", codes) == codes
    unread = client.get(url, query_string={"state": "unread"}).get_data(as_text=True)
    assert row_order(unread, "data-station", codes) == ["ST-A"]
    region = world.stations[1].region
    in_region = client.get(url, query_string={"region": region}).get_data(as_text=True)
    expected = sorted(c.code for c in [*world.stations, north_c] if c.region == region)
    assert sorted(row_order(in_region, "data-station", codes)) == expected
    none = client.get(url, query_string={"region": "Atlantis"}).get_data(as_text=True)
    assert "No station matches these filters." in none
    args = {"state": "read", "sort": "station", "dir": "asc", "export": "csv"}
    rows = csv_rows(client.get(url, query_string=args))
    assert rows[0] == ["Station", "Name", "Region", "First read", "Read by"]
    assert [r[0] for r in rows[1:]] == ["ST-B", "ST-C"]
    assert rows[2][4] == "Chen Jing" and rows[2][3] != ""
    sheet = xlsx_rows(client.get(url, query_string={**args, "export": "xlsx"}))
    assert [r[0] for r in sheet[1:]] == ["ST-B", "ST-C"] and isinstance(sheet[1][3], datetime)
    chinese = csv_rows(client.get(url, query_string=args, headers=ZH))
    assert chinese[0][0] == "服务站"
    for bad in (*BAD_SORTS, {"state": "lost"}):
        assert client.get(url, query_string=bad).status_code == 200


def test_a_station_cannot_export_what_is_not_its_own(login_as, announcements):
    _brake, pump, _zinc = announcements
    client = login_as("station")
    assert (
        client.get(f"/announcements/{pump.id}", query_string={"export": "csv"}).status_code == 404
    )
    supplier = login_as("supplier")
    assert supplier.get("/announcements/", query_string={"export": "csv"}).status_code == 403


# -- the audit log ---------------------------------------------------------------------------------


@pytest.fixture
def entries(world):
    admin = world.users["admin"]
    made = [
        record(
            AuditKind.SETTINGS_CHANGED,
            admin,
            subject="claim_settings",
            amount_before=Decimal(a),
            amount_after=Decimal(b),
        )
        for a, b in (("300.00", "1200.50"), ("100.00", "15000.00"), ("200.00", "80.00"))
    ]
    db.session.commit()
    return made


def test_the_audit_log_sorts_by_its_columns_both_ways(login_as, entries):
    client = login_as("auditor")
    keys = [str(e.id) for e in entries]

    def order(args) -> list[str]:
        html = client.get("/audit-log/", query_string=args).get_data(as_text=True)
        return [k for k in _row_ids(html) if k in keys]

    assert order({}) == keys[::-1]  # the newest first
    assert order({"sort": "before", "dir": "asc"}) == [keys[1], keys[2], keys[0]]
    assert order({"sort": "before", "dir": "desc"}) == [keys[0], keys[2], keys[1]]
    assert order({"sort": "after", "dir": "desc"}) == [keys[1], keys[0], keys[2]]
    html = client.get("/audit-log/", query_string={"sort": "after"}).get_data(as_text=True)
    assert 'aria-sort="ascending"' in html
    for args in BAD_SORTS:
        assert client.get("/audit-log/", query_string=args).status_code == 200


def _row_ids(html: str) -> list[str]:
    return re.findall(r'<tr data-entry="(\d+)"', html)


def test_the_audit_log_exports_the_same_rows_as_csv_and_xlsx(login_as, entries, world):
    client = login_as("finance")
    args = {"kind": "settings_changed", "sort": "after", "dir": "desc"}
    rows = csv_rows(client.get("/audit-log/audit-log.csv", query_string=args))
    sheet = xlsx_rows(client.get("/audit-log/audit-log.xlsx", query_string=args))
    assert [str(h) for h in sheet[0]] == rows[0]
    wanted = [str(e.id) for e in (entries[1], entries[0], entries[2])]
    assert [r[0] for r in rows[1:]] == wanted
    assert [str(r[0]) for r in sheet[1:]] == wanted
    assert [r[10] for r in rows[1:]] == ["15000.00", "1200.50", "80.00"]
    assert [r[10] for r in sheet[1:]] == [15000, 1200.5, 80]  # numbers, not text
    assert isinstance(sheet[1][1], datetime)
    chinese = xlsx_rows(client.get("/audit-log/audit-log.xlsx", query_string=args, headers=ZH))
    assert chinese[0][0] == "序号" and chinese[1][4] == "设置已更改"
    for role in ("station", "supplier"):
        assert login_as(role).get("/audit-log/audit-log.xlsx").status_code == 403


# -- a statement's lines ---------------------------------------------------------------------------


@pytest.fixture
def three_claims(world, db_session):
    """Three approved claims of station A charged to supplier A (1, 3 and 2 oil pumps) and one
    of station B (a sensor of supplier B), settled in one released run."""
    from portal.claims.models import ClaimSettings
    from tests.factories import ClaimFactory, Fleet, SettlementRunFactory

    ClaimSettings.current().auto_approve_enabled = False
    fleet = Fleet.build(world)
    made = [
        ClaimFactory(
            fleet=fleet,
            approved=True,
            lines=[{"kind": "part", "part_number": "P-100", "qty": qty}],
        )
        for qty in (1, 3, 2)
    ]
    ClaimFactory(  # station B's one claim: one sensor of supplier B
        fleet=fleet,
        approved=True,
        station="station_b",
        causal_part="P-200",
        lines=[{"kind": "part", "part_number": "P-200", "qty": 1}],
    )
    run = SettlementRunFactory(world=world, released=True)
    return made, run


def _statement(run, kind, org):
    from portal.settlement.models import Statement

    return db.session.scalar(
        sa.select(Statement).where(
            Statement.run_id == run.id, Statement.kind == kind, Statement.org_id == org.id
        )
    )


def test_a_statements_lines_sort_filter_and_export(login_as, world, three_claims):
    from portal.settlement.models import StatementKind

    made, run = three_claims
    statement = _statement(run, StatementKind.STATION, world.stations[0])
    url = f"/settlement/statements/{statement.id}"
    numbers = [c.number for c in made]
    small, big, middle = numbers  # 1, 3 and 2 pumps
    client = login_as("station")

    def order(**args) -> list[str]:
        html = client.get(url, query_string=args).get_data(as_text=True)
        return row_order(html, "data-claim", numbers)

    assert order() == sorted(numbers)  # by claim number, as the statement is printed
    assert order(sort="claim", dir="desc") == sorted(numbers, reverse=True)
    assert order(sort="amount", dir="asc") == [small, middle, big]
    assert order(sort="amount", dir="desc") == [big, middle, small]
    assert order(q=big.lower()) == [big]
    page = client.get(url, query_string={"q": "NO-SUCH-CLAIM"}).get_data(as_text=True)
    assert "No line matches these filters." in page
    for args in (*BAD_SORTS, {"sort": "status"}, {"status": "open"}):
        assert client.get(url, query_string=args).status_code == 200
    args = {"sort": "amount", "dir": "desc"}
    rows = csv_rows(client.get(url, query_string={**args, "export": "csv"}))
    assert rows[0] == ["Claim", "Description", "Amount", "Status"]
    claim_rows = [r for r in rows[1:] if r[0] in numbers]
    assert [r[0] for r in claim_rows][:1] == [big]
    sheet = xlsx_rows(client.get(url, query_string={**args, "export": "xlsx"}))
    assert [r[0] for r in sheet[1:]] == [r[0] for r in rows[1:]]
    assert all(isinstance(r[2], int | float) for r in sheet[1:])  # amounts stay numbers
    # Another station's statement stays a 404, its export too.
    assert login_as("station_b").get(url, query_string={"export": "csv"}).status_code == 404


def test_a_supplier_statements_lines_filter_by_status_and_sort_by_it(login_as, world, three_claims):
    from portal.settlement import operations as settle
    from portal.settlement.models import Chargeback, StatementKind

    made, run = three_claims
    statement = _statement(run, StatementKind.SUPPLIER, world.suppliers[0])
    numbers = [c.number for c in made]
    first = db.session.scalars(
        sa.select(Chargeback).where(Chargeback.statement_id == statement.id)
    ).first()
    settle.accept_chargeback(first, world.users["supplier"])
    db.session.commit()
    accepted = first.claim.number
    client = login_as("supplier")
    url = f"/settlement/statements/{statement.id}"

    def order(**args) -> list[str]:
        html = client.get(url, query_string=args).get_data(as_text=True)
        return row_order(html, "data-claim", numbers)

    assert order(status="accepted") == [accepted]
    assert accepted not in order(status="open") and len(order(status="open")) == 2
    assert order(sort="status", dir="asc")[0] == accepted  # accepted before open
    assert order(sort="status", dir="desc")[-1] == accepted
    rows = csv_rows(client.get(url, query_string={"status": "open", "export": "csv"}))
    assert {r[3] for r in rows[1:]} == {"Open"} and len(rows) == 3
    chinese = csv_rows(client.get(url, query_string={"export": "csv"}, headers=ZH))
    assert chinese[0][0] == "索赔单"


def test_a_runs_organisations_sort_by_their_totals_and_export(login_as, world, three_claims):
    _made, run = three_claims
    client = login_as("finance")
    url = f"/settlement/runs/{run.id}"
    codes = ["ST-A", "ST-B"]

    def order(**args) -> list[str]:
        html = client.get(url, query_string=args).get_data(as_text=True)
        return row_order(html, "data-org", codes)

    assert order() == codes
    assert order(sort="code", dir="desc") == codes[::-1]
    assert order(sort="net", dir="desc") == ["ST-A", "ST-B"]  # six pumps before one sensor
    assert order(sort="net", dir="asc") == ["ST-B", "ST-A"]
    assert order(sort="net", dir="asc", q="st-a") == ["ST-A"]
    for args in BAD_SORTS:
        assert client.get(url, query_string=args).status_code == 200
    args = {"sort": "net", "dir": "asc", "export": "csv"}
    rows = csv_rows(client.get(url, query_string=args))
    assert rows[0][:2] == ["Code", "Name"] and [r[0] for r in rows[1:]] == ["ST-B", "ST-A"]
    assert rows[1][3] == "Released"
    sheet = xlsx_rows(client.get(url, query_string={**args, "export": "xlsx"}))
    assert [r[0] for r in sheet[1:]] == ["ST-B", "ST-A"] and isinstance(sheet[1][5], int | float)
    suppliers = csv_rows(client.get(url, query_string={"kind": "supplier", "export": "csv"}))
    assert [r[0] for r in suppliers[1:]] == ["SU-A", "SU-B"]
    chinese = csv_rows(client.get(url, query_string=args, headers=ZH))
    assert chinese[0][0] == "代码"
    assert login_as("station").get(url, query_string=args).status_code == 403


# -- reason codes ----------------------------------------------------------------------------------


def test_the_reason_codes_sort_by_their_columns_and_export(login_as, world):
    from portal.admin import operations
    from portal.claims.models import ReasonCode

    admin = world.users["admin"]
    operations.add_reason_code(admin, "zz_last", "A first by label", "甲")
    operations.add_reason_code(admin, "aa_first", "Z last by label", "乙")
    gone = operations.add_reason_code(admin, "ab_gone", "M middle", "丙")
    operations.set_reason_code_active(admin, gone, False)
    db.session.commit()
    client = login_as("admin")
    codes = [rc.code for rc in db.session.scalars(sa.select(ReasonCode))]

    def order(**args) -> list[str]:
        html = client.get("/admin/rules/reason-codes", query_string=args).get_data(as_text=True)
        return row_order(html, "data-code", codes)

    default = order()
    assert default[-1] == "ab_gone"  # active first, then by code
    assert default.index("aa_first") < default.index("zz_last")
    by_label = order(sort="label_en", dir="asc")
    assert by_label.index("zz_last") < by_label.index("ab_gone") < by_label.index("aa_first")
    assert order(sort="label_en", dir="desc") == by_label[::-1]
    assert order(sort="code", dir="desc")[0] == "zz_last"
    for args in BAD_SORTS:
        page = client.get("/admin/rules/reason-codes", query_string=args)
        assert page.status_code == 200
    args = {"sort": "code", "dir": "asc"}
    url = "/admin/rules/reason-codes"
    rows = csv_rows(client.get(url, query_string={**args, "export": "csv"}))
    assert rows[0] == ["Code", "English label", "Chinese label", "Status"]
    assert [r[0] for r in rows[1:]] == order(**args)
    assert {r[0]: r[3] for r in rows[1:]}["ab_gone"] == "Deactivated"
    sheet = xlsx_rows(client.get(url, query_string={**args, "export": "xlsx"}))
    assert [r[0] for r in sheet[1:]] == [r[0] for r in rows[1:]]
    assert login_as("auditor").get(url, query_string={"export": "csv"}).status_code == 403
