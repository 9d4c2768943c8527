"""Editing a claim through the API never loses an update: `PATCH /claims/{number}` names the
revision the client last saw (the `ETag` of `GET`, in `If-Match`, or `revision` in the body);
a stale one is a 409 that changes nothing, a missing one a 428."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from portal.claims import operations as ops
from portal.claims.models import Claim
from tests import factories
from tests.factories import ClaimFactory, Fleet, World, claim_payload
from tests.test_api_auth import Api, api_for, error_of, token_for


@pytest.fixture
def fleet(world):
    return Fleet.build(world)


@pytest.fixture
def station(client, world) -> Api:
    return api_for(client, world, "station")


def created(station: Api, fleet: Fleet) -> tuple[str, str]:
    response = station.post("/claims", json=claim_payload(fleet))
    assert response.status_code == 201
    return response.get_json()["number"], response.headers["ETag"]


def two_pumps(fleet: Fleet) -> dict:
    return claim_payload(fleet, lines=[{"kind": "part", "part_number": "P-100", "qty": 2}])


def test_get_answers_an_etag_naming_the_claim_and_its_revision(station, fleet):
    number, tag = created(station, fleet)
    response = station.get(f"/claims/{number}")
    claim = response.get_json()
    assert response.headers["ETag"] == tag == f'"{number}-r{claim["revision"]}"'


def test_a_patch_with_the_current_etag_is_saved_and_answers_the_next_etag(station, fleet):
    number, tag = created(station, fleet)
    response = station.patch(f"/claims/{number}", json=two_pumps(fleet), headers={"If-Match": tag})
    assert response.status_code == 200, response.get_data(as_text=True)
    claim = response.get_json()
    assert claim["lines"][0]["qty"] == 2
    assert response.headers["ETag"] != tag
    assert response.headers["ETag"] == station.get(f"/claims/{number}").headers["ETag"]


def test_the_revision_may_be_given_in_the_body_instead(station, fleet):
    number, _tag = created(station, fleet)
    revision = station.get(f"/claims/{number}").get_json()["revision"]
    body = {**two_pumps(fleet), "revision": revision}
    assert station.patch(f"/claims/{number}", json=body).status_code == 200
    stale = error_of(station.patch(f"/claims/{number}", json=body), 409)
    assert stale["code"] == "conflict"


def test_a_stale_etag_is_a_409_naming_the_current_revision_and_changes_nothing(station, fleet):
    number, first = created(station, fleet)
    saved = station.patch(f"/claims/{number}", json=two_pumps(fleet), headers={"If-Match": first})
    assert saved.status_code == 200
    before = station.get(f"/claims/{number}").get_json()

    late = claim_payload(fleet, odometer_km=99999)
    error = error_of(
        station.patch(f"/claims/{number}", json=late, headers={"If-Match": first}), 409
    )

    assert error["code"] == "conflict"
    assert f"revision {before['revision']}" in error["message"]
    assert "revision" in error["fields"]
    after = station.get(f"/claims/{number}")
    assert after.get_json() == before
    assert after.headers["ETag"] == saved.headers["ETag"]


@pytest.mark.parametrize(
    "headers",
    [{}, {"If-Match": "*"}],
    ids=["no If-Match", "If-Match star"],
)
def test_a_patch_that_names_no_revision_is_428_and_changes_nothing(station, fleet, headers):
    number, tag = created(station, fleet)
    response = station.patch(f"/claims/{number}", json=two_pumps(fleet), headers=headers)
    error = error_of(response, 428)
    assert error["code"] == "precondition_required"
    assert "If-Match" in error["fields"] and "revision" in error["message"]
    after = station.get(f"/claims/{number}")
    assert after.headers["ETag"] == tag and after.get_json()["lines"][0]["qty"] == 1


@pytest.mark.parametrize("revision", ["two", 0, -1, True, 1.5])
def test_a_malformed_body_revision_is_400(station, fleet, revision):
    number, _tag = created(station, fleet)
    body = {**two_pumps(fleet), "revision": revision}
    assert "revision" in error_of(station.patch(f"/claims/{number}", json=body), 400)["fields"]


def test_another_stations_claim_is_still_404_whatever_the_etag(client, world, station, fleet):
    number, tag = created(station, fleet)
    other = api_for(client, world, "station_b")
    response = other.patch(f"/claims/{number}", json=two_pumps(fleet), headers={"If-Match": tag})
    assert error_of(response, 404)["code"] == "not_found"


def test_a_returned_claim_is_edited_with_the_etag_it_has_after_the_return(
    station, fleet, world, db_session
):
    from portal.claims.models import ClaimSettings

    ClaimSettings.current().auto_approve_enabled = False
    db_session.flush()
    number, tag = created(station, fleet)
    assert station.post(f"/claims/{number}/submit").get_json()["status"] == "in_review"
    db_session.expire_all()
    claim = db_session.scalar(sa.select(Claim).where(Claim.number == number))
    ops.return_claim(claim, world.users["auditor"], "Photo missing")
    db_session.flush()
    # Submitting and returning changed the claim: the draft's tag no longer matches.
    error_of(
        station.patch(f"/claims/{number}", json=two_pumps(fleet), headers={"If-Match": tag}), 409
    )
    current = station.get(f"/claims/{number}").headers["ETag"]
    response = station.patch(
        f"/claims/{number}", json=two_pumps(fleet), headers={"If-Match": current}
    )
    assert response.status_code == 200


@pytest.mark.postgres
def test_two_patches_at_once_with_the_same_etag_one_wins_the_other_gets_409(committing_app):
    from portal.extensions import db

    with committing_app.app_context():
        world = World.build()
        fleet = Fleet.build(world)
        factories.UserFactory(station=True, organisation=world.stations[0], username="station_a2")
        number = ClaimFactory(fleet=fleet).number
        bodies = {
            "station_a": claim_payload(fleet, odometer_km=16000),
            "station_a2": claim_payload(fleet, odometer_km=17000),
        }
        db.session.commit()

    client = committing_app.test_client()
    apis = {name: Api(client, token_for(client, name)) for name in bodies}
    tag = apis["station_a"].get(f"/claims/{number}").headers["ETag"]
    barrier = threading.Barrier(2)
    answers: dict[str, tuple[int, str | None]] = {}

    def patch(name: str) -> None:
        barrier.wait()
        response = apis[name].patch(
            f"/claims/{number}", json=bodies[name], headers={"If-Match": tag}
        )
        answers[name] = (response.status_code, response.headers.get("ETag"))

    threads = [threading.Thread(target=patch, args=(name,)) for name in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(status for status, _etag in answers.values()) == [200, 409]
    winner = next(name for name, (status, _etag) in answers.items() if status == 200)
    final = apis["station_a"].get(f"/claims/{number}")
    assert final.get_json()["odometer_km"] == bodies[winner]["odometer_km"]
    assert final.headers["ETag"] == answers[winner][1]
    assert [e["action"] for e in final.get_json()["events"]] == ["created", "edited"]


def test_the_openapi_document_describes_if_match_409_and_428(client):
    document = client.get("/api/v1/openapi.json").get_json()
    claim = document["paths"]["/claims/{number}"]
    patch = claim["patch"]
    assert [p["name"] for p in patch["parameters"]] == ["If-Match"]
    assert {"200", "409", "428"} <= set(patch["responses"])
    assert "ETag" in patch["responses"]["200"]["headers"]
    assert "ETag" in claim["get"]["responses"]["200"]["headers"]
    assert "revision" in document["components"]["schemas"]["ClaimUpdate"]["properties"]
