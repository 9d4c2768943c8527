"""The audit log as people read it: each field by its label, each value as the reader reads it.

An entry keeps what the operation wrote (`{"status": "partially_approved", "threshold": "2000.00"}`,
the JSON the API answers as documented). The page and the CSV show it in the reader's language:
the field `recovery_share` as "Recovery share", a status by its label, an amount as CNY with
thousands separators, a fraction as a percentage, a date in the reader's locale.

How a value reads depends on the field and, for a few fields, on what the entry records: the
`status` of a claim is a claim status, that of a statement a statement status. The labels of the
codes come from portal.labels, where each domain package registers them (this package sits
below them all and imports none).
"""

from __future__ import annotations

import enum
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import format_percent
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal import labels, messages
from portal.auditlog.operations import AuditKind

# What an entry records, by its kind (the page's filter, the CSV's column).
KIND_LABELS = labels.register(
    "audit_kind",
    {
        AuditKind.CLAIM_DECIDED: _l("Claim decided"),
        AuditKind.CLAIM_AUTO_APPROVED: _l("Claim approved automatically"),
        AuditKind.FINDING_CONFIRMED: _l("Supplier finding confirmed"),
        AuditKind.FINDING_OVERRULED: _l("Supplier finding overruled"),
        AuditKind.INSPECTION_RECORDED: _l("Inspection recorded"),
        AuditKind.OVERDUE_CHARGED: _l("Overdue old part charged"),
        AuditKind.OVERDUE_WAIVED: _l("Overdue charge waived"),
        AuditKind.ADJUSTMENT_CREATED: _l("Adjustment created"),
        AuditKind.RUN_STARTED: _l("Settlement run started"),
        AuditKind.RUN_COMPUTED: _l("Settlement run computed"),
        AuditKind.RUN_RELEASE_REQUESTED: _l("Settlement run release requested"),
        AuditKind.RUN_RELEASED: _l("Settlement run released"),
        AuditKind.RUN_DISCARDED: _l("Settlement run discarded"),
        AuditKind.RUN_RETRIED: _l("Settlement run retried"),
        AuditKind.STATEMENT_PAID: _l("Statement paid"),
        AuditKind.STATEMENT_FINAL: _l("Statement final"),
        AuditKind.CHARGEBACK_ACCEPTED: _l("Chargeback accepted"),
        AuditKind.CHARGEBACK_DISPUTED: _l("Chargeback disputed"),
        AuditKind.CHARGEBACK_UPHELD: _l("Dispute upheld"),
        AuditKind.CHARGEBACK_WAIVED: _l("Dispute waived"),
        AuditKind.SETTINGS_CHANGED: _l("Settings changed"),
        AuditKind.REASON_CODE_CHANGED: _l("Reason code changed"),
        AuditKind.USER_CHANGED: _l("User changed"),
        AuditKind.MASTERDATA_IMPORTED: _l("Master data imported"),
        AuditKind.MASTERDATA_CREATED: _l("Master-data record created"),
        AuditKind.MASTERDATA_UPDATED: _l("Master-data record edited"),
        AuditKind.MASTERDATA_REMOVED: _l("Master-data record removed"),
        AuditKind.CAMPAIGN_OPENED: _l("Campaign opened"),
        AuditKind.CAMPAIGN_EDITED: _l("Campaign edited"),
        AuditKind.CAMPAIGN_CLOSED: _l("Campaign closed"),
        AuditKind.CAMPAIGN_VEHICLES_ADDED: _l("Vehicles added to a campaign"),
    },
)
assert set(KIND_LABELS) == set(AuditKind)

