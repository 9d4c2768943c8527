"""Campaign claims (召回 / 服务活动单, DESIGN 3): the VIN is on an open campaign; once per VIN and
campaign; no coverage check; pre-filled with the campaign's package and approved automatically
when it is exactly that package, else reviewed; the campaign's supplier pays its share; old parts
follow their part's disposition. Through the API, as a dealer system files them.

The recall of these tests: 1.20 h of OP-1 and 1 x P-100 (100.00), 60% charged to SU-A. At
station A (80.00 / h, 10% parts handling): labor 96.00 + parts 100.00 + handling 10.00 = 206.00.
"""

from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from babel.dates import format_date

from portal.claims.models import Claim, ClaimSettings
from portal.oldparts.models import OldPartStatus, StationCharge
from portal.settlement.models import Chargeback, StatementLine
from tests.factories import CampaignFactory, Fleet, fleet_recall, old_parts
from tests.test_api_auth import api_for, error_of
from tests.test_api_settlement import released

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
REPAIRED = (date.today() - timedelta(days=2)).isoformat()
# The repair date as an English message shows it (portal.messages: dates in the reader's locale).
REPAIRED_SHOWN = format_date(date.today() - timedelta(days=2), locale="en")


@pytest.fixture
def fleet(world):
    return Fleet.build(world)


@pytest.fixture
def recall(fleet):
    return fleet_recall(fleet, [fleet.vehicle, fleet.old_vehicle])


@pytest.fixture
def station(client, world):
    return api_for(client, world, "station")


@pytest.fixture(autouse=True)
def uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path / "uploads"))


def payload(campaign, vehicle, **overrides) -> dict:
    return {
        "type": "campaign",
        "vin": vehicle.vin,
        "odometer_km": 15000,
        "repair_date": REPAIRED,
        "campaign": campaign.code,
        **overrides,
    }


def file(api, campaign, vehicle, **overrides) -> dict:
    response = api.post("/claims", json=payload(campaign, vehicle, **overrides))
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def submitted(api, number: str) -> dict:
    response = api.post(f"/claims/{number}/submit")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def refused(api, number: str, headers=None) -> dict:
    error = error_of(api.post(f"/claims/{number}/submit", headers=headers or {}), 422)
    assert error["code"] == "rule_refused"
    return error


# -- the VIN lookup -------------------------------------------------------------------------------


def test_the_vehicle_api_lists_the_open_campaigns_of_the_vin_recalls_first(station, fleet, recall):
    service = CampaignFactory(code="SC-1", service=True, vehicles=[fleet.vehicle])
    CampaignFactory(code="RC-OLD", closed=True, vehicles=[fleet.vehicle])
    CampaignFactory(code="RC-NEXT", future=True, vehicles=[fleet.vehicle])
    CampaignFactory(code="RC-OTHER", vehicles=[fleet.new_vehicle])

    body = station.get(f"/vehicles/{fleet.vehicle.vin}").get_json()

    assert body["campaigns"] == [
        {"code": "RC-1", "title": "Oil pump may leak", "kind": "recall", "done_on": None},
        {"code": "SC-1", "title": service.title, "kind": "service", "done_on": None},
    ]


def test_a_done_campaign_shows_the_day_it_was_done(station, fleet, recall):
    submitted(station, file(station, recall, fleet.vehicle)["number"])
    body = station.get(f"/vehicles/{fleet.vehicle.vin}").get_json()
    assert body["campaigns"][0]["done_on"] == REPAIRED


# -- filing: the package, auto-approval, review ------------------------------------------------


def test_a_campaign_claim_without_lines_is_filled_with_the_package_at_the_stations_rates(
    station, fleet, recall
):
    claim = file(station, recall, fleet.vehicle)
    assert claim["type"] == "campaign"
    assert claim["campaign"] == "RC-1"
    assert claim["number"].startswith("CP")
    assert [(ln["kind"], ln["operation_code"] or ln["part_number"]) for ln in claim["lines"]] == [
        ("labor", "OP-1"),
        ("part", "P-100"),
    ]
    assert claim["amounts"] == {
        "parts": "100.00",
        "handling": "10.00",
        "labor": "96.00",
        "other": "0.00",
        "total": "206.00",
    }


