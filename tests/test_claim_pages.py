"""The station's claim pages through HTTP: list, form, claim page, submit, attachments, comments,
lookups, and who may open which URL."""

from __future__ import annotations

import re
import struct
import zlib
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from portal.claims import attachments
from portal.claims import operations as ops
from portal.claims.models import Claim, ClaimSettings, ClaimStatus
from tests.conftest import login
from tests.factories import ClaimFactory, Fleet
from tests.words_support import shown_day


@pytest.fixture
def fleet(world):
    return Fleet.build(world)


@pytest.fixture
def sign_in(app, world):
    """A separate signed-in browser per user: sign_in("auditor")."""

    def _sign_in(key: str):
        client = app.test_client()
        response = login(client, world.usernames[key])
        assert response.status_code == 302
        return client

    return _sign_in


@pytest.fixture
def station(sign_in):
    return sign_in("station")


@pytest.fixture
def uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path / "uploads"))
    return tmp_path / "uploads"


def download(client, url: str):
    """GET a file and close the streamed response (send_file keeps the file open until then)."""
    response = client.get(url)
    response.get_data()
    response.close()
    return response


def html(response) -> str:
    return response.get_data(as_text=True)


def days_ago(n: int) -> str:
    return (date.today() - timedelta(days=n)).isoformat()


def repair_form(fleet, **overrides) -> dict:
    """What the browser posts for a repair claim with a part line and a labor line."""
    data = {
        "vin": fleet.vehicle.vin,
        "odometer_km": "15000",
        "repair_date": days_ago(2),
        "fault_date": days_ago(3),
        "fault_code": fleet.fault.code,
        "causal_part": fleet.part.number,
        "complaint": "Oil pressure warning light on",
        "cause": "Pump worn",
        "correction": "Pump replaced",
        "line_kind[]": ["part", "labor"],
        "line_part[]": [fleet.part.number, ""],
        "line_qty[]": ["1", ""],
        "line_operation[]": ["", fleet.operation.code],
        "line_hours[]": ["", "1.50"],
        "line_description[]": ["", ""],
        "line_amount[]": ["", ""],
    }
    data.update(overrides)
    return data


def number_in(location: str) -> str:
    return location.rsplit("/", 1)[1]


def claim_by_number(db_session, number: str) -> Claim:
    db_session.expire_all()
    return db_session.scalar(sa.select(Claim).where(Claim.number == number))


def amounts(page: str) -> dict[str, list[str]]:
    """The amounts table of a claim page: {"parts": ["100.00"], ...} (claimed, approved)."""
    table = page.split('data-testid="amounts"', 1)[1].split("</table>", 1)[0]
    found = {}
    for key, cells in re.findall(r'data-amount="(\w+)">(.*?)</tr>', table, re.S):
        found[key] = re.findall(r'<td class="num[^"]*">([^<]*)</td>', cells)
    return found


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


TINY_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


# -- the claim list (the station home) --------------------------------------------------------


def test_the_station_home_lists_its_own_claims_newest_first(world, fleet, station):
    first = ClaimFactory(fleet=fleet)
    second = ClaimFactory(fleet=fleet, type="appraisal", lines=[])
    foreign = ClaimFactory(fleet=fleet, station="station_b")

    page = html(station.get("/dealer/"))

    assert '<h1 class="h3 mb-0">My claims</h1>' in page
    assert page.index(second.number) < page.index(first.number)  # newest first
    assert foreign.number not in page
    row = page.split(f'data-claim="{first.number}"', 1)[1].split("</tr>", 1)[0]
    assert f'href="/claims/{first.number}"' in row
    assert "Warranty repair" in row and 'data-status="draft"' in row and ">Draft<" in row
    assert fleet.vehicle.vin in row and shown_day(date.today() - timedelta(days=2)) in row
    assert '<td class="num" data-label="Claimed">230.00</td>' in row  # claimed, right-aligned
    assert '<td class="num" data-label="Approved">-</td>' in row  # nothing approved yet


