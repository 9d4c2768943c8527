"""What the pages call the claim enums: one lazy label per value, reused by every page.

The Chinese business terms (DESIGN 3 and 9) are what translators put in the zh catalogue; the
English pages show them as a hint next to the type (stations often know a type by that name).
"""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

from portal import labels, messages
from portal.claims.models import ClaimStatus, ClaimType, LineKind

TYPE_LABELS = {
    ClaimType.REPAIR: _l("Warranty repair"),
    ClaimType.MAJOR_ASSEMBLY: _l("Major assembly"),
    ClaimType.APPRAISAL: _l("Appraisal"),
    ClaimType.BREAK_IN: _l("Break-in maintenance"),
    ClaimType.ROADSIDE: _l("Roadside emergency"),
    ClaimType.OUTSOURCED_PURCHASE: _l("Outsourced purchase"),
    ClaimType.EMERGENCY_PART: _l("Emergency part transfer"),
    ClaimType.CAMPAIGN: _l("Recall or service campaign"),
}

TYPE_TERMS_ZH = {
    ClaimType.REPAIR: "保修单",
    ClaimType.MAJOR_ASSEMBLY: "大总成单",
    ClaimType.APPRAISAL: "鉴定单",
    ClaimType.BREAK_IN: "走保单",
    ClaimType.ROADSIDE: "外出急救单",
    ClaimType.OUTSOURCED_PURCHASE: "外购申请单",
    ClaimType.EMERGENCY_PART: "紧急调件单",
    ClaimType.CAMPAIGN: "召回 / 服务活动单",
}

TYPE_DESCRIPTIONS = {
    ClaimType.REPAIR: _l(
        "Parts and labor of a warranty repair; needs the fault code and the causal part."
    ),
    ClaimType.MAJOR_ASSEMBLY: _l(
        "Replacing an engine, gearbox or axle; needs an approved appraisal for the VIN and part."
    ),
    ClaimType.APPRAISAL: _l(
        "Pre-authorisation of a major-assembly repair; valid for 30 days once approved."
    ),
    ClaimType.BREAK_IN: _l(
        "The model's fixed break-in package, once per vehicle and only inside its window."
    ),
    ClaimType.ROADSIDE: _l(
        "A trip to a broken-down vehicle: round-trip km, hours on site and tolls, with receipts."
    ),
    ClaimType.OUTSOURCED_PURCHASE: _l(
        "Approval and price cap for buying a part locally when the OEM cannot supply it."
    ),
    ClaimType.EMERGENCY_PART: _l(
        "Moving a part urgently to a vehicle off the road: regular shipment or drop-shipment."
    ),
    ClaimType.CAMPAIGN: _l(
        "The work of an open recall or service campaign on an affected vehicle, once per "
        "vehicle; no coverage needed; the campaign's package is approved automatically."
    ),
}

STATUS_LABELS = {
    ClaimStatus.DRAFT: _l("Draft"),
    ClaimStatus.SUBMITTED: _l("Submitted"),
    ClaimStatus.IN_REVIEW: _l("In review"),
    ClaimStatus.APPROVED: _l("Approved"),
    ClaimStatus.PARTIALLY_APPROVED: _l("Partially approved"),
    ClaimStatus.REJECTED: _l("Rejected"),
    ClaimStatus.RETURNED: _l("Returned"),
    ClaimStatus.SETTLED: _l("Settled"),
}

# Bootstrap badge classes per status (claims.css adds the partial one).
STATUS_BADGES = {
    ClaimStatus.DRAFT: "text-bg-secondary",
    ClaimStatus.SUBMITTED: "text-bg-info",
    ClaimStatus.IN_REVIEW: "text-bg-info",
    ClaimStatus.APPROVED: "text-bg-success",
    ClaimStatus.PARTIALLY_APPROVED: "badge-partial",
    ClaimStatus.REJECTED: "text-bg-danger",
    ClaimStatus.RETURNED: "text-bg-warning",
    ClaimStatus.SETTLED: "text-bg-dark",
}

# The submit checks that flag a claim (models.FLAG_RULES), by rule name: filters and flag icons.
FLAG_LABELS = {
    "outside_coverage": _l("Outside coverage (goodwill)"),
    "duplicate": _l("Possible duplicate"),
    "labor_hours": _l("Labor hours above standard"),
    "part_not_for_model": _l("Part not for the vehicle's model"),
}

LINE_KIND_LABELS = {
    LineKind.PART: _l("Part"),
    LineKind.LABOR: _l("Labor"),
    LineKind.OTHER: _l("Other"),
    LineKind.TRIP: _l("Roadside trip"),
    LineKind.PACKAGE: _l("Break-in package"),
}

FULFILMENT_LABELS = {
    "regular": _l("Regular shipment from the OEM parts centre"),
    "drop_ship": _l("Drop-shipment by a supplier or another station"),
}

# Timeline actions (ClaimEvent.action); an action not listed is shown as stored.
EVENT_LABELS = {
    "created": _l("Created"),
    "edited": _l("Edited"),
    "submitted": _l("Submitted"),
    "resubmitted": _l("Resubmitted"),
    "queued": _l("Queued for review"),
    "auto_approved": _l("Approved automatically"),
    "returned": _l("Returned to the station"),
    "approved": _l("Approved"),
    "partially_approved": _l("Partially approved"),
    "rejected": _l("Rejected"),
    "settled": _l("Settled"),
    "shipped": _l("Part shipped"),
    "received": _l("Part received"),
    "request_released": _l("Outsourced-purchase request released"),
    "adjustment_supplier_credit": _l("Adjustment: supplier credited on its next statement"),
    "adjustment_station_credit": _l("Adjustment: station credited on its next statement"),
    "adjustment_supplier_debit": _l("Adjustment: supplier credit taken back"),
}
# Events about the supplier's money (its statements, credits): not on a station's timeline.
SUPPLIER_EVENTS = frozenset({"adjustment_supplier_credit", "adjustment_supplier_debit"})