def test_exactly_the_package_is_approved_automatically_whatever_its_amount(station, fleet):
    engine_recall = CampaignFactory(
        operation=fleet.operation,
        hours=Decimal("8.00"),
        package=[(fleet.engine, 1)],
        vehicles=[fleet.vehicle],
    )
    claim = submitted(station, file(station, engine_recall, fleet.vehicle)["number"])
    assert Decimal(claim["total_amount"]) > Decimal("2000.00")  # above the threshold
    assert claim["status"] == "approved"
    assert claim["auto_decision_rule"] == "campaign_package"


def test_a_claim_other_than_the_package_is_reviewed_like_any_claim(station, fleet, recall):
    lines = [
        {"kind": "labor", "operation_code": "OP-1", "hours": "2.00"},
        {"kind": "part", "part_number": "P-100", "qty": 1},
    ]
    claim = submitted(station, file(station, recall, fleet.vehicle, lines=lines)["number"])
    assert claim["status"] == "in_review"
    queued = next(e for e in claim["events"] if e["action"] == "queued")
    assert "not the package of campaign RC-1" in queued["reason"]
    assert "2 labor hours instead of 1" in queued["reason"]

    auditor = api_for(station.client, fleet.world, "auditor")
    decided = auditor.post(f"/claims/{claim['number']}/decision", json={"action": "approve"})
    assert decided.status_code == 200, decided.get_data(as_text=True)
    assert decided.get_json()["responsible_supplier"] == "SU-A"  # the campaign's supplier


def test_with_auto_approval_switched_off_even_the_package_is_reviewed(
    station, fleet, recall, db_session
):
    ClaimSettings.current().auto_approve_enabled = False
    db_session.flush()
    claim = submitted(station, file(station, recall, fleet.vehicle)["number"])
    assert claim["status"] == "in_review"


def test_a_vehicle_outside_its_coverage_gets_its_campaign_work_no_coverage_check(
    station, fleet, recall
):
    claim = submitted(
        station, file(station, recall, fleet.old_vehicle, odometer_km=95000)["number"]
    )
    assert claim["status"] == "approved"
    assert claim["flags"] == []


# -- refusals -----------------------------------------------------------------------------------


def test_a_second_claim_of_the_same_station_is_refused_naming_the_first(station, fleet, recall):
    first = submitted(station, file(station, recall, fleet.vehicle)["number"])
    error = refused(station, file(station, recall, fleet.vehicle)["number"])
    assert error["fields"]["campaign"] == (
        f"campaign_done: The work of campaign RC-1 on VIN {fleet.vehicle.vin} is already done: "
        f"{first['number']} of {REPAIRED_SHOWN}."
    )


def test_another_stations_second_claim_is_refused_as_already_done_without_the_number(
    client, station, fleet, recall
):
    first = submitted(station, file(station, recall, fleet.vehicle)["number"])
    station_b = api_for(client, fleet.world, "station_b")
    error = refused(station_b, file(station_b, recall, fleet.vehicle)["number"])
    message = error["fields"]["campaign"]
    assert message == (
        f"campaign_done: The work of campaign RC-1 on VIN {fleet.vehicle.vin} is already done "
        f"({REPAIRED_SHOWN})."
    )
    assert first["number"] not in error["message"]


def test_the_refusal_is_in_the_readers_language(client, station, fleet, recall):
    submitted(station, file(station, recall, fleet.vehicle)["number"])
    station_b = api_for(client, fleet.world, "station_b")
    error = refused(station_b, file(station_b, recall, fleet.vehicle)["number"], ZH)
    assert "已完成" in error["fields"]["campaign"]


