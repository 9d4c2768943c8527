"""Emergency part fulfilment through the API: the station files the request, the auditor
approves it, the shipper records carrier and tracking, the requester confirms receipt."""

from __future__ import annotations

from decimal import Decimal

import pytest

from portal.claims.models import Claim, ClaimSettings
from tests.factories import Fleet, claim_payload
from tests.test_api_auth import API, api_for, error_of
from tests.test_openapi import conforms

SHIPMENT = {"carrier": "SF Express", "tracking_no": "SF1234567890", "freight_amount": "85.00"}


@pytest.fixture
def fleet(world):
    ClaimSettings.current().auto_approve_enabled = False
    return Fleet.build(world)


@pytest.fixture
def document(client) -> dict:
    return client.get(f"{API}/openapi.json").get_json()


def file_request(client, world, fleet, **overrides) -> str:
    """An emergency part request filed and submitted through the API; answers its number."""
    station = api_for(client, world, "station")
    data = claim_payload(
        fleet,
        type="emergency_part",
        odometer_km=None,
        fault_code=None,
        causal_part=None,
        fulfilment="drop_ship",
        shipper_code="ST-B",
        lines=[{"kind": "part", "part_number": "P-100", "qty": 2}],
    )
    data.update(overrides)
    created = station.post("/claims", json=data)
    assert created.status_code == 201, created.get_data(as_text=True)
    number = created.get_json()["number"]
    submitted = station.post(f"/claims/{number}/submit")
    assert submitted.status_code == 200, submitted.get_data(as_text=True)
    assert submitted.get_json()["status"] == "in_review"
    return number


def approve(client, world, number: str) -> dict:
    response = api_for(client, world, "auditor").post(
        f"/claims/{number}/decision", json={"action": "approve"}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_a_drop_shipment_end_to_end(client, world, fleet, db_session, document):
    number = file_request(client, world, fleet)
    shipper = api_for(client, world, "station_b")
    requester = api_for(client, world, "station")
    # Before approval the drop-shipper does not see the request at all.
    assert error_of(shipper.get(f"/claims/{number}"), 404)["code"] == "not_found"
    assert error_of(shipper.post(f"/claims/{number}/shipment", json=SHIPMENT), 404)
    approved = approve(client, world, number)
    assert approved["status"] == "approved"
    assert {k: approved[k] for k in ("fulfilment", "shipper_code")} == {
        "fulfilment": "drop_ship",
        "shipper_code": "ST-B",
    }
    assert {
        k: approved[k]
        for k in ("carrier", "tracking_no", "freight_amount", "shipped_at", "received_at")
    } == dict.fromkeys(("carrier", "tracking_no", "freight_amount", "shipped_at", "received_at"))
    assert shipper.get(f"/claims/{number}").status_code == 200

    shipped = shipper.post(f"/claims/{number}/shipment", json=SHIPMENT)
    assert shipped.status_code == 200, shipped.get_data(as_text=True)
    body = shipped.get_json()
    assert body["number"] == number
    assert (body["carrier"], body["tracking_no"], body["freight_amount"]) == (
        "SF Express",
        "SF1234567890",
        "85.00",
    )
    assert body["shipped_at"] and body["received_at"] is None
    assert body["events"][-1]["action"] == "shipped"
    assert body["events"][-1]["by"] == "station_b"
    conforms(document, "Claim", body)
    assert requester.get(f"/claims/{number}").get_json() == body  # as GET shows it

    received = requester.post(f"/claims/{number}/receipt")
    assert received.status_code == 200, received.get_data(as_text=True)
    body = received.get_json()
    assert body["received_at"] and body["events"][-1]["action"] == "received"
    conforms(document, "Claim", body)

    db_session.expire_all()
    claim = db_session.query(Claim).filter_by(number=number).one()
    assert claim.freight_amount == Decimal("85.00") and claim.received_at is not None


def test_a_supplier_drop_ships_what_it_is_named_for(client, world, fleet):
    named = file_request(client, world, fleet, shipper_code="SU-A")
    other = file_request(client, world, fleet, shipper_code="ST-B")
    approve(client, world, named)
    approve(client, world, other)
    supplier = api_for(client, world, "supplier")
    assert error_of(supplier.post(f"/claims/{other}/shipment", json=SHIPMENT), 404)
    assert error_of(
        api_for(client, world, "supplier_b").post(f"/claims/{named}/shipment", json=SHIPMENT), 404
    )
    shipped = supplier.post(
        f"/claims/{named}/shipment", json={"carrier": "Deppon", "tracking_no": "DP1"}
    )
    assert shipped.status_code == 200, shipped.get_data(as_text=True)
    assert shipped.get_json()["freight_amount"] is None
    # A supplier never confirms receipt: its role may not.
    assert error_of(supplier.post(f"/claims/{named}/receipt"), 403)["code"] == "forbidden"


def test_a_regular_shipment_is_recorded_by_an_auditor_only(client, world, fleet):
    number = file_request(client, world, fleet, fulfilment="regular", shipper_code="")
    auditor = api_for(client, world, "auditor")
    # Not approved yet: a state conflict.
    assert error_of(auditor.post(f"/claims/{number}/shipment", json=SHIPMENT), 409)["code"] == (
        "conflict"
    )
    approve(client, world, number)
    # The requester sees the request but is not its shipper; others do not see it at all.
    requester = api_for(client, world, "station")
    assert error_of(requester.post(f"/claims/{number}/shipment", json=SHIPMENT), 403)
    for role in ("station_b", "supplier"):
        shipper = api_for(client, world, role)
        assert error_of(shipper.post(f"/claims/{number}/shipment", json=SHIPMENT), 404)
    for role in ("finance", "admin"):  # roles that may never ship
        never = api_for(client, world, role)
        assert error_of(never.post(f"/claims/{number}/shipment", json=SHIPMENT), 403)
    shipped = auditor.post(f"/claims/{number}/shipment", json={**SHIPMENT, "freight_amount": "12"})
    assert shipped.status_code == 200, shipped.get_data(as_text=True)
    assert shipped.get_json()["freight_amount"] == "12.00"
    again = auditor.post(f"/claims/{number}/shipment", json=SHIPMENT)
    assert "already shipped" in error_of(again, 409)["message"]
    assert error_of(api_for(client, world, "station_b").post(f"/claims/{number}/receipt"), 404)
    assert requester.post(f"/claims/{number}/receipt").status_code == 200


def test_a_drop_shipper_may_not_ship_a_regular_request_nor_an_auditor_a_drop_shipment(
    client, world, fleet
):
    number = file_request(client, world, fleet)
    approve(client, world, number)
    auditor = api_for(client, world, "auditor")
    assert error_of(auditor.post(f"/claims/{number}/shipment", json=SHIPMENT), 403)


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"carrier", "tracking_no"}),
        (
            {"carrier": " ", "tracking_no": "", "freight_amount": "1.234"},
            {"carrier", "tracking_no", "freight_amount"},
        ),
        ({**SHIPMENT, "freight_amount": 85.0}, {"freight_amount"}),
        ({**SHIPMENT, "freight_amount": 85}, {"freight_amount"}),
        ({**SHIPMENT, "freight_amount": "-1.00"}, {"freight_amount"}),
        ({**SHIPMENT, "freight_amount": "abc"}, {"freight_amount"}),
        ({**SHIPMENT, "freight_amount": "NaN"}, {"freight_amount"}),
        ({**SHIPMENT, "carrier": 7}, {"carrier"}),
        ({**SHIPMENT, "tracking_no": "X" * 81}, {"tracking_no"}),
    ],
)
def test_a_bad_shipment_is_refused_with_every_field_and_nothing_is_kept(
    client, world, fleet, db_session, body, fields
):
    number = file_request(client, world, fleet)
    approve(client, world, number)
    shipper = api_for(client, world, "station_b")
    error = error_of(shipper.post(f"/claims/{number}/shipment", json=body), 422)
    assert error["code"] == "invalid"
    assert set(error["fields"]) == fields
    assert shipper.get(f"/claims/{number}").get_json()["shipped_at"] is None


