"""The claims API: role gates, other stations' claims, every claim type from create to submit,
refusals that save nothing, malformed bodies, conflicts, lists, vehicles and exact money."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from portal.claims import operations as ops
from portal.claims.decisions import Decision, decide_claim
from portal.claims.models import Claim, ClaimSettings
from portal.masterdata.vin import with_check_digit
from tests.factories import Fleet, claim_payload
from tests.test_api_auth import Api, api_for, error_of

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def fleet(world):
    return Fleet.build(world)


@pytest.fixture(autouse=True)
def uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path / "uploads"))


@pytest.fixture
def station(client, world) -> Api:
    return api_for(client, world, "station")


def days_ago(n: int) -> str:
    return (date.today() - timedelta(days=n)).isoformat()


def create(api: Api, fleet: Fleet, **overrides) -> dict:
    response = api.post("/claims", json=claim_payload(fleet, **overrides))
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def if_match(api: Api, number: str) -> dict[str, str]:
    """The claim's current ETag as an If-Match header: an edit of what the client just read."""
    return {"If-Match": api.get(f"/claims/{number}").headers["ETag"]}


def submit(api: Api, number: str, status: int = 200) -> dict:
    response = api.post(f"/claims/{number}/submit")
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def refusal(api: Api, number: str) -> dict[str, str]:
    """Submit, expect a 422 refusal, check nothing was saved; the refusal's fields."""
    error = error_of(api.post(f"/claims/{number}/submit"), 422)
    assert error["code"] == "rule_refused"
    claim = api.get(f"/claims/{number}").get_json()
    assert claim["status"] == "draft"
    assert claim["submitted_at"] is None
    assert claim["versions"] == [] and claim["flags"] == []
    assert [e["action"] for e in claim["events"]] == ["created"]
    return error["fields"]


def approve(db_session, world, number: str) -> None:
    """An auditor approves the claim as claimed (the audit capability's own operation)."""
    db_session.expire_all()
    claim = db_session.scalar(sa.select(Claim).where(Claim.number == number))
    decide_claim(claim.id, world.users["auditor"], Decision(action="approve"))
    db_session.flush()


# -- create, read, submit: every type --------------------------------------------------------------


def test_a_station_creates_a_draft_and_reads_it_back_with_exact_money(station, fleet):
    response = station.post("/claims", json=claim_payload(fleet))
    assert response.status_code == 201
    claim = response.get_json()
    assert response.headers["Location"] == f"/api/v1/claims/{claim['number']}"
    period = date.today().strftime("%y%m")
    assert claim["number"] == f"RP-ST-A-{period}-0001"
    assert (claim["type"], claim["status"], claim["version"]) == ("repair", "draft", 1)
    assert claim["station_code"] == "ST-A"
    assert claim["vin"] == fleet.vehicle.vin
    assert claim["vehicle"]["model_code"] == "HX5"
    assert (claim["fault_code"], claim["causal_part"]) == ("P0301", "P-100")
    assert claim["description"] == "Oil pressure warning light on"
    assert claim["amounts"] == {
        "parts": "100.00",
        "handling": "10.00",
        "labor": "120.00",
        "other": "0.00",
        "total": "230.00",
    }
    assert claim["total_amount"] == "230.00"
    assert claim["approved_amounts"] is None and claim["approved_total_amount"] is None
    part, labor = claim["lines"]
    assert part["kind"] == "part" and part["part_number"] == "P-100" and part["qty"] == 1
    assert (part["unit_price"], part["amount"]) == ("100.00", "100.00")
    assert labor["operation_code"] == "OP-1"
    assert (labor["hours"], labor["unit_price"], labor["amount"]) == ("1.50", "80.00", "120.00")
    assert isinstance(part["id"], int) and part["approved_amount"] is None
    assert [(e["action"], e["to_status"], e["by"]) for e in claim["events"]] == [
        ("created", "draft", "station_a")
    ]
    assert station.get(f"/claims/{claim['number']}").get_json() == claim


