"""The settlement run: set-based SQL computes statements to the cent, exactly once.

Every expected amount is worked out by hand in a comment next to it. The factories' world:
stations labor rate 80.00 and parts handling 10%; suppliers share 1, labor cap 4.00 h,
handling fee 5%; P-100 100.00 (SU-A), P-200 45.50 (SU-B), FLT-1 20.00 (SU-B, scrap 0.1);
labor operation OP-1.
"""

from __future__ import annotations

import contextlib
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from portal.claims.fulfilment import confirm_receipt, ship_emergency_part
from portal.claims.models import ClaimSettings, ClaimStatus
from portal.errors import Conflict, DomainError, ValidationFailed
from portal.extensions import db
from portal.oldparts import operations as oldparts
from portal.oldparts.models import StationCharge
from portal.settlement import engine
from portal.settlement import operations as settle
from portal.settlement.models import (
    Chargeback,
    ChargebackStatus,
    LineKind,
    RunStatus,
    SettlementRun,
    SettlementSettings,
    Statement,
    StatementKind,
    StatementLine,
    StatementStatus,
)
from tests import factories
from tests.factories import ClaimFactory, Fleet, SettlementRunFactory

TODAY = date.today()
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
PDF = b"%PDF-1.7\n" + b"0" * 32


@pytest.fixture
def fleet(world):
    ClaimSettings.current().auto_approve_enabled = False
    return Fleet.build(world)


def part(number="P-100", qty=1):
    return {"kind": "part", "part_number": number, "qty": qty}


def labor(hours="1.50"):
    # Hours above the operation's standard 1.50 h need a reason in the description.
    return {"kind": "labor", "operation_code": "OP-1", "hours": hours, "description": "seized"}


def run_now(world, period=None):
    """Start a run of `period` (the current month) and compute it in-process, whatever comes of
    it. What the run reads is committed first, as a worker reads only committed rows."""
    db.session.commit()
    run = settle.start_run(world.users["finance"], period or engine.current_period())
    db.session.commit()  # the caller commits; the job starts then
    db.session.refresh(run)
    return run


def release(world, run):
    settle.request_release(run, world.users["finance"])
    db.session.commit()  # the caller commits; the job starts then
    db.session.refresh(run)
    assert run.status is RunStatus.RELEASED, run.error
    return run


def statement_of(run, kind, org):
    return db.session.scalar(
        sa.select(Statement).where(
            Statement.run_id == run.id, Statement.kind == kind, Statement.org_id == org.id
        )
    )


def station_lines(statement):
    return sorted(
        (line.kind, line.amount)
        for line in db.session.scalars(
            sa.select(StatementLine).where(StatementLine.statement_id == statement.id)
        )
    )


def chargeback_of(claim):
    return db.session.scalar(sa.select(Chargeback).where(Chargeback.claim_id == claim.id))


def totals(statement):
    db.session.refresh(statement)
    return (statement.net, statement.vat, statement.gross)


@contextlib.contextmanager
def refused(error_type, match=None):
    """The block raises exactly `error_type` (not a subclass) and leaves nothing behind."""
    with pytest.raises(error_type, match=match) as caught, db.session.begin_nested():
        yield caught
    assert type(caught.value) is error_type, caught.value


# -- money rules ---------------------------------------------------------------------------------


def test_a_repair_claim_is_paid_to_the_station_and_charged_to_its_supplier(world, fleet):
    claim = ClaimFactory(fleet=fleet, approved=True)
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
    db.session.commit()  # the caller commits; the job starts then
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


def test_vat_on_a_net_ending_in_half_a_fen_rounds_up(world, fleet):
    ClaimFactory(fleet=fleet, partially_approved=True)  # the part line cut to 95.00
    run = SettlementRunFactory(world=world)
    station = statement_of(run, StatementKind.STATION, world.stations[0])
    # parts 95.00 + handling 9.50 + labor 1.50 h x 80.00 = 120.00 -> net 224.50
    # VAT 224.50 x 13% = 29.185 -> 29.19 half-up (half-even would give 29.18)
    assert totals(station) == (Decimal("224.50"), Decimal("29.19"), Decimal("253.69"))


def test_a_recovery_share_giving_half_a_fen_rounds_up(world, fleet):
    su_a = world.suppliers[0]
    su_a.recovery_share = Decimal("0.333333")
    su_a.handling_fee_rate = Decimal("0")
    factories.PartFactory(supplier=su_a, number="P-4880", price="4880.00")
    claim = ClaimFactory(
        fleet=fleet, approved=True, lines=[part("P-4880"), labor()], causal_part="P-4880"
    )
    run = SettlementRunFactory(world=world)
    cb = chargeback_of(claim)
    # parts 4880.00 + labor 120.00 = 5000.00; x 0.333333 = 1666.665 -> 1666.67 (half-even: .66)
    assert (cb.parts_amount, cb.labor_amount) == (Decimal("4880.00"), Decimal("120.00"))
    assert cb.recovery_amount == Decimal("1666.67")
    assert cb.handling_fee == Decimal("0.00")
    assert cb.amount == Decimal("1666.67")
    supplier = statement_of(run, StatementKind.SUPPLIER, su_a)
    # VAT 1666.67 x 13% = 216.6671 -> 216.67
    assert totals(supplier) == (Decimal("1666.67"), Decimal("216.67"), Decimal("1883.34"))