def test_the_counts_on_top_show_drafts_review_returned_and_approved_this_month(
    world, fleet, station
):
    ClaimFactory(fleet=fleet)
    ClaimFactory(fleet=fleet, submitted=True)  # auto-approved: 230.00 under 2000
    ClaimFactory(fleet=fleet, in_review=True)
    ClaimFactory(fleet=fleet, returned=True)

    page = html(station.get("/dealer/"))

    def count(key):
        block = page.split(f'data-count="{key}"', 1)[1]
        return int(re.search(r'class="stat-value[^"]*">(\d+)<', block).group(1))

    assert (count("drafts"), count("in_review"), count("returned"), count("approved")) == (
        1,
        1,
        1,
        1,
    )
    returned_card = page.split('data-count="returned"', 1)[0].rsplit("<a", 1)[1]
    assert "claim-count-attention" in returned_card
    assert "Needs your action" in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"type": "appraisal"}, {"appraisal"}),
        ({"status": "approved"}, {"approved"}),
        ({"status": "draft"}, {"repair", "appraisal", "older"}),
        ({"flagged": "yes"}, {"flagged"}),
        ({"flagged": "no"}, {"repair", "appraisal", "approved", "older"}),
        ({"date_field": "repair", "date_from": days_ago(12), "date_to": days_ago(8)}, {"older"}),
        ({"date_field": "repair", "date_from": days_ago(5)}, {"repair", "approved", "flagged"}),
    ],
)
def test_the_list_filters_by_type_status_flags_and_dates(world, fleet, station, query, expected):
    claims = {
        "repair": ClaimFactory(fleet=fleet),
        "appraisal": ClaimFactory(
            fleet=fleet, type="appraisal", lines=[], repair_date=days_ago(20)
        ),
        "approved": ClaimFactory(fleet=fleet, submitted=True),
        "flagged": ClaimFactory(
            fleet=fleet,
            submitted=True,
            vin=fleet.old_vehicle.vin,
            odometer_km=95000,
            goodwill_reason="Loyal customer",
        ),
        "older": ClaimFactory(fleet=fleet, type="roadside", repair_date=days_ago(10), lines=[]),
    }
    assert claims["flagged"].status is ClaimStatus.IN_REVIEW and claims["flagged"].is_flagged

    page = html(station.get("/dealer/", query_string=query))

    shown = {key for key, claim in claims.items() if f'data-claim="{claim.number}"' in page}
    assert shown == expected


def test_the_list_filters_by_creation_date_in_the_portal_time_zone(world, fleet, station):
    claim = ClaimFactory(fleet=fleet)  # created today, repaired two days ago
    created = {"date_field": "created"}
    # Dates on the pages are the portal's (Asia/Shanghai), whatever the server's zone.
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    assert claim.number in html(
        station.get(
            "/dealer/", query_string={**created, "date_from": str(today), "date_to": str(today)}
        )
    )
    assert claim.number not in html(
        station.get("/dealer/", query_string={**created, "date_to": str(today - timedelta(days=1))})
    )


def test_the_search_finds_a_claim_by_number_or_vin(world, fleet, station):
    mine = ClaimFactory(fleet=fleet)
    other_vehicle = ClaimFactory(fleet=fleet, vin=fleet.new_vehicle.vin)

    by_number = html(station.get("/dealer/", query_string={"q": mine.number.lower()[-9:]}))
    assert mine.number in by_number and other_vehicle.number not in by_number
    by_vin = html(station.get("/dealer/", query_string={"q": fleet.new_vehicle.vin[-8:]}))
    assert other_vehicle.number in by_vin and mine.number not in by_vin
    nothing = html(station.get("/dealer/", query_string={"q": "ZZZ%_"}))
    assert "No claim matches these filters." in nothing


def test_a_bad_filter_value_is_shown_and_not_applied(world, fleet, station):
    claim = ClaimFactory(fleet=fleet)
    page = html(station.get("/dealer/", query_string={"date_from": "last week", "type": "x"}))
    assert claim.number in page
    assert "is-invalid" in page


def test_the_list_pages_by_25(world, fleet, station):
    numbers = [ClaimFactory(fleet=fleet).number for _ in range(27)]

    first = html(station.get("/dealer/"))
    second = html(station.get("/dealer/", query_string={"page": 2}))

    assert first.count("data-claim=") == 25 and second.count("data-claim=") == 2
    assert numbers[-1] in first and numbers[0] in second
    assert "1–25 of 27" in first
    assert 'href="/dealer/?page=2"' in first


# -- the type chooser and the form ----------------------------------------------------------------


def test_new_claim_offers_the_eight_types_each_explained(station):
    page = html(station.get("/claims/new"))
    types = re.findall(r'href="/claims/new\?type=(\w+)"', page)
    assert types == [
        "repair",
        "major_assembly",
        "appraisal",
        "break_in",
        "roadside",
        "outsourced_purchase",
        "emergency_part",
        "campaign",
    ]
    assert "Emergency part transfer" in page and "紧急调件单" in page
    assert "needs an approved appraisal" in page
    assert 'href="/claims/new">New claim</a>' in page  # the station's navigation


LINES = ("part", "labor", "other")


@pytest.mark.parametrize(
    ("claim_type", "fields", "line_kinds"),
    [
        ("repair", {"fault_code", "causal_part", "goodwill_reason", "outsourced_request"}, LINES),
        ("major_assembly", {"fault_code", "causal_part", "goodwill_reason"}, LINES),
        ("appraisal", {"fault_code", "causal_part", "goodwill_reason"}, ()),
        ("break_in", set(), ()),
        ("roadside", {"fault_code", "trip_km", "roadside_hours", "tolls"}, LINES),
        ("outsourced_purchase", {"causal_part"}, ("other",)),
        ("emergency_part", {"fulfilment", "shipper_code"}, ("part", "other")),
    ],
)
def test_the_form_shows_only_the_sections_of_its_type(station, claim_type, fields, line_kinds):
    optional = {
        "fault_code",
        "causal_part",
        "goodwill_reason",
        "outsourced_request",
        "trip_km",
        "roadside_hours",
        "tolls",
        "fulfilment",
        "shipper_code",
    }
    page = html(station.get(f"/claims/new?type={claim_type}"))
    assert re.findall(r'name="(vin|odometer_km|repair_date)"', page) == [
        "vin",
        "odometer_km",
        "repair_date",
    ]
    shown = {name for name in optional if f'name="{name}"' in page}
    assert shown == fields
    assert tuple(re.findall(r'data-add-line="(\w+)"', page)) == line_kinds