def test_an_incomplete_draft_is_saved(station):
    response = station.post("/claims", json={"type": "appraisal"})
    assert response.status_code == 201
    assert response.get_json()["amounts"]["total"] == "0.00"


def test_a_clean_repair_under_the_threshold_is_approved_on_submit(station, fleet):
    number = create(station, fleet)["number"]
    claim = submit(station, number)
    assert claim["status"] == "approved"
    assert claim["auto_decision_rule"] == "auto_approve_under_2000.00"
    assert claim["approved_amounts"] == claim["amounts"]
    assert claim["approved_total_amount"] == "230.00"
    assert [ln["approved_amount"] for ln in claim["lines"]] == ["100.00", "120.00"]
    assert claim["lines"][1]["approved_hours"] == "1.50"
    assert claim["responsible_supplier"] == "SU-A"
    assert claim["flags"] == [] and claim["flagged"] is False
    assert [e["action"] for e in claim["events"]] == ["created", "submitted", "auto_approved"]
    assert claim["events"][-1]["by"] is None  # the system decided
    assert [(v["version"], v["changes"]) for v in claim["versions"]] == [(1, [])]
    assert claim["submitted_at"] and claim["decided_at"]


def test_a_repair_at_or_above_the_threshold_waits_for_an_auditor(station, fleet):
    lines = [{"kind": "part", "part_number": "P-100", "qty": 20}]
    claim = submit(station, create(station, fleet, lines=lines)["number"])
    assert claim["status"] == "in_review"
    assert claim["amounts"]["total"] == "2200.00"
    assert claim["approved_amounts"] is None


def test_outside_coverage_with_goodwill_is_flagged_and_queued(station, fleet):
    number = create(
        station, fleet, vin=fleet.old_vehicle.vin, odometer_km=95000, goodwill_reason="VIP"
    )["number"]
    claim = submit(station, number)
    assert claim["status"] == "in_review"
    assert claim["flagged"] is True
    assert [(f["rule"], f["field"], f["version"]) for f in claim["flags"]] == [
        ("outside_coverage", "causal_part", 1)
    ]
    assert "VIP" in claim["flags"][0]["message"]


def test_an_approved_appraisal_lets_the_major_assembly_claim_through(
    station, fleet, world, db_session
):
    major = dict(
        type="major_assembly",
        causal_part="ENG-1",
        lines=[{"kind": "part", "part_number": "ENG-1", "qty": 1}],
    )
    appraisal = create(station, fleet, type="appraisal", causal_part="ENG-1", lines=[])
    assert appraisal["number"].startswith("AP-")
    assert submit(station, appraisal["number"])["status"] == "in_review"  # always an auditor's

    claim = create(station, fleet, **major)
    assert "appraisal_required" in refusal(station, claim["number"])["causal_part"]

    approve(db_session, world, appraisal["number"])
    accepted = submit(station, claim["number"])
    assert accepted["status"] == "in_review"  # 13 200.00 is above the threshold
    assert accepted["amounts"] == {
        "parts": "12000.00",
        "handling": "1200.00",
        "labor": "0.00",
        "other": "0.00",
        "total": "13200.00",
    }


def break_in(fleet, **overrides) -> dict:
    data = dict(
        type="break_in",
        vin=fleet.new_vehicle.vin,
        odometer_km=2000,
        repair_date=days_ago(0),
        fault_date=None,
        fault_code=None,
        causal_part=None,
        lines=[],
    )
    data.update(overrides)
    return data


def test_break_in_inside_its_window_is_paid_once(station, fleet):
    first = submit(station, create(station, fleet, **break_in(fleet))["number"])
    assert first["status"] == "approved"
    assert first["approved_total_amount"] == "300.00"
    assert [(ln["kind"], ln["amount"]) for ln in first["lines"]] == [("package", "300.00")]
    second = create(station, fleet, **break_in(fleet, odometer_km=2500))
    fields = refusal(station, second["number"])
    assert fields["vin"].startswith("break_in_once:")
    assert first["number"] in fields["vin"]


