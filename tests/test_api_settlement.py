"""Settlement through the API: finance runs and releases a batch, stations and suppliers read
their own statements, suppliers review chargebacks, auditors settle disputes; every refusal.

The numbers are worked by hand from the test world (station labor rate 80.00, parts handling
10%; supplier share 100%, labor cap 4 h, handling fee 5%; VAT 13%):

- claim A: 1 x P-100 100.00 + 1.50 h labor -> station 100.00 + 10.00 + 120.00 = 230.00;
  chargeback (100.00 + 120.00) x 1 + 100.00 x 5% = 225.00;
- claim B: 1 x P-100 100.00 + 5.00 h labor -> station 100.00 + 10.00 + 400.00 = 510.00;
  chargeback, labor capped at 4 h x 80.00 = 320.00: (100.00 + 320.00) + 5.00 = 425.00.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.claims.models import Claim, ClaimSettings, ClaimStatus
from portal.extensions import db
from portal.settlement import engine
from portal.settlement.models import Chargeback, Statement, StatementKind, StatementLine
from tests.factories import ClaimFactory, Fleet
from tests.test_api_auth import API, api_for, error_of
from tests.test_openapi import conforms

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
ROLES_OTHER_THAN_FINANCE = ("station", "auditor", "supplier", "admin")
STATEMENT_KEYS = {
    "id",
    "number",
    "kind",
    "org_code",
    "org_name",
    "period",
    "run_id",
    "net",
    "vat",
    "gross",
    "status",
    "line_count",
    "released_at",
    "paid_on",
}


@pytest.fixture
def fleet(world):
    ClaimSettings.current().auto_approve_enabled = False
    return Fleet.build(world)


@pytest.fixture
def document(client) -> dict:
    return client.get(f"{API}/openapi.json").get_json()


@pytest.fixture(autouse=True)
def uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path / "uploads"))


@pytest.fixture
def finance(client, world):
    return api_for(client, world, "finance")


def pump_and_labor(labor_hours: str = "1.50") -> list[dict]:
    """A claim's lines: 1 x P-100 (supplier A) and `labor_hours` of OP-1, with a reason."""
    return [
        {"kind": "part", "part_number": "P-100", "qty": 1},
        {
            "kind": "labor",
            "operation_code": "OP-1",
            "hours": labor_hours,
            "description": "Seized pump: block flushed as well",  # above standard hours
        },
    ]


def start(finance, period: str | None = None):
    return finance.post("/settlement/runs", json={"period": period or engine.current_period()})


def draft(finance) -> dict:
    response = start(finance)
    assert response.status_code == 201, response.get_data(as_text=True)
    run = response.get_json()
    assert run["status"] == "draft", run["error"]
    return run


def released(finance) -> dict:
    run = draft(finance)
    response = finance.post(f"/settlement/runs/{run['id']}/release")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["status"] == "released"
    return response.get_json()


def statement_id(run: dict, kind: StatementKind, org) -> int:
    return db.session.scalar(
        sa.select(Statement.id).where(
            Statement.run_id == run["id"], Statement.kind == kind, Statement.org_id == org.id
        )
    )


def chargeback_of(claim: Claim) -> int:
    return db.session.scalar(sa.select(Chargeback.id).where(Chargeback.claim_id == claim.id))


# -- runs ------------------------------------------------------------------------------------------


def test_finance_starts_a_run_that_is_computed_to_a_draft_with_its_totals(
    world, fleet, finance, document
):
    ClaimFactory(fleet=fleet, approved=True, lines=pump_and_labor())
    ClaimFactory(fleet=fleet, approved=True, lines=pump_and_labor("5.00"))
    response = start(finance)
    assert response.status_code == 201, response.get_data(as_text=True)
    run = response.get_json()
    assert response.headers["Location"] == f"{API}/settlement/runs/{run['id']}"
    assert (run["status"], run["progress"], run["period"]) == (
        "draft",
        100,
        engine.current_period(),
    )
    assert (run["error"], run["stale"], run["step"], run["vat_rate"]) == (
        None,
        False,
        "draft",
        "0.13",
    )
    assert run["totals"] == {
        "claim_count": 2,
        "station_statement_count": 1,
        "supplier_statement_count": 1,
        "station_net": "740.00",  # 230.00 + 510.00
        "supplier_net": "650.00",  # 225.00 + 425.00
    }
    assert run["created_by"] == "finance" and run["computed_at"] and run["released_at"] is None
    conforms(document, "SettlementRun", run)

    assert finance.get(f"/settlement/runs/{run['id']}").get_json() == run
    listed = finance.get("/settlement/runs").get_json()
    assert (listed["total"], [r["id"] for r in listed["items"]]) == (1, [run["id"]])
    conforms(document, "SettlementRunList", listed)
    assert finance.get("/settlement/runs?status=released").get_json()["total"] == 0
    this_month = finance.get(f"/settlement/runs?period={engine.current_period()}")
    assert this_month.get_json()["total"] == 1