def no_lines() -> dict:
    return {
        f"line_{name}[]": []
        for name in ("kind", "part", "qty", "operation", "hours", "description", "amount")
    }


def one_line(kind: str, part="", qty="", operation="", hours="", description="", amount=""):
    return {
        "line_kind[]": [kind],
        "line_part[]": [part],
        "line_qty[]": [qty],
        "line_operation[]": [operation],
        "line_hours[]": [hours],
        "line_description[]": [description],
        "line_amount[]": [amount],
    }


@pytest.mark.parametrize(
    ("claim_type", "extra", "total"),
    [
        (
            "major_assembly",
            {**one_line("part", part="ENG-1", qty="1"), "causal_part": "ENG-1"},
            "13,200.00",
        ),
        ("appraisal", {"causal_part": "ENG-1", "fault_code": "P0301"}, "0.00"),
        ("break_in", {"correction": "Oil and filter changed"}, "300.00"),
        (
            "outsourced_purchase",
            {
                **one_line("other", description="Local dealer quote", amount="480.00"),
                "causal_part": "P-100",
                "complaint": "Parts centre out of stock",
            },
            "480.00",
        ),
        (
            "emergency_part",
            {
                **one_line("part", part="P-200", qty="2"),
                "fulfilment": "drop_ship",
                "shipper_code": "SU-B",
            },
            "100.10",
        ),
    ],
)
def test_every_type_is_filed_through_its_form_and_shown(
    world, fleet, station, claim_type, extra, total
):
    form = {
        "vin": fleet.new_vehicle.vin,
        "odometer_km": "2000",
        "repair_date": days_ago(1),
        **no_lines(),
        **extra,
    }
    response = station.post(f"/claims/new?type={claim_type}", data=form)
    assert response.status_code == 302, html(response)
    page = html(station.get(response.headers["Location"]))
    assert amounts(page)["total"] == [total]
    if claim_type == "emergency_part":
        assert "Drop-shipment by a supplier or another station" in page and "SU-B" in page
    if claim_type == "break_in":
        assert "Break-in package" in page


def test_an_unknown_type_is_not_found(station):
    assert station.get("/claims/new?type=warranty").status_code == 404


def test_a_claim_filed_through_the_form_shows_the_servers_amounts(
    world, fleet, station, db_session
):
    response = station.post("/claims/new?type=repair", data=repair_form(fleet))

    assert response.status_code == 302
    number = number_in(response.headers["Location"])
    page = html(station.get(response.headers["Location"]))
    assert f"Claim {number} saved as a draft." in page
    assert amounts(page) == {
        "parts": ["100.00"],
        "handling": ["10.00"],
        "labor": ["120.00"],
        "other": ["0.00"],
        "total": ["230.00"],
    }
    lines = page.split('data-testid="claim-lines"', 1)[1].split("</table>", 1)[0]
    assert "P-100" in lines and "OP-1" in lines and "1.50 h" in lines
    assert "Pump worn" in page
    claim = claim_by_number(db_session, number)
    assert claim.status is ClaimStatus.DRAFT and len(claim.lines) == 2


def test_blank_line_rows_are_left_out(world, fleet, station, db_session):
    form = repair_form(fleet)
    for key, blank in (("line_kind[]", "part"), ("line_qty[]", "1")):
        form[key] = [*form[key], blank]
    for key in (
        "line_part[]",
        "line_operation[]",
        "line_hours[]",
        "line_description[]",
        "line_amount[]",
    ):
        form[key] = [*form[key], ""]
    response = station.post("/claims/new?type=repair", data=form)
    assert response.status_code == 302
    claim = claim_by_number(db_session, number_in(response.headers["Location"]))
    assert len(claim.lines) == 2


def claim_count(db_session) -> int:
    return db_session.scalar(sa.select(sa.func.count(Claim.id)))


