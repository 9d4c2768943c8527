"""The auditor's decision through the API (DESIGN 4 and 8): approve as claimed, cut with reason
codes, reject, return and decide the resubmitted version; every refusal (400, 403, 404, 409,
422) saves nothing; and the reason codes a cut may give."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from portal.claims import operations as ops
from portal.claims.models import SEEDED_REASON_CODES, Claim, ClaimSettings, ReasonCode
from portal.claims.operations import RuleRefused
from tests import factories
from tests.factories import ClaimFactory, Fleet, World, claim_payload
from tests.test_api_auth import API, Api, api_for, error_of, token_for
from tests.test_api_claims import if_match


@pytest.fixture
def fleet(world, db_session):
    ClaimSettings.current().auto_approve_enabled = False  # every submitted claim waits for us
    db_session.flush()
    return Fleet.build(world)


@pytest.fixture
def station(client, world) -> Api:
    return api_for(client, world, "station")


@pytest.fixture
def auditor(client, world) -> Api:
    return api_for(client, world, "auditor")


def read(api: Api, claim) -> dict:
    """The claim as the API answers it."""
    response = api.get(f"/claims/{claim.number}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def decide(api: Api, number: str, body, status: int = 200) -> dict:
    response = api.post(f"/claims/{number}/decision", json=body)
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def line_ids(claim: dict) -> tuple[int, ...]:
    return tuple(line["id"] for line in claim["lines"])


# -- approving ---------------------------------------------------------------------------------


def test_an_auditor_approves_a_claim_as_claimed(station, auditor, fleet):
    claim = read(station, ClaimFactory(fleet=fleet, in_review=True))
    decided = decide(auditor, claim["number"], {"action": "approve"})
    assert decided["status"] == "approved"
    assert decided["approved_amounts"] == decided["amounts"]
    assert decided["approved_amounts"]["total"] == decided["approved_total_amount"] == "230.00"
    assert [ln["approved_amount"] for ln in decided["lines"]] == ["100.00", "120.00"]
    assert (decided["lines"][0]["approved_qty"], decided["lines"][1]["approved_hours"]) == (
        1,
        "1.50",
    )
    assert decided["responsible_supplier"] == "SU-A"  # the causal part's supplier
    assert decided["decided_at"] is not None
    assert (decided["events"][-1]["action"], decided["events"][-1]["by"]) == ("approved", "auditor")
    # The answer is the claim as GET shows it, to the auditor and to the station alike.
    assert auditor.get(f"/claims/{claim['number']}").get_json() == decided
    assert station.get(f"/claims/{claim['number']}").get_json()["status"] == "approved"


def test_a_line_given_without_values_is_approved_as_claimed(station, auditor, fleet):
    claim = read(station, ClaimFactory(fleet=fleet, in_review=True))
    part_id, labor_id = line_ids(claim)
    body = {
        "action": "approve",
        "version": 1,
        "lines": [
            {"id": part_id},
            {"id": labor_id, "approved_hours": None, "reason": None, "note": "Checked"},
        ],
    }
    decided = decide(auditor, claim["number"], body)
    assert decided["status"] == "approved"
    assert decided["approved_total_amount"] == "230.00"
    assert decided["lines"][1]["note"] == "Checked"


def test_cutting_labor_hours_with_a_reason_partially_approves_with_exact_amounts(
    station, auditor, fleet
):
    claim = read(station, ClaimFactory(fleet=fleet, in_review=True))
    _part_id, labor_id = line_ids(claim)
    body = {
        "action": "approve",
        "lines": [
            {
                "id": labor_id,
                "approved_hours": "1.00",
                "reason": "excessive_labor",
                "note": "Standard is 1.0 h for this job",
            }
        ],
        "reason": "Labor cut to the standard time",
    }
    decided = decide(auditor, claim["number"], body)
    assert decided["status"] == "partially_approved"
    part, labor = decided["lines"]
    assert (part["approved_amount"], part["reason_code"]) == ("100.00", None)
    assert (labor["approved_hours"], labor["approved_amount"]) == ("1.00", "80.00")
    assert (labor["reason_code"], labor["note"]) == (
        "excessive_labor",
        "Standard is 1.0 h for this job",
    )
    assert decided["approved_amounts"] == {
        "parts": "100.00",
        "handling": "10.00",
        "labor": "80.00",
        "other": "0.00",
        "total": "190.00",
    }
    assert decided["approved_total_amount"] == "190.00"
    assert decided["amounts"]["total"] == "230.00"  # what was claimed stays as it was
    assert decided["decision_reason"] == "Labor cut to the standard time"


def test_cutting_an_amount_to_the_fen_keeps_it_exact(station, auditor, fleet):
    claim = read(station, ClaimFactory(fleet=fleet, in_review=True))
    part_id, _labor_id = line_ids(claim)
    body = {
        "action": "approve",
        "lines": [{"id": part_id, "approved_amount": "33.35", "reason": "partial_approval"}],
    }
    decided = decide(auditor, claim["number"], body)
    assert decided["lines"][0]["approved_amount"] == "33.35"
    # handling 10% of 33.35 = 3.335, rounded half-up to 3.34
    assert decided["approved_amounts"]["handling"] == "3.34"
    assert decided["approved_total_amount"] == "156.69"  # 33.35 + 3.34 + 120.00


# -- refusals: nothing is saved ----------------------------------------------------------------


def assert_unchanged(api: Api, number: str, events: int) -> None:
    claim = api.get(f"/claims/{number}").get_json()
    assert claim["status"] == "in_review"
    assert claim["approved_amounts"] is None and claim["approved_total_amount"] is None
    assert all(ln["approved_amount"] is None for ln in claim["lines"])
    assert claim["responsible_supplier"] is None
    assert len(claim["events"]) == events


INVALID = {
    "cut without a reason code": (
        lambda part, labor: {"lines": [{"id": labor, "approved_hours": "1.00"}]},
        "lines[0].reason",
    ),
    "cut above the claimed quantity": (
        lambda part, labor: {"lines": [{"id": part, "approved_qty": 2, "reason": "misuse"}]},
        "lines[0].approved_qty",
    ),
    "cut above the claimed hours": (
        lambda part, labor: {"lines": [{"id": labor, "approved_hours": "1.51"}]},
        "lines[0].approved_hours",
    ),
    "cut above the claimed amount": (
        lambda part, labor: {"lines": [{"id": part, "approved_amount": "100.01"}]},
        "lines[0].approved_amount",
    ),
    "a reason that is no reason code": (
        lambda part, labor: {
            "lines": [{"id": labor, "approved_hours": "1.00", "reason": "because"}]
        },
        "lines[0].reason",
    ),
    "an unknown supplier": (lambda part, labor: {"supplier_code": "NOPE"}, "supplier_code"),
    "a line of no such claim": (lambda part, labor: {"lines": [{"id": 999999}]}, "lines[0].id"),
    "every line cut to zero": (
        lambda part, labor: {
            "lines": [
                {"id": part, "approved_qty": 0, "reason": "not_covered"},
                {"id": labor, "approved_hours": "0", "reason": "not_covered"},
            ]
        },
        "action",
    ),
}


@pytest.mark.parametrize("case", list(INVALID))
def test_an_invalid_decision_is_422_naming_the_problem_and_saves_nothing(
    station, auditor, fleet, case
):
    claim = read(station, ClaimFactory(fleet=fleet, in_review=True))
    make_body, field = INVALID[case]
    body = {"action": "approve", **make_body(*line_ids(claim))}
    error = error_of(auditor.post(f"/claims/{claim['number']}/decision", json=body), 422)
    assert error["code"] == "invalid"
    assert field in error["fields"], error
    assert_unchanged(auditor, claim["number"], len(claim["events"]))


def test_every_problem_of_a_decision_is_named_at_once(station, auditor, fleet):
    claim = read(station, ClaimFactory(fleet=fleet, in_review=True))
    part_id, labor_id = line_ids(claim)
    body = {
        "action": "approve",
        "supplier_code": "NOPE",
        "lines": [
            {"id": part_id, "approved_qty": 5},
            {"id": labor_id, "approved_hours": "1.00"},
        ],
    }
    error = error_of(auditor.post(f"/claims/{claim['number']}/decision", json=body), 422)
    assert set(error["fields"]) == {"supplier_code", "lines[0].approved_qty", "lines[1].reason"}
    assert_unchanged(auditor, claim["number"], len(claim["events"]))


def test_the_auditor_assigns_another_responsible_supplier(station, auditor, fleet):
    claim = read(station, ClaimFactory(fleet=fleet, in_review=True))
    decided = decide(auditor, claim["number"], {"action": "approve", "supplier_code": "SU-B"})
    assert decided["responsible_supplier"] == "SU-B"
    assert decided["events"][-1]["reason"] == "Responsible supplier: SU-B Supplier B."


# -- rejecting and returning -------------------------------------------------------------------


def test_rejecting_needs_a_reason_and_then_approves_nothing(station, auditor, fleet):
    claim = read(station, ClaimFactory(fleet=fleet, in_review=True))
    number = claim["number"]
    error = error_of(auditor.post(f"/claims/{number}/decision", json={"action": "reject"}), 422)
    assert set(error["fields"]) == {"reason"}
    assert_unchanged(auditor, number, len(claim["events"]))

    body = {"action": "reject", "reason": "Damage from an accident"}
    decided = decide(auditor, number, body)
    assert decided["status"] == "rejected"
    assert decided["approved_total_amount"] == "0.00"
    assert decided["approved_amounts"] == dict.fromkeys(
        ("parts", "handling", "labor", "other", "total"), "0.00"
    )
    assert [ln["approved_amount"] for ln in decided["lines"]] == ["0.00", "0.00"]
    assert decided["decision_reason"] == "Damage from an accident"
    assert decided["events"][-1]["action"] == "rejected"


def test_a_returned_claim_is_edited_resubmitted_and_decided_as_version_two(station, auditor, fleet):
    claim = read(station, ClaimFactory(fleet=fleet, in_review=True))
    number = claim["number"]
    error = error_of(auditor.post(f"/claims/{number}/decision", json={"action": "return"}), 422)
    assert set(error["fields"]) == {"reason"}

    returned = decide(auditor, number, {"action": "return", "reason": "Photo of the pump missing"})
    assert returned["status"] == "returned"
    assert returned["approved_amounts"] is None
    assert returned["decision_reason"] == "Photo of the pump missing"
    # While the station edits it, the claim is not the auditor's to decide.
    error_of(auditor.post(f"/claims/{number}/decision", json={"action": "approve"}), 409)

    body = claim_payload(fleet, lines=[{"kind": "part", "part_number": "P-100", "qty": 2}])
    assert (
        station.patch(f"/claims/{number}", json=body, headers=if_match(station, number)).status_code
        == 200
    )
    resubmitted = station.post(f"/claims/{number}/submit").get_json()
    assert (resubmitted["status"], resubmitted["version"]) == ("in_review", 2)

    stale = auditor.post(f"/claims/{number}/decision", json={"action": "approve", "version": 1})
    assert error_of(stale, 409)["code"] == "conflict"
    decided = decide(auditor, number, {"action": "approve", "version": 2})
    assert (decided["status"], decided["version"]) == ("approved", 2)
    assert decided["approved_total_amount"] == "220.00"  # 2 x 100.00 + 10% handling
    assert [e["action"] for e in decided["events"]] == [
        "created",
        "submitted",
        "queued",
        "returned",
        "edited",
        "resubmitted",
        "queued",
        "approved",
    ]


# -- conflicts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "second", [{"action": "approve"}, {"action": "reject", "reason": "second thoughts"}]
)
def test_deciding_a_decided_claim_is_a_conflict(station, auditor, fleet, second):
    number = read(station, ClaimFactory(fleet=fleet, in_review=True))["number"]
    decide(auditor, number, {"action": "approve"})
    error = error_of(auditor.post(f"/claims/{number}/decision", json=second), 409)
    assert error["code"] == "conflict"
    claim = auditor.get(f"/claims/{number}").get_json()
    assert claim["status"] == "approved"
    assert [e["action"] for e in claim["events"]].count("approved") == 1


def test_a_stale_version_is_a_conflict_and_changes_nothing(station, auditor, fleet):
    claim = read(station, ClaimFactory(fleet=fleet, in_review=True))
    body = {"action": "approve", "version": 2}
    error = error_of(auditor.post(f"/claims/{claim['number']}/decision", json=body), 409)
    assert "version 1" in error["message"]
    assert_unchanged(auditor, claim["number"], len(claim["events"]))


def test_an_auto_approved_claim_is_a_conflict(station, auditor, fleet, db_session):
    ClaimSettings.current().auto_approve_enabled = True
    db_session.flush()
    number = station.post("/claims", json=claim_payload(fleet)).get_json()["number"]
    assert station.post(f"/claims/{number}/submit").get_json()["status"] == "approved"
    error_of(auditor.post(f"/claims/{number}/decision", json={"action": "approve"}), 409)


@pytest.mark.postgres
def test_two_auditors_deciding_at_once_through_the_api_one_wins(committing_app):
    """Two requests at the same moment: one decides, the other gets a 409, never a lost update."""
    from portal.extensions import db

    with committing_app.app_context():
        world = World.build()
        fleet = Fleet.build(world)
        factories.UserFactory(auditor=True, organisation=world.oem, username="auditor2")
        number = ClaimFactory(fleet=fleet, in_review=True).number
        db.session.commit()

    client = committing_app.test_client()
    apis = {name: Api(client, token_for(client, name)) for name in ("auditor", "auditor2")}
    bodies = {
        "auditor": {"action": "approve"},
        "auditor2": {"action": "reject", "reason": "Not a warranty fault"},
    }
    barrier = threading.Barrier(2)
    statuses: dict[str, int] = {}

    def post(name: str) -> None:
        barrier.wait()
        response = apis[name].post(f"/claims/{number}/decision", json=bodies[name])
        statuses[name] = response.status_code

    threads = [threading.Thread(target=post, args=(name,)) for name in apis]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses.values()) == [200, 409]
    winner = next(name for name, status in statuses.items() if status == 200)
    final = apis["auditor"].get(f"/claims/{number}").get_json()
    assert final["status"] == ("approved" if winner == "auditor" else "rejected")
    assert len([e for e in final["events"] if e["action"] in ("approved", "rejected")]) == 1


# -- who may decide, and what is not there -----------------------------------------------------


@pytest.mark.parametrize("role", ["station", "station_b", "supplier", "finance", "admin"])
def test_only_an_auditor_decides_everyone_else_gets_403(client, world, station, fleet, role):
    claim = read(station, ClaimFactory(fleet=fleet, in_review=True))
    api = api_for(client, world, role)
    response = api.post(f"/claims/{claim['number']}/decision", json={"action": "approve"})
    assert error_of(response, 403)["code"] == "forbidden"
    auditor = api_for(client, world, "auditor")
    assert_unchanged(auditor, claim["number"], len(claim["events"]))


def test_no_token_is_401(client, station, fleet):
    number = read(station, ClaimFactory(fleet=fleet, in_review=True))["number"]
    response = client.post(f"{API}/claims/{number}/decision", json={"action": "approve"})
    assert error_of(response, 401)["code"] == "unauthorized"


def test_an_unknown_claim_is_404(auditor):
    response = auditor.post("/claims/RP-NOPE-0000-0001/decision", json={"action": "approve"})
    assert error_of(response, 404)["code"] == "not_found"


def test_a_draft_is_404_to_the_auditor_as_it_is_on_get(station, auditor, fleet):
    """Drafts are private to their station (DESIGN 1): deciding one answers like an unknown
    number, so the decision endpoint does not tell that the draft exists."""
    number = station.post("/claims", json=claim_payload(fleet)).get_json()["number"]
    response = auditor.post(f"/claims/{number}/decision", json={"action": "approve"})
    assert error_of(response, 404)["code"] == "not_found"
    assert station.get(f"/claims/{number}").get_json()["status"] == "draft"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "action"),
        ({"action": "delete"}, "action"),
        ({"action": "approve", "lines": {"id": 1}}, "lines"),
        ({"action": "approve", "lines": ["x"]}, "lines[0]"),
        ({"action": "approve", "lines": [{"approved_qty": 1}]}, "lines[0].id"),
        ({"action": "approve", "lines": [{"id": "one"}]}, "lines[0].id"),
        ({"action": "approve", "lines": [{"id": 1, "approved_qty": -1}]}, "lines[0].approved_qty"),
        (
            {"action": "approve", "lines": [{"id": 1, "approved_hours": "x"}]},
            "lines[0].approved_hours",
        ),
        (
            {"action": "approve", "lines": [{"id": 1, "approved_amount": "1.001"}]},
            "lines[0].approved_amount",
        ),
        ({"action": "approve", "lines": [{"id": 1, "reason": 7}]}, "lines[0].reason"),
        ({"action": "approve", "version": 0}, "version"),
        ({"action": "reject", "reason": ["no"]}, "reason"),
        ({"action": "approve", "supplier_code": 12}, "supplier_code"),
    ],
)
def test_a_malformed_decision_is_400_naming_the_field(station, auditor, fleet, body, field):
    claim = read(station, ClaimFactory(fleet=fleet, in_review=True))
    error = error_of(auditor.post(f"/claims/{claim['number']}/decision", json=body), 400)
    assert error["code"] == "malformed"
    assert field in error["fields"], error
    assert_unchanged(auditor, claim["number"], len(claim["events"]))


@pytest.mark.parametrize("body", ["{not json", "[]", '"approve"', ""])
def test_a_body_that_is_no_json_object_is_400(station, auditor, fleet, body):
    number = read(station, ClaimFactory(fleet=fleet, in_review=True))["number"]
    response = auditor.post(
        f"/claims/{number}/decision", data=body, content_type="application/json"
    )
    assert error_of(response, 400)["code"] == "malformed"


# -- appraisals --------------------------------------------------------------------------------


def test_approving_an_appraisal_lets_a_major_assembly_claim_through_for_30_days(
    station, auditor, fleet, world, db_session
):
    appraisal = read(
        station,
        ClaimFactory(fleet=fleet, in_review=True, type="appraisal", causal_part="ENG-1", lines=[]),
    )
    major = station.post(
        "/claims",
        json=claim_payload(
            fleet,
            type="major_assembly",
            causal_part="ENG-1",
            lines=[{"kind": "part", "part_number": "ENG-1", "qty": 1}],
        ),
    ).get_json()
    refused = error_of(station.post(f"/claims/{major['number']}/submit"), 422)
    assert "appraisal_required" in refused["fields"]["causal_part"]

    approved = decide(auditor, appraisal["number"], {"action": "approve"})
    assert approved["status"] == "approved"
    assert approved["approved_total_amount"] == "0.00"  # a pre-authorisation pays nothing
    assert approved["valid_until"] == (date.today() + timedelta(days=30)).isoformat()

    # On day 31 the appraisal no longer covers it...
    db_session.expire_all()
    claim = db_session.scalar(sa.select(Claim).where(Claim.number == major["number"]))
    with pytest.raises(RuleRefused):
        ops.submit_claim(claim, world.users["station"], today=date.today() + timedelta(days=31))
    # ...today it does.
    accepted = station.post(f"/claims/{major['number']}/submit")
    assert accepted.status_code == 200, accepted.get_data(as_text=True)
    assert accepted.get_json()["status"] == "in_review"


# -- reason codes ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["auditor", "finance"])
def test_auditors_and_finance_read_the_active_reason_codes(client, world, db_session, role):
    db_session.scalar(sa.select(ReasonCode).where(ReasonCode.code == "misuse")).active = False
    db_session.add(
        ReasonCode(code="missing_photos", label_en="Missing photos", label_zh="缺少照片")
    )
    db_session.flush()
    items = api_for(client, world, role).get("/reason-codes").get_json()["items"]
    expected = sorted(
        [(c, en, zh) for c, en, zh in SEEDED_REASON_CODES if c != "misuse"]
        + [("missing_photos", "Missing photos", "缺少照片")]
    )
    assert [(i["code"], i["label_en"], i["label_zh"]) for i in items] == expected


@pytest.mark.parametrize("role", ["station", "supplier", "admin"])
def test_other_roles_may_not_read_the_reason_codes(client, world, role):
    response = api_for(client, world, role).get("/reason-codes")
    assert error_of(response, 403)["code"] == "forbidden"


def test_the_document_describes_the_decision_and_the_answers_conform(
    client, world, station, auditor, fleet
):
    from tests.test_openapi import conforms

    document = client.get(f"{API}/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    # Reason codes are data: the document lists no enum of them.
    assert "enum" not in schemas["DecisionLine"]["properties"]["reason"]
    assert schemas["Decision"]["properties"]["action"]["enum"] == ["approve", "reject", "return"]
    claim = read(station, ClaimFactory(fleet=fleet, in_review=True))
    body = {
        "action": "approve",
        "version": 1,
        "supplier_code": "SU-B",
        "lines": [{"id": claim["lines"][1]["id"], "approved_hours": 1, "reason": "misuse"}],
    }
    conforms(document, "Decision", body)
    conforms(document, "Claim", decide(auditor, claim["number"], body))
    conforms(document, "ReasonCodeList", auditor.get("/reason-codes").get_json())
    again = auditor.post(f"/claims/{claim['number']}/decision", json=body)
    conforms(document, "Error", again.get_json())