def test_a_handling_fee_giving_half_a_fen_rounds_up_and_totals_add_rounded_lines(world, fleet):
    su_b = world.suppliers[1]
    su_b.handling_fee_rate = Decimal("0.03")
    claims = [
        ClaimFactory(fleet=fleet, approved=True, lines=[part("P-200")], causal_part="P-200")
        for _ in range(2)
    ]
    run = SettlementRunFactory(world=world)
    for claim in claims:
        cb = chargeback_of(claim)
        # recovery 45.50 x 1 = 45.50; fee 45.50 x 3% = 1.365 -> 1.37 (half-even: 1.36)
        assert (cb.recovery_amount, cb.handling_fee, cb.amount) == (
            Decimal("45.50"),
            Decimal("1.37"),
            Decimal("46.87"),
        )
    supplier = statement_of(run, StatementKind.SUPPLIER, su_b)
    # net = 46.87 + 46.87 = 93.74 (the unrounded 2 x 46.865 = 93.73 would be a cent short)
    # VAT 93.74 x 13% = 12.1862 -> 12.19
    assert totals(supplier) == (Decimal("93.74"), Decimal("12.19"), Decimal("105.93"))
    assert supplier.line_count == 2


def test_labor_over_the_suppliers_cap_is_charged_at_cap_times_the_claims_labor_rate(world, fleet):
    claim = ClaimFactory(fleet=fleet, approved=True, lines=[part(), labor("5.00")])
    run = SettlementRunFactory(world=world)
    station = statement_of(run, StatementKind.STATION, world.stations[0])
    # The station is paid every approved hour: 100.00 + 10.00 + 5.00 h x 80.00 = 510.00
    assert station_lines(station) == [(LineKind.CLAIM, Decimal("510.00"))]
    cb = chargeback_of(claim)
    # Cap 4.00 h x 80.00 = 320.00; recovery (100.00 + 320.00) x 1 = 420.00; fee 5.00
    assert (cb.labor_hours, cb.labor_hours_charged) == (Decimal("5.00"), Decimal("4.00"))
    assert cb.labor_amount == Decimal("320.00")
    assert (cb.recovery_amount, cb.handling_fee, cb.amount) == (
        Decimal("420.00"),
        Decimal("5.00"),
        Decimal("425.00"),
    )


def test_the_cap_uses_the_rate_of_the_claim_and_rounds_half_up(world, fleet):
    world.suppliers[0].labor_hours_cap = Decimal("0.50")
    world.stations[0].labor_rate = Decimal("80.05")  # copied onto the claim when it is made
    claim = ClaimFactory(fleet=fleet, approved=True, lines=[part(), labor("1.00")])
    run = SettlementRunFactory(world=world)
    station = statement_of(run, StatementKind.STATION, world.stations[0])
    # The station: 100.00 + 10.00 + 1.00 h x 80.05 = 190.05
    assert station_lines(station) == [(LineKind.CLAIM, Decimal("190.05"))]
    cb = chargeback_of(claim)
    # Cap 0.50 h x 80.05 = 40.025 -> 40.03 (half-even: 40.02); 100.00 + 40.03 + fee 5.00
    assert (cb.labor_hours, cb.labor_hours_charged) == (Decimal("1.00"), Decimal("0.50"))
    assert cb.labor_amount == Decimal("40.03")
    assert (cb.recovery_amount, cb.amount) == (Decimal("140.03"), Decimal("145.03"))


def test_labor_under_the_cap_is_charged_as_approved(world, fleet):
    claim = ClaimFactory(fleet=fleet, approved=True, lines=[part(), labor("3.00")])
    SettlementRunFactory(world=world)
    cb = chargeback_of(claim)
    # 3.00 h <= 4.00 h: labor as approved 3.00 x 80.00 = 240.00; (100.00 + 240.00) + 5.00
    assert (cb.labor_hours_charged, cb.labor_amount) == (Decimal("3.00"), Decimal("240.00"))
    assert cb.amount == Decimal("345.00")


def test_a_recovery_share_below_one(world, fleet):
    world.suppliers[0].recovery_share = Decimal("0.80")
    claim = ClaimFactory(fleet=fleet, approved=True)
    SettlementRunFactory(world=world)
    cb = chargeback_of(claim)
    # (100.00 + 120.00) x 0.80 = 176.00; fee 100.00 x 5% = 5.00 (the fee is not shared)
    assert (cb.recovery_share, cb.recovery_amount) == (Decimal("0.800000"), Decimal("176.00"))
    assert (cb.handling_fee, cb.amount) == (Decimal("5.00"), Decimal("181.00"))


def test_a_partial_approval_pays_and_recovers_what_was_approved(world, fleet):
    claim = ClaimFactory(
        fleet=fleet,
        approved=True,
        lines=[part(qty=3), labor()],
        cuts={
            0: {"approved_qty": 1, "reason": "duplicate_charge"},
            1: {"approved_hours": Decimal("1.00"), "reason": "excessive_labor"},
        },
    )
    assert claim.status is ClaimStatus.PARTIALLY_APPROVED
    run = SettlementRunFactory(world=world)
    station = statement_of(run, StatementKind.STATION, world.stations[0])
    # 1 x 100.00 + handling 10.00 + 1.00 h x 80.00 = 190.00 (claimed 300 + 30 + 120 = 450.00)
    assert station_lines(station) == [(LineKind.CLAIM, Decimal("190.00"))]
    # VAT 190.00 x 13% = 24.70
    assert totals(station) == (Decimal("190.00"), Decimal("24.70"), Decimal("214.70"))
    cb = chargeback_of(claim)
    # (100.00 + 80.00) x 1 + 100.00 x 5% = 185.00
    assert (cb.parts_amount, cb.labor_amount, cb.amount) == (
        Decimal("100.00"),
        Decimal("80.00"),
        Decimal("185.00"),
    )


def scrap_claim(world, fleet, qty=3):
    fleet.vehicle.sale_date = TODAY - timedelta(days=60)  # keeps the wear group covered
    return ClaimFactory(
        fleet=fleet,
        approved=True,
        lines=[part("FLT-1", qty)],
        causal_part="FLT-1",
        odometer_km=3000,
    )