def test_field_errors_are_shown_beside_the_fields_and_nothing_is_saved(
    world, fleet, station, db_session
):
    before = claim_count(db_session)
    form = repair_form(fleet, odometer_km="many", fault_code="NOPE")
    form["line_part[]"] = ["NOPE-1", ""]

    response = station.post("/claims/new?type=repair", data=form)

    assert response.status_code == 422
    page = html(response)
    assert "Nothing was saved." in page
    assert re.search(r'data-error-for="odometer_km">must be a whole number<', page)
    # The malformed odometer stops the form before any lookup: fix it, and the references fail.
    assert claim_count(db_session) == before

    form["odometer_km"] = "15000"
    page = html(station.post("/claims/new?type=repair", data=form))
    assert re.search(r'data-error-for="fault_code">no such record: NOPE<', page)
    row = page.split('data-error-for="line-part"', 1)[0].rsplit("<tr", 1)[1]
    assert 'value="NOPE-1"' in row  # the error sits in the row of the bad part
    assert "no such record: NOPE-1" in page
    assert 'value="15000"' in page  # what was typed is kept
    assert claim_count(db_session) == before


def test_a_labor_row_error_lands_on_its_row(world, fleet, station):
    form = repair_form(fleet)
    form["line_hours[]"] = ["", "1.234"]
    page = html(station.post("/claims/new?type=repair", data=form))
    row = page.split('data-error-for="line-hours"', 1)[0].rsplit("<tr", 1)[1]
    assert 'data-kind="labor"' in row and 'value="1.234"' in row


def test_without_javascript_a_line_row_is_added_by_a_round_trip(world, fleet, station, db_session):
    before = claim_count(db_session)
    form = repair_form(fleet, line_action="add:other")
    page = html(station.post("/claims/new?type=repair", data=form))
    rows = re.findall(
        r'<tr class="line-row" data-line data-kind="(\w+)"', page.split("<template")[0]
    )
    assert rows == ["part", "labor", "other"]
    form = repair_form(fleet, line_action="remove:0")
    page = html(station.post("/claims/new?type=repair", data=form))
    rows = re.findall(
        r'<tr class="line-row" data-line data-kind="(\w+)"', page.split("<template")[0]
    )
    assert rows == ["labor"]
    assert claim_count(db_session) == before


def test_a_draft_is_edited_through_the_form(world, fleet, station, db_session):
    claim = ClaimFactory(fleet=fleet)
    page = html(station.get(f"/claims/{claim.number}/edit"))
    assert f'value="{fleet.vehicle.vin}"' in page
    assert re.search(r'name="line_part\[\]" value="P-100"', page)
    assert re.search(r'name="line_hours\[\]" value="1.50"', page)
    assert "Saved total" in page and "230.00" in page

    form = repair_form(fleet, revision=str(claim.revision))
    form["line_qty[]"] = ["2", ""]
    response = station.post(f"/claims/{claim.number}/edit", data=form)

    assert response.status_code == 302
    page = html(station.get(response.headers["Location"]))
    assert amounts(page)["parts"] == ["200.00"] and amounts(page)["total"] == ["340.00"]
    assert [e.action for e in claim_by_number(db_session, claim.number).events] == [
        "created",
        "edited",
    ]


def test_the_edit_form_carries_the_revision_it_shows(world, fleet, station, db_session):
    claim = ClaimFactory(fleet=fleet)
    page = html(station.get(f"/claims/{claim.number}/edit"))
    assert re.search(rf'<input[^>]*name="revision"[^>]*value="{claim.revision}"', page)


def test_a_stale_save_on_the_edit_page_keeps_the_other_change_and_says_why(
    world, fleet, station, db_session
):
    """Two tabs on one draft: the second save, made on what the first overwrote, is refused."""
    claim = ClaimFactory(fleet=fleet)
    seen = claim.revision
    first = repair_form(fleet, odometer_km="16000", revision=str(seen))
    assert station.post(f"/claims/{claim.number}/edit", data=first).status_code == 302

    second = repair_form(fleet, odometer_km="17000", revision=str(seen))
    response = station.post(f"/claims/{claim.number}/edit", data=second)

    assert response.status_code == 302
    page = html(station.get(response.headers["Location"]))
    assert "was changed meanwhile" in page
    saved = claim_by_number(db_session, claim.number)
    assert saved.odometer_km == 16000
    assert [e.action for e in saved.events] == ["created", "edited"]


def test_a_save_without_the_revision_is_refused(world, fleet, station, db_session):
    claim = ClaimFactory(fleet=fleet)
    response = station.post(f"/claims/{claim.number}/edit", data=repair_form(fleet))
    assert response.status_code == 302
    assert "was changed meanwhile" in html(station.get(response.headers["Location"]))
    assert [e.action for e in claim_by_number(db_session, claim.number).events] == ["created"]


def test_a_roadside_claim_turns_km_hours_and_tolls_into_lines_and_back(
    world, fleet, station, db_session
):
    form = {
        "vin": fleet.vehicle.vin,
        "odometer_km": "15000",
        "repair_date": days_ago(1),
        "complaint": "Stranded on the highway",
        "trip_km": "40",
        "roadside_hours": "2.00",
        "tolls": "35.00",
    }
    response = station.post("/claims/new?type=roadside", data=form)
    assert response.status_code == 302
    claim = claim_by_number(db_session, number_in(response.headers["Location"]))
    assert [(ln.kind.value, ln.amount) for ln in claim.lines] == [
        ("trip", Decimal("140.00")),  # 40 km x 3.50
        ("labor", Decimal("160.00")),  # 2 h x 80.00
        ("other", Decimal("35.00")),
    ]
    page = html(station.get(f"/claims/{claim.number}/edit"))
    assert re.search(r'name="trip_km"[^>]*value="40"', page)
    assert re.search(r'name="roadside_hours"[^>]*value="2.00"', page)
    assert re.search(r'name="tolls"[^>]*value="35.00"', page)
    assert 'data-kind="trip"' not in page.split("<template")[0]