def roadside(fleet) -> dict:
    return dict(
        type="roadside",
        fault_code=None,
        causal_part=None,
        lines=[
            {"kind": "trip", "qty": 64},
            {"kind": "labor", "hours": "2.00", "description": "Roadside diagnosis"},
            {"kind": "other", "amount": "35.00", "description": "Tolls"},
        ],
    )


def test_roadside_is_refused_without_a_receipt_and_accepted_once_one_is_attached(station, fleet):
    number = create(station, fleet, **roadside(fleet))["number"]
    assert refusal(station, number) == {
        "attachments": "roadside: Attach the receipts of the roadside trip."
    }
    response = station.post(
        f"/claims/{number}/attachments",
        data={"file": (io.BytesIO(PNG), "toll-receipt.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    attachment = response.get_json()
    assert (attachment["filename"], attachment["content_type"], attachment["size"]) == (
        "toll-receipt.png",
        "image/png",
        len(PNG),
    )
    assert response.headers["Location"] == attachment["url"]
    claim = submit(station, number)
    # 64 km x 3.50 = 224.00; 2 h x 80.00 = 160.00; tolls 35.00
    assert claim["status"] == "approved"
    assert claim["approved_total_amount"] == "419.00"
    assert [a["filename"] for a in claim["attachments"]] == ["toll-receipt.png"]
    with station.get(attachment["url"].removeprefix("/api/v1")) as download:
        assert download.status_code == 200
        assert download.data == PNG and download.mimetype == "image/png"
        assert "toll-receipt.png" in download.headers["Content-Disposition"]


def test_an_outsourced_purchase_request_is_approved_by_an_auditor_then_invoiced(
    station, fleet, world, db_session
):
    request = create(
        station,
        fleet,
        type="outsourced_purchase",
        fault_code=None,
        lines=[{"kind": "other", "amount": "800.00", "description": "Local glass: windscreen"}],
    )
    assert submit(station, request["number"])["status"] == "in_review"
    approve(db_session, world, request["number"])
    invoice = create(
        station,
        fleet,
        outsourced_request=request["number"],
        lines=[{"kind": "other", "amount": "800.01", "description": "Invoice 4411"}],
    )
    # Repaired before the request was approved: refused.
    assert "outsourced_request" in refusal(station, invoice["number"])["repair_date"]
    patched = station.patch(
        f"/claims/{invoice['number']}",
        headers=if_match(station, invoice["number"]),
        json=claim_payload(
            fleet,
            outsourced_request=request["number"],
            repair_date=date.today().isoformat(),
            lines=[{"kind": "other", "amount": "800.01", "description": "Invoice 4411"}],
        ),
    )
    assert patched.status_code == 200
    assert patched.get_json()["outsourced_request"] == request["number"]
    # Paid up to the cap, never refused for it.
    assert submit(station, invoice["number"])["approved_total_amount"] == "800.00"


def test_an_emergency_part_by_regular_shipment_goes_to_an_auditor(station, fleet):
    claim = create(
        station,
        fleet,
        type="emergency_part",
        odometer_km=None,
        fault_code=None,
        causal_part=None,
        fulfilment="regular",
        lines=[{"kind": "part", "part_number": "P-200", "qty": 2}],
    )
    assert claim["number"].startswith("EP-") and claim["fulfilment"] == "regular"
    submitted = submit(station, claim["number"])
    assert submitted["status"] == "in_review"
    assert submitted["amounts"]["parts"] == "91.00"


def test_an_emergency_drop_shipment_names_its_shipper(station, fleet):
    data = dict(
        type="emergency_part",
        fault_code=None,
        causal_part=None,
        fulfilment="drop_ship",
        lines=[{"kind": "part", "part_number": "P-100", "qty": 1}],
    )
    assert (
        "emergency_part"
        in refusal(station, create(station, fleet, **data)["number"])["shipper_code"]
    )
    claim = submit(station, create(station, fleet, **data, shipper_code="ST-B")["number"])
    assert claim["shipper_code"] == "ST-B" and claim["status"] == "in_review"


# -- refusals --------------------------------------------------------------------------------------


def _wrong_check_digit(fleet) -> str:
    vin = fleet.vehicle.vin
    return vin[:8] + ("1" if vin[8] != "1" else "2") + vin[9:]


REFUSALS = {
    "missing causal part": (lambda f: {"causal_part": None}, "causal_part", "required"),
    "no lines": (lambda f: {"lines": []}, "lines", "required"),
    "bad check digit": (lambda f: {"vin": _wrong_check_digit(f)}, "vin", "vin"),
    "unknown vin": (lambda f: {"vin": with_check_digit("LZZZZ000000000001")}, "vin", "vin"),
    "repair in the future": (
        lambda f: {"repair_date": (date.today() + timedelta(days=1)).isoformat()},
        "repair_date",
        "dates",
    ),
    "odometer below the last reading": (lambda f: {"odometer_km": 999}, "odometer_km", "odometer"),
    "outside coverage": (
        lambda f: {"vin": f.old_vehicle.vin, "odometer_km": 95000},
        "repair_date",
        "coverage",
    ),
    "hours above standard without a reason": (
        lambda f: {"lines": [{"kind": "labor", "operation_code": "OP-1", "hours": "3.00"}]},
        "lines[0].description",
        "labor_hours",
    ),
    "a major assembly on a repair": (
        lambda f: {"lines": [{"kind": "part", "part_number": "ENG-1"}]},
        "lines[0].part_number",
        "major_assembly",
    ),
    "break-in outside its km window": (
        lambda f: break_in(f, odometer_km=6000),
        "odometer_km",
        "break_in_window",
    ),
    "an unapproved outsourced request": (None, "outsourced_request", "outsourced_request"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_every_refusal_is_422_naming_its_rule_and_saves_nothing(station, fleet, case):
    overrides, field, rule = REFUSALS[case]
    if overrides is None:
        request = create(
            station,
            fleet,
            type="outsourced_purchase",
            lines=[{"kind": "other", "amount": "10.00", "description": "Glass"}],
        )
        submit(station, request["number"])
        data = {
            "outsourced_request": request["number"],
            "lines": [{"kind": "other", "amount": "10.00", "description": "Invoice"}],
        }
    else:
        data = overrides(fleet)
    number = create(station, fleet, **data)["number"]
    fields = refusal(station, number)
    assert fields[field].startswith(f"{rule}: "), fields


def test_several_refusals_are_all_listed(station, fleet):
    number = create(
        station,
        fleet,
        **{**roadside(fleet), "lines": [{"kind": "other", "amount": "35.00"}]},
        repair_date=None,
    )["number"]
    fields = refusal(station, number)
    assert fields["repair_date"].startswith("required:")
    assert fields["trip_km"].startswith("roadside:")
    assert fields["attachments"].startswith("roadside:")


def test_refusals_speak_the_clients_language(station, fleet):
    number = create(station, fleet, **roadside(fleet))["number"]
    response = station.post(f"/claims/{number}/submit", headers={"Accept-Language": "zh-CN"})
    assert error_of(response, 422)["fields"] == {"attachments": "roadside: 请附上外出急救的票据。"}


def test_submitting_a_submitted_claim_is_a_conflict(station, fleet):
    number = create(station, fleet)["number"]
    submit(station, number)
    error = error_of(station.post(f"/claims/{number}/submit"), 409)
    assert error["code"] == "conflict"
    assert number in error["message"]


# -- malformed requests ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"type": "warranty"}, "type"),
        ({"type": None}, "type"),
        ({"repair_date": "24/11/2026"}, "repair_date"),
        ({"odometer_km": -5}, "odometer_km"),
        ({"odometer_km": "many"}, "odometer_km"),
        ({"odometer_km": 12.5}, "odometer_km"),
        ({"vin": 12345}, "vin"),
        ({"fulfilment": "pigeon"}, "fulfilment"),
        ({"lines": [{"kind": "part", "part_number": "P-100", "qty": 0}]}, "lines[0].qty"),
        ({"lines": [{"kind": "labor", "hours": "1.234"}]}, "lines[0].hours"),
        ({"lines": [{"kind": "other", "amount": "-1.00"}]}, "lines[0].amount"),
        ({"lines": [{"kind": "package"}]}, "lines[0].kind"),
        ({"lines": ["part"]}, "lines[0]"),
        ({"lines": "nope"}, "lines"),
    ],
)
def test_a_malformed_claim_is_400_naming_the_field_and_nothing_is_created(
    station, fleet, payload, field
):
    error = error_of(station.post("/claims", json=claim_payload(fleet, **payload)), 400)
    assert error["code"] == "malformed"
    assert field in error["fields"]
    assert station.get("/claims").get_json()["total"] == 0


@pytest.mark.parametrize("body", ["{not json", "[]", '"repair"', ""])
def test_a_body_that_is_no_json_object_is_400(station, body):
    response = station.post("/claims", data=body, headers={"Content-Type": "application/json"})
    assert error_of(response, 400)["code"] == "malformed"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"fault_code": "NOPE"}, "fault_code"),
        ({"causal_part": "NOPE"}, "causal_part"),
        ({"lines": [{"kind": "part", "part_number": "NOPE"}]}, "lines[0].part_number"),
        ({"type": "appraisal", "lines": [{"kind": "other", "amount": "5"}]}, "lines[0].kind"),
        ({"type": "emergency_part", "shipper_code": "OEM"}, "shipper_code"),
    ],
)
def test_an_unknown_reference_is_422_and_nothing_is_created(station, fleet, payload, field):
    error = error_of(station.post("/claims", json=claim_payload(fleet, **payload)), 422)
    assert error["code"] == "invalid"
    assert field in error["fields"]
    assert station.get("/claims").get_json()["total"] == 0