def test_an_empty_month_makes_a_draft_with_zero_totals(world, fleet, finance):
    run = draft(finance)
    assert run["totals"] == {
        "claim_count": 0,
        "station_statement_count": 0,
        "supplier_statement_count": 0,
        "station_net": "0.00",
        "supplier_net": "0.00",
    }


@pytest.mark.parametrize("role", ROLES_OTHER_THAN_FINANCE)
def test_only_finance_runs_settlement(client, world, fleet, finance, role):
    run = draft(finance)
    api = api_for(client, world, role)
    for response in (
        start(api),
        api.get("/settlement/runs"),
        api.get(f"/settlement/runs/{run['id']}"),
        api.post(f"/settlement/runs/{run['id']}/release"),
        api.post(f"/settlement/runs/{run['id']}/discard"),
        api.post(f"/settlement/runs/{run['id']}/retry"),
    ):
        assert error_of(response, 403)["code"] == "forbidden"
    assert finance.get(f"/settlement/runs/{run['id']}").get_json()["status"] == "draft"
    assert error_of(api.client.get(f"{API}/settlement/runs"), 401)["code"] == "unauthorized"


def _next_month() -> str:
    first = engine.parse_period(engine.current_period())
    return engine.next_month(first).strftime("%Y-%m")


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"period": "next"}, id="future"),
        {"period": "2026-13"},
        {"period": "May 2026"},
        {"period": "1999-12"},
        {"period": ""},
        {"period": 202605},
        {},
    ],
)
def test_a_future_or_malformed_period_is_422_naming_the_field(finance, document, body):
    if body.get("period") == "next":
        body = {"period": _next_month()}
    response = finance.post("/settlement/runs", json=body)
    error = error_of(response, 422)
    assert set(error["fields"]) == {"period"}
    conforms(document, "Error", response.get_json())
    assert finance.get("/settlement/runs").get_json()["total"] == 0


def test_a_body_that_is_no_json_object_is_400(finance):
    response = finance.post("/settlement/runs", data="2026-05", content_type="application/json")
    assert error_of(response, 400)["code"] == "malformed"


def test_a_second_run_while_one_is_open_is_409_with_the_open_runs_id(world, fleet, finance):
    ClaimFactory(fleet=fleet, approved=True, lines=pump_and_labor())
    run = draft(finance)
    response = start(finance)
    error = error_of(response, 409)
    assert error["code"] == "conflict"
    assert f"#{run['id']}" in error["message"]
    assert response.get_json()["open_run_id"] == run["id"]
    assert finance.get("/settlement/runs").get_json()["total"] == 1


def test_releasing_a_draft_settles_its_claims_once(world, fleet, finance, document):
    claim = ClaimFactory(fleet=fleet, approved=True, lines=pump_and_labor())
    run = draft(finance)
    response = finance.post(f"/settlement/runs/{run['id']}/release")
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert (body["id"], body["status"], body["progress"], body["released_by"]) == (
        run["id"],
        "released",
        100,
        "finance",
    )
    assert body["released_at"] and body["totals"] == run["totals"]
    conforms(document, "SettlementRun", body)
    db.session.expire_all()
    assert db.session.get(Claim, claim.id).status is ClaimStatus.SETTLED

    again = finance.post(f"/settlement/runs/{run['id']}/release")
    assert "already released" in error_of(again, 409)["message"]
    assert error_of(finance.post(f"/settlement/runs/{run['id']}/discard"), 409)
    assert error_of(finance.post(f"/settlement/runs/{run['id']}/retry"), 409)
    # The next run finds nothing left to pay.
    assert draft(finance)["totals"]["claim_count"] == 0