# Header fields by the names the payload, the rules and the version snapshots use.
FIELD_LABELS = {
    "type": _l("Type"),
    "vin": _l("VIN"),
    "odometer_km": _l("Odometer (km)"),
    "repair_date": _l("Repair date"),
    "fault_date": _l("Fault date"),
    "fault_code": _l("Fault code"),
    "causal_part": _l("Causal part"),
    "complaint": _l("Complaint"),
    "description": _l("Complaint"),
    "cause": _l("Cause"),
    "correction": _l("Correction"),
    "goodwill_reason": _l("Goodwill reason"),
    "outsourced_request": _l("Outsourced-purchase request"),
    "fulfilment": _l("Fulfilment"),
    "shipper_code": _l("Shipper code"),
    "campaign": _l("Campaign"),
    "total_amount": _l("Total"),
    "lines": _l("Lines"),
    "attachments": _l("Attachments"),
    "attachment": _l("Attachment"),
    "trip_km": _l("Round-trip distance (km)"),
}

LINE_ATTR_LABELS = {
    "qty": _l("quantity"),
    "hours": _l("hours"),
    "amount": _l("amount"),
    "description": _l("description"),
}

# The description the roadside form gives the toll line, so that editing finds it again.
TOLLS_DESCRIPTION = "Tolls"
# The break-in claim's one line, stored in English whoever files it, read in the reader's language.
BREAK_IN_DESCRIPTION = "Break-in maintenance package"
DESCRIPTION_LABELS = {
    TOLLS_DESCRIPTION: _l("Tolls"),
    BREAK_IN_DESCRIPTION: _l("Break-in maintenance package"),
}


def change_label(what: str) -> str:
    """A readable name for an entry of `operations.diff_snapshots` ("line P-100 qty")."""
    if what in FIELD_LABELS:
        return str(FIELD_LABELS[what])
    if what.startswith("line "):
        item, attr = what[5:], ""
        head, _, last = item.rpartition(" ")
        if head and last in LINE_ATTR_LABELS:
            item, attr = head, last
        if item in DESCRIPTION_LABELS:
            item = str(DESCRIPTION_LABELS[item])
        elif item in set(LineKind):
            item = str(LINE_KIND_LABELS[LineKind(item)])
        label = str(_l("Line %(item)s", item=item))
        if attr:
            label += " · " + str(LINE_ATTR_LABELS[attr])
        return label
    return what


# The submit checks by rule name (rules.RULES): what a refusal is about.
CHECK_LABELS = {
    "required": _l("Required information"),
    "vin": _l("VIN"),
    "dates": _l("Dates"),
    "odometer": _l("Odometer"),
    "coverage": _l("Warranty coverage"),
    "duplicate": _l("Possible duplicate"),
    "part_not_for_model": _l("Part not for the vehicle's model"),
    "labor_hours": _l("Labor hours"),
    "break_in_window": _l("Break-in window"),
    "break_in_once": _l("One break-in per vehicle"),
    "major_assembly": _l("Major assembly"),
    "appraisal_required": _l("Appraisal"),
    "roadside": _l("Roadside trip"),
    "outsourced_request": _l("Outsourced-purchase request"),
    "emergency_part": _l("Emergency part"),
    "outside_coverage": _l("Outside coverage (goodwill)"),
}

# Coverage groups are master data (an import names them); the usual ones have labels, any
# other is shown by its name.
COVERAGE_GROUP_LABELS = {
    "basic": _l("Basic"),
    "powertrain": _l("Powertrain"),
    "wear": _l("Wear parts"),
    "electrical": _l("Electrical"),
    "body": _l("Body"),
}

AUTO_RULE = re.compile(r"auto_approve_under_(\d+(?:\.\d+)?)")


def auto_rule_label(code: str) -> str | None:
    """`auto_approve_under_2000.00` (Claim.auto_decision_rule): the rule in words."""
    found = AUTO_RULE.fullmatch(code)
    if found is None:
        return None
    return str(
        _l(
            "No flags and a total under %(threshold)s",
            threshold=messages.money(found.group(1)),
        )
    )


labels.register("claim_type", TYPE_LABELS)
labels.register("claim_status", STATUS_LABELS)
labels.register("claim_line_kind", LINE_KIND_LABELS)
labels.register("flag_rule", FLAG_LABELS)
labels.register("claim_event", EVENT_LABELS)
labels.register("claim_field", FIELD_LABELS)
labels.register("fulfilment", FULFILMENT_LABELS)
labels.register("claim_check", CHECK_LABELS)
labels.register("coverage_group", COVERAGE_GROUP_LABELS)
labels.register_resolver("coverage_group", lambda code: code)
labels.register(
    "auto_rule", {"campaign_package": _l("No flags and exactly the campaign's package")}
)
labels.register_resolver("auto_rule", auto_rule_label)


def change_value(what: str, value) -> str:
    """A value of an entry of `operations.diff_snapshots` as the reader reads it: amounts (the
    total, a line's amount, a line added or removed) as CNY, the rest as stored."""
    if value is None:
        return "–"
    line_attr = what.rpartition(" ")[2] if what.startswith("line ") else None
    amount = (
        what == "total_amount"
        or line_attr == "amount"
        or (line_attr is not None and line_attr not in LINE_ATTR_LABELS)
    )
    return messages.money(value) if amount else str(value)
