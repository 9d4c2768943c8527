"""Lists people can work with (portal.lists), through HTTP: every main list sorts by its columns
(whitelisted keys in the URL, a stable order, an unknown key answered with the default order,
never a 500), searches and filters, and exports exactly the rows it selects as CSV and XLSX,
scoped to the user's organisation, with the headings in the reader's language."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from portal.claims.models import ClaimSettings, ClaimStatus
from portal.notifications.models import Notification
from portal.settlement.models import Chargeback
from tests.factories import ClaimFactory, Fleet, SettlementRunFactory

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def login_as(switching_login):
    return switching_login


@pytest.fixture
def fleet(world):
    ClaimSettings.current().auto_approve_enabled = False
    return Fleet.build(world)


def parts(n: int) -> list[dict]:
    return [{"kind": "part", "part_number": "P-100", "qty": n}]


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data().decode("utf-8")
    assert body.startswith("\ufeff")  # Excel reads the UTF-8 Chinese right
    return list(csv.reader(io.StringIO(body[1:])))


def xlsx_rows(response) -> list[tuple]:
    assert response.status_code == 200
    assert response.mimetype == XLSX
    sheet = load_workbook(io.BytesIO(response.get_data()), read_only=True).active
    return list(sheet.iter_rows(values_only=True))


def row_order(html: str, marker: str, keys: list[str]) -> list[str]:
    """`keys` in the order their rows (`marker="key"`) appear in the page."""
    found = [(html.find(f'{marker}="{k}"'), k) for k in keys]
    return [k for position, k in sorted(found) if position >= 0]


# -- the station's claims --------------------------------------------------------------------------


@pytest.fixture
def station_claims(fleet):
    """Three drafts of station A (1, 3 and 2 parts) and one of station B."""
    mine = [ClaimFactory(fleet=fleet, own_vehicle=True, lines=parts(n)) for n in (1, 3, 2)]
    theirs = ClaimFactory(fleet=fleet, station="station_b", own_vehicle=True, lines=parts(5))
    return mine, theirs


def test_the_station_sorts_its_claims_by_amount_both_ways(login_as, station_claims):
    mine, theirs = station_claims
    client = login_as("station")
    numbers = [c.number for c in mine]
    by_amount = [c.number for c in sorted(mine, key=lambda c: c.total_amount)]
    up = client.get("/dealer/", query_string={"sort": "claimed", "dir": "asc"}).get_data(
        as_text=True
    )
    assert row_order(up, "data-claim", numbers) == by_amount
    assert 'aria-sort="ascending"' in up
    down = client.get("/dealer/", query_string={"sort": "claimed", "dir": "desc"})
    assert row_order(down.get_data(as_text=True), "data-claim", numbers) == by_amount[::-1]
    assert theirs.number not in up


@pytest.mark.parametrize(
    "args",
    [
        {"sort": "password_hash"},
        {"sort": "claimed", "dir": "sideways"},
        {"sort": "created; DROP TABLE claim"},
        {"sort": "", "dir": "desc"},
    ],
)
def test_an_unknown_sort_is_answered_with_the_default_order(login_as, station_claims, args):
    mine, _theirs = station_claims
    response = login_as("station").get("/dealer/", query_string=args)
    assert response.status_code == 200
    newest_first = [c.number for c in sorted(mine, key=lambda c: c.id, reverse=True)]
    page = response.get_data(as_text=True)
    assert row_order(page, "data-claim", [c.number for c in mine]) == newest_first


def test_the_station_exports_exactly_its_filtered_claims(login_as, station_claims, fleet):
    mine, theirs = station_claims
    submitted = ClaimFactory(fleet=fleet, own_vehicle=True, in_review=True)
    client = login_as("station")
    rows = csv_rows(
        client.get(
            "/dealer/",
            query_string={"status": "draft", "sort": "claimed", "dir": "desc", "export": "csv"},
        )
    )
    heading, body = rows[0], rows[1:]
    assert heading[:3] == ["Number", "Type", "Status"]
    by_amount = sorted(mine, key=lambda c: c.total_amount, reverse=True)
    assert [r[0] for r in body] == [c.number for c in by_amount]
    assert {r[2] for r in body} == {"Draft"}
    claimed = heading.index("Claimed")
    assert [Decimal(r[claimed]) for r in body] == [c.total_amount for c in by_amount]
    assert theirs.number not in str(rows) and submitted.number not in str(rows)
    # Every page of the list: the export is not cut at the page size.
    sheet = xlsx_rows(client.get("/dealer/", query_string={"export": "xlsx"}))
    assert len(sheet) == 1 + 4
    assert isinstance(sheet[1][sheet[0].index("Claimed")], float | int)


def test_the_list_and_its_export_speak_the_readers_language(login_as, station_claims):
    client = login_as("station")
    client.post("/lang/zh_CN")
    rows = csv_rows(client.get("/dealer/", query_string={"status": "draft", "export": "csv"}))
    assert rows[0][:3] == ["单号", "类型", "状态"]
    assert {r[2] for r in rows[1:]} == {"草稿"}
    page = client.get("/dealer/", query_string={"sort": "nonsense"})
    assert page.status_code == 200
    assert 'data-sort-key="claimed"' in page.get_data(as_text=True)


# -- the auditors' queue ---------------------------------------------------------------------------


@pytest.fixture
def queue(fleet):
    """Three claims in review: two of station A, one of station B."""
    return [
        ClaimFactory(fleet=fleet, in_review=True, own_vehicle=True, lines=parts(2)),
        ClaimFactory(fleet=fleet, in_review=True, own_vehicle=True, lines=parts(1)),
        ClaimFactory(
            fleet=fleet, in_review=True, own_vehicle=True, station="station_b", lines=parts(3)
        ),
    ]


def test_the_auditor_finds_a_claim_by_number_or_vin(login_as, queue):
    client = login_as("auditor")
    target = queue[1]
    by_number = client.get("/oem/review", query_string={"q": target.number[-6:]})
    page = by_number.get_data(as_text=True)
    assert by_number.status_code == 200
    assert f'data-claim="{target.number}"' in page
    assert f'data-claim="{queue[0].number}"' not in page
    by_vin = client.get("/oem/review", query_string={"q": target.vin.lower()}).get_data(
        as_text=True
    )
    assert f'data-claim="{target.number}"' in by_vin
    assert f'data-claim="{queue[2].number}"' not in by_vin
    nothing = client.get("/oem/review", query_string={"q": "%_%"}).get_data(as_text=True)
    assert "data-claim=" not in nothing


def test_the_queue_sorts_by_station_and_amount_and_pages_by_number(login_as, queue, app):
    client = login_as("auditor")
    numbers = [c.number for c in queue]
    page = client.get("/oem/review", query_string={"sort": "claimed", "dir": "desc"})
    assert page.status_code == 200
    ordered = [c.number for c in sorted(queue, key=lambda c: c.total_amount, reverse=True)]
    assert row_order(page.get_data(as_text=True), "data-claim", numbers) == ordered
    by_station = client.get("/oem/review", query_string={"sort": "station", "dir": "desc"})
    assert row_order(by_station.get_data(as_text=True), "data-claim", numbers)[0] == queue[2].number
    assert client.get("/oem/review", query_string={"sort": "x"}).status_code == 200


def test_the_queue_exports_the_filtered_claims(login_as, queue):
    client = login_as("auditor")
    rows = csv_rows(client.get("/oem/review", query_string={"station": "ST-A", "export": "csv"}))
    assert sorted(r[0] for r in rows[1:]) == sorted(c.number for c in queue[:2])
    assert "Flags" in rows[0] and "Station" in rows[0]
    sheet = xlsx_rows(client.get("/oem/review", query_string={"export": "xlsx"}))
    assert len(sheet) == 4
    # A refused filter exports nothing it did not filter: the page with its message.
    assert client.get("/oem/review", query_string={"age": "x", "export": "csv"}).status_code == 400


# -- settlement: runs, statements, the supplier's chargebacks -------------------------------------


@pytest.fixture
def released(world, fleet):
    """Approved claims of both stations, settled by a released run: supplier A is charged for
    two claims of station A (1 and 3 parts), supplier B for one of station B."""
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
    run = SettlementRunFactory(world=world, released=True)
    return run, claims


def chargeback_of(db_session, claim) -> Chargeback:
    return db_session.scalar(sa.select(Chargeback).where(Chargeback.claim_id == claim.id))


def test_the_supplier_filters_its_chargebacks(login_as, released, db_session):
    _run, claims = released
    client = login_as("supplier")
    small, big = (chargeback_of(db_session, c) for c in claims[:2])
    page = client.get("/settlement/chargebacks").get_data(as_text=True)
    assert f'data-chargeback="{small.id}"' in page and f'data-chargeback="{big.id}"' in page
    assert claims[2].number not in page
    by_claim = client.get("/settlement/chargebacks", query_string={"q": claims[1].number})
    text = by_claim.get_data(as_text=True)
    assert f'data-chargeback="{big.id}"' in text and f'data-chargeback="{small.id}"' not in text
    above = client.get(
        "/settlement/chargebacks", query_string={"min_amount": str(small.amount + 1)}
    ).get_data(as_text=True)
    assert f'data-chargeback="{big.id}"' in above and f'data-chargeback="{small.id}"' not in above
    accepted = client.get("/settlement/chargebacks", query_string={"status": "accepted"})
    assert "data-chargeback=" not in accepted.get_data(as_text=True)
    refused = client.get("/settlement/chargebacks", query_string={"max_amount": "lots"})
    assert refused.status_code == 400
    assert "data-chargeback=" not in refused.get_data(as_text=True)


def test_the_supplier_sorts_and_exports_only_its_own_chargebacks(login_as, released, db_session):
    _run, claims = released
    client = login_as("supplier")
    small, big = (chargeback_of(db_session, c) for c in claims[:2])
    page = client.get(
        "/settlement/chargebacks", query_string={"sort": "amount", "dir": "desc"}
    ).get_data(as_text=True)
    assert row_order(page, "data-chargeback", [str(small.id), str(big.id)]) == [
        str(big.id),
        str(small.id),
    ]
    rows = csv_rows(
        client.get(
            "/settlement/chargebacks",
            query_string={"sort": "amount", "dir": "asc", "export": "csv"},
        )
    )
    assert [r[0] for r in rows[1:]] == [claims[0].number, claims[1].number]
    amount = rows[0].index("Amount")
    assert [Decimal(r[amount]) for r in rows[1:]] == [small.amount, big.amount]
    assert claims[2].number not in str(rows)
    other = login_as("supplier_b")
    theirs = csv_rows(other.get("/settlement/chargebacks", query_string={"export": "csv"}))
    assert [r[0] for r in theirs[1:]] == [claims[2].number]


def test_statements_and_runs_sort_and_export_in_scope(login_as, released, world):
    run, _claims = released
    finance = login_as("finance")
    rows = csv_rows(
        finance.get("/settlement/statements", query_string={"sort": "gross", "export": "csv"})
    )
    gross = rows[0].index("Gross")
    amounts = [Decimal(r[gross]) for r in rows[1:]]
    assert amounts == sorted(amounts) and len(amounts) == 4  # two stations, two suppliers
    runs = csv_rows(finance.get("/settlement/", query_string={"export": "csv"}))
    assert [r[0] for r in runs[1:]] == [str(run.id)]
    assert finance.get("/settlement/", query_string={"sort": "x", "dir": "y"}).status_code == 200
    station = login_as("station")
    own = csv_rows(station.get("/settlement/statements", query_string={"export": "csv"}))
    assert len(own) == 2 and "ST-A" in own[1]
    assert "ST-B" not in str(own)


# -- old parts, notifications, master data ---------------------------------------------------------


def test_old_parts_sort_and_export_in_scope(login_as, fleet):
    mine = ClaimFactory(fleet=fleet, with_old_parts=True, own_vehicle=True, units=3)
    theirs = ClaimFactory(
        fleet=fleet, with_old_parts=True, own_vehicle=True, station="station_b", units=1
    )
    client = login_as("station")
    page = client.get("/old-parts/", query_string={"sort": "tag", "dir": "desc"})
    assert page.status_code == 200
    rows = csv_rows(
        client.get("/old-parts/", query_string={"sort": "tag", "dir": "desc", "export": "csv"})
    )
    tags = [r[0] for r in rows[1:]]
    assert len(tags) == 3 and tags == sorted(tags, reverse=True)
    assert all(mine.number in r for r in rows[1:])
    assert theirs.number not in str(rows)
    assert "Inspection" in rows[0]
    assert client.get("/old-parts/", query_string={"sort": "station_id"}).status_code == 200


def test_notifications_sort_unread_first_and_export_only_the_readers_own(
    login_as, world, db_session
):
    station = world.users["station"]
    read, unread = (
        Notification(user_id=station.id, message=f"Message {n}", link=None)
        for n in ("read", "unread")
    )
    db_session.add_all([read, unread])
    db_session.flush()
    read.read_at = read.created_at
    other = world.users["station_b"]
    db_session.add(Notification(user_id=other.id, message="Not yours", link=None))
    db_session.flush()
    client = login_as("station")
    page = client.get("/notifications/", query_string={"sort": "read", "dir": "desc"})
    html = page.get_data(as_text=True)
    assert html.index("Message unread") < html.index("Message read")
    rows = csv_rows(client.get("/notifications/", query_string={"export": "csv"}))
    assert sorted(r[1] for r in rows[1:]) == ["Message read", "Message unread"]


def test_master_data_sorts_by_any_column_and_exports(login_as, fleet):
    client = login_as("admin")
    page = client.get(
        "/admin/masterdata/parts", query_string={"sort": "number", "dir": "desc"}
    ).get_data(as_text=True)
    assert page.index("P-200") < page.index("P-100")
    rows = csv_rows(client.get("/admin/masterdata/parts", query_string={"export": "csv"}))
    assert [r[0] for r in rows[1:]] == sorted(r[0] for r in rows[1:])
    sheet = xlsx_rows(
        client.get(
            "/admin/masterdata/vehicles", query_string={"sort": "model_code", "export": "xlsx"}
        )
    )
    assert len(sheet) > 1
    assert client.get("/admin/masterdata/parts", query_string={"sort": "id"}).status_code == 200


def test_another_organisations_rows_never_appear_in_a_list_or_export(login_as, fleet, world):
    mine = ClaimFactory(fleet=fleet, own_vehicle=True, in_review=True)
    theirs = ClaimFactory(fleet=fleet, own_vehicle=True, station="station_b")
    client = login_as("station")
    for args in ({}, {"sort": "vin"}, {"export": "csv"}, {"export": "xlsx"}, {"q": theirs.vin}):
        body = client.get("/dealer/", query_string=args).get_data()
        assert theirs.number.encode() not in body
    assert mine.status is ClaimStatus.IN_REVIEW
