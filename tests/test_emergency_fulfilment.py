"""Emergency part transfer: approved request -> shipper records carrier and tracking ->
the requesting station confirms receipt."""

from __future__ import annotations

from decimal import Decimal

import pytest

from portal.claims.decisions import Decision, decide_claim
from portal.claims.fulfilment import can_ship, confirm_receipt, ship_emergency_part
from portal.claims.models import ClaimStatus
from portal.errors import Conflict, DomainError, ValidationFailed
from tests.factories import ClaimFactory, Fleet


@pytest.fixture
def fleet(world):
    return Fleet.build(world)


def test_a_drop_shipment_is_shipped_by_the_named_station_and_confirmed_by_the_requester(
    world, fleet
):
    claim = ClaimFactory(fleet=fleet, emergency_part=True, submitted=True)
    shipper = world.users["station_b"]
    assert claim.status is ClaimStatus.IN_REVIEW
    assert not claim.can_view(shipper)  # not before the OEM approves it
    decide_claim(claim.id, world.users["auditor"], Decision("approve"))
    assert claim.can_view(shipper) and can_ship(claim, shipper)
    ship_emergency_part(claim, shipper, "SF Express", "SF1234567890", Decimal("85.00"))
    assert (claim.carrier, claim.tracking_no, claim.freight_amount) == (
        "SF Express",
        "SF1234567890",
        Decimal("85.00"),
    )
    confirm_receipt(claim, world.users["station"])
    assert claim.received_at is not None
    assert [e.action for e in claim.events][-2:] == ["shipped", "received"]


def test_only_the_shipper_ships_and_only_once(world, fleet):
    claim = ClaimFactory(fleet=fleet, emergency_part=True, submitted=True)
    with pytest.raises(Conflict, match="not approved"):
        ship_emergency_part(claim, world.users["station_b"], "SF", "1", None)
    decide_claim(claim.id, world.users["auditor"], Decision("approve"))
    for role in ("station", "supplier", "auditor", "finance"):
        with pytest.raises(DomainError, match="Only the shipper"):
            ship_emergency_part(claim, world.users[role], "SF", "1", None)
    with pytest.raises(ValidationFailed) as refused:
        ship_emergency_part(claim, world.users["station_b"], " ", "", Decimal("-1"))
    assert set(refused.value.fields) == {"carrier", "tracking_no", "freight_amount"}
    ship_emergency_part(claim, world.users["station_b"], "SF", "1", None)
    with pytest.raises(Conflict, match="already shipped"):
        ship_emergency_part(claim, world.users["station_b"], "SF", "2", None)


def test_a_regular_shipment_is_recorded_by_the_oem(world, fleet):
    claim = ClaimFactory(
        fleet=fleet, emergency_part=True, approved=True, fulfilment="regular", shipper_code=""
    )
    assert not can_ship(claim, world.users["station_b"])
    ship_emergency_part(claim, world.users["auditor"], "OEM logistics", "PC-778", None)
    assert claim.shipped_by == world.users["auditor"]


def test_receipt_is_confirmed_by_the_requester_after_shipping_only(world, fleet):
    claim = ClaimFactory(fleet=fleet, emergency_part=True, approved=True)
    with pytest.raises(Conflict, match="not shipped"):
        confirm_receipt(claim, world.users["station"])
    ship_emergency_part(claim, world.users["station_b"], "SF", "1", None)
    with pytest.raises(DomainError):
        confirm_receipt(claim, world.users["station_b"])
    confirm_receipt(claim, world.users["station"])
    with pytest.raises(Conflict, match="already confirmed"):
        confirm_receipt(claim, world.users["station"])


def test_pages_drop_shipment_end_to_end(world, fleet, client, login_as, db_session):
    claim = ClaimFactory(fleet=fleet, emergency_part=True, approved=True)
    number = claim.number
    login_as("station_b")
    page = client.get(f"/claims/{number}").get_data(as_text=True)
    assert "Record the shipment" in page
    refused = client.post(
        f"/claims/{number}/shipment",
        data={"carrier": "", "tracking_no": "", "freight_amount": "1.234"},
    )
    assert refused.status_code == 422
    assert "at most two decimals" in refused.get_data(as_text=True)
    response = client.post(
        f"/claims/{number}/shipment",
        data={"carrier": "SF Express", "tracking_no": "SF99", "freight_amount": "60"},
    )
    assert response.status_code == 302
    assert client.post(f"/claims/{number}/receipt").status_code == 403  # not the requester
    client.post("/logout")
    login_as("station")
    page = client.get(f"/claims/{number}").get_data(as_text=True)
    assert "SF99" in page and "Confirm receipt" in page
    assert client.post(f"/claims/{number}/receipt").status_code == 302
    db_session.expire_all()
    assert claim.received_at is not None and claim.freight_amount == Decimal("60.00")


def test_pages_a_supplier_ships_what_it_is_named_for_and_sees_nothing_else(
    world, fleet, client, login_as
):
    claim = ClaimFactory(fleet=fleet, emergency_part=True, approved=True, shipper_code="SU-A")
    other = ClaimFactory(fleet=fleet, emergency_part=True, approved=True, shipper_code="ST-B")
    login_as("supplier")
    assert client.get(f"/claims/{claim.number}").status_code == 200
    assert client.get(f"/claims/{other.number}").status_code == 404
    assert (
        client.post(
            f"/claims/{other.number}/shipment", data={"carrier": "x", "tracking_no": "y"}
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/claims/{claim.number}/shipment", data={"carrier": "Deppon", "tracking_no": "DP1"}
        ).status_code
        == 302
    )
    assert client.post(f"/claims/{claim.number}/comments", data={"body": "hi"}).status_code == 403