def test_a_scrap_residual_is_deducted_on_the_station_statement(world, fleet):
    claim = scrap_claim(world, fleet)
    run = SettlementRunFactory(world=world)
    station = statement_of(run, StatementKind.STATION, world.stations[0])
    # claim: 3 x 20.00 = 60.00 + handling 6.00 = 66.00; residual 20.00 x 3 x 0.1 = 6.00
    assert station_lines(station) == [
        (LineKind.CLAIM, Decimal("66.00")),
        (LineKind.SCRAP_RESIDUAL, Decimal("-6.00")),
    ]
    # net 60.00; VAT 7.80
    assert totals(station) == (Decimal("60.00"), Decimal("7.80"), Decimal("67.80"))
    # The supplier still pays for the failed part: 60.00 + fee 3.00 = 63.00
    assert chargeback_of(claim).amount == Decimal("63.00")
    release(world, run)
    charge = db.session.scalar(sa.select(StationCharge).where(StationCharge.claim_id == claim.id))
    assert charge.settled_in_run_id == run.id
    # Deducted once: the next run has nothing for the station.
    assert (
        statement_of(drafted_after_release(world), StatementKind.STATION, world.stations[0]) is None
    )


def drafted_after_release(world):
    return SettlementRunFactory(world=world)


def overdue_claim(world, fleet):
    claim = ClaimFactory(fleet=fleet, approved=True, lines=[part("P-200")], causal_part="P-200")
    assert oldparts.mark_overdue(TODAY + timedelta(days=31)) == 1
    db.session.commit()
    return claim


def test_an_overdue_old_part_is_charged_back_to_the_station(world, fleet):
    overdue_claim(world, fleet)
    run = SettlementRunFactory(world=world)
    station = statement_of(run, StatementKind.STATION, world.stations[0])
    # claim 45.50 + handling 4.55 = 50.05; overdue part: its line's 45.50 back
    assert station_lines(station) == [
        (LineKind.CLAIM, Decimal("50.05")),
        (LineKind.OVERDUE, Decimal("-45.50")),
    ]
    # net 4.55; VAT 0.5915 -> 0.59
    assert totals(station) == (Decimal("4.55"), Decimal("0.59"), Decimal("5.14"))
    assert run.station_net == Decimal("4.55")


def test_a_waived_overdue_part_is_not_deducted(world, fleet):
    claim = overdue_claim(world, fleet)
    (old,) = oldparts.parts_of_claim(claim)
    oldparts.waive_overdue(old, world.users["auditor"], "Courier lost the box")
    db.session.commit()
    run = SettlementRunFactory(world=world)
    station = statement_of(run, StatementKind.STATION, world.stations[0])
    assert station_lines(station) == [(LineKind.CLAIM, Decimal("50.05"))]


def test_an_overdue_part_waived_after_the_draft_is_dropped_at_release(world, fleet):
    claim = overdue_claim(world, fleet)
    run = SettlementRunFactory(world=world)
    station = statement_of(run, StatementKind.STATION, world.stations[0])
    assert totals(station)[0] == Decimal("4.55")
    (old,) = oldparts.parts_of_claim(claim)
    oldparts.waive_overdue(old, world.users["auditor"], "Shipped on time, scan missing")
    db.session.commit()
    release(world, run)
    assert station_lines(station) == [(LineKind.CLAIM, Decimal("50.05"))]
    # net 50.05; VAT 6.5065 -> 6.51
    assert totals(station) == (Decimal("50.05"), Decimal("6.51"), Decimal("56.56"))
    assert station.line_count == 1
    assert run.station_net == Decimal("50.05")  # the run's total follows its statements
    charge = db.session.scalar(sa.select(StationCharge).where(StationCharge.claim_id == claim.id))
    assert charge.settled_in_run_id is None


def test_a_statement_of_only_a_waived_charge_is_dropped_at_release(world, fleet):
    claim = ClaimFactory(fleet=fleet, approved=True, lines=[part("P-200")], causal_part="P-200")
    release(world, SettlementRunFactory(world=world))  # the claim is paid (50.05)
    # ... and its part is not back yet
    assert oldparts.mark_overdue(TODAY + timedelta(days=31)) == 1
    db.session.commit()
    run = SettlementRunFactory(world=world)
    station = statement_of(run, StatementKind.STATION, world.stations[0])
    # only the overdue part: -45.50; VAT -5.915 -> -5.92 (half away from zero)
    assert station_lines(station) == [(LineKind.OVERDUE, Decimal("-45.50"))]
    assert totals(station) == (Decimal("-45.50"), Decimal("-5.92"), Decimal("-51.42"))
    (old,) = oldparts.parts_of_claim(claim)
    oldparts.waive_overdue(old, world.users["auditor"], "Found in the warehouse")
    db.session.commit()
    station_id = station.id
    release(world, run)
    # Nothing is left on it: the statement goes, like an empty supplier statement.
    db.session.expunge(station)
    assert db.session.get(Statement, station_id) is None
    assert (run.station_statement_count, run.station_net) == (0, Decimal("0.00"))


def inspect_part(world, claim, result):
    (old,) = oldparts.parts_of_claim(claim)
    shipment = oldparts.create_return_shipment(world.users["station"], [old.tag])
    oldparts.ship(shipment, world.users["station"], "ZTO", "ZT1")
    oldparts.receive(shipment, world.users["auditor"], old.tag)
    oldparts.inspect(old, world.users["auditor"], result, "bench test")
    db.session.commit()


