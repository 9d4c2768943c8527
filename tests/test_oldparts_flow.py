"""An old part's way: packed and shipped by the station, received and inspected by the
destination, forwarded by the OEM to the supplier, written off."""

from __future__ import annotations

import pytest

from portal.claims.models import ClaimSettings
from portal.errors import Conflict, DomainError, ValidationFailed
from portal.masterdata.models import Disposition
from portal.notifications.models import Notification
from portal.oldparts import operations as op
from portal.oldparts.models import Inspection, OldPartStatus, ShipmentStatus
from tests.factories import ClaimFactory, Fleet, old_parts


@pytest.fixture
def fleet(world):
    ClaimSettings.current().auto_approve_enabled = False
    return Fleet.build(world)


def claim_parts(claim, model):
    from portal.extensions import db

    return db.session.query(model).filter_by(claim_id=claim.id).all()


def test_the_whole_way_to_the_oem_then_the_supplier(world, fleet):
    parts = old_parts(ClaimFactory(fleet=fleet, with_old_parts=True))
    station, auditor, supplier = (
        world.users["station"],
        world.users["auditor"],
        world.users["supplier"],
    )
    shipment = op.create_return_shipment(station, [p.tag for p in parts])
    assert shipment.to_org.code == "OEM" and shipment.status is ShipmentStatus.PACKING
    op.ship(shipment, station, "ZTO", "ZT123")
    assert {p.status for p in parts} == {OldPartStatus.SHIPPED}
    op.receive(shipment, auditor, parts[0].tag)
    assert shipment.status is ShipmentStatus.SHIPPED  # one still on its way
    op.receive(shipment, auditor, parts[1].tag, "box dented")
    assert shipment.status is ShipmentStatus.RECEIVED
    op.inspect(parts[0], auditor, "confirmed_defect", "scored rotor")
    op.inspect(parts[1], auditor, "no_fault_found", "works on the bench")
    forward = op.forward_to_supplier(auditor, [parts[0].tag])
    assert forward.to_org == fleet.part.supplier
    op.ship(forward, auditor, "SF", "SF777")
    assert parts[0].status is OldPartStatus.FORWARDED
    op.write_off(parts[0], supplier)
    op.write_off(parts[1], auditor)
    assert {p.status for p in parts} == {OldPartStatus.WRITTEN_OFF}
    assert [e.action for e in parts[0].events] == [
        "created",
        "packed",
        "shipped",
        "received",
        "inspected_confirmed_defect",
        "packed_for_supplier",
        "forwarded",
        "written_off",
    ]


def test_parts_routed_to_a_supplier_are_received_by_that_supplier_only(world, fleet):
    fleet.part_b.disposition = Disposition.RETURN_TO_SUPPLIER
    (part,) = old_parts(ClaimFactory(fleet=fleet, with_old_parts=True, old_part="P-200", units=1))
    shipment = op.create_return_shipment(world.users["station"], [part.tag])
    assert shipment.to_org == fleet.part_b.supplier
    op.ship(shipment, world.users["station"], "ZTO", "1")
    for who in ("auditor", "supplier"):  # SU-A is not the destination
        with pytest.raises(DomainError):
            op.receive(shipment, world.users[who], part.tag)
    op.receive(shipment, world.users["supplier_b"], part.tag)
    op.inspect(part, world.users["supplier_b"], Inspection.MISUSE, "overheated")
    assert part.inspection is Inspection.MISUSE


def test_a_station_packs_only_its_own_parts_awaiting_return(world, fleet):
    parts = old_parts(ClaimFactory(fleet=fleet, with_old_parts=True))
    with pytest.raises(ValidationFailed) as refused:
        op.create_return_shipment(world.users["station_b"], [parts[0].tag])
    assert "no such old part" in str(refused.value.fields)
    with pytest.raises(ValidationFailed):
        op.create_return_shipment(world.users["station"], ["NOPE-1"])
    op.create_return_shipment(world.users["station"], [parts[0].tag])
    with pytest.raises(ValidationFailed) as refused:
        op.create_return_shipment(world.users["station"], [parts[0].tag])
    assert "not awaiting return" in str(refused.value.fields)