def test_discarding_a_draft_frees_its_claims_for_the_next_run(world, fleet, finance):
    claim = ClaimFactory(fleet=fleet, approved=True, lines=pump_and_labor())
    run = draft(finance)
    response = finance.post(f"/settlement/runs/{run['id']}/discard")
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert (body["status"], body["step"]) == ("discarded", "discarded")
    assert body["discarded_at"]
    assert finance.get(f"/statements?run_id={run['id']}").get_json()["total"] == 0
    assert (
        "already discarded"
        in error_of(finance.post(f"/settlement/runs/{run['id']}/discard"), 409)["message"]
    )
    assert error_of(finance.post(f"/settlement/runs/{run['id']}/release"), 409)

    following = draft(finance)
    assert following["totals"]["claim_count"] == 1
    assert db.session.get(Claim, claim.id).status is ClaimStatus.APPROVED


def test_an_unknown_run_is_404(finance):
    for response in (
        finance.get("/settlement/runs/999999"),
        finance.post("/settlement/runs/999999/release"),
        finance.post("/settlement/runs/999999/discard"),
        finance.post("/settlement/runs/999999/retry"),
    ):
        assert error_of(response, 404)["code"] == "not_found"


def test_a_failed_run_shows_its_error_and_a_retry_computes_it(
    world, fleet, finance, monkeypatch, document
):
    ClaimFactory(fleet=fleet, approved=True, lines=pump_and_labor())

    def broken(run_id):
        raise RuntimeError("the database is on fire")

    with monkeypatch.context() as patch:
        patch.setattr(engine, "_compute", broken)
        response = start(finance)
    assert response.status_code == 201, response.get_data(as_text=True)
    failed = response.get_json()
    assert failed["status"] == "failed"
    assert failed["error"] == "RuntimeError: the database is on fire"
    assert failed["stale"] is False
    conforms(document, "SettlementRun", failed)
    assert finance.get(f"/settlement/runs/{failed['id']}").get_json()["error"] == failed["error"]
    assert error_of(finance.post(f"/settlement/runs/{failed['id']}/release"), 409)

    retried = finance.post(f"/settlement/runs/{failed['id']}/retry")
    assert retried.status_code == 200, retried.get_data(as_text=True)
    body = retried.get_json()
    assert (body["status"], body["error"], body["attempts"]) == ("draft", None, 2)
    assert body["totals"]["station_net"] == "230.00"
    # A draft is computed and working: there is nothing to retry.
    assert (
        "nothing to retry"
        in error_of(finance.post(f"/settlement/runs/{failed['id']}/retry"), 409)["message"]
    )


def test_retrying_a_failed_run_while_another_is_open_is_409_with_its_id(
    world, fleet, finance, monkeypatch
):
    with monkeypatch.context() as patch:
        patch.setattr(engine, "_compute", lambda run_id: 1 / 0)
        failed = start(finance).get_json()
    assert failed["status"] == "failed"
    other = draft(finance)  # a failed run holds no slot
    response = finance.post(f"/settlement/runs/{failed['id']}/retry")
    error_of(response, 409)
    assert response.get_json()["open_run_id"] == other["id"]


# -- statements ------------------------------------------------------------------------------------


