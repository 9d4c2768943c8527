"""The OpenAPI document: valid, served without auth, the same routes as the app, enums from the
code, and the API's real answers conform to the schemas it declares."""

from __future__ import annotations

import io
import re

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from portal.claims.models import ClaimStatus, ClaimType
from portal.claims.payload import SENDABLE_KINDS
from tests.factories import Fleet, claim_payload
from tests.test_api_auth import API, api_for

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def document(client) -> dict:
    response = client.get(f"{API}/openapi.json")  # no token needed
    assert response.status_code == 200
    assert response.is_json
    return response.get_json()


@pytest.fixture
def fleet(world):
    return Fleet.build(world)


@pytest.fixture(autouse=True)
def uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path / "uploads"))


def conforms(document: dict, schema_name: str, instance) -> None:
    """Assert that `instance` is valid against the document's `components/schemas/<name>`."""
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    registry = Registry().with_resource("urn:portal-api", resource)
    validator = Draft202012Validator(
        {"$ref": f"urn:portal-api#/components/schemas/{schema_name}"},
        registry=registry,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(instance)]
    assert not errors, f"{schema_name}:\n" + "\n".join(errors)


def test_the_document_is_valid_openapi(document):
    validate(document)
    assert document["openapi"].startswith("3.1")
    assert document["servers"] == [{"url": API}]
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": document["components"]["securitySchemes"]["bearer"]["description"],
    }
    assert document["security"] == [{"bearer": []}]


def test_its_paths_are_exactly_the_apps_api_routes(app, document):
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(API + "/"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix(API))
        routes |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {
        (path, method)
        for path, item in document["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }
    assert documented == routes


def test_only_the_token_and_the_document_itself_are_open(document):
    open_operations = {
        (path, method)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and operation.get("security") == []
    }
    assert open_operations == {("/auth/token", "post"), ("/openapi.json", "get")}


def test_the_enums_come_from_the_code(document):
    schemas = document["components"]["schemas"]
    assert schemas["ClaimCreate"]["properties"]["type"]["enum"] == [t.value for t in ClaimType]
    line_kinds = schemas["ClaimLineInput"]["properties"]["kind"]["enum"]
    assert line_kinds == [k.value for k in SENDABLE_KINDS]
    assert schemas["ClaimSummary"]["properties"]["status"]["enum"] == [s.value for s in ClaimStatus]
    assert schemas["ClaimCreate"]["required"] == ["type"]


def test_every_error_answer_uses_the_error_schema(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for status, answer in operation["responses"].items():
                if status.startswith(("4", "5")):
                    ref = answer["$ref"].rsplit("/", 1)[1]
                    content = document["components"]["responses"][ref]["content"]
                    schema = content["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, (path, method)


def test_a_created_claim_has_every_property_the_document_requires(client, world, fleet, document):
    api = api_for(client, world, "station")
    claim = api.post("/claims", json=claim_payload(fleet)).get_json()
    schemas = document["components"]["schemas"]
    assert set(schemas["Claim"]["required"]) <= set(claim)
    assert set(schemas["Claim"]["required"]) == set(schemas["Claim"]["properties"])
    for line in claim["lines"]:
        assert set(schemas["ClaimLine"]["required"]) <= set(line)
    assert set(schemas["Amounts"]["required"]) <= set(claim["amounts"])
    conforms(document, "Claim", claim)
    # The check has teeth: money as a float, or a missing property, does not conform.
    with pytest.raises(AssertionError, match="total_amount"):
        conforms(document, "Claim", {**claim, "total_amount": 230.0})
    with pytest.raises(AssertionError, match="'flags' is a required property"):
        conforms(document, "Claim", {k: v for k, v in claim.items() if k != "flags"})


def test_the_apis_answers_conform_to_the_document(client, world, fleet, document):
    response = client.post(
        f"{API}/auth/token", json={"username": "station_a", "password": "Test-password-1"}
    )
    conforms(document, "Token", response.get_json())
    station = api_for(client, world, "station")

    roadside = claim_payload(
        fleet,
        type="roadside",
        fault_code=None,
        causal_part=None,
        lines=[
            {"kind": "trip", "qty": 64},
            {"kind": "labor", "hours": "2.00"},
            {"kind": "other", "amount": "35.00", "description": "Tolls"},
        ],
    )
    number = station.post("/claims", json=roadside).get_json()["number"]
    refused = station.post(f"/claims/{number}/submit")
    assert refused.status_code == 422
    conforms(document, "Error", refused.get_json())
    upload = station.post(
        f"/claims/{number}/attachments",
        data={"file": (io.BytesIO(PNG), "receipt.png")},
        content_type="multipart/form-data",
    )
    conforms(document, "Attachment", upload.get_json())
    submitted = station.post(f"/claims/{number}/submit").get_json()
    conforms(document, "Claim", submitted)
    assert submitted["versions"] and submitted["events"]

    flagged = station.post(
        "/claims",
        json=claim_payload(
            fleet, vin=fleet.old_vehicle.vin, odometer_km=95000, goodwill_reason="VIP"
        ),
    ).get_json()
    flagged = station.post(f"/claims/{flagged['number']}/submit").get_json()
    assert flagged["flags"]
    conforms(document, "Claim", flagged)
    comment = station.post(f"/claims/{flagged['number']}/comments", json={"body": "Photos"})
    conforms(document, "Comment", comment.get_json())

    conforms(document, "ClaimList", station.get("/claims").get_json())
    conforms(document, "Vehicle", station.get(f"/vehicles/{fleet.vehicle.vin}").get_json())
    for answer in (
        client.get(f"{API}/claims"),
        station.get("/claims/NOPE"),
        station.post("/claims", json={"type": "warranty"}),
        api_for(client, world, "supplier").get("/claims"),
        station.post(f"/claims/{number}/submit"),
    ):
        assert answer.status_code >= 400
        conforms(document, "Error", answer.get_json())