@pytest.mark.parametrize("result", ["no_fault_found", "misuse"])
def test_an_inspection_without_fault_takes_the_part_out_of_the_recovery(world, fleet, result):
    claim = ClaimFactory(fleet=fleet, approved=True)
    inspect_part(world, claim, result)
    run = SettlementRunFactory(world=world)
    cb = chargeback_of(claim)
    # parts 100.00 removed; labor stays: 120.00 x 1; no handling fee on removed parts
    assert (cb.parts_amount, cb.removed_parts_amount) == (Decimal("0.00"), Decimal("100.00"))
    assert (cb.labor_amount, cb.handling_fee, cb.amount) == (
        Decimal("120.00"),
        Decimal("0.00"),
        Decimal("120.00"),
    )
    # The station is paid in full: 230.00
    station = statement_of(run, StatementKind.STATION, world.stations[0])
    assert station_lines(station) == [(LineKind.CLAIM, Decimal("230.00"))]


@pytest.mark.parametrize("result", ["confirmed_defect", "wrong_part"])
def test_other_inspection_results_leave_the_recovery_whole(world, fleet, result):
    claim = ClaimFactory(fleet=fleet, approved=True)
    inspect_part(world, claim, result)
    SettlementRunFactory(world=world)
    cb = chargeback_of(claim)
    assert (cb.removed_parts_amount, cb.amount) == (Decimal("0.00"), Decimal("225.00"))


def test_a_claim_with_nothing_left_to_recover_gets_no_chargeback(world, fleet):
    claim = ClaimFactory(fleet=fleet, approved=True, lines=[part()])
    inspect_part(world, claim, "no_fault_found")
    run = SettlementRunFactory(world=world)
    # parts removed, no labor: 0.00 to recover -> no line, and no empty supplier statement
    assert chargeback_of(claim) is None
    assert statement_of(run, StatementKind.SUPPLIER, world.suppliers[0]) is None
    assert run.supplier_statement_count == 0


def test_a_station_that_drop_shipped_an_emergency_part_is_credited_once_received(world, fleet):
    request = ClaimFactory(fleet=fleet, emergency_part=True, approved=True)
    ship_emergency_part(request, world.users["station_b"], "SF", "SF1", Decimal("85.00"))
    db.session.commit()
    not_yet = SettlementRunFactory(world=world)
    assert not_yet.station_statement_count == 0  # shipped, not received: no credit yet
    settle.discard_run(not_yet, world.users["finance"])
    confirm_receipt(request, world.users["station"])
    db.session.commit()
    run = SettlementRunFactory(world=world)
    shipper = statement_of(run, StatementKind.STATION, world.stations[1])
    # part value 2 x 100.00 = 200.00 + freight 85.00 = 285.00; VAT 37.05
    assert station_lines(shipper) == [(LineKind.EMERGENCY_CREDIT, Decimal("285.00"))]
    assert totals(shipper) == (Decimal("285.00"), Decimal("37.05"), Decimal("322.05"))
    # The requester is not paid for a request (a pre-authorisation).
    assert statement_of(run, StatementKind.STATION, world.stations[0]) is None
    assert run.claim_count == 0
    release(world, run)
    assert SettlementRunFactory(world=world).station_statement_count == 0  # credited once


def test_a_drop_shipment_by_a_supplier_credits_no_station(world, fleet):
    request = ClaimFactory(fleet=fleet, emergency_part=True, approved=True, shipper_code="SU-A")
    ship_emergency_part(request, world.users["supplier"], "SF", "SF1", Decimal("10.00"))
    confirm_receipt(request, world.users["station"])
    db.session.commit()
    run = SettlementRunFactory(world=world)
    assert (run.station_statement_count, run.supplier_statement_count) == (0, 0)


def test_pre_authorisations_are_not_paid_to_the_requesting_station(world, fleet):
    ClaimFactory(fleet=fleet, approved=True, type="appraisal", causal_part="ENG-1", lines=[])
    ClaimFactory(
        fleet=fleet,
        approved=True,
        type="outsourced_purchase",
        fault_code=None,
        lines=[{"kind": "other", "amount": "800.00", "description": "Local glass"}],
    )
    ClaimFactory(
        fleet=fleet, emergency_part=True, approved=True, shipper_code="", fulfilment="regular"
    )
    run = SettlementRunFactory(world=world)
    assert run.claim_count == 0
    assert (run.station_statement_count, run.supplier_statement_count) == (0, 0)
    assert (run.station_net, run.supplier_net) == (Decimal("0.00"), Decimal("0.00"))


def test_vat_is_13_percent_by_default_and_follows_the_settings(world, fleet):
    ClaimFactory(fleet=fleet, approved=True)
    run = SettlementRunFactory(world=world)
    assert run.vat_rate == Decimal("0.130000")
    settle.discard_run(run, world.users["finance"])
    SettlementSettings.current().vat_rate = Decimal("0.06")
    db.session.commit()
    run = SettlementRunFactory(world=world)
    assert run.vat_rate == Decimal("0.060000")
    station = statement_of(run, StatementKind.STATION, world.stations[0])
    supplier = statement_of(run, StatementKind.SUPPLIER, world.suppliers[0])
    # 230.00 x 6% = 13.80; 225.00 x 6% = 13.50
    assert totals(station) == (Decimal("230.00"), Decimal("13.80"), Decimal("243.80"))
    assert totals(supplier) == (Decimal("225.00"), Decimal("13.50"), Decimal("238.50"))


