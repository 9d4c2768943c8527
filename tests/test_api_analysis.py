"""The analysis endpoints of DESIGN 8 through the API: figures from claims made in the test,
the access rules (a supplier its own parts, another supplier's part 404, a station 403), JSON
errors for filters that cannot be read and for too few failures."""

from __future__ import annotations

from datetime import date

import pytest

from tests.factories import VehicleFactory
from tests.test_analysis_pages import AS_OF, CLAIMED, an1, claims, fleet, repaired  # noqa: F401
from tests.test_api_auth import api_for, error_of


def rows_of(response) -> dict:
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    return {row["key"]: row for row in body["rows"]}


@pytest.mark.usefixtures("claims")
def test_claim_rates_by_part_and_by_months_in_service(client, world):
    api = api_for(client, world, "finance")
    response = api.get(f"/analysis/claim-rates?group_by=part&model=AN1&as_of={AS_OF}")
    body = response.get_json()
    assert (body["group_by"], body["as_of"]) == ("part", AS_OF)
    assert rows_of(response)["P-100"] == {
        "key": "P-100",
        "vehicles": 5,
        "claims": 2,
        "per_1000": 400.0,
        "cost": str(2 * CLAIMED),
    }
    mis = rows_of(
        api.get(f"/analysis/claim-rates?group_by=months_in_service&model=AN1&as_of={AS_OF}")
    )
    assert (mis[2]["claims"], mis[4]["claims"], mis[4]["vehicles"]) == (1, 2, 5)


@pytest.mark.usefixtures("claims")
def test_a_supplier_reads_its_own_parts_and_gets_404_for_anothers(client, world):
    api = api_for(client, world, "supplier")
    rows = rows_of(api.get(f"/analysis/claim-rates?group_by=part&as_of={AS_OF}&model=AN1"))
    assert set(rows) == {"P-100"}
    error_of(api.get("/analysis/claim-rates?group_by=part&part=P-200"), 404)
    error_of(api.get("/analysis/reliability?supplier=SU-B"), 404)


def test_a_station_may_not_read_the_analysis(client, world):
    api = api_for(client, world, "station")
    error_of(api.get("/analysis/claim-rates?group_by=model"), 403)
    error_of(api.get("/analysis/reliability"), 403)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("group_by=colour", "group_by"),
        ("", "group_by"),
        ("group_by=model&as_of=today", "as_of"),
        ("group_by=model&model=NOPE", "model"),
        ("group_by=model&mis_to=nan", "mis_to"),
        ("group_by=model&mis_from=%D9%A3", "mis_from"),
        ("group_by=model&as_of=2025-09-30%00", "as_of"),
        ("group_by=model&mis_to=99999999999999999999999", "mis_to"),
    ],
)
def test_claim_rates_refuse_what_cannot_be_read(client, world, query, field):
    error = error_of(api_for(client, world, "auditor").get(f"/analysis/claim-rates?{query}"), 400)
    assert field in error["fields"]


@pytest.mark.usefixtures("claims")
def test_reliability_with_too_few_failures_is_422(client, world):
    api = api_for(client, world, "auditor")
    error = error_of(api.get(f"/analysis/reliability?model=AN1&part=P-200&as_of={AS_OF}"), 422)
    assert "Too few failures" in error["message"]
    assert error["code"] == "rule_refused"  # one of the codes the OpenAPI document lists
    error = error_of(api.get("/analysis/reliability?horizon=0"), 400)
    assert "horizon" in error["fields"]


def test_reliability_fits_the_selection_and_forecasts(client, world, fleet, an1):  # noqa: F811
    """Twelve vehicles sold in January 2025, one failing at each MIS 1..6: a fit with its
    forecast; the Nevada row counts the claims at MIS 1..6."""
    vehicles = [
        VehicleFactory(
            model=an1,
            selling_station=world.stations[0],
            sale_date=date(2025, 1, 10),
            production_date=date(2024, 12, 1),
        )
        for _ in range(12)
    ]
    for k in range(1, 7):
        repaired(fleet, vehicles[k], date(2025, k, 20))
    api = api_for(client, world, "admin")
    response = api.get(f"/analysis/reliability?model=AN1&as_of={AS_OF}&horizon=3&future_sales=10")
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert (body["vehicles"], body["failures"], body["survivors"]) == (12, 6, 6)
    assert body["distribution"] == "weibull" and body["shape"] > 0 and body["scale"] > 0
    assert [m["month"] for m in body["forecast"]] == [1, 2, 3]
    assert (
        body["forecast"][0]["lower"]
        <= body["forecast"][0]["predicted"]
        <= body["forecast"][0]["upper"]
    )
    assert body["expected_failures"]["lower"] <= 6 <= body["expected_failures"]["upper"]
    assert body["nevada"] == [
        {"sale_month": "2025-01", "vehicles": 12, "claims": [1, 1, 1, 1, 1, 1, 0, 0]}
    ]
    assert body["forecast"][0]["cost"] is not None
