"""The settlement run: set-based SQL computes statements to the cent, exactly once."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.claims import operations as ops
from portal.claims.decisions import Decision, LineDecision, decide_claim
from portal.claims.models import ClaimSettings, ClaimStatus
from portal.claims.payload import parse_claim
from portal.extensions import db
from portal.settlement import operations as settle
from portal.settlement.models import (
    Chargeback,
    RunStatus,
    Statement,
    StatementKind,
    StatementLine,
)
from tests.factories import Fleet, claim_payload


@pytest.fixture
def fleet(world):
    ClaimSettings.current().auto_approve_enabled = False
    return Fleet.build(world)


def approved(world, fleet, lines=None, cut=None, **overrides):
    user = world.users["station"]
    if lines is not None:
        overrides["lines"] = lines
    claim = ops.submit_claim(
        ops.create_claim(user, parse_claim(claim_payload(fleet, **overrides))), user
    )
    decisions = [LineDecision(claim.lines[i].id, **d) for i, d in (cut or {}).items()]
    decide_claim(claim.id, world.users["auditor"], Decision("approve", decisions))
    db.session.commit()
    return claim


def run_now(world):
    from portal.settlement.engine import current_period

    run = settle.start_run(world.users["finance"], current_period())
    db.session.refresh(run)
    return run


def statement_of(run, kind, org):
    return db.session.scalar(
        sa.select(Statement).where(
            Statement.run_id == run.id, Statement.kind == kind, Statement.org_id == org.id
        )
    )


def test_a_repair_claim_is_paid_to_the_station_and_charged_to_its_supplier(world, fleet):
    claim = approved(world, fleet)
    run = run_now(world)
    assert run.status is RunStatus.DRAFT, run.error
    station = statement_of(run, StatementKind.STATION, world.stations[0])
    # 1 x 100.00 + handling 10% 10.00 + 1.50 h x 80.00 = 230.00
    assert station.net == Decimal("230.00")
    assert station.vat == Decimal("29.90")
    assert station.gross == Decimal("259.90")
    supplier = statement_of(run, StatementKind.SUPPLIER, world.suppliers[0])
    cb = db.session.scalar(sa.select(Chargeback).where(Chargeback.statement_id == supplier.id))
    # (100.00 + 120.00) x 100% + 100.00 x 5% = 225.00
    assert cb.amount == Decimal("225.00")
    assert supplier.net == Decimal("225.00")

    user = world.users["finance"]
    settle.request_release(run, user)
    db.session.refresh(run)
    assert run.status is RunStatus.RELEASED
    db.session.refresh(claim)
    assert claim.status is ClaimStatus.SETTLED

    # The next run finds nothing left to pay.
    again = run_now(world)
    assert again.status is RunStatus.DRAFT
    assert again.claim_count == 0
    assert (
        db.session.scalar(
            sa.select(sa.func.count(StatementLine.id)).where(StatementLine.claim_id == claim.id)
        )
        == 1
    )
