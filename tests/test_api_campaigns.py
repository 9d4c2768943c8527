"""`GET /api/v1/campaigns` and `/campaigns/{code}` (DESIGN 8): campaigns with completion figures
for auditors, finance and admins; a supplier reads those charged to it (another is a 404); a
station gets 403. The answers conform to the OpenAPI document."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from tests.factories import CampaignFactory, Fleet
from tests.test_api_auth import api_for, error_of
from tests.test_openapi import conforms


@pytest.fixture
def fleet(world):
    return Fleet.build(world)


@pytest.fixture
def recall(fleet):
    return CampaignFactory(
        code="RC-1",
        title="Oil pump may leak",
        operation=fleet.operation,
        hours=Decimal("1.20"),
        package=[(fleet.part, 1)],
        supplier=fleet.world.suppliers[0],
        recovery_share=Decimal("0.60"),
        vehicles=[fleet.vehicle, fleet.new_vehicle],
    )


def _work_done(client, fleet, campaign) -> None:
    station = api_for(client, fleet.world, "station")
    created = station.post(
        "/claims",
        json={
            "type": "campaign",
            "vin": fleet.vehicle.vin,
            "odometer_km": 20000,
            "repair_date": (date.today() - timedelta(days=1)).isoformat(),
            "campaign": campaign.code,
        },
    ).get_json()
    assert station.post(f"/claims/{created['number']}/submit").status_code == 200


@pytest.mark.parametrize("role", ["auditor", "finance", "admin", "supplier"])
def test_a_campaign_reads_with_its_completion(client, world, fleet, recall, role):
    _work_done(client, fleet, recall)
    api = api_for(client, world, role)
    response = api.get("/campaigns/RC-1")
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["kind"] == "recall"
    assert body["parts"] == [{"part_number": "P-100", "qty": 1}]
    assert body["hours"] == "1.20"
    assert body["supplier"] == "SU-A"
    assert body["completion"] == {
        "affected": 2,
        "done": 1,
        "in_work": 0,
        "remaining": 1,
        "cost_so_far": "206.00",
        "cost_to_come": "206.00",
    }
    listed = api.get("/campaigns").get_json()["items"]
    assert [c["code"] for c in listed] == ["RC-1"]


def test_the_answers_conform_to_the_openapi_document(client, world, fleet, recall):
    document = client.get("/api/v1/openapi.json").get_json()
    auditor = api_for(client, world, "auditor")
    conforms(document, "Campaign", auditor.get("/campaigns/RC-1").get_json())
    conforms(document, "CampaignList", auditor.get("/campaigns").get_json())
    station = api_for(client, world, "station")
    conforms(document, "Vehicle", station.get(f"/vehicles/{fleet.vehicle.vin}").get_json())


def test_another_suppliers_campaign_is_not_found_and_not_listed(client, world, recall):
    api = api_for(client, world, "supplier_b")
    error = error_of(api.get("/campaigns/RC-1"), 404)
    assert error["code"] == "not_found"
    assert api.get("/campaigns").get_json()["items"] == []


def test_a_station_may_not_list_campaigns(client, world, recall):
    api = api_for(client, world, "station")
    assert error_of(api.get("/campaigns"), 403)["code"] == "forbidden"
    assert error_of(api.get("/campaigns/RC-1"), 403)["code"] == "forbidden"


def test_campaigns_filter_by_status(client, world, fleet, recall):
    CampaignFactory(code="RC-CLOSED", closed=True)
    api = api_for(client, world, "auditor")
    assert [c["code"] for c in api.get("/campaigns?status=closed").get_json()["items"]] == [
        "RC-CLOSED"
    ]
    assert error_of(api.get("/campaigns?status=nope"), 400)["fields"]["status"]


def test_an_unknown_campaign_is_not_found(client, world):
    assert error_of(api_for(client, world, "auditor").get("/campaigns/NOPE"), 404)