# -- editing ---------------------------------------------------------------------------------------


def test_patch_replaces_the_content_of_a_draft(station, fleet):
    number = create(station, fleet)["number"]
    body = claim_payload(fleet, lines=[{"kind": "part", "part_number": "P-200", "qty": 3}])
    del body["type"]  # the type may be left out
    response = station.patch(f"/claims/{number}", json=body, headers=if_match(station, number))
    assert response.status_code == 200
    claim = response.get_json()
    assert claim["amounts"] == {
        "parts": "136.50",
        "handling": "13.65",
        "labor": "0.00",
        "other": "0.00",
        "total": "150.15",
    }
    assert [(ln["part_number"], ln["qty"]) for ln in claim["lines"]] == [("P-200", 3)]
    assert [e["action"] for e in claim["events"]] == ["created", "edited"]
    assert station.get(f"/claims/{number}").get_json() == claim


def test_the_type_of_a_claim_cannot_change(station, fleet):
    number = create(station, fleet)["number"]
    error = error_of(
        station.patch(
            f"/claims/{number}",
            json=claim_payload(fleet, type="appraisal"),
            headers=if_match(station, number),
        ),
        422,
    )
    assert "type" in error["fields"]
    assert station.get(f"/claims/{number}").get_json()["type"] == "repair"


