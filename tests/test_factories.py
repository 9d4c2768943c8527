"""The factories make what they promise: each trait's state, lines, events, old parts and
statements, reached through the real workflow."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.auth.models import Role
from portal.claims.models import ClaimSettings, ClaimStatus, ClaimType
from portal.extensions import db
from portal.masterdata.models import OEM_CODE, Organisation, OrgKind
from portal.masterdata.vin import is_valid_vin
from portal.oldparts.models import OldPartStatus
from portal.settlement.models import (
    RunStatus,
    Statement,
    StatementKind,
    StatementLine,
    StatementStatus,
)
from tests.factories import (
    PASSWORD,
    ClaimFactory,
    Fleet,
    OemFactory,
    PartFactory,
    SettlementRunFactory,
    UserFactory,
    VehicleFactory,
    VehicleModelFactory,
    old_parts,
)

CLAIMED = Decimal("230.00")  # 1 x P-100 100.00 + 10% handling 10.00 + 1.50 h x 80.00


@pytest.fixture
def fleet(world):
    return Fleet.build(world)


def actions(claim) -> list[str]:
    return [event.action for event in sorted(claim.events, key=lambda e: e.id)]


# -- master data and users -------------------------------------------------------------------------


def test_vehicles_have_valid_distinct_vins_and_models_their_three_policies(db_session):
    vehicles = VehicleFactory.create_batch(3)
    assert all(is_valid_vin(v.vin) for v in vehicles)
    assert len({v.vin for v in vehicles}) == 3
    model = VehicleModelFactory()
    assert sorted((p.group, p.months, p.km) for p in model.policies) == [
        ("basic", 36, 100000),
        ("powertrain", 60, 200000),
        ("wear", 6, 5000),
    ]


def test_a_part_has_its_price_and_the_oem_is_made_once(db_session):
    part = PartFactory(price="45.50")
    assert [p.unit_price for p in part.prices] == [Decimal("45.50")]
    assert part.supplier.kind is OrgKind.SUPPLIER
    assert OemFactory() is OemFactory()
    count = (
        sa.select(sa.func.count()).select_from(Organisation).where(Organisation.code == OEM_CODE)
    )
    assert db.session.scalar(count) == 1


@pytest.mark.parametrize(
    ("role", "kind"),
    [
        ("station", OrgKind.STATION),
        ("auditor", OrgKind.OEM),
        ("finance", OrgKind.OEM),
        ("supplier", OrgKind.SUPPLIER),
        ("admin", OrgKind.OEM),
    ],
)
def test_a_user_per_role_belongs_to_its_kind_of_organisation_and_signs_in(
    client, db_session, role, kind
):
    user = UserFactory(**{role: True})
    assert user.role is Role(role)
    assert user.organisation.kind is kind
    assert user.check_password(PASSWORD)
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302


# -- claims ----------------------------------------------------------------------------------------


def test_a_draft_is_created_only(world, fleet):
    claim = ClaimFactory(fleet=fleet)
    assert claim.status is ClaimStatus.DRAFT
    assert claim.created_by == world.users["station"]
    assert claim.submitted_at is None and claim.versions == []
    assert [line.kind.value for line in claim.lines] == ["part", "labor"]
    assert claim.total_amount == CLAIMED
    assert actions(claim) == ["created"]


def test_overrides_change_the_payload_and_station_the_filer(world, fleet):
    claim = ClaimFactory(
        fleet=fleet,
        station="station_b",
        vin=fleet.old_vehicle.vin,
        odometer_km=95000,
        goodwill_reason="fleet customer",
        lines=[{"kind": "part", "part_number": "P-200", "qty": 3}],
    )
    assert claim.station == world.stations[1]
    assert claim.vehicle == fleet.old_vehicle
    assert [(line.part.number, line.qty) for line in claim.lines] == [("P-200", 3)]


@pytest.mark.parametrize(
    ("auto_approve", "status", "last_action"),
    [(True, ClaimStatus.APPROVED, "auto_approved"), (False, ClaimStatus.IN_REVIEW, "queued")],
)
def test_submitted_lands_where_the_settings_send_it(fleet, auto_approve, status, last_action):
    ClaimSettings.current().auto_approve_enabled = auto_approve
    claim = ClaimFactory(fleet=fleet, submitted=True)
    assert claim.status is status
    assert actions(claim) == ["created", "submitted", last_action]
    assert [v.version for v in claim.versions] == [1]


def test_in_review_waits_for_an_auditor_and_leaves_the_settings_as_they_were(fleet):
    assert ClaimSettings.current().auto_approve_enabled  # the default
    claim = ClaimFactory(fleet=fleet, in_review=True)
    assert claim.status is ClaimStatus.IN_REVIEW
    assert actions(claim) == ["created", "submitted", "queued"]
    assert claim.decided_by is None and old_parts(claim) == []
    assert ClaimSettings.current().auto_approve_enabled


def test_approved_by_the_auditor_as_claimed_with_its_old_part(world, fleet):
    claim = ClaimFactory(fleet=fleet, approved=True)
    assert claim.status is ClaimStatus.APPROVED
    assert claim.decided_by == world.users["auditor"]
    assert claim.approved_total_amount == claim.total_amount == CLAIMED
    assert claim.responsible_supplier == fleet.part.supplier
    assert actions(claim) == ["created", "submitted", "queued", "approved"]
    (part,) = old_parts(claim)  # P-100 goes back to the OEM
    assert part.status is OldPartStatus.AWAITING_RETURN


def test_partially_approved_cuts_the_first_line_to_95(world, fleet):
    claim = ClaimFactory(fleet=fleet, partially_approved=True)
    assert claim.status is ClaimStatus.PARTIALLY_APPROVED
    assert claim.lines[0].approved_amount == Decimal("95.00")
    assert claim.lines[1].approved_amount == claim.lines[1].amount
    # parts 95.00 + handling 9.50 + labor 120.00
    assert claim.approved_total_amount == Decimal("224.50")
    assert actions(claim)[-1] == "partially_approved"


def test_rejected_has_a_reason_and_no_old_parts(world, fleet):
    claim = ClaimFactory(fleet=fleet, rejected=True)
    assert claim.status is ClaimStatus.REJECTED
    assert claim.decision_reason == "not a warranty fault"
    assert actions(claim)[-1] == "rejected"
    assert old_parts(claim) == []


def test_returned_goes_back_to_the_station_with_a_reason(world, fleet):
    claim = ClaimFactory(fleet=fleet, returned=True, reason="Odometer photo missing")
    assert claim.status is ClaimStatus.RETURNED
    assert claim.can_edit(world.users["station"])
    last = max(claim.events, key=lambda e: e.id)
    assert (last.action, last.reason) == ("returned", "Odometer photo missing")


def test_settled_is_settled_by_a_released_run_with_the_claim_on_its_statement(world, fleet):
    claim = ClaimFactory(fleet=fleet, settled=True)
    assert claim.status is ClaimStatus.SETTLED
    assert actions(claim)[-2:] == ["approved", "settled"]
    statement = db.session.scalar(
        sa.select(Statement).where(
            Statement.kind == StatementKind.STATION, Statement.org_id == world.stations[0].id
        )
    )
    assert statement.status is StatementStatus.RELEASED and statement.net == CLAIMED
    assert statement.run.status is RunStatus.RELEASED


def test_with_old_parts_makes_one_per_unit_of_the_part(fleet):
    claim = ClaimFactory(fleet=fleet, with_old_parts=True)
    assert claim.status is ClaimStatus.APPROVED
    assert [(line.part.number, line.qty) for line in claim.lines] == [("P-100", 2)]
    parts = old_parts(claim)
    assert [p.tag for p in parts] == [f"{claim.number}-0101", f"{claim.number}-0102"]
    assert {p.status for p in parts} == {OldPartStatus.AWAITING_RETURN}
    (other,) = old_parts(ClaimFactory(fleet=fleet, with_old_parts=True, old_part="P-200", units=1))
    assert other.part == fleet.part_b


def test_an_emergency_part_request_is_drop_shipped_by_station_b(world, fleet):
    claim = ClaimFactory(fleet=fleet, emergency_part=True, approved=True)
    assert claim.type is ClaimType.EMERGENCY_PART
    assert claim.shipper_org == world.stations[1]
    assert [(line.part.number, line.qty) for line in claim.lines] == [("P-100", 2)]


def test_own_vehicle_claims_are_for_different_vehicles_and_flag_no_duplicate(fleet):
    first, second = ClaimFactory.create_batch(2, fleet=fleet, in_review=True, own_vehicle=True)
    assert first.vehicle != second.vehicle != fleet.vehicle
    assert "duplicate" not in {f.rule for f in second.current_flags}


def test_a_claim_factory_needs_a_fleet(db_session):
    with pytest.raises(TypeError, match="fleet"):
        ClaimFactory()


# -- settlement runs -------------------------------------------------------------------------------


def test_a_drafted_run_has_draft_statements_and_leaves_its_claims_approved(world, fleet):
    claims = ClaimFactory.create_batch(2, fleet=fleet, approved=True, own_vehicle=True)
    run = SettlementRunFactory(world=world, drafted=True)
    assert run.status is RunStatus.DRAFT
    assert (run.claim_count, run.station_statement_count, run.supplier_statement_count) == (
        2,
        1,
        1,
    )
    statements = db.session.scalars(sa.select(Statement).where(Statement.run_id == run.id)).all()
    assert {s.status for s in statements} == {StatementStatus.DRAFT}
    lines = db.session.scalar(
        sa.select(sa.func.count(StatementLine.id)).where(
            StatementLine.statement_id.in_([s.id for s in statements])
        )
    )
    assert lines == 2  # the station's two claim lines (the supplier's are chargebacks)
    assert {c.status for c in claims} == {ClaimStatus.APPROVED}


def test_a_released_run_settles_its_claims(world, fleet):
    claim = ClaimFactory(fleet=fleet, approved=True)
    run = SettlementRunFactory(world=world, released=True)
    db.session.refresh(claim)
    assert run.status is RunStatus.RELEASED and run.released_by == world.users["finance"]
    assert claim.status is ClaimStatus.SETTLED
    statuses = db.session.scalars(sa.select(Statement.status).where(Statement.run_id == run.id))
    assert set(statuses) == {StatementStatus.RELEASED}