def test_stations_and_suppliers_read_their_own_released_statements_with_exact_money(
    client, world, fleet, finance, document
):
    claim_a = ClaimFactory(fleet=fleet, approved=True, lines=pump_and_labor())
    claim_b = ClaimFactory(fleet=fleet, approved=True, lines=pump_and_labor("5.00"))
    run = released(finance)
    station_statement = statement_id(run, StatementKind.STATION, world.stations[0])
    supplier_statement = statement_id(run, StatementKind.SUPPLIER, world.suppliers[0])

    station = api_for(client, world, "station")
    body = station.get("/statements?kind=station").get_json()
    assert (body["page"], body["total"]) == (1, 1)
    (item,) = body["items"]
    assert set(item) == STATEMENT_KEYS
    assert {k: item[k] for k in ("id", "kind", "org_code", "period", "net", "vat", "gross")} == {
        "id": station_statement,
        "kind": "station",
        "org_code": "ST-A",
        "period": engine.current_period(),
        "net": "740.00",
        "vat": "96.20",  # 740.00 x 13%
        "gross": "836.20",
    }
    assert (item["status"], item["line_count"], item["run_id"]) == ("released", 2, run["id"])
    assert item["number"] == f"S-{run['period'].replace('-', '')}-{run['id']}-ST-A"
    conforms(document, "StatementList", body)

    detail = station.get(f"/statements/{station_statement}").get_json()
    assert set(detail) >= STATEMENT_KEYS | {"lines", "paid_reference", "vat_rate"}
    assert (detail["paid_on"], detail["paid_reference"], detail["vat_rate"]) == (None, None, "0.13")
    assert [
        (ln["claim_number"], ln["amount"], ln["status"], ln["kind"]) for ln in detail["lines"]
    ] == sorted(
        [
            (claim_a.number, "230.00", "released", "claim"),
            (claim_b.number, "510.00", "released", "claim"),
        ]
    )
    assert all(
        set(ln) == {"id", "claim_number", "description", "amount", "status", "kind"}
        for ln in detail["lines"]
    )
    conforms(document, "Statement", detail)

    supplier = api_for(client, world, "supplier")
    listed = supplier.get("/statements").get_json()
    assert [(i["id"], i["kind"], i["org_code"]) for i in listed["items"]] == [
        (supplier_statement, "supplier", "SU-A")
    ]
    detail = supplier.get(f"/statements/{supplier_statement}").get_json()
    assert (detail["net"], detail["vat"], detail["gross"]) == ("650.00", "84.50", "734.50")
    lines = {ln["claim_number"]: ln for ln in detail["lines"]}
    assert lines[claim_a.number] == {
        "id": chargeback_of(claim_a),
        "claim_number": claim_a.number,
        "description": "Parts 100.00 + labor 120.00 x share 100% + handling fee 5%",
        "amount": "225.00",
        "status": "open",
        "kind": "chargeback",
    }
    assert lines[claim_b.number]["amount"] == "425.00"
    assert "4.00 of 5.00 h" in lines[claim_b.number]["description"]
    conforms(document, "Statement", detail)


def test_another_organisations_statement_is_404_and_admin_403(client, world, fleet, finance):
    ClaimFactory(fleet=fleet, approved=True, lines=pump_and_labor())
    run = released(finance)
    station_statement = statement_id(run, StatementKind.STATION, world.stations[0])
    supplier_statement = statement_id(run, StatementKind.SUPPLIER, world.suppliers[0])
    cases = {
        "station_b": [station_statement, supplier_statement],
        "supplier_b": [station_statement, supplier_statement],
        "station": [supplier_statement],
        "supplier": [station_statement],
        "auditor": [station_statement],  # auditors read supplier statements (disputes)
    }
    for role, hidden in cases.items():
        api = api_for(client, world, role)
        for sid in hidden:
            assert error_of(api.get(f"/statements/{sid}"), 404)["code"] == "not_found"
        listed = {i["id"] for i in api.get("/statements").get_json()["items"]}
        assert not listed & set(hidden), role
    assert (
        api_for(client, world, "auditor").get(f"/statements/{supplier_statement}").status_code
        == 200
    )
    assert error_of(finance.get("/statements/999999"), 404)
    admin = api_for(client, world, "admin")
    assert error_of(admin.get("/statements"), 403)["code"] == "forbidden"
    assert error_of(admin.get(f"/statements/{station_statement}"), 403)