def test_a_rejected_claim_leaves_the_work_to_do(station, fleet, recall, db_session):
    ClaimSettings.current().auto_approve_enabled = False
    db_session.flush()
    first = submitted(station, file(station, recall, fleet.vehicle)["number"])
    auditor = api_for(station.client, fleet.world, "auditor")
    rejected = auditor.post(
        f"/claims/{first['number']}/decision", json={"action": "reject", "reason": "No photos"}
    )
    assert rejected.status_code == 200
    again = submitted(station, file(station, recall, fleet.vehicle)["number"])
    assert again["status"] == "in_review"


def test_a_vin_not_on_the_campaign_is_refused(station, fleet, recall):
    error = refused(station, file(station, recall, fleet.new_vehicle)["number"])
    assert error["fields"]["vin"] == (
        f"campaign: VIN {fleet.new_vehicle.vin} is not on campaign RC-1."
    )


@pytest.mark.parametrize(
    ("trait", "field", "message"),
    [
        ("closed", "campaign", "Campaign {code} is closed."),
        ("future", "repair_date", "Campaign {code} starts on"),
        ("ended", "repair_date", "Campaign {code} ended on"),
    ],
)
def test_a_closed_future_or_ended_campaign_is_refused(station, fleet, trait, field, message):
    campaign = CampaignFactory(vehicles=[fleet.vehicle], **{trait: True})
    error = refused(station, file(station, campaign, fleet.vehicle)["number"])
    assert message.format(code=campaign.code) in error["fields"][field]


def test_a_campaign_claim_needs_its_campaign(station, fleet, recall):
    claim = file(station, SimpleNamespace(code=None), fleet.vehicle)
    error = refused(station, claim["number"])
    assert (
        "Campaign is required for a claim of type recall or service campaign"
        in error["fields"]["campaign"]
    )


def test_an_unknown_campaign_is_refused_at_once(station, fleet):
    response = station.post("/claims", json=payload(SimpleNamespace(code="NOPE"), fleet.vehicle))
    error = error_of(response, 422)
    assert error["fields"]["campaign"] == "no such record: NOPE"


# -- old parts and settlement -------------------------------------------------------------------


def test_the_old_parts_of_a_campaign_claim_follow_their_parts_disposition(
    station, fleet, db_session
):
    campaign = CampaignFactory(
        operation=fleet.operation,
        package=[(fleet.part, 1), (fleet.filter, 2)],
        vehicles=[fleet.vehicle],
    )
    number = submitted(station, file(station, campaign, fleet.vehicle)["number"])["number"]
    claim = db_session.scalar(sa.select(Claim).where(Claim.number == number))
    parts = {
        (p.part.number, p.status, p.destination.code if p.destination else None)
        for p in old_parts(claim)
    }
    assert parts == {
        ("P-100", OldPartStatus.AWAITING_RETURN, "OEM"),
        ("FLT-1", OldPartStatus.WRITTEN_OFF, None),
    }
    residual = db_session.scalar(
        sa.select(StationCharge.amount).where(StationCharge.claim_id == claim.id)
    )
    assert residual == Decimal("4.00")  # 2 x 20.00 x 10%


def test_settlement_pays_the_station_and_charges_the_campaigns_supplier_its_share(
    client, station, fleet, db_session
):
    # 5.00 h: above SU-A's 4-hour cap, which a campaign's agreed package does not apply.
    campaign = CampaignFactory(
        operation=fleet.operation,
        hours=Decimal("5.00"),
        package=[(fleet.part, 1)],
        supplier=fleet.world.suppliers[0],
        recovery_share=Decimal("0.60"),
        vehicles=[fleet.vehicle],
    )
    number = submitted(station, file(station, campaign, fleet.vehicle)["number"])["number"]
    claim = db_session.scalar(sa.select(Claim).where(Claim.number == number))
    assert claim.approved_total_amount == Decimal("510.00")  # 400.00 + 100.00 + 10.00

    released(api_for(client, fleet.world, "finance"))

    line = db_session.scalar(sa.select(StatementLine).where(StatementLine.claim_id == claim.id))
    assert line.amount == Decimal("510.00")
    chargeback = db_session.scalar(sa.select(Chargeback).where(Chargeback.claim_id == claim.id))
    assert chargeback.supplier_id == fleet.world.suppliers[0].id
    assert chargeback.recovery_share == Decimal("0.6")
    assert chargeback.labor_amount == Decimal("400.00")  # no hours cap
    assert chargeback.recovery_amount == Decimal("300.00")  # (100.00 + 400.00) x 60%
    assert chargeback.handling_fee == Decimal("5.00")  # 100.00 x 5%
    assert chargeback.amount == Decimal("305.00")


