"""Hostile input through the API: every number, decimal and text the declared schemas take is
bounded, and a value out of bounds is refused naming its field, never a server error."""

from __future__ import annotations

import pytest

from portal.fields import MAX_INT
from tests.factories import ClaimFactory, Fleet, claim_payload
from tests.test_api_auth import API, Api, api_for, error_of


@pytest.fixture
def fleet(world):
    return Fleet.build(world)


@pytest.fixture
def station(client, world) -> Api:
    return api_for(client, world, "station")


@pytest.fixture
def document(client) -> dict:
    return client.get(f"{API}/openapi.json").get_json()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"odometer_km": MAX_INT + 1}, "odometer_km"),
        ({"odometer_km": True}, "odometer_km"),
        ({"vin": "LZZ\x00"}, "vin"),
        ({"description": "x" * 4001}, "description"),
        ({"repair_date": "0001-01-01"}, "repair_date"),
        ({"repair_date": "9999-12-31"}, "repair_date"),
        ({"lines": [{"kind": "part", "part_number": "P-100", "qty": MAX_INT + 1}]}, "lines[0].qty"),
        ({"lines": [{"kind": "other", "amount": "1000000000000.00"}]}, "lines[0].amount"),
        ({"lines": [{"kind": "other", "amount": "NaN"}]}, "lines[0].amount"),
        ({"lines": [{"kind": "other", "amount": "Infinity"}]}, "lines[0].amount"),
        ({"lines": [{"kind": "labor", "hours": 1e300}]}, "lines[0].hours"),
        ({"lines": [{"kind": "other", "amount": "1"}] * 201}, "lines"),
        ({"odometer_km": "١٢"}, "odometer_km"),
        ({"odometer_km": "1_000"}, "odometer_km"),
        ({"lines": [{"kind": "part", "part_number": "P-100", "qty": "１２"}]}, "lines[0].qty"),
        ({"lines": [{"kind": "labor", "hours": "１.5"}]}, "lines[0].hours"),
        ({"lines": [{"kind": "other", "amount": "5e2"}]}, "lines[0].amount"),
    ],
)
def test_a_claim_value_out_of_bounds_is_400_naming_the_field(station, fleet, payload, field):
    error = error_of(station.post("/claims", json=claim_payload(fleet, **payload)), 400)
    assert error["code"] == "malformed"
    assert field in error["fields"]
    assert station.get("/claims").get_json()["total"] == 0


def test_the_largest_amounts_in_bounds_are_kept_exactly(station, fleet):
    body = claim_payload(fleet, lines=[{"kind": "part", "part_number": "P-100", "qty": 2}])
    body["lines"].append({"kind": "labor", "hours": "999999999999.99"})
    claim = station.post("/claims", json=body)
    assert claim.status_code == 201, claim.get_data(as_text=True)
    assert claim.get_json()["lines"][1]["hours"] == "999999999999.99"


@pytest.mark.parametrize(
    "query",
    [f"page={MAX_INT + 1}", "page=-1", "per_page=0", "per_page=1e3", "per_page=²", "type=\x00"],
)
def test_a_list_query_out_of_bounds_is_400(station, query):
    assert error_of(station.get(f"/claims?{query}"), 400)["code"] == "malformed"


def test_the_last_page_in_bounds_is_empty_not_an_error(station):
    page = station.get(f"/claims?page={MAX_INT}&per_page=100").get_json()
    assert (page["items"], page["page"]) == ([], MAX_INT)


@pytest.mark.parametrize(
    "path",
    [
        f"/settlement/runs/{MAX_INT + 1}",
        "/settlement/runs/0",
        f"/statements/{10**30}",
        f"/chargebacks/{MAX_INT + 1}",
        "/chargebacks/٣",
    ],
)
def test_an_id_out_of_bounds_is_no_such_record(client, world, path):
    finance = api_for(client, world, "finance")
    assert error_of(finance.get(path), 404)["code"] == "not_found"


@pytest.mark.parametrize("path", ["/claims/" + "X" * 300, "/old-parts/" + "T" * 300])
def test_a_path_too_long_is_no_such_record(client, world, path):
    auditor = api_for(client, world, "auditor")
    assert error_of(auditor.get(path), 404)["code"] == "not_found"


@pytest.mark.parametrize("path", ["/claims/RP%00", "/old-parts/T%00"])
def test_a_path_with_nul_is_refused_before_any_query(client, world, path):
    # 404 from the declared view; 400 naming `path` where the app-wide input guard runs first.
    response = api_for(client, world, "auditor").get(path)
    assert response.status_code in (400, 404)
    assert error_of(response, response.status_code)["code"] in ("malformed", "not_found")


def test_the_document_states_the_bounds(document):
    schemas = document["components"]["schemas"]
    qty = schemas["ClaimLineInput"]["properties"]["qty"]["anyOf"][0]
    assert (qty["minimum"], qty["maximum"]) == (1, MAX_INT)
    assert schemas["ClaimCreate"]["properties"]["vin"]["maxLength"] == 17
    assert schemas["ClaimCreate"]["properties"]["lines"]["maxItems"] == 200
    runs = document["paths"]["/settlement/runs/{run_id}"]["parameters"][0]["schema"]
    assert runs == {"type": "integer", "minimum": 1, "maximum": MAX_INT}
    per_page = next(
        p for p in document["paths"]["/claims"]["get"]["parameters"] if p["name"] == "per_page"
    )
    assert per_page["schema"]["maximum"] == 100


# -- a state conflict is the operation's own answer ------------------------------------------------


def test_the_operations_raise_the_conflicts_the_api_answers_409(world, fleet, db_session):
    from portal.claims import attachments
    from portal.claims import operations as ops
    from portal.errors import Conflict, DomainError

    station = world.users["station"]
    claim = ClaimFactory(fleet=fleet)
    with pytest.raises(Conflict, match="cannot comment on a draft"):
        ops.add_comment(claim, station, "hello")
    ops.submit_claim(claim, station)
    with pytest.raises(Conflict, match="cannot be edited"):
        attachments.add_attachment(claim, station, "photo.png", b"\x89PNG\r\n\x1a\n")
    other = world.users["station_b"]
    with pytest.raises(DomainError, match="cannot comment") as refused:
        ops.add_comment(claim, other, "me too")
    assert not isinstance(refused.value, Conflict)


@pytest.mark.parametrize("period", ["２０２６-10", "2026-5", "May 2026", "2026-13"])
def test_a_period_not_written_yyyy_mm_in_ascii_is_422_naming_period(client, world, period):
    finance = api_for(client, world, "finance")
    error = error_of(finance.post("/settlement/runs", json={"period": period}), 422)
    assert set(error["fields"]) == {"period"}
    assert finance.get("/settlement/runs").get_json()["total"] == 0
