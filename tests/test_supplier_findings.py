"""Nobody judges their own part (DESIGN 5): a supplier's inspection finding on an old part it is
charged for is a proposal in the auditors' queue, with its note and photos; it changes no money
until an auditor confirms it; an auditor may overrule it with a reason; each step is on the
part's timeline.

Money as in tests/test_api_settlement.py: claim A (1 x P-100 + 1.50 h) is charged back to
supplier A at (100.00 + 120.00) + 5% of 100.00 = 225.00; without the part, 120.00."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa

from portal.claims.models import ClaimSettings
from portal.extensions import db
from portal.masterdata.models import Disposition
from portal.notifications.models import Notification
from portal.oldparts import operations as op
from portal.oldparts.models import FindingStatus, Inspection, OldPart, OldPartStatus
from tests.factories import ClaimFactory, Fleet
from tests.test_api_auth import api_for
from tests.test_api_settlement import draft, pump_and_labor

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def fleet(world):
    ClaimSettings.current().auto_approve_enabled = False
    fleet = Fleet.build(world)
    fleet.part.disposition = Disposition.RETURN_TO_SUPPLIER  # the pump goes to supplier A
    return fleet


@pytest.fixture(autouse=True)
def uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path / "uploads"))


@pytest.fixture
def received(world, fleet) -> OldPart:
    """Claim A approved; its pump shipped to supplier A and received there."""
    claim = ClaimFactory(fleet=fleet, approved=True, lines=pump_and_labor())
    part = db.session.scalars(sa.select(OldPart).where(OldPart.claim_id == claim.id)).one()
    assert part.destination_org_id == part.supplier_id == world.suppliers[0].id
    shipment = op.create_return_shipment(world.users["station"], [part.tag])
    op.ship(shipment, world.users["station"], "ZTO", "ZT1")
    op.receive(shipment, world.users["supplier"], part.tag)
    db.session.commit()
    return part


def supplier_net(client, world) -> str:
    return draft(api_for(client, world, "finance"))["totals"]["supplier_net"]


def proposes(switching_login, part: OldPart, result: str = "no_fault_found"):
    client = switching_login("supplier")
    return client.post(
        f"/old-parts/{part.tag}/inspect",
        data={"result": result, "note": "works on the bench", "photo": (io.BytesIO(PNG), "a.png")},
        content_type="multipart/form-data",
    )


def actions(part: OldPart) -> list[str]:
    db.session.expire_all()
    return [e.action for e in part.events]


def test_a_suppliers_finding_on_its_own_part_is_a_proposal_that_moves_no_money(
    client, world, received, switching_login
):
    assert proposes(switching_login, received).status_code == 302
    db.session.expire_all()
    assert received.finding_status is FindingStatus.PROPOSED
    assert received.proposed_inspection is Inspection.NO_FAULT_FOUND
    assert actions(received)[-1] == "proposed_no_fault_found"
    assert op.lines_removed_from_recovery([received.claim_id]) == set()
    # The auditors hear of it and find it in their queue with its note and photo.
    told = db.session.scalars(
        sa.select(Notification.message).where(Notification.user_id == world.users["auditor"].id)
    ).all()
    assert any(received.tag in message for message in told)
    auditor = switching_login("auditor")
    queue = auditor.get("/old-parts/findings").get_data(as_text=True)
    assert f'data-tag="{received.tag}"' in queue and "works on the bench" in queue
    page = auditor.get(f"/old-parts/{received.tag}").get_data(as_text=True)
    assert 'data-testid="finding-review"' in page and 'data-photo="' in page
    # The chargeback stands in full while the finding waits.
    assert supplier_net(client, world) == "225.00"


def test_a_confirmed_finding_takes_the_part_out_of_the_recovery(
    client, world, received, switching_login
):
    proposes(switching_login, received)
    auditor = switching_login("auditor")
    response = auditor.post(f"/old-parts/{received.tag}/finding/confirm", data={"reason": ""})
    assert response.status_code == 302
    db.session.expire_all()
    assert received.finding_status is FindingStatus.CONFIRMED
    assert received.inspection is Inspection.NO_FAULT_FOUND
    assert actions(received)[-2:] == ["proposed_no_fault_found", "finding_confirmed"]
    assert op.lines_removed_from_recovery([received.claim_id]) == {received.claim_line_id}
    assert 'data-tag="' not in auditor.get("/old-parts/findings").get_data(as_text=True)
    assert supplier_net(client, world) == "120.00"


def test_an_auditor_overrules_a_finding_with_a_reason_and_the_chargeback_stands(
    client, world, received, switching_login
):
    proposes(switching_login, received)
    auditor = switching_login("auditor")
    # Both answers change what the supplier is charged: each button asks first, naming the
    # supplier, the part and the claim.
    page = auditor.get(f"/old-parts/{received.tag}").get_data(as_text=True)
    for testid in ("confirm-finding", "overrule-finding"):
        button = re.search(rf'<button[^>]*data-testid="{testid}"[^>]*>', page).group(0)
        assert "data-confirm=" in button, testid
        assert received.tag in button and received.claim.number in button
    assert "no fault found?" in page  # the finding being confirmed, by its label
    url = f"/old-parts/{received.tag}/finding/overrule"
    for data in (
        {"inspection": "confirmed_defect", "reason": "  "},
        {"inspection": "no_fault_found", "reason": "same as proposed"},
        {"inspection": "nonsense", "reason": "x"},
    ):
        assert auditor.post(url, data=data).status_code == 422
        db.session.expire_all()
        assert received.finding_status is FindingStatus.PROPOSED
    response = auditor.post(
        url, data={"inspection": "confirmed_defect", "reason": "Bearing scored: see photo 2"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert (received.finding_status, received.inspection) == (
        FindingStatus.OVERRULED,
        Inspection.CONFIRMED_DEFECT,
    )
    assert received.finding_review_note == "Bearing scored: see photo 2"
    last = received.events[-1]
    assert (last.action, last.note) == ("finding_overruled", "Bearing scored: see photo 2")
    assert (last.message_key, last.params) == (
        "old_part.result_in_force",
        {"result": "confirmed_defect"},
    )
    told = db.session.scalars(
        sa.select(Notification.message).where(Notification.user_id == world.users["supplier"].id)
    ).all()
    assert any(received.tag in m and "overruled" in m for m in told)
    assert supplier_net(client, world) == "225.00"
    # Reviewed once: a second review is a conflict that changes nothing.
    again = auditor.post(f"/old-parts/{received.tag}/finding/confirm", data={})
    assert again.status_code == 302
    db.session.expire_all()
    assert received.finding_status is FindingStatus.OVERRULED
    assert received.status is OldPartStatus.INSPECTED


def test_the_oems_own_finding_takes_effect_at_once(world, fleet):
    fleet.part.disposition = Disposition.RETURN_TO_OEM
    claim = ClaimFactory(fleet=fleet, approved=True, lines=pump_and_labor())
    part = db.session.scalars(sa.select(OldPart).where(OldPart.claim_id == claim.id)).one()
    shipment = op.create_return_shipment(world.users["station"], [part.tag])
    op.ship(shipment, world.users["station"], "ZTO", "ZT1")
    op.receive(shipment, world.users["auditor"], part.tag)
    op.inspect(part, world.users["auditor"], "no_fault_found")
    assert part.finding_status is None
    assert op.lines_removed_from_recovery([claim.id]) == {part.claim_line_id}


@pytest.mark.parametrize("who", ["supplier", "station", "finance"])
def test_only_auditors_review_a_finding(world, received, switching_login, who):
    proposes(switching_login, received)
    client = switching_login(who)
    response = client.post(f"/old-parts/{received.tag}/finding/confirm")
    assert response.status_code in (403, 404)
    db.session.expire_all()
    assert received.finding_status is FindingStatus.PROPOSED


def test_another_supplier_never_sees_the_finding(client, world, received, switching_login):
    proposes(switching_login, received)
    other = api_for(client, world, "supplier_b")
    assert other.get(f"/old-parts/{received.tag}").status_code == 404
    assert switching_login("supplier_b").get(f"/old-parts/{received.tag}").status_code == 404
    own = api_for(client, world, "supplier").get(f"/old-parts/{received.tag}").get_json()
    assert (own["finding_status"], own["proposed_inspection"], own["inspection"]) == (
        "proposed",
        "no_fault_found",
        "no_fault_found",
    )
