"""Hostile input is refused at the boundary with 400/422/404 naming the field, never a 500,
and nothing is written: control characters, unbounded ids and pages, numbers beyond their
columns, NaN and Infinity, Unicode digits, duplicate keys and deep JSON (issue 11)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal import inputs
from portal.claims.models import Claim
from tests.factories import Fleet, claim_payload
from tests.test_api_auth import API, api_for, error_of


@pytest.fixture
def fleet(world):
    return Fleet.build(world)


def claims_count(db_session) -> int:
    return db_session.scalar(sa.select(sa.func.count()).select_from(Claim))


def refused_page(response, status: int, field: str) -> str:
    page = response.get_data(as_text=True)
    assert response.status_code == status, page[:2000]
    assert f"<code>{field}</code>" in page
    return page


# -- the value rules ---------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["1", "2147483647", " 42 "])
def test_a_whole_number_in_ascii_digits_within_range_is_taken(raw):
    assert inputs.parse_int(raw) == int(raw)


@pytest.mark.parametrize(
    "raw", ["0", "-1", "2147483648", "99999999999999999999", "²", "١٢", "１２", "1.5", "NaN", ""]
)
def test_any_other_whole_number_is_refused(raw):
    with pytest.raises(inputs.InvalidValue):
        inputs.parse_int(raw)


@pytest.mark.parametrize(
    ("raw", "value"),
    [("12.5", "12.50"), ("999999999999.99", "999999999999.99"), ("0", "0.00"), ("-3", "-3.00")],
)
def test_an_amount_of_at_most_twelve_digits_and_two_decimals_is_taken(raw, value):
    assert inputs.parse_decimal(raw) == Decimal(value)


@pytest.mark.parametrize(
    "raw",
    ["NaN", "Infinity", "-inf", "sNaN", "1e30", "1" * 23, "1000000000000", "1.005", "１２", "²"],
)
def test_any_other_amount_is_refused(raw):
    with pytest.raises(inputs.InvalidValue):
        inputs.parse_decimal(raw)


@pytest.mark.parametrize("raw", ["２０２６-01-01", "0001-01-01", "9999-12-31", "2026-13-01", "x"])
def test_a_date_outside_ascii_iso_and_a_sane_range_is_refused(raw):
    with pytest.raises(inputs.InvalidValue):
        inputs.parse_date(raw)


def test_strict_json_names_the_key_that_appears_twice_and_the_field_holding_nan():
    with pytest.raises(inputs.JsonRefused) as dup:
        inputs.loads_strict('{"vin": "A", "vin": "B"}')
    assert dup.value.field == "vin"
    with pytest.raises(inputs.JsonRefused) as nan:
        inputs.loads_strict('{"lines": [{"amount": NaN}]}')
    assert nan.value.field == "lines[0].amount"
    with pytest.raises(inputs.JsonRefused):
        inputs.loads_strict("[" * 33 + "]" * 33)
    assert inputs.loads_strict("[" * 32 + "]" * 32)


# -- the API -----------------------------------------------------------------------------------


def test_a_run_id_beyond_the_integer_column_is_refused_naming_run_id(client, world):
    api = api_for(client, world, "finance")
    response = api.get("/statements?run_id=953780280594541595066368")
    assert response.status_code in (400, 422)
    assert "run_id" in error_of(response, response.status_code)["fields"]


@pytest.mark.parametrize(
    "path", ["/old-parts?page=375959097505845870592", "/claims?page=99999999999999999999"]
)
def test_a_huge_page_of_an_api_list_is_refused_naming_page(client, world, path):
    api = api_for(client, world, "auditor")
    assert "page" in error_of(api.get(path), 400)["fields"]


def test_a_huge_page_of_the_statement_list_is_refused_naming_page(client, world):
    api = api_for(client, world, "finance")
    response = api.get("/statements?page=99999999999999999999&per_page=²")
    assert response.status_code in (400, 422)
    assert {"page", "per_page"} <= set(error_of(response, response.status_code)["fields"])


@pytest.mark.parametrize(
    "path", ["/statements/146777098774", "/settlement/runs/2147483648", "/chargebacks/٣"]
)
def test_an_id_beyond_the_integer_column_in_a_path_is_not_found(client, world, path):
    api = api_for(client, world, "finance")
    error_of(api.get(path), 404)


def test_a_nul_in_the_token_request_is_refused_before_any_lookup(client, world):
    response = client.post(f"{API}/auth/token", json={"username": "a\u0000", "password": "x"})
    assert error_of(response, 400)["fields"] == {"username": "must not hold control characters"}


def test_json_nested_100000_deep_is_refused_without_signing_in(client):
    body = "[" * 100_000 + "]" * 100_000
    response = client.post(
        f"{API}/auth/token", data=body, headers={"Content-Type": "application/json"}
    )
    assert "body" in error_of(response, 400)["fields"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"type": "repair", "odometer_km": NaN}', "odometer_km"),
        ('{"type": "repair", "odometer_km": Infinity}', "odometer_km"),
        ('{"type": "repair", "type": "repair"}', "type"),
        ('["type", "repair"]', "body"),
        ('{"type": "repair", "vin": "AB\\u0000C"}', "vin"),
        (
            '{"type": "repair", "lines": [{"kind": "other", "amount": -Infinity}]}',
            "lines[0].amount",
        ),
        ('{"type": "repair"', "body"),
    ],
)
def test_a_malformed_claim_body_is_refused_naming_the_field_and_nothing_is_written(
    client, world, db_session, body, field
):
    api = api_for(client, world, "station")
    before = claims_count(db_session)
    response = api.post("/claims", data=body, headers={"Content-Type": "application/json"})
    assert field in error_of(response, 400)["fields"]
    assert claims_count(db_session) == before


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"odometer_km": 2**63}, "odometer_km"),
        ({"repair_date": "２０２６-01-01"}, "repair_date"),
        ({"lines": [{"kind": "part", "part_number": "P-100", "qty": 2**63}]}, "lines[0].qty"),
        ({"lines": [{"kind": "other", "amount": 1e30, "description": "x"}]}, "lines[0].amount"),
        ({"lines": [{"kind": "other", "amount": "1" * 23, "description": "x"}]}, "lines[0].amount"),
        ({"lines": [{"kind": "labor", "operation_code": "OP-1", "hours": 1e30}]}, "lines[0].hours"),
    ],
)
def test_a_number_beyond_its_column_in_a_claim_is_refused_and_nothing_is_written(
    client, world, fleet, db_session, overrides, field
):
    api = api_for(client, world, "station")
    before = claims_count(db_session)
    response = api.post("/claims", json=claim_payload(fleet, **overrides))
    assert field in error_of(response, 400)["fields"]
    assert claims_count(db_session) == before


def test_a_malformed_patch_is_refused_and_the_draft_is_unchanged(client, world, fleet, db_session):
    api = api_for(client, world, "station")
    created = api.post("/claims", json=claim_payload(fleet))
    assert created.status_code == 201
    number, etag = created.get_json()["number"], created.headers["ETag"]
    for body, field in [
        ('{"odometer_km": 1, "odometer_km": 2}', "odometer_km"),
        ('{"odometer_km": NaN}', "odometer_km"),
        ('"odometer_km"', "body"),
        ("{" * 50 + "}" * 50, "body"),
    ]:
        response = api.patch(
            f"/claims/{number}",
            data=body,
            headers={"Content-Type": "application/json", "If-Match": etag},
        )
        assert field in error_of(response, 400)["fields"], body
    response = api.patch(
        f"/claims/{number}",
        json=claim_payload(fleet, odometer_km=2**40),
        headers={"If-Match": etag},
    )
    assert "odometer_km" in error_of(response, 400)["fields"]
    assert api.get(f"/claims/{number}").headers["ETag"] == etag


# -- pages -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("age=1000000", "age"),
        ("age=99999999999999999999", "age"),
        ("min_amount=NaN", "min_amount"),
        ("max_amount=" + "9" * 23, "max_amount"),
        ("min_amount=Infinity", "min_amount"),
        ("min_amount=%C2%B2", "min_amount"),
    ],
)
def test_the_review_queue_shows_its_form_again_naming_a_filter_out_of_range(login_as, query, field):
    auditor = login_as("auditor")
    response = auditor.get(f"/oem/review?{query}")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page


@pytest.mark.parametrize(
    ("role", "path"),
    [
        ("station", "/dealer/"),
        ("station", "/old-parts/"),
        ("station", "/notifications/"),
        ("finance", "/settlement/statements"),
        ("admin", "/admin/users"),
        ("admin", "/admin/masterdata/parts"),
        ("auditor", "/settlement/disputes"),
    ],
)
def test_every_list_with_a_huge_page_is_a_400_naming_page(login_as, role, path):
    client = login_as(role)
    refused_page(client.get(f"{path}?page=99999999999999999999"), 400, "page")


@pytest.mark.parametrize(
    "path",
    ["/settlement/statements/2147483648", "/settlement/runs/99999999999999999999"],
)
def test_an_id_beyond_the_integer_column_in_a_page_address_is_not_found(login_as, path):
    assert login_as("finance").get(path).status_code == 404


@pytest.mark.parametrize(
    "path", ["/claims/%00", "/dealer/?q=%00", "/claims/lookup/parts?q=a%00b", "/dealer/?%01=1"]
)
def test_a_control_character_in_an_address_is_a_400(login_as, path):
    response = login_as("station").get(path)
    assert response.status_code == 400


def test_a_nul_in_the_sign_in_form_is_a_400_naming_the_field(client, world):
    response = client.post("/login", data={"username": "a\u0000", "password": "x"})
    refused_page(response, 400, "username")


def test_a_text_field_may_hold_newlines_and_tabs(client, world):
    response = client.post("/login", data={"username": "a\tb\r\nc", "password": "x"})
    assert response.status_code == 200  # the form again: wrong username or password


@pytest.mark.parametrize("query", ["km=%C2%B2", "km=99999999999999999999", "date=２０２６-01-01"])
def test_the_vehicle_lookup_refuses_unicode_digits_and_huge_numbers(login_as, fleet, query):
    response = login_as("station").get(f"/claims/lookup/vehicle?vin={fleet.vehicle.vin}&{query}")
    assert response.status_code in (200, 400, 422)


def test_after_a_database_error_the_500_page_renders_in_a_usable_session(database_url, world):
    """The error page of a signed-in user reads (the header's unread count) after the failed
    statement: without a rollback first, it would fail inside the aborted transaction."""
    from portal import create_app
    from portal.extensions import db
    from tests.conftest import login, test_config

    app = create_app(test_config(database_url, PROPAGATE_EXCEPTIONS=False))

    @app.route("/broken-statement")
    def broken():
        db.session.execute(sa.text("SELECT * FROM no_such_table"))

    client = app.test_client()
    assert login(client, world.usernames["station"]).status_code == 302
    response = client.get("/broken-statement")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.get_data(as_text=True)


def test_the_refusal_messages_are_translated(client, world):
    response = client.post(
        f"{API}/auth/token",
        data=json.dumps({"username": "a\u0000", "password": "x"}),
        headers={"Content-Type": "application/json", "Accept-Language": "zh-CN"},
    )
    error = error_of(response, 400)
    assert "must not" not in error["fields"]["username"]


def test_a_period_in_full_width_digits_is_not_a_period():
    from portal.settlement.engine import parse_period

    with pytest.raises(ValueError, match="２０２６"):
        parse_period("２０２６-10")


def test_a_settlement_run_for_a_full_width_period_is_refused_naming_period(client, world):
    api = api_for(client, world, "finance")
    response = api.post("/settlement/runs", json={"period": "２０２６-10"})
    assert response.status_code in (400, 422)
    assert "period" in error_of(response, response.status_code)["fields"]


@pytest.mark.parametrize("value", ["１２", "٣", "1" * 30])
def test_a_freight_amount_in_other_digits_or_beyond_its_column_is_refused(value):
    from pydantic import ValidationError

    from portal.api.schemas import Shipment

    with pytest.raises(ValidationError) as refused:
        Shipment.model_validate({"carrier": "SF", "tracking_no": "1", "freight_amount": value})
    assert [e["loc"] for e in refused.value.errors()] == [("freight_amount",)]


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"qty": "１２"}, "lines[0].qty"),
        ({"qty": "٣"}, "lines[0].qty"),
        ({"hours": "１.5"}, "lines[0].hours"),
    ],
)
def test_a_claim_line_in_unicode_digits_is_refused(client, world, fleet, db_session, line, field):
    api = api_for(client, world, "station")
    body = claim_payload(fleet, lines=[{"kind": "part", "part_number": "P-100", **line}])
    before = claims_count(db_session)
    assert field in error_of(api.post("/claims", json=body), 400)["fields"]
    assert claims_count(db_session) == before


def test_removing_a_line_named_in_unicode_digits_shows_the_form_again(login_as, fleet):
    station = login_as("station")
    response = station.post("/claims/new?type=repair", data={"line_action": "remove:²"})
    assert response.status_code < 500