def test_a_bad_patch_changes_nothing(station, fleet):
    number = create(station, fleet)["number"]
    bad = claim_payload(fleet, fault_code="NOPE", odometer_km=20000)
    error_of(station.patch(f"/claims/{number}", json=bad, headers=if_match(station, number)), 422)
    claim = station.get(f"/claims/{number}").get_json()
    assert (claim["odometer_km"], claim["fault_code"]) == (15000, "P0301")
    assert [e["action"] for e in claim["events"]] == ["created"]


def test_a_submitted_claim_cannot_be_patched(station, fleet):
    number = create(station, fleet)["number"]
    submit(station, number)
    body = claim_payload(fleet)
    error = error_of(
        station.patch(f"/claims/{number}", json=body, headers=if_match(station, number)), 409
    )
    assert error["code"] == "conflict"


def test_a_returned_claim_is_edited_and_resubmitted_as_version_two(
    station, fleet, world, db_session
):
    ClaimSettings.current().auto_approve_enabled = False
    db_session.flush()
    number = create(station, fleet)["number"]
    assert submit(station, number)["status"] == "in_review"
    db_session.expire_all()
    claim = db_session.scalar(sa.select(Claim).where(Claim.number == number))
    ops.return_claim(claim, world.users["auditor"], "Photo of the pump missing")
    db_session.flush()
    body = claim_payload(fleet, lines=[{"kind": "part", "part_number": "P-100", "qty": 2}])
    assert (
        station.patch(f"/claims/{number}", json=body, headers=if_match(station, number)).status_code
        == 200
    )
    resubmitted = submit(station, number)
    assert resubmitted["version"] == 2
    first, second = resubmitted["versions"]
    assert first["changes"] == []
    assert {"what": "line P-100 qty", "old": 1, "new": 2} in second["changes"]
    returned = [e for e in resubmitted["events"] if e["action"] == "returned"]
    assert returned[0]["reason"] == "Photo of the pump missing"
    assert returned[0]["by"] == "auditor"