def test_run_totals_are_sums_of_rounded_lines_across_stations_and_suppliers(world, fleet):
    world.suppliers[1].handling_fee_rate = Decimal("0.03")
    a1 = ClaimFactory(fleet=fleet, approved=True)  # ST-A, SU-A: 230.00 / 225.00
    # ST-A, SU-B: 45.50 + 4.55 = 50.05 / 45.50 + 1.365 -> 1.37 = 46.87
    a2 = ClaimFactory(fleet=fleet, approved=True, lines=[part("P-200")], causal_part="P-200")
    # ST-B, SU-A: 230.00 / 225.00
    b1 = ClaimFactory(
        fleet=fleet,
        approved=True,
        station="station_b",
        vin=fleet.old_vehicle.vin,
        odometer_km=95000,
        goodwill_reason="fleet customer",
    )
    run = SettlementRunFactory(world=world)
    assert run.claim_count == 3
    assert (run.station_statement_count, run.supplier_statement_count) == (2, 2)
    st_a = statement_of(run, StatementKind.STATION, world.stations[0])
    st_b = statement_of(run, StatementKind.STATION, world.stations[1])
    su_a = statement_of(run, StatementKind.SUPPLIER, world.suppliers[0])
    su_b = statement_of(run, StatementKind.SUPPLIER, world.suppliers[1])
    # ST-A 230.00 + 50.05 = 280.05, VAT 36.4065 -> 36.41
    assert totals(st_a) == (Decimal("280.05"), Decimal("36.41"), Decimal("316.46"))
    assert totals(st_b)[0] == Decimal("230.00")
    assert totals(su_a)[0] == Decimal("450.00")  # 225.00 + 225.00
    assert totals(su_b)[0] == Decimal("46.87")
    # Run: stations 280.05 + 230.00 = 510.05; suppliers 450.00 + 46.87 = 496.87
    assert (run.station_net, run.supplier_net) == (Decimal("510.05"), Decimal("496.87"))
    assert {chargeback_of(c).statement_id for c in (a1, b1)} == {su_a.id}
    assert chargeback_of(a2).statement_id == su_b.id


def previous_period() -> str:
    first = engine.parse_period(engine.current_period())
    last = first - timedelta(days=1)
    return f"{last.year:04d}-{last.month:02d}"


def test_claims_decided_after_the_period_cutoff_wait_for_the_next_run(world, fleet):
    earlier = ClaimFactory(fleet=fleet, approved=True)
    later = ClaimFactory(fleet=fleet, approved=True)
    cutoff = engine.period_cutoff(engine.parse_period(previous_period()))
    earlier.decided_at = cutoff - timedelta(seconds=1)
    db.session.commit()
    run = SettlementRunFactory(world=world, period=previous_period())
    assert run.claim_count == 1
    assert db.session.scalars(
        sa.select(StatementLine.claim_id).where(StatementLine.run_id == run.id)
    ).all() == [earlier.id]
    release(world, run)
    db.session.refresh(later)
    assert later.status is ClaimStatus.APPROVED
    assert SettlementRunFactory(world=world).claim_count == 1  # the current month takes it


def test_a_future_period_is_refused(world, fleet):
    first = engine.parse_period(engine.current_period())
    following = engine.next_month(first)
    with refused(ValidationFailed, match="in the future") as caught:
        settle.start_run(world.users["finance"], f"{following.year:04d}-{following.month:02d}")
    assert "period" in caught.value.fields
    assert db.session.scalar(sa.select(sa.func.count(SettlementRun.id))) == 0


@pytest.mark.parametrize(
    "text", ["", "2026", "2026-13", "2026-00", "2026/05", "26-05", "abcd-ef", "1999-12", "2026-5"]
)
def test_bad_period_text_is_refused(world, text):
    with refused(ValidationFailed, match="YYYY-MM") as caught:
        settle.start_run(world.users["finance"], text)
    assert "period" in caught.value.fields


@pytest.mark.parametrize("role", ["station", "auditor", "supplier", "admin"])
def test_only_finance_starts_a_run(world, role):
    with refused(DomainError, match="Only finance"):
        settle.start_run(world.users[role], engine.current_period())


# -- exactly once ----------------------------------------------------------------------------------


def count(model, *where):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def settled_events(claim):
    from portal.claims.models import ClaimEvent

    return count(ClaimEvent, ClaimEvent.claim_id == claim.id, ClaimEvent.action == "settled")


def test_releasing_twice_settles_once(world, fleet):
    claim = ClaimFactory(fleet=fleet, approved=True)
    run = release(world, SettlementRunFactory(world=world))
    released_at = run.released_at
    assert settle.request_release(run, world.users["finance"]).status is RunStatus.RELEASED
    assert engine.release_run(run.id, world.users["finance"].id) == "skipped"
    db.session.refresh(run)
    assert run.released_at == released_at
    assert settled_events(claim) == 1
    assert {s.status for s in db.session.scalars(sa.select(Statement))} == {
        StatementStatus.RELEASED
    }


def test_computing_a_draft_again_is_skipped(world, fleet):
    ClaimFactory(fleet=fleet, approved=True)
    run = SettlementRunFactory(world=world)
    statements = count(Statement, Statement.run_id == run.id)
    assert engine.compute_run(run.id) == "skipped"
    db.session.refresh(run)
    assert (run.status, run.attempts, run.claim_count) == (RunStatus.DRAFT, 1, 1)
    assert count(Statement, Statement.run_id == run.id) == statements == 2
    assert count(StatementLine) == 1 and count(Chargeback) == 1


def test_a_second_run_while_one_is_open_is_a_conflict(world, fleet):
    ClaimFactory(fleet=fleet, approved=True)
    run = SettlementRunFactory(world=world)
    with refused(Conflict, match="still open") as caught:
        settle.start_run(world.users["finance"], previous_period())
    assert caught.value.run_id == run.id
    assert count(SettlementRun) == 1


def new_run_row(world, **values):
    first = engine.parse_period(engine.current_period())
    row = SettlementRun(
        period=engine.current_period(),
        vat_rate=Decimal("0.13"),
        cutoff=engine.period_cutoff(first),
        created_by_id=world.users["finance"].id,
    )
    for name, value in values.items():
        setattr(row, name, value)
    db.session.add(row)
    db.session.flush()
    return row