def test_a_draft_statement_is_finances_only(client, world, fleet, finance):
    ClaimFactory(fleet=fleet, approved=True, lines=pump_and_labor())
    run = draft(finance)
    station_statement = statement_id(run, StatementKind.STATION, world.stations[0])
    supplier_statement = statement_id(run, StatementKind.SUPPLIER, world.suppliers[0])
    assert finance.get(f"/statements/{station_statement}").get_json()["status"] == "draft"
    assert finance.get("/statements?status=draft").get_json()["total"] == 2
    for role, sid in (
        ("station", station_statement),
        ("supplier", supplier_statement),
        ("auditor", supplier_statement),
    ):
        api = api_for(client, world, role)
        assert error_of(api.get(f"/statements/{sid}"), 404)
        assert api.get("/statements").get_json()["total"] == 0


def test_finance_filters_and_pages_statements(world, fleet, finance):
    ClaimFactory(fleet=fleet, approved=True, lines=pump_and_labor())
    run = released(finance)
    assert finance.get("/statements").get_json()["total"] == 2
    assert [i["kind"] for i in finance.get("/statements?kind=supplier").get_json()["items"]] == [
        "supplier"
    ]
    assert finance.get(f"/statements?period={run['period']}").get_json()["total"] == 2
    assert finance.get("/statements?period=2001-01").get_json()["total"] == 0
    assert finance.get("/statements?status=paid").get_json()["total"] == 0
    assert finance.get(f"/statements?run_id={run['id']}&kind=station").get_json()["total"] == 1
    first = finance.get("/statements?per_page=1").get_json()
    second = finance.get("/statements?per_page=1&page=2").get_json()
    assert (first["per_page"], first["total"], len(first["items"]), len(second["items"])) == (
        1,
        2,
        1,
        1,
    )
    assert first["items"][0]["id"] != second["items"][0]["id"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("kind=dealer", "kind"),
        ("status=lost", "status"),
        ("period=2026-5", "period"),
        ("run_id=x", "run_id"),
        ("page=0", "page"),
        ("per_page=500", "per_page"),
    ],
)
def test_a_bad_statement_query_is_422_naming_the_field(client, world, query, field, document):
    response = api_for(client, world, "station").get(f"/statements?{query}")
    error = error_of(response, 422)
    assert set(error["fields"]) == {field}
    conforms(document, "Error", response.get_json())


# -- paying ----------------------------------------------------------------------------------------


def test_finance_marks_a_released_station_statement_paid_once(client, world, fleet, finance):
    ClaimFactory(fleet=fleet, approved=True, lines=pump_and_labor())
    run = released(finance)
    sid = statement_id(run, StatementKind.STATION, world.stations[0])
    today = engine.local_today().isoformat()
    response = finance.post(f"/statements/{sid}/paid", json={"paid_on": today, "reference": "B-1"})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert (body["status"], body["paid_on"], body["paid_reference"]) == ("paid", today, "B-1")
    assert body["paid_at"]
    seen = api_for(client, world, "station").get(f"/statements/{sid}").get_json()
    assert (seen["status"], seen["paid_on"]) == ("paid", today)
    again = finance.post(f"/statements/{sid}/paid", json={"paid_on": today, "reference": "B-2"})
    assert "already paid" in error_of(again, 409)["message"]


def test_paying_is_refused_for_a_draft_an_open_supplier_statement_and_bad_input(
    client, world, fleet, finance
):
    ClaimFactory(fleet=fleet, approved=True, lines=pump_and_labor())
    run = draft(finance)
    draft_sid = statement_id(run, StatementKind.STATION, world.stations[0])
    today = engine.local_today().isoformat()
    good = {"paid_on": today, "reference": "B-1"}
    assert error_of(finance.post(f"/statements/{draft_sid}/paid", json=good), 409)
    finance.post(f"/settlement/runs/{run['id']}/release")
    supplier_sid = statement_id(run, StatementKind.SUPPLIER, world.suppliers[0])
    open_lines = finance.post(f"/statements/{supplier_sid}/paid", json=good)
    assert "open or disputed" in error_of(open_lines, 409)["message"]

    tomorrow = (engine.local_today() + timedelta(days=1)).isoformat()
    for body, status, field in (
        ({"reference": "B-1"}, 422, "paid_on"),
        ({"paid_on": tomorrow, "reference": "B-1"}, 422, "paid_on"),
        ({"paid_on": today}, 422, "reference"),
        ({"paid_on": today, "reference": "x" * 81}, 422, "reference"),
        ({"paid_on": "31/05/2026", "reference": "B-1"}, 400, "paid_on"),
        ({"paid_on": today, "reference": 7}, 400, "reference"),
    ):
        error = error_of(finance.post(f"/statements/{draft_sid}/paid", json=body), status)
        assert field in error["fields"], body
    station = api_for(client, world, "station")
    assert error_of(station.post(f"/statements/{draft_sid}/paid", json=good), 403)


