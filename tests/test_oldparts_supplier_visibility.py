"""A supplier sees only the old parts that come to it: routed to it by the station, or
forwarded to it by the OEM once the forwarding shipment left, and never the number of a
station's shipment that did not go to it. Everyone else sees what they saw before."""

from __future__ import annotations

from decimal import Decimal

import pytest

from portal.claims import operations as ops
from portal.claims.models import ClaimSettings
from portal.claims.payload import parse_claim
from portal.masterdata.models import Disposition
from portal.oldparts import operations as op
from portal.oldparts.models import Inspection, OldPart
from tests.factories import Fleet, claim_payload
from tests.test_api_auth import Api, error_of, token_for


@pytest.fixture
def login_as(switching_login):
    return switching_login


@pytest.fixture
def fleet(world):
    settings = ClaimSettings.current()
    settings.auto_approve_enabled = True
    settings.auto_approve_threshold = Decimal("100000.00")
    return Fleet.build(world)


def old_parts(world, db_session, fleet, part: str, qty: int = 2) -> list[OldPart]:
    user = world.users["station"]
    data = claim_payload(
        fleet, causal_part=part, lines=[{"kind": "part", "part_number": part, "qty": qty}]
    )
    claim = ops.submit_claim(ops.create_claim(user, parse_claim(data)), user)
    return db_session.query(OldPart).filter_by(claim_id=claim.id).order_by(OldPart.tag).all()


@pytest.fixture
def at_the_oem(world, fleet, db_session):
    """Two SU-A parts the station shipped to the OEM: (parts, the station's shipment)."""
    parts = old_parts(world, db_session, fleet, "P-100")
    shipment = op.create_return_shipment(world.users["station"], [p.tag for p in parts])
    op.ship(shipment, world.users["station"], "ZTO", "ZT-STATION-1")
    return parts, shipment


def forward(world, part: OldPart, *, ship: bool = True):
    auditor = world.users["auditor"]
    op.receive(part.shipment, auditor, part.tag)
    op.inspect(part, auditor, Inspection.CONFIRMED_DEFECT, "cracked housing")
    shipment = op.forward_to_supplier(auditor, [part.tag])
    if ship:
        op.ship(shipment, auditor, "SF", "SF-FWD-1")
    return shipment


def text(response) -> str:
    return response.get_data(as_text=True)


def api(client, username: str) -> Api:
    return Api(client, token_for(client, username))


def test_a_part_held_at_the_oem_is_not_its_suppliers_to_see(client, login_as, at_the_oem):
    parts, shipment = at_the_oem
    page = login_as("supplier")
    listing = text(page.get("/old-parts/"))
    assert parts[0].tag not in listing and shipment.number not in listing
    assert page.get(f"/old-parts/{parts[0].tag}").status_code == 404
    assert page.get(f"/old-parts/shipments/{shipment.number}").status_code == 404
    assert page.get(f"/old-parts/shipments/{shipment.number}/packing-list.pdf").status_code == 404
    supplier = api(client, "supplier_a")
    assert supplier.get("/old-parts").get_json()["items"] == []
    assert error_of(supplier.get(f"/old-parts/{parts[0].tag}"), 404)["code"] == "not_found"


def test_inspected_at_the_oem_and_packed_for_the_supplier_is_still_not_its(
    world, client, login_as, at_the_oem
):
    parts, _shipment = at_the_oem
    forward(world, parts[0], ship=False)
    assert login_as("supplier").get(f"/old-parts/{parts[0].tag}").status_code == 404
    assert error_of(api(client, "supplier_a").get(f"/old-parts/{parts[0].tag}"), 404)


def test_a_forwarded_part_shows_the_forwarding_shipment_never_the_stations(
    world, client, login_as, at_the_oem
):
    parts, station_shipment = at_the_oem
    forwarding = forward(world, parts[0])

    page = login_as("supplier")
    listing = text(page.get("/old-parts/"))
    assert parts[0].tag in listing and parts[1].tag not in listing  # the other stays at the OEM
    assert forwarding.number in listing and station_shipment.number not in listing
    detail = text(page.get(f"/old-parts/{parts[0].tag}"))
    assert forwarding.number in detail and "cracked housing" in detail
    assert station_shipment.number not in detail and "ZT-STATION-1" not in detail
    assert page.get(f"/old-parts/{parts[1].tag}").status_code == 404
    assert page.get(f"/old-parts/shipments/{forwarding.number}").status_code == 200
    assert page.get(f"/old-parts/shipments/{station_shipment.number}").status_code == 404

    supplier = api(client, "supplier_a")
    (item,) = supplier.get("/old-parts").get_json()["items"]
    assert item["tag"] == parts[0].tag and item["shipment_number"] is None
    one = supplier.get(f"/old-parts/{parts[0].tag}").get_json()
    assert one["forward_shipment_number"] == forwarding.number
    assert one["shipment_number"] is None and one["inspection"] == "confirmed_defect"
    assert station_shipment.number not in str(one) and "ZT-STATION-1" not in str(one)
    assert error_of(supplier.get(f"/old-parts/{parts[1].tag}"), 404)
    # Another supplier sees none of it.
    assert api(client, "supplier_b").get("/old-parts").get_json()["items"] == []


def test_a_part_routed_to_the_supplier_shows_the_stations_shipment_to_it(
    world, fleet, client, login_as, db_session
):
    fleet.part_b.disposition = Disposition.RETURN_TO_SUPPLIER  # P-200 goes straight to SU-B
    parts = old_parts(world, db_session, fleet, "P-200", qty=1)
    shipment = op.create_return_shipment(world.users["station"], [parts[0].tag])
    op.ship(shipment, world.users["station"], "ZTO", "ZT-DIRECT")
    detail = text(login_as("supplier_b").get(f"/old-parts/{parts[0].tag}"))
    assert shipment.number in detail and "ZT-DIRECT" in detail
    one = api(client, "supplier_b").get(f"/old-parts/{parts[0].tag}").get_json()
    assert one["shipment_number"] == shipment.number


@pytest.mark.parametrize("who", ["auditor", "finance", "station"])
def test_the_oem_and_the_station_still_see_the_stations_shipment(
    world, client, login_as, at_the_oem, who
):
    parts, station_shipment = at_the_oem
    forwarding = forward(world, parts[0])
    detail = text(login_as(who).get(f"/old-parts/{parts[0].tag}"))
    assert station_shipment.number in detail and forwarding.number in detail
    username = world.usernames[who]
    one = api(client, username).get(f"/old-parts/{parts[0].tag}").get_json()
    assert one["shipment_number"] == station_shipment.number
    assert station_shipment.number in str(one["events"])