def test_the_database_itself_keeps_one_run_open(world, fleet):
    first = new_run_row(world, status=RunStatus.QUEUED, open_slot=1)
    with pytest.raises(IntegrityError), db.session.begin_nested():
        new_run_row(world, status=RunStatus.QUEUED, open_slot=1)

    def set_first(**values):
        db.session.execute(
            sa.update(SettlementRun).where(SettlementRun.id == first.id).values(**values)
        )

    # open_slot is set exactly while the run is open (queued, running, draft)
    with pytest.raises(IntegrityError), db.session.begin_nested():
        set_first(status=RunStatus.DRAFT, open_slot=None)
    with pytest.raises(IntegrityError), db.session.begin_nested():
        set_first(status=RunStatus.DISCARDED)
    set_first(status=RunStatus.DISCARDED, open_slot=None)
    new_run_row(world, status=RunStatus.QUEUED, open_slot=1)  # the slot is free again


def test_discarding_a_draft_frees_its_claims_for_the_next_run(world, fleet):
    claim = ClaimFactory(fleet=fleet, approved=True)
    run = SettlementRunFactory(world=world)
    settle.discard_run(run, world.users["finance"])
    db.session.commit()
    assert (run.status, run.open_slot) == (RunStatus.DISCARDED, None)
    assert count(Statement) == count(StatementLine) == count(Chargeback) == 0
    db.session.refresh(claim)
    assert claim.status is ClaimStatus.APPROVED
    assert settle.discard_run(run, world.users["finance"]) is run  # twice: nothing more
    again = SettlementRunFactory(world=world)
    assert again.claim_count == 1
    assert totals(statement_of(again, StatementKind.STATION, world.stations[0]))[0] == Decimal(
        "230.00"
    )
    assert chargeback_of(claim).run_id == again.id
    release(world, again)
    with refused(Conflict, match="draft or a failed run"):
        settle.discard_run(again, world.users["finance"])


def add_and_flush(row) -> None:
    db.session.add(row)
    db.session.flush()


def refused_by_the_database(row) -> None:
    with pytest.raises(IntegrityError), db.session.begin_nested():
        add_and_flush(row)


def test_a_released_claim_never_appears_on_a_second_statement(world, fleet):
    claim = overdue_claim(world, fleet)
    first = release(world, SettlementRunFactory(world=world))
    ClaimFactory(fleet=fleet, approved=True)  # something for the next run
    second = SettlementRunFactory(world=world)
    assert second.claim_count == 1
    station = statement_of(second, StatementKind.STATION, world.stations[0])
    supplier = statement_of(second, StatementKind.SUPPLIER, world.suppliers[0])
    charge = db.session.scalar(sa.select(StationCharge).where(StationCharge.claim_id == claim.id))
    assert charge.settled_in_run_id == first.id
    # Even written by hand, a second line for the claim or its charge is refused by the database.
    for kind, source_id, amount in (
        (LineKind.CLAIM, claim.id, Decimal("50.05")),
        (LineKind.OVERDUE, charge.id, Decimal("-45.50")),
    ):
        refused_by_the_database(
            StatementLine(
                statement_id=station.id,
                run_id=second.id,
                kind=kind,
                source_id=source_id,
                claim_id=claim.id,
                amount=amount,
            )
        )
    refused_by_the_database(hand_written_chargeback(supplier, claim))
    assert count(StatementLine, StatementLine.claim_id == claim.id) == 2  # claim + overdue, once
    assert count(Chargeback, Chargeback.claim_id == claim.id) == 1


def hand_written_chargeback(statement, claim, **overrides) -> Chargeback:
    values = dict(
        statement_id=statement.id,
        run_id=statement.run_id,
        supplier_id=statement.org_id,
        claim_id=claim.id,
        parts_amount=Decimal("45.50"),
        removed_parts_amount=Decimal("0"),
        labor_hours=Decimal("0"),
        labor_hours_charged=Decimal("0"),
        labor_amount=Decimal("0"),
        recovery_share=Decimal("1"),
        recovery_amount=Decimal("45.50"),
        handling_fee_rate=Decimal("0.05"),
        handling_fee=Decimal("2.28"),
        amount=Decimal("47.78"),
    )
    return Chargeback(**values | overrides)


def test_a_line_or_chargeback_belongs_to_its_statements_run_and_supplier(world, fleet):
    """One composite foreign key per row: a line's run, a chargeback's run and supplier are its
    statement's, or the database refuses the row."""
    ClaimFactory(fleet=fleet, approved=True)
    first = release(world, SettlementRunFactory(world=world))
    claim = ClaimFactory(fleet=fleet, approved=True)
    second = SettlementRunFactory(world=world)
    station = statement_of(second, StatementKind.STATION, world.stations[0])
    supplier = statement_of(second, StatementKind.SUPPLIER, world.suppliers[0])
    db.session.execute(sa.delete(Chargeback).where(Chargeback.claim_id == claim.id))
    db.session.execute(sa.delete(StatementLine).where(StatementLine.claim_id == claim.id))
    db.session.flush()
    refused_by_the_database(
        StatementLine(
            statement_id=station.id,
            run_id=first.id,  # not the statement's run
            kind=LineKind.CLAIM,
            source_id=claim.id,
            claim_id=claim.id,
            amount=Decimal("50.05"),
        )
    )
    refused_by_the_database(hand_written_chargeback(supplier, claim, run_id=first.id))
    refused_by_the_database(
        hand_written_chargeback(supplier, claim, supplier_id=world.suppliers[1].id)
    )
    # The same rows with the statement's own run and supplier are taken.
    add_and_flush(
        StatementLine(
            statement_id=station.id,
            run_id=second.id,
            kind=LineKind.CLAIM,
            source_id=claim.id,
            claim_id=claim.id,
            amount=Decimal("50.05"),
        )
    )
    add_and_flush(hand_written_chargeback(supplier, claim))
    assert count(Chargeback, Chargeback.claim_id == claim.id) == 1