def test_an_error_on_a_roadside_line_is_shown_beside_its_field(world, fleet, station):
    form = {"vin": fleet.vehicle.vin, "trip_km": "4.5", "repair_date": days_ago(1)}
    page = html(station.post("/claims/new?type=roadside", data=form))
    assert re.search(r'data-error-for="trip_km">must be a whole number<', page)


# -- the claim page, submit -----------------------------------------------------------------------


def test_submitting_an_in_policy_claim_approves_it_automatically(world, fleet, station, db_session):
    claim = ClaimFactory(fleet=fleet)
    page = html(station.get(f"/claims/{claim.number}"))
    assert 'data-testid="submit"' in page and "data-confirm=" in page

    response = station.post(f"/claims/{claim.number}/submit")

    assert response.status_code == 302
    page = html(station.get(response.headers["Location"]))
    assert "submitted and approved automatically" in page
    assert 'data-status="approved"' in page
    assert "Approved automatically: no flags and a total under CN¥2,000.00." in page
    assert amounts(page)["total"] == ["230.00", "230.00"]
    assert 'data-testid="submit"' not in page  # no more Edit or Submit
    assert f"/claims/{claim.number}/edit" not in page
    timeline = page.split('data-testid="timeline"', 1)[1].split("</table>", 1)[0]
    assert "Approved automatically" in timeline and "Draft → Submitted" in timeline
    assert claim_by_number(db_session, claim.number).status is ClaimStatus.APPROVED


def test_a_refused_submit_names_the_rule_beside_the_field_and_leaves_a_draft(
    world, fleet, station, db_session
):
    claim = ClaimFactory(fleet=fleet, odometer_km=500)  # the vehicle was last seen at 1000 km

    response = station.post(f"/claims/{claim.number}/submit")

    assert response.status_code == 422
    page = html(response)
    refusals = page.split('data-testid="refusals"', 1)[1].split("</ul>", 1)[0]
    assert "odometer" in refusals
    assert "The odometer 500 km is below the last known reading of 1,000 km." in refusals
    beside = page.split('data-field="odometer_km"', 1)[1].split("</dd>", 1)[0]
    assert 'data-rule="odometer"' in beside and "is below the last known reading" in beside
    fresh = claim_by_number(db_session, claim.number)
    assert fresh.status is ClaimStatus.DRAFT and fresh.submitted_at is None
    assert [e.action for e in fresh.events] == ["created"] and fresh.versions == []


def test_outside_coverage_is_refused_without_goodwill_and_flagged_with_it(
    world, fleet, station, db_session
):
    claim = ClaimFactory(fleet=fleet, vin=fleet.old_vehicle.vin, odometer_km=95000)
    page = html(station.post(f"/claims/{claim.number}/submit"))
    assert 'data-rule="coverage"' in page and "add a goodwill reason" in page
    assert claim_by_number(db_session, claim.number).status is ClaimStatus.DRAFT

    form = repair_form(
        fleet,
        vin=fleet.old_vehicle.vin,
        odometer_km="95000",
        goodwill_reason="Loyal fleet customer",
        revision=str(claim_by_number(db_session, claim.number).revision),
    )
    assert station.post(f"/claims/{claim.number}/edit", data=form).status_code == 302
    response = station.post(f"/claims/{claim.number}/submit")
    page = html(station.get(response.headers["Location"]))

    assert "waits for an auditor" in page
    flags = page.split('data-testid="flags"', 1)[1].split("</ul>", 1)[0]
    assert "outside_coverage" in flags and "submitted as goodwill: Loyal fleet customer" in flags
    assert 'data-status="in_review"' in page


