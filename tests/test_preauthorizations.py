"""Pre-authorisations are spent once (DESIGN 3): an approved outsourced-purchase request
(外购申请单) funds one claim of the same station and VIN, repaired on or after its approval,
paid up to its cap; an approved appraisal (鉴定单) lets one major-assembly claim of its station
through. A rejected claim gives either back; two claims on one at once: one wins."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from portal.claims.models import Claim, ClaimSettings
from tests.factories import ClaimFactory, Fleet, UserFactory, World, claim_payload
from tests.test_api_auth import Api, api_for, error_of, token_for

TODAY = date.today().isoformat()


@pytest.fixture
def fleet(world):
    return Fleet.build(world)


@pytest.fixture
def station(client, world) -> Api:
    return api_for(client, world, "station")


@pytest.fixture
def auditor(client, world) -> Api:
    return api_for(client, world, "auditor")


def create(api: Api, fleet: Fleet, **overrides) -> dict:
    response = api.post("/claims", json=claim_payload(fleet, **overrides))
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def submit(api: Api, number: str, status: int = 200) -> dict:
    response = api.post(f"/claims/{number}/submit")
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def decide(api: Api, number: str, body: dict) -> dict:
    response = api.post(f"/claims/{number}/decision", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def approved_request(station: Api, auditor: Api, fleet: Fleet, cap: str = "800.00") -> str:
    """An outsourced-purchase request with `cap`, approved by an auditor today."""
    request = create(
        station,
        fleet,
        type="outsourced_purchase",
        fault_code=None,
        lines=[{"kind": "other", "amount": cap, "description": "Local glass: windscreen"}],
    )
    assert submit(station, request["number"])["status"] == "in_review"
    assert decide(auditor, request["number"], {"action": "approve"})["approved_total_amount"] == cap
    return request["number"]


def invoice(fleet: Fleet, request: str, **overrides) -> dict:
    """A repair claim drawing on `request`: a pump of 100.00 bought locally and an invoice."""
    data = dict(
        outsourced_request=request,
        repair_date=TODAY,
        lines=[
            {"kind": "part", "part_number": "P-100", "qty": 1},
            {"kind": "other", "amount": "300.00", "description": "Invoice 4411"},
        ],
    )
    data.update(overrides)
    return data


def refused_fields(api: Api, number: str) -> dict[str, str]:
    error = error_of(api.post(f"/claims/{number}/submit"), 422)
    assert api.get(f"/claims/{number}").get_json()["status"] == "draft"
    return error["fields"]


# -- outsourced purchase ---------------------------------------------------------------------------


def test_one_request_funds_one_claim_and_the_claim_names_it(station, auditor, fleet):
    request = approved_request(station, auditor, fleet)
    first = create(station, fleet, **invoice(fleet, request))
    assert submit(station, first["number"])["outsourced_request"] == request
    second = create(station, fleet, **invoice(fleet, request))
    fields = refused_fields(station, second["number"])
    assert fields["outsourced_request"].startswith("outsourced_request: ")
    assert first["number"] in fields["outsourced_request"]  # the station's own claim
    used = station.get(f"/claims/{request}").get_json()
    assert used["used_by"] == first["number"]


def test_a_repair_before_the_approval_is_refused(station, auditor, fleet):
    request = approved_request(station, auditor, fleet)
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    claim = create(station, fleet, **invoice(fleet, request, repair_date=yesterday))
    assert refused_fields(station, claim["number"])["repair_date"].startswith(
        "outsourced_request: "
    )


def test_another_stations_request_cannot_be_named(client, world, station, auditor, fleet):
    request = approved_request(station, auditor, fleet)
    other = api_for(client, world, "station_b")
    named = other.post("/claims", json=claim_payload(fleet, **invoice(fleet, request)))
    made_up = other.post("/claims", json=claim_payload(fleet, **invoice(fleet, "OP-NOPE-1")))
    # Exactly as if it did not exist: its existence is not leaked.
    assert error_of(named, 422)["fields"] == {
        "outsourced_request": error_of(made_up, 422)["fields"]["outsourced_request"].replace(
            "OP-NOPE-1", request
        )
    }


def test_purchased_parts_are_paid_up_to_the_cap_and_the_excess_is_cut(station, auditor, fleet):
    request = approved_request(station, auditor, fleet, cap="350.00")
    claim = create(station, fleet, **invoice(fleet, request))
    # Parts 100.00 + invoice 300.00 = 400.00 purchased, cap 350.00: never refused for it.
    decided = submit(station, claim["number"])
    assert decided["status"] == "partially_approved"  # auto-approved, under the threshold
    part, other = decided["lines"]
    assert (part["approved_amount"], part["reason_code"]) == ("100.00", None)
    assert (other["approved_amount"], other["reason_code"]) == ("250.00", "outsourced_cap")
    assert decided["approved_amounts"]["parts"] == "100.00"
    assert decided["approved_amounts"]["other"] == "250.00"
    assert decided["approved_total_amount"] == "360.00"  # + 10.00 handling on the parts


def test_the_cap_covers_part_lines_too(station, auditor, fleet):
    request = approved_request(station, auditor, fleet, cap="150.00")
    lines = [{"kind": "part", "part_number": "P-100", "qty": 2}]
    decided = submit(
        station, create(station, fleet, **invoice(fleet, request, lines=lines))["number"]
    )
    (part,) = decided["lines"]
    assert (part["approved_amount"], part["reason_code"]) == ("150.00", "outsourced_cap")


def test_an_auditors_approval_as_claimed_is_cut_to_the_cap(station, auditor, fleet, db_session):
    ClaimSettings.current().auto_approve_enabled = False
    db_session.flush()
    request = approved_request(station, auditor, fleet, cap="350.00")
    claim = create(station, fleet, **invoice(fleet, request))
    assert submit(station, claim["number"])["status"] == "in_review"
    decided = decide(auditor, claim["number"], {"action": "approve"})
    assert decided["status"] == "partially_approved"
    assert [ln["approved_amount"] for ln in decided["lines"]] == ["100.00", "250.00"]
    assert decided["lines"][1]["reason_code"] == "outsourced_cap"


def test_the_station_sees_the_cut_on_its_claim_page(station, auditor, fleet, login_as):
    request = approved_request(station, auditor, fleet, cap="350.00")
    number = create(station, fleet, **invoice(fleet, request))["number"]
    submit(station, number)
    page = login_as("station").get(f"/claims/{number}").get_data(as_text=True)
    assert request in page
    assert "Above the outsourced-purchase cap" in page


def test_a_rejected_claim_gives_the_request_back(station, auditor, fleet, db_session):
    ClaimSettings.current().auto_approve_enabled = False
    db_session.flush()
    request = approved_request(station, auditor, fleet)
    first = create(station, fleet, **invoice(fleet, request))
    submit(station, first["number"])
    second = create(station, fleet, **invoice(fleet, request))
    assert "outsourced_request" in refused_fields(station, second["number"])
    decide(auditor, first["number"], {"action": "reject", "reason": "not a warranty fault"})
    assert station.get(f"/claims/{request}").get_json()["used_by"] is None
    assert submit(station, second["number"])["status"] == "in_review"


# -- appraisal -------------------------------------------------------------------------------------


def major(**overrides) -> dict:
    data = dict(
        type="major_assembly",
        causal_part="ENG-1",
        lines=[{"kind": "part", "part_number": "ENG-1", "qty": 1}],
    )
    data.update(overrides)
    return data


def approved_appraisal(station: Api, auditor: Api, fleet: Fleet, **overrides) -> str:
    appraisal = create(station, fleet, type="appraisal", causal_part="ENG-1", lines=[], **overrides)
    submit(station, appraisal["number"])
    decide(auditor, appraisal["number"], {"action": "approve"})
    return appraisal["number"]


def test_an_appraisal_lets_one_major_assembly_claim_through(station, auditor, fleet):
    appraisal = approved_appraisal(station, auditor, fleet)
    first = create(station, fleet, **major())
    assert submit(station, first["number"])["appraisal"] == appraisal
    assert station.get(f"/claims/{appraisal}").get_json()["used_by"] == first["number"]
    second = create(station, fleet, **major())
    assert refused_fields(station, second["number"])["causal_part"].startswith(
        "appraisal_required: "
    )


def test_another_station_cannot_use_an_appraisal(client, world, station, auditor, fleet):
    approved_appraisal(station, auditor, fleet)
    other = api_for(client, world, "station_b")
    claim = create(other, fleet, **major())  # the same vehicle, at station B
    fields = refused_fields(other, claim["number"])
    assert fields["causal_part"].startswith("appraisal_required: ")


def test_a_rejected_major_assembly_claim_gives_the_appraisal_back(
    station, auditor, fleet, db_session
):
    ClaimSettings.current().auto_approve_enabled = False
    db_session.flush()
    appraisal = approved_appraisal(station, auditor, fleet)
    first = create(station, fleet, **major())
    submit(station, first["number"])
    second = create(station, fleet, **major())
    refused_fields(station, second["number"])
    decide(auditor, first["number"], {"action": "reject", "reason": "engine was fine"})
    assert station.get(f"/claims/{appraisal}").get_json()["used_by"] is None
    assert submit(station, second["number"])["appraisal"] == appraisal


# -- concurrency (PostgreSQL) ----------------------------------------------------------------------


def _race(committing_app, kind: str) -> None:
    """Two users of one station submit two claims on one pre-authorisation at once."""
    from portal.extensions import db

    with committing_app.app_context():
        world = World.build()
        fleet = Fleet.build(world)
        UserFactory(station=True, organisation=world.stations[0], username="station_a2")
        ClaimSettings.current().auto_approve_enabled = False
        if kind == "outsourced":
            request = ClaimFactory(
                fleet=fleet,
                approved=True,
                type="outsourced_purchase",
                lines=[{"kind": "other", "amount": "800.00", "description": "Glass"}],
            )
            payload = invoice(fleet, request.number)
        else:
            request = ClaimFactory(
                fleet=fleet, approved=True, type="appraisal", causal_part="ENG-1", lines=[]
            )
            payload = major()
        numbers = {
            name: ClaimFactory(fleet=fleet, **payload).number
            for name in ("station_a", "station_a2")
        }
        request_number = request.number
        db.session.commit()

    client = committing_app.test_client()
    apis = {name: Api(client, token_for(client, name)) for name in numbers}
    barrier = threading.Barrier(2)
    answers: dict[str, int] = {}

    def submit_at_once(name: str) -> None:
        barrier.wait()
        answers[name] = apis[name].post(f"/claims/{numbers[name]}/submit").status_code

    threads = [threading.Thread(target=submit_at_once, args=(name,)) for name in numbers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers.values()) == [200, 422], answers
    winner = next(name for name, status in answers.items() if status == 200)
    assert (
        apis["station_a"].get(f"/claims/{request_number}").get_json()["used_by"]
        == (numbers[winner])
    )
    with committing_app.app_context():
        live = db.session.scalar(
            sa.select(sa.func.count(Claim.id)).where(
                Claim.number.in_(numbers.values()), Claim.status != "draft"
            )
        )
        assert live == 1


@pytest.mark.postgres
def test_two_claims_on_one_outsourced_request_at_once_one_wins(committing_app):
    _race(committing_app, "outsourced")


@pytest.mark.postgres
def test_two_claims_on_one_appraisal_at_once_one_wins(committing_app):
    _race(committing_app, "appraisal")


def test_the_database_refuses_a_second_live_claim_on_one_request(
    station, auditor, fleet, db_session
):
    request = approved_request(station, auditor, fleet)
    first = create(station, fleet, **invoice(fleet, request))
    submit(station, first["number"])
    second = create(station, fleet, **invoice(fleet, request))
    db_session.expire_all()
    claim = db_session.scalar(sa.select(Claim).where(Claim.number == second["number"]))
    claim.submitted_at = sa.func.now()
    claim.status = "in_review"
    with pytest.raises(sa.exc.IntegrityError), db_session.begin_nested():
        db_session.flush()


def test_the_revision_lets_later_claims_go_of_a_request_an_earlier_claim_holds(
    station, auditor, fleet, db_session
):
    """Data of before: one request funding two live claims. The revision keeps the first."""
    import importlib.util
    from pathlib import Path

    import portal
    from portal.claims.models import ClaimEvent
    from portal.db import utcnow

    path = Path(portal.__file__).parent / "migrations/versions/0016_money_integrity.py"
    spec = importlib.util.spec_from_file_location("revision_0015", path)
    revision = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(revision)

    request = approved_request(station, auditor, fleet)
    first = submit(station, create(station, fleet, **invoice(fleet, request))["number"])["number"]
    second = create(station, fleet, **invoice(fleet, request))["number"]
    db_session.execute(sa.text("DROP INDEX uq_claim_outsourced_request_id_live"))
    db_session.execute(
        sa.update(Claim)
        .where(Claim.number == second)
        .values(status="in_review", submitted_at=utcnow())
    )

    assert revision.release_second_uses(db_session.connection()) == 1
    db_session.expire_all()
    claims = {c.number: c for c in db_session.scalars(sa.select(Claim))}
    assert claims[first].outsourced_request.number == request
    assert claims[second].outsourced_request is None
    event = db_session.scalars(
        sa.select(ClaimEvent).where(ClaimEvent.claim_id == claims[second].id)
    ).all()[-1]
    assert event.action == "request_released" and request in event.reason