def test_a_failed_run_keeps_nothing_and_a_retry_computes_it_right(world, fleet, monkeypatch):
    claim = ClaimFactory(fleet=fleet, approved=True)
    real = engine._update_totals

    def broken(sql, table, *args):
        if table == "chargeback":  # after the station statements and lines were written
            raise RuntimeError("disk full")
        return real(sql, table, *args)

    monkeypatch.setattr(engine, "_update_totals", broken)
    run = run_now(world)
    assert (run.status, run.open_slot, run.step) == (RunStatus.FAILED, None, "failed")
    assert run.error == "RuntimeError: disk full"
    assert count(Statement) == count(StatementLine) == count(Chargeback) == 0
    db.session.refresh(claim)
    assert claim.status is ClaimStatus.APPROVED

    monkeypatch.setattr(engine, "_update_totals", real)
    settle.retry_run(run, world.users["finance"])
    db.session.commit()  # the caller commits; the job starts then
    db.session.refresh(run)
    assert (run.status, run.attempts, run.error) == (RunStatus.DRAFT, 2, "")
    assert (run.claim_count, run.station_net, run.supplier_net) == (
        1,
        Decimal("230.00"),
        Decimal("225.00"),
    )
    assert count(StatementLine) == 1 and count(Chargeback) == 1
    with refused(Conflict, match="nothing to retry"):
        settle.retry_run(run, world.users["finance"])


def test_a_failed_run_is_not_retried_while_another_run_is_open(world, fleet, monkeypatch):
    ClaimFactory(fleet=fleet, approved=True)
    monkeypatch.setattr(engine, "_update_totals", lambda *a: 1 / 0)
    failed = run_now(world)
    assert failed.status is RunStatus.FAILED
    monkeypatch.undo()
    other = SettlementRunFactory(world=world)  # a failed run holds no slot
    with refused(Conflict, match="still open") as caught:
        settle.retry_run(failed, world.users["finance"])
    assert caught.value.run_id == other.id


def test_a_run_whose_worker_stopped_is_stale_and_resumes(world, fleet):
    ClaimFactory(fleet=fleet, approved=True)
    run = new_run_row(world, status=RunStatus.RUNNING, open_slot=1, progress=35)
    run.heartbeat_at = engine.utcnow() - timedelta(seconds=30)
    db.session.commit()
    assert not settle.is_stale(run)  # 30 s of silence is not 5 minutes
    with refused(Conflict, match="still working"):
        settle.retry_run(run, world.users["finance"])
    assert settle.is_stale(run, now=engine.utcnow() + timedelta(minutes=5))
    run.heartbeat_at = engine.utcnow() - timedelta(minutes=6)
    db.session.commit()
    settle.retry_run(run, world.users["finance"])
    db.session.commit()  # the caller commits; the job starts then
    db.session.refresh(run)
    assert (run.status, run.claim_count, run.station_net) == (
        RunStatus.DRAFT,
        1,
        Decimal("230.00"),
    )
    assert not settle.is_stale(run)


# -- disputes and payment ------------------------------------------------------------------------


@pytest.fixture
def uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path))
    return tmp_path


def two_chargebacks(world, fleet):
    """Two claims charged to SU-A (225.00 each) on a draft run."""
    first, second = (
        ClaimFactory(fleet=fleet, approved=True),
        ClaimFactory(fleet=fleet, approved=True),
    )
    run = SettlementRunFactory(world=world)
    return run, chargeback_of(first), chargeback_of(second)


def test_suppliers_review_only_their_own_lines_of_released_statements(world, fleet, uploads):
    run, cb, _ = two_chargebacks(world, fleet)
    supplier = world.users["supplier"]
    with refused(DomainError, match="Only the supplier"):  # a draft is not the supplier's yet
        settle.accept_chargeback(cb, supplier)
    with refused(DomainError, match="Only the supplier"):
        settle.dispute_chargeback(cb, supplier, "not ours")
    release(world, run)
    for other in ("supplier_b", "station", "auditor", "finance"):
        with refused(DomainError, match="Only the supplier"):
            settle.accept_chargeback(cb, world.users[other])
        with refused(DomainError, match="Only the supplier"):
            settle.dispute_chargeback(cb, world.users[other], "not ours")
    db.session.refresh(cb)
    assert cb.status is ChargebackStatus.OPEN and cb.events == []


def test_a_dispute_needs_a_reason_and_evidence_checked_by_content(world, fleet, uploads):
    run, cb, _ = two_chargebacks(world, fleet)
    release(world, run)
    supplier = world.users["supplier"]
    for blank in ("", "   "):
        with refused(ValidationFailed, match="Say why") as caught:
            settle.dispute_chargeback(cb, supplier, blank)
        assert "reason" in caught.value.fields
    for name, data in (
        ("tool.exe", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 32),
        ("note.txt", b"the pump was fine when it left us"),
        ("photo.png", b"GIF89a" + b"\x00" * 16),  # named PNG, is not one
        ("empty.pdf", b""),
    ):
        with refused(ValidationFailed) as caught:
            settle.dispute_chargeback(cb, supplier, "Pump works", [(name, data)])
        assert "file" in caught.value.fields
    db.session.refresh(cb)
    assert (cb.status, cb.evidence) == (ChargebackStatus.OPEN, [])
    assert list(uploads.iterdir()) == []

    settle.dispute_chargeback(
        cb, supplier, "Pump works on our bench", [("bench.png", PNG), ("../report.pdf", PDF)]
    )
    db.session.commit()
    assert (cb.status, cb.dispute_reason) == (ChargebackStatus.DISPUTED, "Pump works on our bench")
    assert [(e.filename, e.content_type) for e in cb.evidence] == [
        ("bench.png", "image/png"),
        ("report.pdf", "application/pdf"),
    ]
    assert {(uploads / e.stored_name).read_bytes() for e in cb.evidence} == {PNG, PDF}
    assert [(e.action, e.from_status, e.to_status) for e in cb.events] == [
        ("disputed", "open", "disputed")
    ]
    with refused(Conflict, match="is already disputed"):
        settle.accept_chargeback(cb, supplier)
    with refused(ValidationFailed):
        settle.add_evidence(cb, supplier, "x.exe", b"MZ\x90\x00")
    settle.add_evidence(cb, supplier, "more.png", PNG)
    assert len(cb.evidence) == 3