# -- chargebacks -----------------------------------------------------------------------------------


def test_the_supplier_accepts_its_chargeback_and_the_statement_becomes_final(
    client, world, fleet, finance, document
):
    claim = ClaimFactory(fleet=fleet, approved=True, lines=pump_and_labor())
    run = released(finance)
    cb_id = chargeback_of(claim)
    supplier = api_for(client, world, "supplier")
    response = supplier.post(f"/chargebacks/{cb_id}/accept")
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert (body["status"], body["accepted_by"], body["amount"]) == (
        "accepted",
        "supplier_a",
        "225.00",
    )
    assert [(e["action"], e["from_status"], e["to_status"]) for e in body["events"]] == [
        ("accepted", "open", "accepted")
    ]
    conforms(document, "Chargeback", body)
    sid = statement_id(run, StatementKind.SUPPLIER, world.suppliers[0])
    assert supplier.get(f"/statements/{sid}").get_json()["status"] == "final"
    assert (
        "already accepted"
        in error_of(supplier.post(f"/chargebacks/{cb_id}/accept"), 409)["message"]
    )
    assert error_of(supplier.post(f"/chargebacks/{cb_id}/dispute", json={"reason": "late"}), 409)
    # Final: finance may pay it now.
    paid = finance.post(
        f"/statements/{sid}/paid",
        json={"paid_on": engine.local_today().isoformat(), "reference": "R-9"},
    )
    assert paid.get_json()["status"] == "paid"


def test_the_chargeback_shows_how_its_amount_was_reached(client, world, fleet, finance, document):
    claim = ClaimFactory(fleet=fleet, approved=True, lines=pump_and_labor("5.00"))
    released(finance)
    body = api_for(client, world, "auditor").get(f"/chargebacks/{chargeback_of(claim)}").get_json()
    assert {
        k: body[k]
        for k in (
            "claim_number",
            "supplier_code",
            "status",
            "parts_amount",
            "removed_parts_amount",
            "labor_hours",
            "labor_hours_charged",
            "labor_amount",
            "recovery_share",
            "recovery_amount",
            "handling_fee_rate",
            "handling_fee",
            "amount",
        )
    } == {
        "claim_number": claim.number,
        "supplier_code": "SU-A",
        "status": "open",
        "parts_amount": "100.00",
        "removed_parts_amount": "0.00",
        "labor_hours": "5.00",
        "labor_hours_charged": "4.00",
        "labor_amount": "320.00",
        "recovery_share": "1",
        "recovery_amount": "420.00",
        "handling_fee_rate": "0.05",
        "handling_fee": "5.00",
        "amount": "425.00",
    }
    assert (body["events"], body["evidence"]) == ([], [])
    conforms(document, "Chargeback", body)