def test_a_returned_claim_is_edited_and_resubmitted_as_version_2(world, fleet, station, db_session):
    ClaimSettings.current().auto_approve_enabled = False
    claim = ClaimFactory(fleet=fleet)
    assert station.post(f"/claims/{claim.number}/submit").status_code == 302
    claim = claim_by_number(db_session, claim.number)
    ops.return_claim(claim, world.users["auditor"], "Two pumps were replaced, claim both")

    page = html(station.get(f"/claims/{claim.number}"))
    assert "Returned to your station" in page and "Two pumps were replaced" in page
    assert f'href="/claims/{claim.number}/edit"' in page
    assert ">Resubmit<" in page.replace("\n", "").replace("  ", "")

    form = repair_form(fleet, revision=str(claim.revision))
    form["line_qty[]"] = ["2", ""]
    assert station.post(f"/claims/{claim.number}/edit", data=form).status_code == 302
    page = html(station.get(f"/claims/{claim.number}"))
    assert "Not yet submitted: changes since version 1" in page

    response = station.post(f"/claims/{claim.number}/submit")
    page = html(station.get(response.headers["Location"]))

    assert claim_by_number(db_session, claim.number).version == 2
    assert "Version 2" in page
    versions = page.split('data-testid="versions"', 1)[1]
    block = versions.split('data-version="2"', 1)[1].split('data-version="1"', 1)[0]
    assert "Line P-100 · quantity" in block and "<td>2</td>" in block
    assert "Total" in block and "340.00" in block
    timeline = page.split('data-testid="timeline"', 1)[1].split("</table>", 1)[0]
    assert "Resubmitted" in timeline and "Returned to the station" in timeline
    assert "Two pumps were replaced" in timeline


def test_an_approved_claim_cannot_be_edited_or_resubmitted(world, fleet, station, db_session):
    claim = ClaimFactory(fleet=fleet, submitted=True)
    response = station.get(f"/claims/{claim.number}/edit")
    assert response.status_code == 302
    assert "can no longer be edited" in html(station.get(response.headers["Location"]))
    response = station.post(f"/claims/{claim.number}/submit")
    assert "is already approved" in html(station.get(response.headers["Location"]))


# -- comments -------------------------------------------------------------------------------------


def test_the_station_and_the_auditor_talk_on_the_claims_thread(world, fleet, station, sign_in):
    claim = ClaimFactory(
        fleet=fleet,
        submitted=True,
        goodwill_reason="x",
        vin=fleet.old_vehicle.vin,
        odometer_km=95000,
    )
    auditor = sign_in("auditor")

    response = station.post(f"/claims/{claim.number}/comments", data={"body": "Photos attached"})
    assert response.status_code == 302 and response.headers["Location"].endswith("#comments")
    assert (
        auditor.post(
            f"/claims/{claim.number}/comments", data={"body": "Thanks, checking"}
        ).status_code
        == 302
    )

    page = html(station.get(f"/claims/{claim.number}"))
    thread = page.split('data-testid="comments"', 1)[1].split("</ol>", 1)[0]
    assert thread.index("Photos attached") < thread.index("Thanks, checking")
    assert "Test Motors" in thread  # who wrote it, with the organisation

    empty = station.post(f"/claims/{claim.number}/comments", data={"body": "  "})
    assert empty.status_code == 422
    assert "Write a comment of 1 to 4000 characters." in html(empty)


def test_a_draft_has_no_thread_yet(world, fleet, station, db_session):
    claim = ClaimFactory(fleet=fleet)
    page = html(station.get(f"/claims/{claim.number}"))
    assert "Comments open once the claim is submitted." in page
    response = station.post(f"/claims/{claim.number}/comments", data={"body": "hello"})
    assert response.status_code == 302
    assert claim_by_number(db_session, claim.number).comments == []


def test_auditors_and_finance_read_a_submitted_claim_without_station_buttons(world, fleet, sign_in):
    claim = ClaimFactory(
        fleet=fleet,
        submitted=True,
        vin=fleet.old_vehicle.vin,
        odometer_km=95000,
        goodwill_reason="x",
    )
    for role, may_comment in (("auditor", True), ("finance", False)):
        client = sign_in(role)
        page = html(client.get(f"/claims/{claim.number}"))
        assert claim.number in page and 'data-testid="flags"' in page
        assert 'data-testid="submit"' not in page and "/edit" not in page
        assert 'data-testid="upload-form"' not in page
        assert ('data-testid="comment-form"' in page) is may_comment
    finance = sign_in("finance")
    assert finance.post(f"/claims/{claim.number}/comments", data={"body": "x"}).status_code == 403


# -- attachments ----------------------------------------------------------------------------------