# -- comments and attachments ----------------------------------------------------------------------


def test_comments_open_once_the_claim_is_submitted(client, world, station, fleet):
    number = create(station, fleet)["number"]
    error = error_of(station.post(f"/claims/{number}/comments", json={"body": "Hello"}), 409)
    assert error["code"] == "conflict"
    submit(station, number)
    response = station.post(f"/claims/{number}/comments", json={"body": "Photos follow"})
    assert response.status_code == 201
    assert response.get_json()["by"] == "station_a"
    auditor = api_for(client, world, "auditor")
    assert auditor.post(f"/claims/{number}/comments", json={"body": "Thanks"}).status_code == 201
    comments = station.get(f"/claims/{number}").get_json()["comments"]
    assert [(c["by"], c["body"]) for c in comments] == [
        ("station_a", "Photos follow"),
        ("auditor", "Thanks"),
    ]
    assert "body" in error_of(station.post(f"/claims/{number}/comments", json={}), 400)["fields"]
    blank = station.post(f"/claims/{number}/comments", json={"body": "   "})
    assert "body" in error_of(blank, 422)["fields"]


def test_attachments_are_checked_and_only_added_while_editable(station, fleet):
    number = create(station, fleet)["number"]
    path = f"/claims/{number}/attachments"
    missing = station.post(path, data={}, content_type="multipart/form-data")
    assert "file" in error_of(missing, 400)["fields"]
    text = station.post(
        path,
        data={"file": (io.BytesIO(b"just text"), "photo.jpg")},
        content_type="multipart/form-data",
    )
    assert error_of(text, 422)["fields"] == {"file": "unsupported file type"}
    assert station.get(f"/claims/{number}").get_json()["attachments"] == []
    submit(station, number)
    late = station.post(
        path, data={"file": (io.BytesIO(PNG), "late.png")}, content_type="multipart/form-data"
    )
    assert error_of(late, 409)["code"] == "conflict"


# -- who may see and do what -----------------------------------------------------------------------


def test_another_stations_claim_is_404_for_every_endpoint(client, world, station, fleet):
    number = create(station, fleet, **roadside(fleet))["number"]
    upload = station.post(
        f"/claims/{number}/attachments",
        data={"file": (io.BytesIO(PNG), "r.png")},
        content_type="multipart/form-data",
    )
    attachment_id = upload.get_json()["id"]
    other = api_for(client, world, "station_b")
    answers = [
        other.get(f"/claims/{number}"),
        other.patch(f"/claims/{number}", json=claim_payload(fleet)),
        other.post(f"/claims/{number}/submit"),
        other.post(f"/claims/{number}/comments", json={"body": "me too"}),
        other.post(
            f"/claims/{number}/attachments",
            data={"file": (io.BytesIO(PNG), "x.png")},
            content_type="multipart/form-data",
        ),
        other.get(f"/claims/{number}/attachments/{attachment_id}"),
    ]
    for response in answers:
        assert error_of(response, 404)["code"] == "not_found"
    claim = station.get(f"/claims/{number}").get_json()
    assert claim["status"] == "draft" and claim["comments"] == []
    assert len(claim["attachments"]) == 1
    assert [e["action"] for e in claim["events"]] == ["created"]