# Every field an entry's `before` / `after` holds (the master-data columns are the record
# pages' labels, registered by portal.masterdata as the kind `masterdata_column`).
FIELD_LABELS = labels.register(
    "audit_field",
    {
        "active": _l("Active"),
        "added": _l("Vehicles added"),
        "amount": _l("Amount claimed"),
        "approved_amount": _l("Amount approved"),
        "attempt": _l("Attempt"),
        "auto_approve": _l("Automatic approval"),
        "blocking_rules": _l("Rules that stop automatic approval"),
        "claims": _l("Claims"),
        "created": _l("Created"),
        "deadline": _l("Return deadline"),
        "decision_target_days": _l("Decision target (working days)"),
        "deducted_in_run": _l("Deducted in settlement run"),
        "end_date": _l("End date"),
        "from": _l("Source"),
        "group": _l("Coverage group"),
        "hours": _l("Hours"),
        "inspection": _l("Inspection result"),
        "kind": _l("Kind"),
        "label_en": _l("Label (English)"),
        "label_zh": _l("Label (Chinese)"),
        "lines": _l("Lines"),
        "model": _l("Model"),
        "months": _l("Months"),
        "km": _l("Km"),
        "operation": _l("Labor operation"),
        "org": _l("Organisation"),
        "original_statement": _l("Statement corrected"),
        "paid_on": _l("Paid on"),
        "part": _l("Part number"),
        "parts": _l("Parts"),
        "password": _l("Password"),
        "period": _l("Period"),
        "position": _l("Line"),
        "produced_from": _l("Produced from"),
        "produced_to": _l("Produced to"),
        "proposed": _l("Supplier's finding"),
        "reason": _l("Reason"),
        "recovery_share": _l("Recovery share"),
        "reference": _l("Payment reference"),
        "removes_from_recovery": _l("Taken out of the recovery"),
        "role": _l("Role"),
        "rows": _l("Rows"),
        "settled": _l("Claims settled"),
        "source_id": _l("Source number"),
        "start_date": _l("Start date"),
        "station_net": _l("Stations' net"),
        "status": _l("Status"),
        "supplier": _l("Supplier"),
        "supplier_net": _l("Suppliers' net"),
        "threshold": _l("Automatic approval threshold"),
        "title": _l("Title"),
        "updated": _l("Updated"),
        "valid_from": _l("Valid from"),
        "vat_rate": _l("VAT rate"),
        "version": _l("Version"),
        "vin": _l("VIN"),
    },
)

# A subject is a code, number or key, led for some entries by a word naming what it is.
SUBJECT_LABELS = {
    "stations": _l("Stations"),
    "suppliers": _l("Suppliers"),
    "models": _l("Vehicle models"),
    "policies": _l("Warranty policies"),
    "parts": _l("Parts"),
    "part_models": _l("Models per part"),
    "labor_operations": _l("Labor operations"),
    "fault_codes": _l("Fault codes"),
    "vehicles": _l("Vehicles"),
    "contracts": _l("Extended warranty contracts"),
    "campaigns": _l("Campaigns"),
    "campaign_vehicles": _l("Campaign vehicles"),
    "campaign": _l("Campaign"),
    "chargeback": _l("Chargeback line"),
    "supplier_credit": _l("Adjustment: supplier credited on its next statement"),
    "station_credit": _l("Adjustment: station credited on its next statement"),
    "supplier_debit": _l("Adjustment: supplier credit taken back"),
    "claim_settings": _l("Automatic approval rules"),
    "decision_target_days": _l("Decision target"),
    "vat_rate": _l("VAT rate"),
}

# Words that are values of a field: `{"password": "reset"}`, `{"from": "file"}`.
VALUE_LABELS = labels.register(
    "audit_value",
    {"reset": _l("reset"), "file": _l("a file")},
)

# How each field's value reads: a parameter kind of portal.messages, or "percent" / "yesno".
# A dict chooses by the first word of the entry's kind (`claim.decided` -> "claim").
VALUE_KINDS: dict[str, Any] = {
    "status": {
        "claim": "label:claim_status",
        "statement": "label:statement_status",
        "chargeback": "label:chargeback_status",
        "settlement_run": "label:run_status",
        "campaign": "label:campaign_status",
    },
    "kind": {
        "claim": "label:claim_line_kind",
        "adjustment": "label:adjustment_kind",
        "campaign": "label:campaign_kind",
    },
    "reason": "label:reason_code",
    "role": "label:role",
    "proposed": "label:inspection",
    "inspection": "label:inspection",
    "blocking_rules": "labels:flag_rule",
    "group": "label:coverage_group",
    "disposition": "label:disposition",
    "password": "label:audit_value",
    "from": "label:audit_value",
    "threshold": "money",
    "amount": "money",
    "approved_amount": "money",
    "station_net": "money",
    "supplier_net": "money",
    "labor_rate": "money",
    "km_rate": "money",
    "break_in_price": "money",
    "unit_price": "money",
    "period": "month",
    "deadline": "date",
    "paid_on": "date",
    "start_date": "date",
    "end_date": "date",
    "produced_from": "date",
    "produced_to": "date",
    "production_date": "date",
    "sale_date": "date",
    "valid_from": "date",
    "vat_rate": "percent",
    "recovery_share": "percent",
    "parts_handling_rate": "percent",
    "handling_fee_rate": "percent",
    "scrap_rate": "percent",
    "hours": "decimal",
    "standard_hours": "decimal",
    "labor_hours_cap": "decimal",
    "active": "yesno",
    "auto_approve": "yesno",
    "created": "yesno",
    "removes_from_recovery": "yesno",
    "major_assembly": "yesno",
}