def test_shipping_needs_carrier_and_tracking_and_happens_once(world, fleet):
    parts = old_parts(ClaimFactory(fleet=fleet, with_old_parts=True, units=1))
    shipment = op.create_return_shipment(world.users["station"], [parts[0].tag])
    with pytest.raises(ValidationFailed):
        op.ship(shipment, world.users["station"], "", "")
    with pytest.raises(DomainError):
        op.ship(shipment, world.users["station_b"], "ZTO", "1")
    op.ship(shipment, world.users["station"], "ZTO", "1")
    with pytest.raises(Conflict):
        op.ship(shipment, world.users["station"], "ZTO", "2")


def test_a_wrong_tag_or_missing_part_at_receipt(world, fleet, db_session):
    parts = old_parts(ClaimFactory(fleet=fleet, with_old_parts=True))
    shipment = op.create_return_shipment(world.users["station"], [p.tag for p in parts])
    op.ship(shipment, world.users["station"], "ZTO", "1")
    with pytest.raises(ValidationFailed):
        op.receive(shipment, world.users["auditor"], "RP-NOT-THERE")
    op.report_missing(shipment, world.users["auditor"], parts[1].tag, "not in the box")
    assert parts[1].receive_note == "not in the box"
    assert (
        db_session.query(Notification).filter(Notification.message.contains(parts[1].tag)).count()
        == 1
    )


def test_wrong_part_asks_the_station(world, fleet, db_session):
    (part,) = old_parts(ClaimFactory(fleet=fleet, with_old_parts=True, units=1))
    shipment = op.create_return_shipment(world.users["station"], [part.tag])
    op.ship(shipment, world.users["station"], "ZTO", "1")
    with pytest.raises(Conflict):
        op.inspect(part, world.users["auditor"], "wrong_part")  # not received yet
    op.receive(shipment, world.users["auditor"], part.tag)
    with pytest.raises(ValidationFailed):
        op.inspect(part, world.users["auditor"], "looks_fine")
    op.inspect(part, world.users["auditor"], "wrong_part", "a sensor, not a pump")
    note = (
        db_session.query(Notification).filter(Notification.message.contains("please explain")).one()
    )
    assert note.link.endswith(part.claim.number)


def test_write_off_only_by_the_holder(world, fleet):
    (part,) = old_parts(ClaimFactory(fleet=fleet, with_old_parts=True, units=1))
    with pytest.raises(DomainError):
        op.write_off(part, world.users["auditor"])  # still at the station
    shipment = op.create_return_shipment(world.users["station"], [part.tag])
    op.ship(shipment, world.users["station"], "ZTO", "1")
    op.receive(shipment, world.users["auditor"], part.tag)
    op.inspect(part, world.users["auditor"], "confirmed_defect")
    with pytest.raises(DomainError):
        op.write_off(part, world.users["supplier"])
    op.write_off(part, world.users["auditor"])
    with pytest.raises(Conflict):
        op.write_off(part, world.users["auditor"])


def test_a_part_packed_for_its_supplier_is_not_packed_again_nor_written_off(world, fleet):
    (part,) = old_parts(ClaimFactory(fleet=fleet, with_old_parts=True, units=1))
    auditor = world.users["auditor"]
    shipment = op.create_return_shipment(world.users["station"], [part.tag])
    op.ship(shipment, world.users["station"], "ZTO", "1")
    op.receive(shipment, auditor, part.tag)
    op.inspect(part, auditor, "confirmed_defect")
    op.forward_to_supplier(auditor, [part.tag])
    with pytest.raises(ValidationFailed) as refused:
        op.forward_to_supplier(auditor, [part.tag])
    assert "already packed" in str(refused.value.fields)
    assert not op.can_write_off(part, auditor)
    with pytest.raises(DomainError):
        op.write_off(part, auditor)


@pytest.mark.parametrize(
    ("result", "removed"),
    [
        ("confirmed_defect", False),
        ("no_fault_found", True),
        ("misuse", True),
        ("wrong_part", False),
    ],
)
def test_inspection_results_decide_what_leaves_the_suppliers_recovery(
    world, fleet, result, removed
):
    (part,) = old_parts(ClaimFactory(fleet=fleet, with_old_parts=True, units=1))
    shipment = op.create_return_shipment(world.users["station"], [part.tag])
    op.ship(shipment, world.users["station"], "ZTO", "1")
    op.receive(shipment, world.users["auditor"], part.tag)
    assert op.lines_removed_from_recovery([part.claim_id]) == set()
    op.inspect(part, world.users["auditor"], result)
    expected = {part.claim_line_id} if removed else set()
    assert op.lines_removed_from_recovery([part.claim_id]) == expected