def test_a_body_that_is_not_a_json_object_is_malformed(client, world, fleet):
    number = file_request(client, world, fleet)
    approve(client, world, number)
    shipper = api_for(client, world, "station_b")
    assert error_of(shipper.post(f"/claims/{number}/shipment", json=["SF"]), 400)["code"] == (
        "malformed"
    )


def test_only_emergency_part_requests_are_shipped_or_received(client, world, fleet):
    station = api_for(client, world, "station")
    number = station.post("/claims", json=claim_payload(fleet)).get_json()["number"]
    station.post(f"/claims/{number}/submit")
    approve(client, world, number)
    auditor = api_for(client, world, "auditor")
    assert error_of(auditor.post(f"/claims/{number}/shipment", json=SHIPMENT), 422)["code"] == (
        "rule_refused"
    )
    assert error_of(station.post(f"/claims/{number}/receipt"), 422)["code"] == "rule_refused"


def test_receipt_refusals(client, world, fleet):
    number = file_request(client, world, fleet)
    requester = api_for(client, world, "station")
    assert "not shipped" in error_of(requester.post(f"/claims/{number}/receipt"), 409)["message"]
    approve(client, world, number)
    assert "not shipped" in error_of(requester.post(f"/claims/{number}/receipt"), 409)["message"]
    shipper = api_for(client, world, "station_b")
    assert shipper.post(f"/claims/{number}/shipment", json=SHIPMENT).status_code == 200
    # The drop-shipping station sees the request but does not confirm its receipt.
    assert error_of(shipper.post(f"/claims/{number}/receipt"), 403)["code"] == "forbidden"
    for role in ("auditor", "finance", "admin"):
        assert error_of(api_for(client, world, role).post(f"/claims/{number}/receipt"), 403)
    assert error_of(requester.post("/claims/NOPE/receipt"), 404)
    assert error_of(client.post(f"{API}/claims/{number}/receipt"), 401)
    assert requester.post(f"/claims/{number}/receipt").status_code == 200
    again = requester.post(f"/claims/{number}/receipt")
    assert "already confirmed" in error_of(again, 409)["message"]


def test_the_refusals_conform_to_the_document(client, world, fleet, document):
    number = file_request(client, world, fleet)
    shipper = api_for(client, world, "station_b")
    for answer in (
        shipper.post(f"/claims/{number}/shipment", json=SHIPMENT),
        api_for(client, world, "finance").post(f"/claims/{number}/shipment", json=SHIPMENT),
        api_for(client, world, "station").post(f"/claims/{number}/receipt"),
    ):
        assert answer.status_code >= 400
        conforms(document, "Error", answer.get_json())