def test_a_waived_dispute_leaves_the_total_and_the_statement_becomes_final(world, fleet, uploads):
    run, accepted, disputed = two_chargebacks(world, fleet)
    release(world, run)
    statement = db.session.get(Statement, accepted.statement_id)
    # 225.00 + 225.00 = 450.00; VAT 58.50
    assert totals(statement) == (Decimal("450.00"), Decimal("58.50"), Decimal("508.50"))
    supplier, auditor = world.users["supplier"], world.users["auditor"]
    settle.accept_chargeback(accepted, supplier)
    with refused(Conflict, match="is already accepted"):
        settle.accept_chargeback(accepted, supplier)
    settle.dispute_chargeback(disputed, supplier, "Misuse: the owner ran it dry")
    db.session.commit()
    assert statement.status is StatementStatus.RELEASED  # one line still disputed
    with refused(Conflict, match="open or disputed"):
        settle.mark_paid(statement, world.users["finance"], TODAY, "BANK-1")

    with refused(DomainError, match="Only auditors"):
        settle.resolve_chargeback(disputed, supplier, "waive", "we say so")
    with refused(ValidationFailed, match="Say why"):
        settle.resolve_chargeback(disputed, auditor, "waive", " ")
    with refused(ValidationFailed, match="uphold or waive"):
        settle.resolve_chargeback(disputed, auditor, "halve", "split it")
    with refused(Conflict, match="not disputed"):
        settle.resolve_chargeback(accepted, auditor, "waive", "no")
    settle.resolve_chargeback(disputed, auditor, "waive", "Oil level log shows misuse")
    db.session.commit()
    assert (disputed.status, disputed.resolution_reason) == (
        ChargebackStatus.WAIVED,
        "Oil level log shows misuse",
    )
    # Only the accepted line counts: 225.00; VAT 29.25
    assert totals(statement) == (Decimal("225.00"), Decimal("29.25"), Decimal("254.25"))
    assert statement.line_count == 2  # the waived line stays on the statement, out of the total
    assert (statement.status, statement.final_at is not None) == (StatementStatus.FINAL, True)
    assert [e.action for e in disputed.events] == ["disputed", "waived"]


def test_accepting_every_line_makes_the_statement_final(world, fleet, uploads):
    run, first, second = two_chargebacks(world, fleet)
    release(world, run)
    statement = db.session.get(Statement, first.statement_id)
    supplier, auditor = world.users["supplier"], world.users["auditor"]
    assert settle.accept_all_open(statement, supplier) == 2
    db.session.refresh(statement)
    assert statement.status is StatementStatus.FINAL  # accepting every line finalises it
    assert totals(statement)[0] == Decimal("450.00")
    # a line already reviewed cannot be disputed, a dispute is needed before a resolution
    with refused(Conflict):
        settle.dispute_chargeback(first, supplier, "changed our mind")
    with refused(Conflict, match="not disputed"):
        settle.resolve_chargeback(second, auditor, "uphold", "fine")


def test_a_dispute_upheld_keeps_the_line_in_the_total(world, fleet, uploads):
    run, first, second = two_chargebacks(world, fleet)
    release(world, run)
    statement = db.session.get(Statement, first.statement_id)
    supplier, auditor = world.users["supplier"], world.users["auditor"]
    settle.accept_chargeback(first, supplier)
    settle.dispute_chargeback(second, supplier, "Not our part")
    settle.resolve_chargeback(second, auditor, "uphold", "Tag matches your batch")
    db.session.commit()
    assert second.status is ChargebackStatus.UPHELD
    assert totals(statement) == (Decimal("450.00"), Decimal("58.50"), Decimal("508.50"))
    assert statement.status is StatementStatus.FINAL


def test_finance_marks_final_and_released_statements_paid_once(world, fleet, uploads):
    run, first, _ = two_chargebacks(world, fleet)
    finance = world.users["finance"]
    station = statement_of(run, StatementKind.STATION, world.stations[0])
    supplier_statement = db.session.get(Statement, first.statement_id)
    with refused(Conflict, match="draft statement"):
        settle.mark_paid(station, finance, TODAY, "BANK-0")
    release(world, run)
    with refused(Conflict, match="open or disputed"):
        settle.mark_paid(supplier_statement, finance, TODAY, "BANK-1")
    with refused(DomainError, match="Only finance"):
        settle.mark_paid(station, world.users["auditor"], TODAY, "BANK-1")
    with refused(ValidationFailed) as caught:
        settle.mark_paid(station, finance, engine.local_today() + timedelta(days=1), "BANK-1")
    assert caught.value.fields == {"paid_on": "is in the future"}
    with refused(ValidationFailed) as caught:
        settle.mark_paid(station, finance, None, " ")
    assert set(caught.value.fields) == {"paid_on", "reference"}

    settle.mark_paid(station, finance, TODAY, "BANK-1")
    db.session.commit()
    assert (station.status, station.paid_on, station.paid_reference) == (
        StatementStatus.PAID,
        TODAY,
        "BANK-1",
    )
    with refused(Conflict, match="already paid"):
        settle.mark_paid(station, finance, TODAY, "BANK-2")

    settle.accept_all_open(supplier_statement, world.users["supplier"])
    settle.mark_paid(supplier_statement, finance, TODAY - timedelta(days=1), "BANK-3")
    db.session.commit()
    assert supplier_statement.status is StatementStatus.PAID
    with refused(Conflict, match="already paid"):
        settle.mark_paid(supplier_statement, finance, TODAY, "BANK-4")