def test_a_dispute_needs_a_reason_and_an_auditor_waives_it_out_of_the_net(
    client, world, fleet, finance, document
):
    claim_a = ClaimFactory(fleet=fleet, approved=True, lines=pump_and_labor())
    claim_b = ClaimFactory(fleet=fleet, approved=True, lines=pump_and_labor("5.00"))
    run = released(finance)
    sid = statement_id(run, StatementKind.SUPPLIER, world.suppliers[0])
    cb_a, cb_b = chargeback_of(claim_a), chargeback_of(claim_b)
    supplier = api_for(client, world, "supplier")

    for body in ({}, {"reason": "   "}):
        error = error_of(supplier.post(f"/chargebacks/{cb_a}/dispute", json=body), 422)
        assert set(error["fields"]) == {"reason"}
    assert error_of(supplier.post(f"/chargebacks/{cb_a}/dispute", json={"reason": 5}), 400)
    response = supplier.post(f"/chargebacks/{cb_a}/dispute", json={"reason": "Not our pump"})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert (body["status"], body["dispute_reason"], body["disputed_by"]) == (
        "disputed",
        "Not our pump",
        "supplier_a",
    )
    assert [(e["action"], e["note"]) for e in body["events"]] == [("disputed", "Not our pump")]
    assert error_of(supplier.post(f"/chargebacks/{cb_a}/dispute", json={"reason": "again"}), 409)
    assert error_of(supplier.post(f"/chargebacks/{cb_a}/accept"), 409)
    supplier.post(f"/chargebacks/{cb_b}/accept")
    assert supplier.get(f"/statements/{sid}").get_json()["status"] == "released"  # one disputed

    auditor = api_for(client, world, "auditor")
    for body, field in (
        ({"action": "forgive", "reason": "x"}, "action"),
        ({"reason": "x"}, "action"),
        ({"action": "waive"}, "reason"),
    ):
        error = error_of(auditor.post(f"/chargebacks/{cb_a}/resolve", json=body), 422)
        assert set(error["fields"]) == {field}
    # Only a disputed line is resolved.
    assert error_of(
        auditor.post(f"/chargebacks/{cb_b}/resolve", json={"action": "uphold", "reason": "x"}),
        409,
    )
    response = auditor.post(
        f"/chargebacks/{cb_a}/resolve", json={"action": "waive", "reason": "Wrong supplier"}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert (body["status"], body["resolution_reason"], body["resolved_by"]) == (
        "waived",
        "Wrong supplier",
        "auditor",
    )
    conforms(document, "Chargeback", body)
    assert error_of(
        auditor.post(f"/chargebacks/{cb_a}/resolve", json={"action": "uphold", "reason": "x"}),
        409,
    )
    statement = supplier.get(f"/statements/{sid}").get_json()
    # 650.00 - 225.00 waived = 425.00; VAT 55.25; gross 480.25.
    assert (statement["status"], statement["net"], statement["vat"], statement["gross"]) == (
        "final",
        "425.00",
        "55.25",
        "480.25",
    )
    assert {ln["id"]: ln["status"] for ln in statement["lines"]} == {
        cb_a: "waived",
        cb_b: "accepted",
    }


def test_an_upheld_dispute_stays_in_the_net(client, world, fleet, finance):
    claim = ClaimFactory(fleet=fleet, approved=True, lines=pump_and_labor())
    run = released(finance)
    cb_id = chargeback_of(claim)
    api_for(client, world, "supplier").post(f"/chargebacks/{cb_id}/dispute", json={"reason": "No"})
    body = (
        api_for(client, world, "auditor")
        .post(f"/chargebacks/{cb_id}/resolve", json={"action": "uphold", "reason": "Confirmed"})
        .get_json()
    )
    assert body["status"] == "upheld"
    sid = statement_id(run, StatementKind.SUPPLIER, world.suppliers[0])
    statement = finance.get(f"/statements/{sid}").get_json()
    assert (statement["status"], statement["net"], statement["gross"]) == (
        "final",
        "225.00",
        "254.25",
    )


def test_who_may_review_a_chargeback(client, world, fleet, finance):
    claim = ClaimFactory(fleet=fleet, approved=True, lines=pump_and_labor())
    run = draft(finance)
    cb_id = chargeback_of(claim)
    supplier = api_for(client, world, "supplier")
    # On a draft statement the line is finance's only.
    assert finance.get(f"/chargebacks/{cb_id}").get_json()["status"] == "open"
    assert error_of(supplier.get(f"/chargebacks/{cb_id}"), 404)
    assert error_of(supplier.post(f"/chargebacks/{cb_id}/accept"), 404)
    finance.post(f"/settlement/runs/{run['id']}/release")

    other = api_for(client, world, "supplier_b")
    for response in (
        other.get(f"/chargebacks/{cb_id}"),
        other.post(f"/chargebacks/{cb_id}/accept"),
        other.post(f"/chargebacks/{cb_id}/dispute", json={"reason": "No"}),
        other.post(
            f"/chargebacks/{cb_id}/evidence",
            data={"file": (io.BytesIO(PNG), "x.png")},
            content_type="multipart/form-data",
        ),
        supplier.post("/chargebacks/999999/accept"),
    ):
        assert error_of(response, 404)["code"] == "not_found"
    for role in ("station", "auditor", "finance", "admin"):
        api = api_for(client, world, role)
        assert error_of(api.post(f"/chargebacks/{cb_id}/accept"), 403)["code"] == "forbidden"
        assert error_of(api.post(f"/chargebacks/{cb_id}/dispute", json={"reason": "x"}), 403)
    for role in ("station", "supplier", "finance", "admin"):
        api = api_for(client, world, role)
        response = api.post(
            f"/chargebacks/{cb_id}/resolve", json={"action": "waive", "reason": "x"}
        )
        assert error_of(response, 403)
    for role in ("station", "admin"):
        assert error_of(api_for(client, world, role).get(f"/chargebacks/{cb_id}"), 403)
    assert supplier.get(f"/chargebacks/{cb_id}").get_json()["status"] == "open"


def test_evidence_goes_with_a_dispute_and_downloads(client, world, fleet, finance, document):
    claim = ClaimFactory(fleet=fleet, approved=True, lines=pump_and_labor())
    released(finance)
    cb_id = chargeback_of(claim)
    supplier = api_for(client, world, "supplier")

    def upload(content: bytes = PNG, name: str = "photo.png"):
        return supplier.post(
            f"/chargebacks/{cb_id}/evidence",
            data={"file": (io.BytesIO(content), name)},
            content_type="multipart/form-data",
        )

    assert "disputed chargeback only" in error_of(upload(), 409)["message"]
    response = supplier.post(
        f"/chargebacks/{cb_id}/dispute",
        data={"reason": "Scored by misuse", "file": (io.BytesIO(PNG), "rotor.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert [e["filename"] for e in response.get_json()["evidence"]] == ["rotor.png"]

    response = upload(b"%PDF-1.4 report", "report.pdf")
    assert response.status_code == 201, response.get_data(as_text=True)
    evidence = response.get_json()
    assert (evidence["filename"], evidence["content_type"], evidence["uploaded_by"]) == (
        "report.pdf",
        "application/pdf",
        "supplier_a",
    )
    assert response.headers["Location"] == evidence["url"]
    conforms(document, "ChargebackEvidence", evidence)
    assert error_of(upload(b"MZ not a photo", "virus.exe"), 422)["fields"] == {
        "file": "unsupported file type"
    }
    no_file = supplier.post(
        f"/chargebacks/{cb_id}/evidence", data={}, content_type="multipart/form-data"
    )
    assert error_of(no_file, 400)["fields"] == {"file": "is required"}

    body = supplier.get(f"/chargebacks/{cb_id}").get_json()
    assert [e["filename"] for e in body["evidence"]] == ["rotor.png", "report.pdf"]
    assert [e["action"] for e in body["events"]] == ["disputed", "evidence_added"]
    conforms(document, "Chargeback", body)
    for role in ("supplier", "auditor", "finance"):
        with api_for(client, world, role).get(evidence["url"].removeprefix(API)) as download:
            assert download.status_code == 200, role
            assert download.data == b"%PDF-1.4 report" and download.mimetype == "application/pdf"
            assert "report.pdf" in download.headers["Content-Disposition"]
    assert error_of(
        api_for(client, world, "supplier_b").get(evidence["url"].removeprefix(API)), 404
    )
    assert error_of(supplier.get(f"/chargebacks/{cb_id}/evidence/999999"), 404)


def test_the_claim_of_a_released_run_is_settled_on_its_statement_only_once(world, fleet, finance):
    """Belt and braces: the API's double release and a second run leave one line per claim."""
    claim = ClaimFactory(fleet=fleet, approved=True, lines=pump_and_labor())
    run = released(finance)
    finance.post(f"/settlement/runs/{run['id']}/release")
    draft(finance)
    assert (
        db.session.scalar(
            sa.select(sa.func.count(StatementLine.id)).where(StatementLine.claim_id == claim.id)
        )
        == 1
    )
    assert (
        db.session.scalar(
            sa.select(sa.func.count(Chargeback.id)).where(Chargeback.claim_id == claim.id)
        )
        == 1
    )