def test_a_draft_is_private_to_its_station_until_submitted(client, world, station, fleet):
    number = create(station, fleet)["number"]
    auditor = api_for(client, world, "auditor")
    finance = api_for(client, world, "finance")
    for api in (auditor, finance):
        error_of(api.get(f"/claims/{number}"), 404)
        assert api.get("/claims").get_json()["total"] == 0
    submit(station, number)
    for api in (auditor, finance):
        assert api.get(f"/claims/{number}").get_json()["status"] == "approved"


def test_an_unknown_claim_is_404(station):
    assert error_of(station.get("/claims/RP-NOPE-0000-0001"), 404)["code"] == "not_found"


ROLE_GATES = [
    ("supplier", "GET", "/claims"),
    ("admin", "GET", "/claims"),
    ("auditor", "POST", "/claims"),
    ("finance", "POST", "/claims"),
    ("supplier", "POST", "/claims"),
    ("admin", "POST", "/claims"),
    ("supplier", "GET", "/claims/{number}"),
    ("admin", "GET", "/claims/{number}"),
    ("auditor", "PATCH", "/claims/{number}"),
    ("finance", "PATCH", "/claims/{number}"),
    ("auditor", "POST", "/claims/{number}/submit"),
    ("supplier", "POST", "/claims/{number}/submit"),
    ("finance", "POST", "/claims/{number}/comments"),
    ("supplier", "POST", "/claims/{number}/comments"),
    ("auditor", "POST", "/claims/{number}/attachments"),
    ("finance", "POST", "/claims/{number}/attachments"),
    ("supplier", "GET", "/claims/{number}/attachments/1"),
    ("supplier", "GET", "/vehicles/{vin}"),
    ("finance", "GET", "/vehicles/{vin}"),
    ("admin", "GET", "/vehicles/{vin}"),
]


@pytest.mark.parametrize(("role", "method", "path"), ROLE_GATES)
def test_a_role_that_may_never_do_it_gets_403(client, world, station, fleet, role, method, path):
    number = create(station, fleet)["number"]
    submit(station, number)
    api = api_for(client, world, role)
    url = path.format(number=number, vin=fleet.vehicle.vin)
    response = api.open(method, url, json=claim_payload(fleet))
    error = error_of(response, 403)
    assert error["code"] == "forbidden"


# -- lists -----------------------------------------------------------------------------------------


def test_each_role_lists_what_it_may_see_newest_first(client, world, station, fleet):
    first = create(station, fleet)["number"]
    second = create(station, fleet, type="appraisal", lines=[])["number"]
    third = create(station, fleet)["number"]
    submit(station, first)
    other = api_for(client, world, "station_b")
    create(other, fleet)

    listed = station.get("/claims").get_json()
    assert [c["number"] for c in listed["items"]] == [third, second, first]
    assert (listed["page"], listed["per_page"], listed["total"]) == (1, 25, 3)
    summary = listed["items"][2]
    assert summary == {
        "number": first,
        "type": "repair",
        "status": "approved",
        "version": 1,
        "vin": fleet.vehicle.vin,
        "station_code": "ST-A",
        "repair_date": days_ago(2),
        "total_amount": "230.00",
        "approved_total_amount": "230.00",
        "flagged": False,
        "submitted_at": summary["submitted_at"],
    }
    assert summary["submitted_at"] is not None

    for role in ("auditor", "finance"):
        seen = api_for(client, world, role).get("/claims").get_json()
        assert [c["number"] for c in seen["items"]] == [first]  # drafts are private
    assert other.get("/claims").get_json()["total"] == 1


