"""Old parts through the API: who sees which parts, filters and paging, the exact JSON."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.claims.models import ClaimSettings
from portal.masterdata.models import Disposition
from portal.oldparts import operations as op
from portal.oldparts.tasks import local_today
from tests.factories import ClaimFactory, Fleet, old_parts
from tests.test_api_auth import API, api_for, error_of
from tests.test_openapi import conforms

ITEM_KEYS = {
    "tag",
    "claim_number",
    "part_number",
    "part_name",
    "disposition",
    "status",
    "deadline",
    "days_left",
    "overdue",
    "waived",
    "destination",
    "supplier",
    "inspection",
    "shipment_number",
}


@pytest.fixture
def fleet(world):
    ClaimSettings.current().auto_approve_enabled = False
    return Fleet.build(world)


@pytest.fixture
def document(client) -> dict:
    return client.get(f"{API}/openapi.json").get_json()


def tags(response) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return sorted(item["tag"] for item in response.get_json()["items"])


def test_a_station_lists_its_own_parts_in_the_exact_shape(client, world, fleet, document):
    parts = old_parts(ClaimFactory(fleet=fleet, with_old_parts=True))
    old_parts(
        ClaimFactory(
            fleet=fleet,
            with_old_parts=True,
            units=1,
            vin=fleet.old_vehicle.vin,
            odometer_km=95000,
            goodwill_reason="fleet",
            station="station_b",
        )
    )
    body = api_for(client, world, "station").get("/old-parts").get_json()
    assert (body["page"], body["total"]) == (1, 2)
    assert sorted(i["tag"] for i in body["items"]) == [p.tag for p in parts]
    item = next(i for i in body["items"] if i["tag"] == parts[0].tag)
    assert set(item) == ITEM_KEYS
    deadline = parts[0].deadline
    assert item == {
        "tag": parts[0].tag,
        "claim_number": parts[0].claim.number,
        "part_number": "P-100",
        "part_name": "机油泵 Oil pump",
        "disposition": "return_to_oem",
        "status": "awaiting_return",
        "deadline": deadline.isoformat(),
        "days_left": (deadline - local_today()).days,
        "overdue": False,
        "waived": False,
        "destination": "OEM",
        "supplier": "SU-A",
        "inspection": None,
        "shipment_number": None,
    }
    conforms(document, "OldPartList", body)


def test_one_part_with_its_events_and_station_b_gets_404(client, world, fleet, document):
    parts = old_parts(ClaimFactory(fleet=fleet, with_old_parts=True, units=1))
    station = world.users["station"]
    shipment = op.create_return_shipment(station, [parts[0].tag])
    op.ship(shipment, station, "ZTO", "ZT1")
    op.receive(shipment, world.users["auditor"], parts[0].tag, "box dented")
    op.inspect(parts[0], world.users["auditor"], "confirmed_defect", "scored rotor")
    tag = parts[0].tag
    body = api_for(client, world, "station").get(f"/old-parts/{tag}")
    assert body.status_code == 200, body.get_data(as_text=True)
    body = body.get_json()
    assert set(body) == ITEM_KEYS | {
        "station_code",
        "forward_shipment_number",
        "received_at",
        "inspected_at",
        "inspection_note",
        "finding_status",
        "proposed_inspection",
        "finding_review_note",
        "waive_reason",
        "written_off_at",
        "events",
    }
    assert (body["status"], body["inspection"], body["shipment_number"]) == (
        "inspected",
        "confirmed_defect",
        shipment.number,
    )
    assert body["station_code"] == "ST-A" and body["inspection_note"] == "scored rotor"
    assert [(e["action"], e["by"], e["note"]) for e in body["events"]] == [
        ("created", None, ""),
        ("packed", "station_a", shipment.number),
        ("shipped", "station_a", f"{shipment.number} ZTO ZT1"),
        ("received", "auditor", "box dented"),
        ("inspected_confirmed_defect", "auditor", "scored rotor"),
    ]
    conforms(document, "OldPartDetail", body)
    for role in ("auditor", "finance"):
        assert api_for(client, world, role).get(f"/old-parts/{tag}").status_code == 200
    other = api_for(client, world, "station_b")
    assert error_of(other.get(f"/old-parts/{tag}"), 404)["code"] == "not_found"
    assert tags(other.get("/old-parts")) == []
    assert error_of(other.get("/old-parts/NO-SUCH-TAG"), 404)


def test_admin_is_forbidden_and_a_token_is_required(client, world, fleet):
    (part,) = old_parts(ClaimFactory(fleet=fleet, with_old_parts=True, units=1))
    admin = api_for(client, world, "admin")
    assert error_of(admin.get("/old-parts"), 403)["code"] == "forbidden"
    assert error_of(admin.get(f"/old-parts/{part.tag}"), 403)["code"] == "forbidden"
    assert error_of(client.get(f"{API}/old-parts"), 401)["code"] == "unauthorized"


def test_auditor_and_finance_see_every_station_s_parts(client, world, fleet):
    a = old_parts(ClaimFactory(fleet=fleet, with_old_parts=True, units=1))
    b = old_parts(
        ClaimFactory(
            fleet=fleet,
            with_old_parts=True,
            old_part="P-200",
            units=1,
            vin=fleet.old_vehicle.vin,
            odometer_km=95000,
            goodwill_reason="fleet",
            station="station_b",
        )
    )
    for role in ("auditor", "finance"):
        assert tags(api_for(client, world, role).get("/old-parts")) == sorted(p.tag for p in a + b)


def test_a_supplier_sees_only_parts_routed_to_it_once_they_left_the_station(client, world, fleet):
    fleet.part_b.disposition = Disposition.RETURN_TO_SUPPLIER  # P-200 goes to SU-B directly
    station = world.users["station"]
    to_oem = old_parts(ClaimFactory(fleet=fleet, with_old_parts=True, units=1))
    to_su_b = old_parts(
        ClaimFactory(
            fleet=fleet,
            approved=True,
            lines=[
                {"kind": "part", "part_number": "P-200", "qty": 2},
                {"kind": "part", "part_number": "FLT-1", "qty": 1},  # scrapped at the station
            ],
            causal_part="P-200",
        )
    )
    scrapped = [p for p in to_su_b if p.disposition is Disposition.SCRAP_AT_STATION]
    routed = [p for p in to_su_b if p.disposition is Disposition.RETURN_TO_SUPPLIER]
    assert len(scrapped) == 1 and scrapped[0].supplier.code == "SU-B"
    su_a, su_b = api_for(client, world, "supplier"), api_for(client, world, "supplier_b")
    assert tags(su_a.get("/old-parts")) == tags(su_b.get("/old-parts")) == []
    # Packed but not shipped: still at the station.
    packed = op.create_return_shipment(station, [routed[0].tag])
    assert tags(su_b.get("/old-parts")) == []
    assert error_of(su_b.get(f"/old-parts/{routed[0].tag}"), 404)
    op.ship(packed, station, "ZTO", "1")
    assert tags(su_b.get("/old-parts")) == [routed[0].tag]
    assert su_b.get(f"/old-parts/{routed[0].tag}").status_code == 200
    assert error_of(su_b.get(f"/old-parts/{routed[1].tag}"), 404)  # not shipped yet
    assert error_of(su_b.get(f"/old-parts/{scrapped[0].tag}"), 404)  # never leaves
    assert error_of(su_a.get(f"/old-parts/{routed[0].tag}"), 404)
    # A part returned to the OEM is not its responsible supplier's, even shipped (only once
    # the OEM forwards it: tests/test_oldparts_supplier_visibility.py).
    to_oem_shipment = op.create_return_shipment(station, [to_oem[0].tag])
    op.ship(to_oem_shipment, station, "ZTO", "2")
    assert tags(su_a.get("/old-parts")) == []
    assert error_of(su_a.get(f"/old-parts/{to_oem[0].tag}"), 404)
    assert tags(su_b.get("/old-parts")) == [routed[0].tag]


def test_filters_by_status_disposition_and_overdue(client, world, fleet):
    station_user = world.users["station"]
    parts = old_parts(
        ClaimFactory(
            fleet=fleet,
            approved=True,
            lines=[
                {"kind": "part", "part_number": "P-100", "qty": 3},
                {"kind": "part", "part_number": "FLT-1", "qty": 1},
            ],
        )
    )
    returned = [p for p in parts if p.disposition is Disposition.RETURN_TO_OEM]
    scrapped = [p for p in parts if p.disposition is Disposition.SCRAP_AT_STATION]
    shipment = op.create_return_shipment(station_user, [returned[0].tag])
    op.ship(shipment, station_user, "ZTO", "1")
    # The other two are past their deadline; one of them is waived.
    assert op.mark_overdue(returned[1].deadline + timedelta(days=1)) == 2
    op.waive_overdue(returned[2], world.users["auditor"], "flood at the station")
    api = api_for(client, world, "station")
    assert tags(api.get("/old-parts?status=shipped")) == [returned[0].tag]
    assert tags(api.get("/old-parts?status=awaiting_return")) == sorted(p.tag for p in returned[1:])
    assert tags(api.get("/old-parts?disposition=scrap_at_station")) == [scrapped[0].tag]
    assert tags(api.get("/old-parts?status=written_off&disposition=return_to_oem")) == []
    assert tags(api.get("/old-parts?overdue=true")) == [returned[1].tag]
    assert tags(api.get("/old-parts?overdue=false")) == sorted(
        p.tag for p in parts if p is not returned[1]
    )
    by_tag = {i["tag"]: i for i in api.get("/old-parts").get_json()["items"]}
    assert (by_tag[returned[1].tag]["overdue"], by_tag[returned[1].tag]["waived"]) == (
        True,
        False,
    )
    assert (by_tag[returned[2].tag]["overdue"], by_tag[returned[2].tag]["waived"]) == (
        False,
        True,
    )
    assert by_tag[scrapped[0].tag]["deadline"] is None
    assert by_tag[scrapped[0].tag]["days_left"] is None
    assert by_tag[scrapped[0].tag]["destination"] is None
    assert by_tag[returned[0].tag]["shipment_number"] == shipment.number
    detail = api.get(f"/old-parts/{returned[2].tag}").get_json()
    assert detail["waive_reason"] == "flood at the station"


def test_paging(client, world, fleet):
    parts = old_parts(ClaimFactory(fleet=fleet, with_old_parts=True, units=5))
    api = api_for(client, world, "auditor")
    first = api.get("/old-parts?per_page=2").get_json()
    second = api.get("/old-parts?per_page=2&page=2").get_json()
    third = api.get("/old-parts?per_page=2&page=3").get_json()
    assert (first["page"], first["per_page"], first["total"]) == (1, 2, 5)
    assert [len(p["items"]) for p in (first, second, third)] == [2, 2, 1]
    seen = [i["tag"] for p in (first, second, third) for i in p["items"]]
    assert sorted(seen) == [p.tag for p in parts]
    assert api.get("/old-parts?page=9").get_json()["items"] == []


def test_bad_filters_are_malformed_with_every_field(client, world, fleet, document):
    api = api_for(client, world, "station")
    response = api.get("/old-parts?status=lost&disposition=burn&overdue=maybe&page=0&per_page=500")
    error = error_of(response, 400)
    assert error["code"] == "malformed"
    assert set(error["fields"]) == {"status", "disposition", "overdue", "page", "per_page"}
    assert "awaiting_return" in error["fields"]["status"]
    assert "return_to_supplier" in error["fields"]["disposition"]
    conforms(document, "Error", response.get_json())
