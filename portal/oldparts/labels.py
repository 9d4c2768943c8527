"""What the pages call the old-part enums: one lazy label per value, used by pages and PDFs."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal import labels
from portal.masterdata.models import Disposition
from portal.oldparts.models import (
    ChargeKind,
    FindingStatus,
    Inspection,
    OldPartStatus,
    ShipmentStatus,
)

STATUS_LABELS = {
    OldPartStatus.AWAITING_RETURN: _l("Awaiting return"),
    OldPartStatus.SHIPPED: _l("Shipped"),
    OldPartStatus.RECEIVED: _l("Received"),
    OldPartStatus.INSPECTED: _l("Inspected"),
    OldPartStatus.FORWARDED: _l("Forwarded to supplier"),
    OldPartStatus.WRITTEN_OFF: _l("Written off"),
}

STATUS_BADGES = {
    OldPartStatus.AWAITING_RETURN: "text-bg-warning",
    OldPartStatus.SHIPPED: "text-bg-info",
    OldPartStatus.RECEIVED: "text-bg-primary",
    OldPartStatus.INSPECTED: "text-bg-success",
    OldPartStatus.FORWARDED: "text-bg-info",
    OldPartStatus.WRITTEN_OFF: "text-bg-secondary",
}

INSPECTION_LABELS = {
    Inspection.CONFIRMED_DEFECT: _l("Confirmed defect"),
    Inspection.NO_FAULT_FOUND: _l("No fault found"),
    Inspection.MISUSE: _l("Misuse"),
    Inspection.WRONG_PART: _l("Wrong part"),
}

FINDING_LABELS = {
    FindingStatus.PROPOSED: _l("Proposed by the supplier: waits for an auditor"),
    FindingStatus.CONFIRMED: _l("Supplier's finding confirmed by an auditor"),
    FindingStatus.OVERRULED: _l("Supplier's finding overruled by an auditor"),
}

# The same, short: the findings list's filter and column.
FINDING_REVIEW_LABELS = {
    FindingStatus.PROPOSED: _l("Waiting for review"),
    FindingStatus.CONFIRMED: _l("Confirmed"),
    FindingStatus.OVERRULED: _l("Overruled"),
}

DISPOSITION_LABELS = {
    Disposition.RETURN_TO_OEM: _l("Return to the OEM"),
    Disposition.RETURN_TO_SUPPLIER: _l("Return to the supplier"),
    Disposition.SCRAP_AT_STATION: _l("Scrap at the station"),
}

SHIPMENT_STATUS_LABELS = {
    ShipmentStatus.PACKING: _l("Packing"),
    ShipmentStatus.SHIPPED: _l("Shipped"),
    ShipmentStatus.RECEIVED: _l("Received"),
}

SHIPMENT_STATUS_BADGES = {
    ShipmentStatus.PACKING: "text-bg-warning",
    ShipmentStatus.SHIPPED: "text-bg-info",
    ShipmentStatus.RECEIVED: "text-bg-success",
}

# Timeline actions (OldPartEvent.action); an action not listed is shown as stored.
EVENT_LABELS = {
    "created": _l("Created on approval"),
    "scrapped_at_station": _l("Scrapped at the station"),
    "packed": _l("Packed into a return shipment"),
    "shipped": _l("Shipped"),
    "received": _l("Received"),
    "missing": _l("Reported missing"),
    "inspected_confirmed_defect": _l("Inspected: confirmed defect"),
    "inspected_no_fault_found": _l("Inspected: no fault found"),
    "inspected_misuse": _l("Inspected: misuse"),
    "inspected_wrong_part": _l("Inspected: wrong part"),
    "proposed_confirmed_defect": _l("Supplier proposes: confirmed defect"),
    "proposed_no_fault_found": _l("Supplier proposes: no fault found"),
    "proposed_misuse": _l("Supplier proposes: misuse"),
    "proposed_wrong_part": _l("Supplier proposes: wrong part"),
    "finding_confirmed": _l("Auditor confirmed the supplier's finding"),
    "finding_overruled": _l("Auditor overruled the supplier's finding"),
    "packed_for_supplier": _l("Packed for the supplier"),
    "forwarded": _l("Forwarded to the supplier"),
    "written_off": _l("Written off"),
    "overdue": _l("Overdue: charged back to the station"),
    "overdue_waived": _l("Overdue chargeback waived"),
    "adjustment_supplier_credit": _l("Adjustment: supplier credited on its next statement"),
    "adjustment_station_credit": _l("Adjustment: station credited on its next statement"),
}

CHARGE_KIND_LABELS = {
    ChargeKind.SCRAP_RESIDUAL: _l("Scrap residual"),
    ChargeKind.OVERDUE: _l("Overdue old part"),
}

labels.register("old_part_status", STATUS_LABELS)
labels.register("inspection", INSPECTION_LABELS)
labels.register("finding", FINDING_LABELS)
labels.register("disposition", DISPOSITION_LABELS)
labels.register("shipment_status", SHIPMENT_STATUS_LABELS)
labels.register("old_part_event", EVENT_LABELS)
labels.register("station_charge_kind", CHARGE_KIND_LABELS)
