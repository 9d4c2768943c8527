"""Bulk actions through HTTP, each all or nothing with a clear result: a station submits the
drafts it ticked, an auditor approves ticked clean claims and a supplier accepts ticked
chargebacks, both after a confirmation page with the count and the total."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.claims.models import ClaimSettings, ClaimStatus
from portal.settlement.models import Chargeback, ChargebackStatus
from tests.factories import ClaimFactory, Fleet, SettlementRunFactory


@pytest.fixture
def login_as(switching_login):
    return switching_login


@pytest.fixture
def fleet(world):
    ClaimSettings.current().auto_approve_enabled = False
    return Fleet.build(world)


def text(response) -> str:
    return response.get_data(as_text=True)


def flashed(client, response) -> str:
    assert response.status_code == 302, text(response)[:400]
    return text(client.get(response.headers["Location"]))


# -- the station submits its ticked drafts ---------------------------------------------------------


def test_the_station_submits_the_drafts_it_ticked(login_as, fleet):
    drafts = [ClaimFactory(fleet=fleet, own_vehicle=True) for _ in range(2)]
    untouched = ClaimFactory(fleet=fleet, own_vehicle=True)
    client = login_as("station")
    page = text(client.get("/dealer/"))
    assert 'data-testid="submit-selected"' in page
    assert f'name="number" value="{drafts[0].number}"' in page
    response = client.post("/dealer/submit", data={"number": [c.number for c in drafts]})
    assert "2 claims were submitted: 0 approved automatically, 2 wait for an auditor." in flashed(
        client, response
    )
    assert [c.status for c in drafts] == [ClaimStatus.IN_REVIEW, ClaimStatus.IN_REVIEW]
    assert untouched.status is ClaimStatus.DRAFT


def test_one_refused_draft_submits_none_and_names_it(login_as, fleet):
    good = ClaimFactory(fleet=fleet, own_vehicle=True)
    bad = ClaimFactory(fleet=fleet, own_vehicle=True, vin="")  # no VIN: the checks refuse it
    client = login_as("station")
    response = client.post("/dealer/submit", data={"number": [good.number, bad.number]})
    page = flashed(client, response)
    assert f"Nothing was submitted: claim {bad.number} was refused" in page
    assert good.status is ClaimStatus.DRAFT and bad.status is ClaimStatus.DRAFT


def test_the_station_submits_in_chinese_too(login_as, fleet):
    draft = ClaimFactory(fleet=fleet, own_vehicle=True)
    client = login_as("station")
    client.post("/lang/zh_CN")
    page = flashed(client, client.post("/dealer/submit", data={"number": draft.number}))
    assert "已提交 1 张索赔单：0 张自动批准，1 张等待审核员审核。" in page
    assert draft.status is ClaimStatus.IN_REVIEW


def test_another_stations_draft_or_nothing_ticked_submits_nothing(login_as, fleet):
    mine = ClaimFactory(fleet=fleet, own_vehicle=True)
    theirs = ClaimFactory(fleet=fleet, own_vehicle=True, station="station_b")
    client = login_as("station")
    response = client.post("/dealer/submit", data={"number": [mine.number, theirs.number]})
    assert response.status_code == 404
    assert mine.status is ClaimStatus.DRAFT and theirs.status is ClaimStatus.DRAFT
    assert "tick at least one" in flashed(client, client.post("/dealer/submit", data={}))
    assert (
        login_as("auditor").post("/dealer/submit", data={"number": mine.number}).status_code == 403
    )


def test_a_claim_no_longer_a_draft_is_a_conflict(login_as, fleet):
    draft = ClaimFactory(fleet=fleet, own_vehicle=True)
    queued = ClaimFactory(fleet=fleet, own_vehicle=True, in_review=True)
    client = login_as("station")
    page = flashed(
        client, client.post("/dealer/submit", data={"number": [draft.number, queued.number]})
    )
    assert f"claim {queued.number} is no longer a draft" in page
    assert draft.status is ClaimStatus.DRAFT


# -- the auditor approves ticked clean claims ------------------------------------------------------


@pytest.fixture
def clean(fleet):
    return [ClaimFactory(fleet=fleet, own_vehicle=True, in_review=True) for _ in range(2)]


def test_the_auditor_confirms_count_and_total_then_approves_clean_claims(login_as, clean):
    client = login_as("auditor")
    queue = text(client.get("/oem/review"))
    assert 'data-testid="approve-selected"' in queue
    assert f'name="number" value="{clean[0].number}"' in queue
    total = sum(c.total_amount for c in clean)
    numbers = [c.number for c in clean]
    asked = client.post("/oem/review/approve", data={"number": numbers})
    assert asked.status_code == 200
    page = text(asked)
    assert f"Approve 2 claims for CN¥{total:,.2f} in total?" in page
    assert all(c.status is ClaimStatus.IN_REVIEW for c in clean)  # nothing yet
    done = client.post(
        "/oem/review/approve", data={"number": numbers, "confirmed": "yes", "total": str(total)}
    )
    assert f"2 claims were approved as claimed: CN¥{total:,.2f} in total." in flashed(client, done)
    assert all(c.status is ClaimStatus.APPROVED for c in clean)
    assert all(c.approved_total_amount == c.total_amount for c in clean)


def test_a_flagged_claim_among_the_ticked_approves_none(login_as, clean, fleet):
    flagged = ClaimFactory(
        fleet=fleet,
        own_vehicle=True,
        in_review=True,
        lines=[
            {"kind": "labor", "operation_code": "OP-1", "hours": "3.00", "description": "Corroded"}
        ],
    )
    assert flagged.flag_mask
    client = login_as("auditor")
    assert f'name="number" value="{flagged.number}"' not in text(client.get("/oem/review"))
    numbers = [clean[0].number, flagged.number]
    page = flashed(client, client.post("/oem/review/approve", data={"number": numbers}))
    assert f"Nothing was approved: {flagged.number} cannot be approved with others" in page
    assert clean[0].status is ClaimStatus.IN_REVIEW


def test_a_changed_total_after_the_confirmation_approves_none(login_as, clean):
    client = login_as("auditor")
    response = client.post(
        "/oem/review/approve",
        data={"number": [c.number for c in clean], "confirmed": "yes", "total": "1.00"},
    )
    assert "Nothing was approved: the ticked claims changed" in flashed(client, response)
    assert all(c.status is ClaimStatus.IN_REVIEW for c in clean)


def test_bulk_approval_is_for_auditors_and_known_claims_only(login_as, clean):
    numbers = [c.number for c in clean]
    assert (
        login_as("station").post("/oem/review/approve", data={"number": numbers}).status_code == 403
    )
    auditor = login_as("auditor")
    missing = auditor.post("/oem/review/approve", data={"number": [*numbers, "RP-NOPE-0001"]})
    assert missing.status_code == 404


def test_the_auditor_approves_in_chinese(login_as, clean):
    client = login_as("auditor")
    client.post("/lang/zh_CN")
    asked = text(client.post("/oem/review/approve", data={"number": clean[0].number}))
    assert f"批准 1 张索赔单，合计 ¥{clean[0].total_amount:,.2f}？" in asked


# -- the supplier accepts ticked chargebacks -------------------------------------------------------


@pytest.fixture
def chargebacks(world, fleet, db_session):
    claims = [
        ClaimFactory(
            fleet=fleet,
            approved=True,
            own_vehicle=True,
            lines=[{"kind": "part", "part_number": "P-100", "qty": n}],
        )
        for n in (1, 2)
    ]
    theirs = ClaimFactory(
        fleet=fleet,
        approved=True,
        own_vehicle=True,
        causal_part="P-200",
        lines=[{"kind": "part", "part_number": "P-200", "qty": 1}],
    )
    SettlementRunFactory(world=world, released=True)

    def of(claim):
        return db_session.scalar(sa.select(Chargeback).where(Chargeback.claim_id == claim.id))

    return [of(c) for c in claims], of(theirs)


def test_the_supplier_confirms_count_and_total_then_accepts(login_as, chargebacks):
    mine, _theirs = chargebacks
    client = login_as("supplier")
    assert 'data-testid="accept-selected"' in text(client.get("/settlement/chargebacks"))
    ids = [cb.id for cb in mine]
    total = sum(cb.amount for cb in mine)
    asked = client.post("/settlement/chargebacks/accept", data={"id": ids})
    assert asked.status_code == 200
    assert f"Accept 2 chargebacks for CN¥{total:,.2f} in total?" in text(asked)
    assert all(cb.status is ChargebackStatus.OPEN for cb in mine)
    done = client.post(
        "/settlement/chargebacks/accept", data={"id": ids, "confirmed": "yes", "total": str(total)}
    )
    assert f"2 chargebacks accepted: CN¥{total:,.2f} in total." in flashed(client, done)
    assert all(cb.status is ChargebackStatus.ACCEPTED for cb in mine)


def test_another_suppliers_chargeback_or_a_done_one_accepts_none(login_as, chargebacks):
    mine, theirs = chargebacks
    client = login_as("supplier")
    foreign = client.post(
        "/settlement/chargebacks/accept",
        data={"id": [mine[0].id, theirs.id], "confirmed": "yes", "total": "0"},
    )
    assert foreign.status_code == 404
    assert client.post("/settlement/chargebacks/accept", data={"id": "x"}).status_code == 404
    total = str(mine[0].amount)
    client.post(
        "/settlement/chargebacks/accept",
        data={"id": mine[0].id, "confirmed": "yes", "total": total},
    )
    again = client.post("/settlement/chargebacks/accept", data={"id": [mine[0].id, mine[1].id]})
    assert "Nothing was accepted" in flashed(client, again)
    assert mine[1].status is ChargebackStatus.OPEN


def test_a_single_line_accept_shows_its_amount_before_accepting(login_as, chargebacks):
    mine, _theirs = chargebacks
    client = login_as("supplier")
    client.post("/lang/zh_CN")
    asked = client.post(f"/settlement/chargebacks/{mine[0].id}/accept")
    assert asked.status_code == 200
    assert f"{mine[0].amount:,.2f}" in text(asked)
    assert mine[0].status is ChargebackStatus.OPEN