def test_the_list_filters_by_status_and_type(station, fleet):
    repair = create(station, fleet)["number"]
    appraisal = create(station, fleet, type="appraisal", lines=[])["number"]
    submit(station, repair)

    def numbers(query: str) -> list[str]:
        return [c["number"] for c in station.get(f"/claims?{query}").get_json()["items"]]

    assert numbers("status=approved") == [repair]
    assert numbers("status=draft") == [appraisal]
    assert numbers("type=appraisal") == [appraisal]
    assert numbers("type=appraisal&status=approved") == []
    assert numbers("status=&type=") == [appraisal, repair]


def test_the_list_pages(station, fleet):
    made = [create(station, fleet)["number"] for _ in range(5)]
    page = station.get("/claims?per_page=2&page=2").get_json()
    assert [c["number"] for c in page["items"]] == [made[2], made[1]]
    assert (page["page"], page["per_page"], page["total"]) == (2, 2, 5)
    last = station.get("/claims?per_page=2&page=3").get_json()
    assert [c["number"] for c in last["items"]] == [made[0]]
    assert station.get("/claims?per_page=2&page=9").get_json()["items"] == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=lost", "status"),
        ("type=warranty", "type"),
        ("page=0", "page"),
        ("page=x", "page"),
        ("per_page=101", "per_page"),
        ("per_page=-1", "per_page"),
    ],
)
def test_a_bad_list_query_is_400(station, query, field):
    error = error_of(station.get(f"/claims?{query}"), 400)
    assert error["code"] == "malformed" and field in error["fields"]


# -- vehicles --------------------------------------------------------------------------------------


def test_a_station_looks_up_a_vehicle_with_its_coverage(client, world, station, fleet):
    submit(station, create(station, fleet)["number"])
    create(station, fleet)  # a draft does not count
    vehicle = fleet.vehicle
    response = api_for(client, world, "station_b").get(f"/vehicles/{vehicle.vin.lower()}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["vin"] == vehicle.vin
    assert (body["model_code"], body["model_name"]) == ("HX5", "Huaxing HX5")
    assert body["engine_no"] == vehicle.engine_no
    assert body["sale_date"] == vehicle.sale_date.isoformat()
    assert body["production_date"] == vehicle.production_date.isoformat()
    # the last known reading: the submitted claim's 15 000 km, not the imported 1 000 km
    assert (body["odometer_km"], body["selling_station"]) == (15000, "ST-A")
    assert (body["owner_name"], body["owner_phone"]) == ("张三", "13812345678")
    assert body["claims_count"] == 1
    coverage = {c["group"]: c for c in body["coverage"]}
    assert set(coverage) == {"basic", "powertrain", "wear"}
    assert coverage["basic"] == {
        "group": "basic",
        "months": 36,
        "km": 100000,
        "expires_on": coverage["basic"]["expires_on"],
        "km_left": 85000,
        "in_coverage": True,
        "contract": None,  # no extended warranty contract
    }
    assert coverage["wear"]["in_coverage"] is False  # 6 months, sold 400 days ago
    assert coverage["powertrain"]["in_coverage"] is True


def test_an_auditor_looks_up_a_vehicle_too(client, world, fleet):
    body = api_for(client, world, "auditor").get(f"/vehicles/{fleet.old_vehicle.vin}").get_json()
    assert {c["group"]: c["in_coverage"] for c in body["coverage"]} == {
        "basic": False,
        "powertrain": True,
        "wear": False,
    }


def test_an_unknown_vin_is_404_and_an_invalid_one_400(station, fleet):
    unknown = with_check_digit("LZZZZ000000000001")
    assert error_of(station.get(f"/vehicles/{unknown}"), 404)["code"] == "not_found"
    vin = fleet.vehicle.vin
    wrong = vin[:8] + ("1" if vin[8] != "1" else "2") + vin[9:]
    error = error_of(station.get(f"/vehicles/{wrong}"), 400)
    assert error["code"] == "malformed"
    assert "check digit (position 9)" in error["fields"]["vin"]
    assert "17 characters" in error_of(station.get("/vehicles/SHORT"), 400)["message"]
