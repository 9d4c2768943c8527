"""Old parts are created on approval, routed by disposition; overdue parts are charged back
once; scrapped parts leave their residual value to deduct."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.claims.models import ClaimSettings, ClaimStatus
from portal.errors import Conflict, DomainError, ValidationFailed
from portal.extensions import db
from portal.masterdata.models import Disposition
from portal.oldparts.models import ChargeKind, OldPart, OldPartStatus, StationCharge
from portal.oldparts.operations import create_for_approved_claim, mark_overdue, waive_overdue
from tests.factories import ClaimFactory, Fleet

TODAY = date.today()


@pytest.fixture
def fleet(world):
    ClaimSettings.current().auto_approve_enabled = False
    return Fleet.build(world)


def parts_of(claim):
    return db.session.scalars(
        sa.select(OldPart).where(OldPart.claim_id == claim.id).order_by(OldPart.tag)
    ).all()


def test_one_old_part_per_approved_unit_routed_to_the_oem(world, fleet):
    claim = ClaimFactory(fleet=fleet, with_old_parts=True)
    created = parts_of(claim)  # made by the approval itself
    assert [p.tag for p in created] == [f"{claim.number}-0101", f"{claim.number}-0102"]
    assert {p.destination.code for p in created} == {"OEM"}
    assert {p.status for p in created} == {OldPartStatus.AWAITING_RETURN}
    assert {p.deadline for p in created} == {TODAY + timedelta(days=30)}
    assert create_for_approved_claim(claim, TODAY) == []  # twice creates nothing more


def test_major_assemblies_go_straight_to_their_supplier(world, fleet):
    fleet.engine.group = "basic"
    fleet.engine.is_major_assembly = False  # a repair line may carry it for this test
    fleet.engine.disposition = Disposition.RETURN_TO_SUPPLIER
    claim = ClaimFactory(fleet=fleet, with_old_parts=True, old_part="ENG-1", units=1)
    (part,) = parts_of(claim)
    assert part.destination == fleet.engine.supplier


def test_auto_approved_claims_get_their_old_parts_too(world, fleet):
    ClaimSettings.current().auto_approve_enabled = True
    claim = ClaimFactory(fleet=fleet, submitted=True)
    assert claim.status is ClaimStatus.APPROVED  # auto-approved
    assert [p.part.number for p in parts_of(claim)] == ["P-100"]
    assert create_for_approved_claim(claim, TODAY) == []


def test_cut_units_make_no_old_parts(world, fleet):
    claim = ClaimFactory(
        fleet=fleet,
        with_old_parts=True,
        units=3,
        cuts={0: {"approved_qty": 1, "reason": "duplicate_charge"}},
    )
    assert len(parts_of(claim)) == 1


def test_scrapped_parts_are_written_off_at_once_with_their_residual(world, fleet):
    # Filter: wear group, 20.00, scrap rate 0.1; a recent sale keeps the wear group covered.
    fleet.vehicle.sale_date = TODAY - timedelta(days=60)
    claim = ClaimFactory(
        fleet=fleet,
        with_old_parts=True,
        old_part="FLT-1",
        units=3,
        causal_part="FLT-1",
        odometer_km=3000,
    )
    created = parts_of(claim)
    assert {p.status for p in created} == {OldPartStatus.WRITTEN_OFF}
    (charge,) = db.session.scalars(
        sa.select(StationCharge).where(StationCharge.claim_id == claim.id)
    )
    assert (charge.kind, charge.amount) == (ChargeKind.SCRAP_RESIDUAL, Decimal("6.00"))


def test_overdue_parts_are_charged_back_once(world, fleet):
    ClaimFactory(fleet=fleet, with_old_parts=True, old_part="P-200", units=3)
    later = TODAY + timedelta(days=31)  # the job's clock: 31 days after the approval
    assert mark_overdue(later) == 3
    assert mark_overdue(later) == 0  # the job is safe to run twice
    charges = db.session.scalars(
        sa.select(StationCharge).where(StationCharge.kind == ChargeKind.OVERDUE)
    ).all()
    assert [c.amount for c in charges] == [Decimal("45.50")] * 3


def test_a_part_due_today_is_not_overdue_yet(world, fleet):
    ClaimFactory(fleet=fleet, with_old_parts=True, old_part="P-200", units=1)
    assert mark_overdue(TODAY + timedelta(days=30)) == 0
    assert mark_overdue(TODAY + timedelta(days=31)) == 1


def test_an_auditor_waives_an_overdue_chargeback_with_a_reason(world, fleet):
    claim = ClaimFactory(fleet=fleet, with_old_parts=True, old_part="P-200", units=1)
    (part,) = parts_of(claim)
    with pytest.raises(Conflict):
        waive_overdue(part, world.users["auditor"], "x")
    mark_overdue(TODAY + timedelta(days=40))
    with pytest.raises(DomainError):
        waive_overdue(part, world.users["station"], "please")
    with pytest.raises(ValidationFailed):
        waive_overdue(part, world.users["auditor"], " ")
    waive_overdue(part, world.users["auditor"], "Courier lost the box")
    charge = db.session.scalar(sa.select(StationCharge).where(StationCharge.old_part_id == part.id))
    assert charge.waived_at is not None and not part.is_overdue