def test_the_campaigns_supplier_is_charged_even_for_another_suppliers_part(
    client, station, fleet, db_session
):
    """The campaign names who bears it: SU-B pays its 40% of a package whose part SU-A makes."""
    campaign = CampaignFactory(
        operation=fleet.operation,
        hours=Decimal("1.20"),
        package=[(fleet.part, 1)],  # P-100, made by SU-A
        supplier=fleet.world.suppliers[1],
        recovery_share=Decimal("0.40"),
        vehicles=[fleet.vehicle],
    )
    number = submitted(station, file(station, campaign, fleet.vehicle)["number"])["number"]
    claim = db_session.scalar(sa.select(Claim).where(Claim.number == number))
    assert claim.approved_total_amount == Decimal("206.00")

    released(api_for(client, fleet.world, "finance"))

    chargebacks = db_session.scalars(
        sa.select(Chargeback).where(Chargeback.claim_id == claim.id)
    ).all()
    assert [c.supplier_id for c in chargebacks] == [fleet.world.suppliers[1].id]
    (chargeback,) = chargebacks
    assert chargeback.recovery_share == Decimal("0.4")
    assert chargeback.recovery_amount == Decimal("78.40")  # (100.00 + 96.00) x 40%
    line = db_session.scalar(sa.select(StatementLine).where(StatementLine.claim_id == claim.id))
    assert line.amount == Decimal("206.00")  # the station is paid in full


def test_a_campaign_the_oem_bears_alone_charges_no_supplier(client, station, fleet, db_session):
    campaign = CampaignFactory(
        operation=fleet.operation, package=[(fleet.part, 1)], vehicles=[fleet.vehicle]
    )
    number = submitted(station, file(station, campaign, fleet.vehicle)["number"])["number"]
    claim = db_session.scalar(sa.select(Claim).where(Claim.number == number))
    assert claim.responsible_supplier is None
    released(api_for(client, fleet.world, "finance"))
    assert db_session.scalar(sa.select(Chargeback).where(Chargeback.claim_id == claim.id)) is None


# -- once per VIN and campaign, also at the same moment -------------------------------------------


@pytest.mark.postgres
def test_two_stations_submitting_the_same_vehicles_campaign_work_at_once_one_wins(
    committing_app,
):
    from portal.claims import operations as ops
    from portal.claims.payload import parse_claim
    from portal.extensions import db
    from tests.factories import World
    from tests.test_api_auth import Api, token_for

    with committing_app.app_context():
        world = World.build()
        fleet = Fleet.build(world)
        campaign = CampaignFactory(
            operation=fleet.operation, package=[(fleet.part, 1)], vehicles=[fleet.vehicle]
        )
        numbers = {
            name: ops.create_claim(
                world.users[role], parse_claim(payload(campaign, fleet.vehicle))
            ).number
            for name, role in (("station_a", "station"), ("station_b", "station_b"))
        }
        db.session.commit()

    client = committing_app.test_client()
    apis = {name: Api(client, token_for(client, name)) for name in numbers}
    barrier = threading.Barrier(2)
    answers: dict[str, int] = {}

    def submit(name: str) -> None:
        barrier.wait()
        answers[name] = apis[name].post(f"/claims/{numbers[name]}/submit").status_code

    threads = [threading.Thread(target=submit, args=(name,)) for name in numbers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers.values()) in ([200, 409], [200, 422])
    with committing_app.app_context():
        live = db.session.scalars(
            sa.select(Claim.status).where(Claim.campaign_id.isnot(None), Claim.status != "draft")
        ).all()
        assert len(live) == 1
