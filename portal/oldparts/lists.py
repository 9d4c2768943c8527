"""The old-part list's columns (portal.lists)."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.claims.models import Claim
from portal.lists import Column, Listing, keyed
from portal.masterdata.models import Organisation, Part
from portal.oldparts import labels
from portal.oldparts.models import OldPart, OldPartStatus, ReturnShipment, ShipmentStatus


def _of(model, column, key):
    return sa.select(column).where(model.id == key).correlate(OldPart).scalar_subquery()


def _inspection(p: OldPart) -> str:
    return str(labels.INSPECTION_LABELS[p.inspection]) if p.inspection else ""


OLD_PARTS = Listing(
    [
        Column("tag", _l("Tag"), OldPart.tag, lambda p: p.tag),
        Column(
            "claim",
            _l("Claim"),
            _of(Claim, Claim.number, OldPart.claim_id),
            lambda p: p.claim.number,
        ),
        Column(
            "part", _l("Part"), _of(Part, Part.number, OldPart.part_id), lambda p: p.part.number
        ),
        Column("part_name", _l("Part name"), None, lambda p: p.part.name),
        Column("status", _l("Status"), OldPart.status, lambda p: labels.STATUS_LABELS[p.status]),
        Column(
            "disposition",
            _l("Disposition"),
            OldPart.disposition,
            lambda p: labels.DISPOSITION_LABELS[p.disposition],
        ),
        Column(
            "destination",
            _l("Destination"),
            _of(Organisation, Organisation.name, OldPart.destination_org_id),
            lambda p: p.destination.name if p.destination else "",
        ),
        Column("deadline", _l("Return deadline"), OldPart.deadline, lambda p: p.deadline),
        Column("inspection", _l("Inspection"), OldPart.inspection, _inspection),
        Column("unit_price", _l("Unit price"), OldPart.unit_price, lambda p: p.unit_price),
    ],
    default="deadline",
    tiebreak=OldPart.id,
    # Awaiting return first, the nearest deadline first.
    default_order=lambda descending: [
        sa.case((OldPart.status == OldPartStatus.AWAITING_RETURN, 0), else_=1),
        OldPart.deadline.asc().nulls_last(),
        OldPart.tag,
    ],
)


# -- return shipments ------------------------------------------------------------------------------


def _shipment_org(column):
    return (
        sa.select(Organisation.name)
        .where(Organisation.id == column)
        .correlate(ReturnShipment)
        .scalar_subquery()
    )


SHIPMENTS = Listing(
    [
        Column("number", _l("Shipment"), ReturnShipment.number, lambda s: s.number),
        Column("status", _l("Status"), ReturnShipment.status, lambda s: s.status),
        Column(
            "from", _l("From"), _shipment_org(ReturnShipment.from_org_id), lambda s: s.from_org.name
        ),
        Column("to", _l("To"), _shipment_org(ReturnShipment.to_org_id), lambda s: s.to_org.name),
        Column("parts", _l("Parts"), ReturnShipment.parts_count, lambda s: s.parts_count),
        Column("carrier", _l("Carrier"), ReturnShipment.carrier, lambda s: s.carrier),
        Column(
            "tracking", _l("Tracking number"), ReturnShipment.tracking_no, lambda s: s.tracking_no
        ),
        Column("created", _l("Created"), ReturnShipment.created_at, lambda s: s.created_at),
        Column("shipped", _l("Shipped"), ReturnShipment.shipped_at, lambda s: s.shipped_at),
        Column("received", _l("Received"), ReturnShipment.received_at, lambda s: s.received_at),
    ],
    default="-created",
    tiebreak=ReturnShipment.id,
    # On their way first, then those being packed, the newest first.
    default_order=lambda descending: [
        sa.case(
            (ReturnShipment.status == ShipmentStatus.SHIPPED, 0),
            (ReturnShipment.status == ShipmentStatus.PACKING, 1),
            else_=2,
        ),
        ReturnShipment.created_at.desc(),
        ReturnShipment.id.desc(),
    ],
)


# -- suppliers' findings ---------------------------------------------------------------------------


def _label(mapping, value):
    return mapping[value] if value is not None else ""


FINDINGS = Listing(
    [
        Column("tag", _l("Tag"), OldPart.tag, lambda p: p.tag),
        Column(
            "claim",
            _l("Claim"),
            _of(Claim, Claim.number, OldPart.claim_id),
            lambda p: p.claim.number,
        ),
        Column(
            "part", _l("Part"), _of(Part, Part.number, OldPart.part_id), lambda p: p.part.number
        ),
        Column("part_name", _l("Part name"), None, lambda p: p.part.name),
        Column(
            "supplier",
            _l("Supplier"),
            _of(Organisation, Organisation.name, OldPart.supplier_id),
            lambda p: p.supplier.name if p.supplier else "",
        ),
        Column(
            "proposed",
            _l("Proposed"),
            OldPart.proposed_inspection,
            lambda p: _label(labels.INSPECTION_LABELS, p.proposed_inspection),
        ),
        Column(
            "finding",
            _l("Review"),
            OldPart.finding_status,
            lambda p: _label(labels.FINDING_REVIEW_LABELS, p.finding_status),
        ),
        Column(
            "inspection",
            _l("Result in force"),
            OldPart.inspection,
            lambda p: _label(labels.INSPECTION_LABELS, p.inspection),
        ),
        Column("note", _l("Note"), None, lambda p: p.inspection_note),
        Column("photos", _l("Photos"), None, lambda p: len(p.photos)),
        Column("inspected", _l("Inspected"), OldPart.inspected_at, lambda p: p.inspected_at),
        Column(
            "reviewed", _l("Reviewed"), OldPart.finding_reviewed_at, lambda p: p.finding_reviewed_at
        ),
    ],
    default="inspected",  # the oldest finding first
    tiebreak=OldPart.id,
)


def _status(p: OldPart) -> str:
    return str(labels.STATUS_LABELS[p.status])


# The parts of one return shipment (a Python list, oldparts.operations.parts_in): in the box's
# order (by tag) unless a column is chosen; its export is the box's contents as a spreadsheet.
SHIPMENT_PARTS = Listing(
    [
        keyed("tag", _l("Tag"), lambda p: p.tag),
        keyed("claim", _l("Claim"), lambda p: p.claim.number),
        keyed("part", _l("Part number"), lambda p: p.part.number),
        Column("part_name", _l("Part"), None, lambda p: p.part.name),
        Column("status", _l("Status"), lambda p: p.status.value, _status),
        Column(
            "inspection",
            _l("Inspection"),
            lambda p: p.inspection.value if p.inspection else None,
            _inspection,
        ),
        Column("note", _l("Note"), None, lambda p: p.receive_note or p.inspection_note or ""),
    ],
    default="tag",
    tiebreak=lambda p: p.tag,
)