# What the claim's subject is (its type) and which subjects are codes with labels.
SUBJECT_KINDS = {"claim": "claim_type", "reason_code": "reason_code"}


def _family(entry_kind: str) -> str:
    return (entry_kind or "").split(".", 1)[0]


def field_label(name: str, entry_kind: str = "") -> str:
    """The field `name` of an entry of `entry_kind`, by its label."""
    if labels.has_label(name, "audit_field"):
        return labels.label(name, "audit_field")
    if _family(entry_kind) == "masterdata" and labels.has_label(name, "masterdata_column"):
        return labels.label(name, "masterdata_column")
    return labels.label(name, "audit_field")  # logged: a field without a label


# A day or a moment the log kept as ISO text (2026-12-05, 2026-12-05T10:33:00+00:00).
_ISO_MOMENT = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
)


def value_kind(name: str, entry_kind: str = "") -> str | None:
    kind = VALUE_KINDS.get(name)
    if isinstance(kind, dict):
        return kind.get(_family(entry_kind))
    return kind


def value_text(name: str, value: Any, entry_kind: str = "") -> str:
    """The value of the field `name` as the reader reads it."""
    if value is None or value == "":
        return "–"
    if name == "lines" and isinstance(value, list):
        return messages.clause_separator().join(_line(line, entry_kind) for line in value)
    if isinstance(value, enum.Enum):
        value = value.value
    kind = value_kind(name, entry_kind)
    if kind == "yesno" or isinstance(value, bool):
        return _yes_no(value)
    if kind == "percent":
        return _percent(value)
    if isinstance(value, list):
        if kind is not None and kind.startswith("label:"):
            kind = "labels:" + kind[6:]
        if kind is None:
            return messages.list_separator().join(str(v) for v in value)
    if isinstance(value, dict):
        return messages.list_separator().join(
            f"{field_label(k, entry_kind)}: {value_text(k, v, entry_kind)}"
            for k, v in value.items()
        )
    if kind is None and isinstance(value, str) and _ISO_MOMENT.fullmatch(value):
        kind = "date" if len(value) == 10 else "datetime"  # kept as ISO text, read in words
    try:
        return messages.format_param(kind, value)
    except (ValueError, TypeError):
        return str(value)


def _line(line: Any, entry_kind: str) -> str:
    """A claim line of a decision: its number, kind, the amounts claimed and approved."""
    if not isinstance(line, dict):
        return str(line)
    text = _(
        "line %(position)s, %(kind)s: %(amount)s claimed, %(approved)s approved",
        position=line.get("position", "?"),
        kind=value_text("kind", line.get("kind"), entry_kind),
        amount=value_text("amount", line.get("amount"), entry_kind),
        approved=value_text("approved_amount", line.get("approved_amount"), entry_kind),
    )
    if line.get("reason"):
        text += " (" + value_text("reason", line["reason"], entry_kind) + ")"
    return text


def _yes_no(value: Any) -> str:
    if isinstance(value, str):
        value = value.strip().lower() in ("true", "1", "yes")
    return _("yes") if value else _("no")


def _percent(value: Any) -> str:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return format_percent(number, format="#,##0.##%")


def changes(values: dict[str, Any] | None, entry_kind: str) -> list[tuple[str, str]]:
    """The fields of `before` or `after` as (label, value) pairs."""
    return [
        (field_label(name, entry_kind), value_text(name, value, entry_kind))
        for name, value in (values or {}).items()
    ]


def changes_text(values: dict[str, Any] | None, entry_kind: str) -> str:
    """The fields of `before` or `after` in one line (the CSV's cell)."""
    return messages.clause_separator().join(
        f"{label}: {value}" for label, value in changes(values, entry_kind)
    )


def subject_label(subject: str, entry_kind: str = "") -> str:
    """The subject, with its leading word (or, for a claim, its type) in the reader's words."""
    subject = subject or ""
    family = _family(entry_kind)
    if family == "settlement_run":
        return messages.month(subject)  # a run's subject is its period, "2026-11"
    if family in SUBJECT_KINDS and labels.has_label(subject, SUBJECT_KINDS[family]):
        return labels.label(subject, SUBJECT_KINDS[family])
    head, _sep, rest = subject.partition(" ")
    label = SUBJECT_LABELS.get(head)
    return f"{label} {rest}".strip() if label is not None else subject


def kind_label(kind: str) -> str:
    return labels.label(kind, "audit_kind")


def note_text(entry: Any) -> str:
    """The entry's note in the reader's language: what the portal said (an automatic approval's
    rule and why, an adjustment's reason) written out from its key, then what a person wrote."""
    return entry.display_note
