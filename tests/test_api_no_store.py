"""No API answer may be kept by a browser or a proxy: claims carry owners' data and money."""

from __future__ import annotations

import io

import pytest

from tests.factories import PASSWORD, Fleet, claim_payload
from tests.test_api_auth import API, api_for


@pytest.fixture
def fleet(world):
    return Fleet.build(world)


def assert_not_stored(response) -> None:
    assert response.headers.get("Cache-Control") == "no-store", response.headers
    assert response.headers.get("Pragma") == "no-cache"


def test_every_api_answer_success_or_error_says_no_store(client, world, fleet):
    station = api_for(client, world, "station")
    created = station.post("/claims", json=claim_payload(fleet))
    assert created.status_code == 201
    number = created.get_json()["number"]
    answers = [
        created,
        station.get("/claims"),
        station.get(f"/claims/{number}"),
        station.get(f"/vehicles/{fleet.vehicle.vin}"),
        station.get("/old-parts"),
        station.get("/statements?kind=station"),
        station.get("/claims/NO-SUCH-CLAIM"),  # 404 from the view
        station.post("/claims", data="not json"),  # 400
        station.get("/settlement/runs"),  # 403
        client.get(f"{API}/claims"),  # 401
        client.get(f"{API}/no-such-endpoint"),  # 404 outside every view
        client.post(f"{API}/auth/token", json={"username": "station_a", "password": "wrong"}),
        client.delete(f"{API}/claims"),  # 405
        api_for(client, world, "supplier").get("/statements?kind=supplier"),
        api_for(client, world, "auditor").get("/reason-codes"),
    ]
    assert [r.status_code for r in answers] == [
        201, 200, 200, 200, 200, 200, 404, 400, 403, 401, 404, 401, 405, 200, 200,
    ]  # fmt: skip
    for response in answers:
        assert_not_stored(response)


def test_an_attachment_download_is_not_stored(app, client, world, fleet, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path / "uploads"))
    station = api_for(client, world, "station")
    number = station.post("/claims", json=claim_payload(fleet)).get_json()["number"]
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    uploaded = station.post(
        f"/claims/{number}/attachments",
        data={"file": (io.BytesIO(png), "pump.png")},
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 201
    assert_not_stored(uploaded)
    with station.get(uploaded.get_json()["url"].removeprefix(API)) as download:
        assert download.status_code == 200 and download.data == png
        assert_not_stored(download)


def test_the_token_answer_is_not_stored(client, world):
    response = client.post(
        f"{API}/auth/token", json={"username": "station_a", "password": PASSWORD}
    )
    assert_not_stored(response)


def test_pages_keep_their_own_cache_policy(client):
    assert client.get("/login").headers["Cache-Control"] == "no-store"
    assert "Pragma" not in client.get("/static/portal.css").headers
