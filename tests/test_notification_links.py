"""Every notification leads somewhere its reader may go: after the flows that notify people
(claims commented on, returned and approved, old parts missing or the wrong part, an
announcement, a settlement released, a line disputed and resolved, a statement paid), each
recipient opens each of its links and gets the page (200), whatever its role."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from portal.announcements.operations import Audience, publish
from portal.auth.models import Role, User
from portal.claims import operations as ops
from portal.claims.decisions import Decision, decide_claim
from portal.claims.models import ClaimSettings
from portal.claims.payload import parse_claim
from portal.notifications.models import Notification
from portal.notifications.operations import notify_organisation
from portal.oldparts import operations as op
from portal.oldparts.models import Inspection, OldPart
from portal.settlement import operations as settlement_ops
from portal.settlement.models import Chargeback, SettlementRun, Statement, StatementKind
from tests.factories import ClaimFactory, Fleet, claim_payload
from tests.test_settlement_pages import start


@pytest.fixture
def login_as(switching_login):
    return switching_login


@pytest.fixture
def fleet(world):
    ClaimSettings.current().auto_approve_enabled = False
    return Fleet.build(world)


def notified(db_session) -> dict[User, list[Notification]]:
    by_user: dict[User, list[Notification]] = {}
    for n in db_session.scalars(sa.select(Notification).order_by(Notification.id)):
        by_user.setdefault(db_session.get(User, n.user_id), []).append(n)
    return by_user


def every_link_opens_for_its_reader(login_as, db_session) -> dict[Role, int]:
    """GET each notification's link as its recipient; answers how many each role opened."""
    opened: dict[Role, int] = {}
    for user, notes in notified(db_session).items():
        client = login_as(user.username)
        for n in notes:
            assert n.link, n.message
            response = client.get(n.link)
            assert response.status_code == 200, (user.username, user.role, n.message, n.link)
            opened[user.role] = opened.get(user.role, 0) + 1
    return opened


def test_every_notification_of_the_claim_old_part_and_settlement_flows_opens_for_its_reader(
    world, fleet, login_as, db_session
):
    auditor, station = world.users["auditor"], world.users["station"]
    # A claim commented on, returned, resubmitted and approved; another station's claim too.
    claim = ClaimFactory(fleet=fleet, submitted=True)
    ops.add_comment(claim, auditor, "Which pump?")
    decide_claim(claim.id, auditor, Decision("return", reason="Photo missing"))
    ops.update_claim(claim, station, parse_claim(claim_payload(fleet)))
    ops.submit_claim(claim, station)
    decide_claim(claim.id, auditor, Decision("approve"))
    other = ClaimFactory(
        fleet=fleet,
        approved=True,
        station="station_b",
        causal_part="P-200",
        lines=[{"kind": "part", "part_number": "P-200", "qty": 1}],
    )
    # Its old parts: one missing from the station's shipment, one the wrong part.
    parts = db_session.scalars(sa.select(OldPart).where(OldPart.claim_id == claim.id)).all()
    shipment = op.create_return_shipment(station, [p.tag for p in parts])
    op.ship(shipment, station, "ZTO", "ZT1")
    op.report_missing(shipment, auditor, parts[0].tag, "not in the box")
    other_parts = db_session.scalars(sa.select(OldPart).where(OldPart.claim_id == other.id)).all()
    other_shipment = op.create_return_shipment(world.users["station_b"], [other_parts[0].tag])
    op.ship(other_shipment, world.users["station_b"], "ZTO", "ZT2")
    op.receive(other_shipment, auditor, other_parts[0].tag)
    op.inspect(other_parts[0], auditor, Inspection.WRONG_PART, "a sensor of another make")
    publish(auditor, title="Recall HX5 pumps", body="Check the pumps.", audience=Audience.ALL)
    db_session.commit()

    # Settlement: released, a line disputed and waived, a statement paid.
    finance = login_as("finance")
    start(finance)
    run = db_session.scalar(sa.select(SettlementRun).order_by(SettlementRun.id.desc()))
    assert finance.post(f"/settlement/runs/{run.id}/release").status_code == 302
    cb = db_session.scalar(sa.select(Chargeback).where(Chargeback.claim_id == claim.id))
    settlement_ops.dispute_chargeback(cb, world.users["supplier"], "Not our pump")
    settlement_ops.resolve_chargeback(cb, auditor, "waive", "Agreed")
    station_statement = db_session.scalar(
        sa.select(Statement).where(
            Statement.run_id == run.id,
            Statement.kind == StatementKind.STATION,
            Statement.org_id == world.stations[0].id,
        )
    )
    settlement_ops.mark_paid(station_statement, world.users["finance"], date.today(), "BANK-1")
    db_session.commit()

    opened = every_link_opens_for_its_reader(login_as, db_session)
    assert set(opened) >= {Role.STATION, Role.SUPPLIER, Role.AUDITOR}


def test_a_dispute_is_told_to_the_oem_users_who_may_open_it_not_to_admins(
    world, fleet, login_as, db_session
):
    claim = ClaimFactory(fleet=fleet, approved=True)
    db_session.commit()
    finance = login_as("finance")
    start(finance)
    run = db_session.scalar(sa.select(SettlementRun).order_by(SettlementRun.id.desc()))
    finance.post(f"/settlement/runs/{run.id}/release")
    db_session.execute(sa.delete(Notification))
    cb = db_session.scalar(sa.select(Chargeback).where(Chargeback.claim_id == claim.id))
    settlement_ops.dispute_chargeback(cb, world.users["supplier"], "Not our pump")
    db_session.commit()

    told = {user.username for user in notified(db_session)}
    assert told == {"auditor", "finance"}
    every_link_opens_for_its_reader(login_as, db_session)


def test_notifying_an_organisation_may_name_the_roles_that_hear_of_it(world, db_session):
    told = notify_organisation(
        world.oem.id,
        "settlement.chargeback_disputed",
        {"number": "RP-1", "supplier": "SU-A", "reason": "not ours"},
        "/settlement/disputes",
        roles=[Role.AUDITOR],
    )
    assert told == 1
    assert [n.user_id for n in db_session.scalars(sa.select(Notification))] == [
        world.users["auditor"].id
    ]