def upload(client, claim, name: str, data: bytes):
    from io import BytesIO

    return client.post(
        f"/claims/{claim.number}/attachments",
        data={"file": (BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_a_photo_and_a_pdf_are_attached_and_downloaded_by_the_owner(world, fleet, station, uploads):
    claim = ClaimFactory(fleet=fleet)
    png, pdf = tiny_png(), TINY_PDF

    assert upload(station, claim, "pump.png", png).status_code == 302
    response = upload(station, claim, "receipt.pdf", pdf)
    assert response.status_code == 302 and response.headers["Location"].endswith("#attachments")

    page = html(station.get(f"/claims/{claim.number}"))
    links = re.findall(rf'href="(/claims/{claim.number}/attachments/\d+)"[^>]*>([^<]+)</a>', page)
    assert [name for _url, name in links] == ["pump.png", "receipt.pdf"]
    image = download(station, links[0][0])
    assert image.status_code == 200 and image.data == png
    assert image.headers["Content-Type"] == "image/png"
    assert image.headers["Content-Disposition"].startswith("inline")
    assert image.headers["X-Content-Type-Options"] == "nosniff"
    document = download(station, links[1][0])
    assert document.data == pdf and document.headers["Content-Type"] == "application/pdf"
    assert document.headers["Content-Disposition"].startswith("attachment")
    assert "filename=receipt.pdf" in document.headers["Content-Disposition"]


def test_a_renamed_text_file_is_refused(world, fleet, station, uploads, db_session):
    claim = ClaimFactory(fleet=fleet)
    response = upload(station, claim, "photo.jpg", b"just some text, not a photo")
    assert response.status_code == 422
    page = html(response)
    assert re.search(r'data-error-for="file">Only JPEG, PNG or WebP photos and PDF', page)
    assert claim_by_number(db_session, claim.number).attachments == []


def test_an_oversized_file_is_refused(world, fleet, station, uploads, monkeypatch):
    monkeypatch.setattr(attachments, "MAX_ATTACHMENT_BYTES", 64)
    claim = ClaimFactory(fleet=fleet)
    response = upload(station, claim, "big.png", tiny_png() + b"\x00" * 64)
    assert response.status_code == 422
    assert "larger than" in html(response)
    assert not list(uploads.glob("*"))


def test_an_attachment_is_removed_while_the_claim_is_a_draft(
    world, fleet, station, uploads, db_session
):
    claim = ClaimFactory(fleet=fleet)
    upload(station, claim, "pump.png", tiny_png())
    attachment_id = claim_by_number(db_session, claim.number).attachments[0].id
    response = station.post(f"/claims/{claim.number}/attachments/{attachment_id}/delete")
    assert response.status_code == 302
    assert "pump.png was removed." in html(station.get(response.headers["Location"]))
    assert not list(uploads.glob("*"))


def test_another_stations_download_is_not_found(
    world, fleet, station, sign_in, uploads, db_session
):
    claim = ClaimFactory(fleet=fleet)
    upload(station, claim, "pump.png", tiny_png())
    claim = claim_by_number(db_session, claim.number)
    attachment_id = claim.attachments[0].id
    url = f"/claims/{claim.number}/attachments/{attachment_id}"
    assert download(station, url).status_code == 200
    assert sign_in("station_b").get(url).status_code == 404
    assert sign_in("auditor").get(url).status_code == 404  # a draft is private to its station
    ops.submit_claim(claim, world.users["station"])
    assert download(sign_in("auditor"), url).status_code == 200


# -- who may open what ----------------------------------------------------------------------------


def claim_urls(number: str, attachment_id: int) -> list[tuple[str, str]]:
    return [
        ("GET", f"/claims/{number}"),
        ("GET", f"/claims/{number}/edit"),
        ("POST", f"/claims/{number}/edit"),
        ("POST", f"/claims/{number}/submit"),
        ("POST", f"/claims/{number}/comments"),
        ("POST", f"/claims/{number}/attachments"),
        ("GET", f"/claims/{number}/attachments/{attachment_id}"),
        ("POST", f"/claims/{number}/attachments/{attachment_id}/delete"),
    ]


@pytest.mark.parametrize("submitted", [False, True], ids=["draft", "submitted"])
def test_every_url_of_another_stations_claim_is_not_found(
    world, fleet, station, sign_in, uploads, submitted
):
    claim = ClaimFactory(fleet=fleet)
    upload(station, claim, "pump.png", tiny_png())
    if submitted:
        ops.submit_claim(claim, world.users["station"])
    attachment_id = claim.attachments[0].id
    other = sign_in("station_b")
    for method, url in claim_urls(claim.number, attachment_id):
        response = other.open(url, method=method, data={"body": "x"})
        assert response.status_code == 404, (method, url)


@pytest.mark.parametrize("role", ["supplier", "admin"])
def test_roles_that_never_act_on_claims_are_forbidden(
    world, fleet, station, sign_in, uploads, role
):
    claim = ClaimFactory(fleet=fleet)
    upload(station, claim, "pump.png", tiny_png())
    ops.submit_claim(claim, world.users["station"])
    client = sign_in(role)
    urls = [
        *claim_urls(claim.number, claim.attachments[0].id),
        ("GET", "/claims/new"),
        ("GET", "/claims/new?type=repair"),
        ("GET", f"/claims/lookup/vehicle?vin={fleet.vehicle.vin}"),
        ("GET", "/claims/lookup/parts?q=P"),
        ("GET", "/dealer/"),
    ]
    # A supplier may open a claim page (the emergency part requests it ships), so another
    # claim is 404 to it, like any record of another organisation; everything else is 403.
    claim_page = ("GET", f"/claims/{claim.number}")
    attachment = ("GET", f"/claims/{claim.number}/attachments/{claim.attachments[0].id}")
    for method, url in urls:
        expected = 404 if role == "supplier" and (method, url) in (claim_page, attachment) else 403
        assert client.open(url, method=method).status_code == expected, (method, url)


def test_oem_users_may_read_but_never_file_or_edit(world, fleet, sign_in):
    claim = ClaimFactory(fleet=fleet, submitted=True)
    auditor = sign_in("auditor")
    assert auditor.get("/claims/new").status_code == 403
    assert auditor.get(f"/claims/{claim.number}/edit").status_code == 403
    assert auditor.post(f"/claims/{claim.number}/submit").status_code == 403


def test_an_oem_user_never_sees_a_draft(world, fleet, sign_in):
    claim = ClaimFactory(fleet=fleet)
    for role in ("auditor", "finance"):
        assert sign_in(role).get(f"/claims/{claim.number}").status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(client, world, fleet):
    claim = ClaimFactory(fleet=fleet)
    response = client.get(f"/claims/{claim.number}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# -- lookups --------------------------------------------------------------------------------------


def test_the_vehicle_lookup_gives_coverage_per_group_and_the_claim_history(world, fleet, station):
    mine = ClaimFactory(fleet=fleet, submitted=True)
    theirs = ClaimFactory(fleet=fleet, submitted=True, station="station_b", odometer_km=16000)
    their_draft = ClaimFactory(fleet=fleet, station="station_b")

    response = station.get(
        "/claims/lookup/vehicle",
        query_string={"vin": fleet.vehicle.vin.lower(), "date": days_ago(2), "km": "15000"},
    )

    assert response.status_code == 200 and response.is_json
    data = response.get_json()
    assert data["vin"] == fleet.vehicle.vin and data["model"]["code"] == "HX5"
    assert data["last_known_odometer_km"] == 16000  # the other station's submitted reading
    coverage = {c["group"]: c for c in data["coverage"]}
    assert set(coverage) == {"basic", "powertrain", "wear"}
    assert coverage["basic"]["in_coverage"] is True and coverage["basic"]["km_left"] == 85000
    assert coverage["wear"]["in_coverage"] is False and coverage["wear"]["reason"] == "time"
    history = {(c["number"], c["own"]) for c in data["claims"]}
    assert (mine.number, True) in history
    assert (None, False) in history  # another station's claim, without its number
    assert theirs.number not in response.get_data(as_text=True)
    assert their_draft.number not in response.get_data(as_text=True)
    assert len(data["claims"]) == 2


def test_the_vehicle_lookup_explains_a_bad_or_unknown_vin(station, fleet):
    bad = station.get("/claims/lookup/vehicle?vin=123")
    assert bad.status_code == 400 and "is not valid" in bad.get_json()["error"]["message"]
    # Another prefix than the factories' "LTEST": changing only the last character could give
    # the VIN of the fleet's next vehicle (when the factory counter ends in 0).
    unknown = "LUNKN" + fleet.vehicle.vin[5:]
    from portal.masterdata.vin import with_check_digit

    response = station.get(f"/claims/lookup/vehicle?vin={with_check_digit(unknown)}")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_part_operation_and_fault_code_lookups_return_up_to_20_matches(
    world, fleet, station, db_session
):
    from tests import factories

    for n in range(25):
        factories.PartFactory(
            supplier=world.suppliers[0], number=f"BULK-{n:02d}", name=f"Bulk bolt {n}"
        )

    parts = station.get("/claims/lookup/parts", query_string={"q": "bulk"}).get_json()["results"]
    assert len(parts) == 20
    pump = station.get("/claims/lookup/parts?q=oil pump").get_json()["results"]
    assert pump == [
        {
            "number": "P-100",
            "name": "机油泵 Oil pump",
            "group": "basic",
            "unit_price": "100.00",
            "major_assembly": False,
        }
    ]
    exact_first = station.get("/claims/lookup/parts?q=p-100").get_json()["results"]
    assert exact_first[0]["number"] == "P-100"
    operations = station.get("/claims/lookup/operations?q=op-1").get_json()["results"]
    assert operations[0] == {
        "code": "OP-1",
        "description": "Replace part",
        "standard_hours": "1.50",
    }
    faults = station.get("/claims/lookup/fault-codes?q=misfire").get_json()["results"]
    assert {"code": "P0301", "description": "Misfire", "system": "engine"} in faults
    assert station.get("/claims/lookup/parts?q=").get_json() == {"results": []}
    assert station.get("/claims/lookup/parts?q=%25").get_json()["results"] == []


def test_the_part_lookup_prices_on_the_given_date(world, fleet, station, db_session):
    from portal.masterdata.models import PartPrice

    fleet.part.prices[0].valid_to = date.today() - timedelta(days=10)
    fleet.part.prices.append(
        PartPrice(unit_price=Decimal("120.00"), valid_from=date.today() - timedelta(days=9))
    )
    db_session.flush()
    old = station.get(f"/claims/lookup/parts?q=P-100&date={days_ago(20)}").get_json()
    new = station.get("/claims/lookup/parts?q=P-100").get_json()
    assert old["results"][0]["unit_price"] == "100.00"
    assert new["results"][0]["unit_price"] == "120.00"
