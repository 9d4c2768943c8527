"""The station's claim forms: the header as a FlaskForm (CSRF included), the lines as parallel
lists of form fields (`line_kind[]`, `line_part[]`...), both turned into the dict `parse_claim`
takes. Parsing, pricing and the checks stay in payload.py, operations.py and rules.py: the form
only carries text, so that one place decides what is malformed and the messages are the same on
the pages and in the API.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import zip_longest

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.datastructures import MultiDict
from wtforms import Form, HiddenField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.fields import DateField
from wtforms.validators import Optional

from portal.claims.labels import (
    FULFILMENT_LABELS,
    STATUS_LABELS,
    TOLLS_DESCRIPTION,
    TYPE_LABELS,
)
from portal.claims.models import Claim, ClaimType, LineKind

# -- what each type's form shows ---------------------------------------------------------------

FAULT = ("fault_date", "fault_code", "causal_part")
STORY = ("complaint", "cause", "correction")


@dataclass(frozen=True)
class Layout:
    """The sections of one claim type's form (DESIGN 3: each type has its own extra fields)."""

    fields: tuple[str, ...]  # header fields besides VIN, odometer and repair date
    line_kinds: tuple[LineKind, ...] = ()  # what the line editor offers
    roadside: bool = False  # round-trip km, hours on site, tolls
    emergency: bool = False  # fulfilment and shipper

    def shows(self, name: str) -> bool:
        return name in self.fields


PART_LABOR_OTHER = (LineKind.PART, LineKind.LABOR, LineKind.OTHER)
LAYOUTS: dict[ClaimType, Layout] = {
    ClaimType.REPAIR: Layout(
        (*FAULT, *STORY, "goodwill_reason", "outsourced_request"), PART_LABOR_OTHER
    ),
    ClaimType.MAJOR_ASSEMBLY: Layout((*FAULT, *STORY, "goodwill_reason"), PART_LABOR_OTHER),
    ClaimType.APPRAISAL: Layout((*FAULT, *STORY, "goodwill_reason")),
    ClaimType.BREAK_IN: Layout(("correction",)),
    ClaimType.ROADSIDE: Layout(
        ("fault_date", "fault_code", *STORY), PART_LABOR_OTHER, roadside=True
    ),
    ClaimType.OUTSOURCED_PURCHASE: Layout(("causal_part", "complaint"), (LineKind.OTHER,)),
    ClaimType.EMERGENCY_PART: Layout(
        ("complaint",), (LineKind.PART, LineKind.OTHER), emergency=True
    ),
    ClaimType.CAMPAIGN: Layout(("campaign", "complaint", "correction"), PART_LABOR_OTHER),
}


def _choices(pairs) -> list[SelectChoice]:
    """Select options from (value, lazy label) pairs; enum keys give their value."""
    return [SelectChoice(str(value), label) for value, label in pairs]


def _date_input(**extra) -> dict:
    return {"type": "date", **extra}


class ClaimForm(FlaskForm):
    """The claim header. Every value is text here; `parse_claim` parses and refuses."""

    vin = StringField(
        _l("VIN"),
        render_kw={
            "maxlength": 17,
            "autocomplete": "off",
            "spellcheck": "false",
            "data-vin-input": True,
        },
    )
    odometer_km = StringField(
        _l("Odometer (km)"), render_kw={"inputmode": "numeric", "data-odometer": True}
    )
    repair_date = StringField(
        _l("Repair date"), render_kw=_date_input(**{"data-repair-date": True})
    )
    fault_date = StringField(_l("Fault date"), render_kw=_date_input())
    fault_code = StringField(
        _l("Fault code"),
        render_kw={
            "list": "fault-code-options",
            "autocomplete": "off",
            "data-lookup": "fault-codes",
        },
    )
    causal_part = StringField(
        _l("Causal part"),
        description=_l("Part number; type a number or a name to search."),
        render_kw={"list": "part-options", "autocomplete": "off", "data-lookup": "parts"},
    )
    complaint = TextAreaField(_l("Complaint"), render_kw={"rows": 2})
    cause = TextAreaField(_l("Cause"), render_kw={"rows": 2})
    correction = TextAreaField(_l("Correction"), render_kw={"rows": 2})
    goodwill_reason = TextAreaField(
        _l("Goodwill reason"),
        description=_l(
            "Only for a repair outside coverage: it is then submitted as goodwill and flagged."
        ),
        render_kw={"rows": 2},
    )
    outsourced_request = StringField(
        _l("Outsourced-purchase request"),
        description=_l("The number of the approved request whose price cap this invoice uses."),
        render_kw={"autocomplete": "off"},
    )
    fulfilment = SelectField(
        _l("Fulfilment"),
        choices=_choices([("", _l("Choose…")), *FULFILMENT_LABELS.items()]),
        default="",
        validate_choice=False,  # parse_claim refuses an unknown value, as for the API
    )
    shipper_code = StringField(
        _l("Shipper code"),
        description=_l("For a drop-shipment: the code of the supplier or station that ships."),
        render_kw={"autocomplete": "off"},
    )
    trip_km = StringField(
        _l("Round-trip distance (km)"), render_kw={"inputmode": "numeric", "data-trip-km": True}
    )
    roadside_hours = StringField(
        _l("Hours on site"), render_kw={"inputmode": "decimal", "data-roadside-hours": True}
    )
    tolls = StringField(_l("Tolls (CNY)"), render_kw={"inputmode": "decimal", "data-tolls": True})
    campaign = StringField(
        _l("Campaign"),
        description=_l("The code of the recall or service campaign; its package fills the lines."),
        render_kw={"autocomplete": "off", "maxlength": 32},
    )
    # The revision of the claim the form shows: saving over a newer one is refused.
    revision = HiddenField()

    def is_empty(self, rows: list[LineRow]) -> bool:
        """Nothing typed: no header value (the fulfilment choice and the hidden fields aside)
        and no line with anything in it."""
        typed = (
            (f.data or "").strip()
            for f in self
            if isinstance(f, StringField | TextAreaField) and not isinstance(f, HiddenField)
        )
        return not any(typed) and all(row.is_blank for row in rows)

    def expected_revision(self) -> int:
        """The revision the form was filled from; 0 (never current) when it is missing."""
        raw = (self.revision.data or "").strip()
        return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 10 else 0


class CommentForm(FlaskForm):
    body = TextAreaField(_l("Comment"), render_kw={"rows": 3, "maxlength": 4000})


class AttachmentForm(FlaskForm):
    file = FileField(
        _l("Photo or PDF"),
        render_kw={"accept": "image/jpeg,image/png,image/webp,application/pdf"},
    )


# -- lines ----------------------------------------------------------------------------------------

LINE_FIELDS = ("kind", "part", "qty", "operation", "hours", "description", "amount")
# The payload's names for the form's line fields (and back, to place errors on the row).
PAYLOAD_NAMES = {"part": "part_number", "operation": "operation_code"}
FORM_NAMES = {v: k for k, v in PAYLOAD_NAMES.items()}


@dataclass
class LineRow:
    """One row of the line editor, as text; name, price and amount are shown, never sent."""

    kind: str
    part: str = ""
    qty: str = ""
    operation: str = ""
    hours: str = ""
    description: str = ""
    amount: str = ""
    name: str = ""  # the part's name or the operation's description
    unit_price: Decimal | None = None  # the part's price on the repair date
    standard_hours: Decimal | None = None
    saved_amount: Decimal | None = None  # the server's amount of the saved line
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def is_blank(self) -> bool:
        """Nothing typed but perhaps the preset quantity: the row is left out."""
        return not any((self.part, self.operation, self.hours, self.description, self.amount))

    def payload(self) -> dict:
        data: dict = {"kind": self.kind, "description": self.description}
        if self.kind == LineKind.PART:
            data.update(part_number=self.part, qty=self.qty)
        elif self.kind == LineKind.LABOR:
            data.update(operation_code=self.operation, hours=self.hours)
        elif self.kind == LineKind.TRIP:
            data.update(qty=self.qty)
        else:
            data.update(amount=self.amount)
        return data


def rows_from_request(formdata: MultiDict) -> list[LineRow]:
    columns = [formdata.getlist(f"line_{name}[]") for name in LINE_FIELDS]
    rows = []
    for values in zip_longest(*columns, fillvalue=""):
        row = LineRow(*(v.strip() for v in values))
        if row.kind:
            rows.append(row)
    return rows


def _text(value) -> str:
    return "" if value is None else str(value)


def split_claim_lines(claim: Claim) -> tuple[dict[str, str], list[LineRow]]:
    """A saved claim's lines as the form shows them: the roadside fields, then editor rows.

    The roadside fields made the first trip line, a labor line without operation or description,
    and an "other" line described as the tolls; those are found again here.
    """
    roadside: dict[str, str] = {}
    rows: list[LineRow] = []
    is_roadside = LAYOUTS[claim.type].roadside
    for line in claim.lines:
        if line.kind is LineKind.PACKAGE:
            continue
        if is_roadside:
            if line.kind is LineKind.TRIP and "trip_km" not in roadside:
                roadside["trip_km"] = _text(line.qty)
                continue
            if (
                line.kind is LineKind.LABOR
                and line.operation is None
                and not line.description
                and "roadside_hours" not in roadside
            ):
                roadside["roadside_hours"] = _text(line.hours)
                continue
            if (
                line.kind is LineKind.OTHER
                and line.description == TOLLS_DESCRIPTION
                and "tolls" not in roadside
            ):
                roadside["tolls"] = _text(line.amount)
                continue
        rows.append(
            LineRow(
                kind=line.kind.value,
                part=line.part.number if line.part else "",
                qty=_text(line.qty),
                operation=line.operation.code if line.operation else "",
                hours=_text(line.hours),
                description=line.description,
                amount=_text(line.amount) if line.kind is LineKind.OTHER else "",
                saved_amount=line.amount,
            )
        )
    return roadside, rows


def initial_data(claim: Claim) -> dict:
    """The header form's values for a saved claim."""
    roadside, _rows = split_claim_lines(claim)
    return {
        "revision": str(claim.revision),
        "vin": claim.vin,
        "odometer_km": _text(claim.odometer_km),
        "repair_date": claim.repair_date.isoformat() if claim.repair_date else "",
        "fault_date": claim.fault_date.isoformat() if claim.fault_date else "",
        "fault_code": claim.fault_code.code if claim.fault_code else "",
        "causal_part": claim.causal_part.number if claim.causal_part else "",
        "complaint": claim.complaint,
        "cause": claim.cause,
        "correction": claim.correction,
        "goodwill_reason": claim.goodwill_reason,
        "outsourced_request": claim.outsourced_request.number if claim.outsourced_request else "",
        "fulfilment": claim.fulfilment or "",
        "shipper_code": claim.shipper_org.code if claim.shipper_org else "",
        "campaign": claim.campaign.code if claim.campaign else "",
        **roadside,
    }


# Where an error about payload line N goes: ("row", index of the editor row) or
# ("field", the roadside field that made the line).
Slot = tuple[str, int | str]


def claim_payload(
    claim_type: ClaimType, form: ClaimForm, rows: list[LineRow]
) -> tuple[dict, list[Slot]]:
    """The dict `parse_claim` takes, from the fields this type's form shows."""
    layout = LAYOUTS[claim_type]
    data: dict = {
        "type": claim_type.value,
        "vin": form.vin.data,
        "odometer_km": form.odometer_km.data,
        "repair_date": form.repair_date.data,
    }
    for name in layout.fields:
        data[name] = form[name].data
    if layout.emergency:
        data["fulfilment"] = form.fulfilment.data
        data["shipper_code"] = form.shipper_code.data
    lines: list[dict] = []
    slots: list[Slot] = []
    if layout.roadside:
        km, hours, tolls = (
            (f.data or "").strip() for f in (form.trip_km, form.roadside_hours, form.tolls)
        )
        if km:
            lines.append({"kind": LineKind.TRIP.value, "qty": km})
            slots.append(("field", "trip_km"))
        if hours:
            lines.append({"kind": LineKind.LABOR.value, "hours": hours})
            slots.append(("field", "roadside_hours"))
        if tolls:
            lines.append(
                {"kind": LineKind.OTHER.value, "amount": tolls, "description": TOLLS_DESCRIPTION}
            )
            slots.append(("field", "tolls"))
    for index, row in enumerate(rows):
        if not row.is_blank:
            lines.append(row.payload())
            slots.append(("row", index))
    data["lines"] = lines
    return data, slots


LINE_KEY = re.compile(r"^lines\[(\d+)\](?:\.(\w+))?$")


def place_errors(
    errors: dict[str, str], form: ClaimForm, rows: list[LineRow], slots: list[Slot]
) -> list[tuple[str, str]]:
    """Put each error beside its field or line row; returns (field, message) of the rest."""
    rest = []
    for key, message in errors.items():
        found = LINE_KEY.match(key)
        if found:
            index, attr = int(found.group(1)), found.group(2) or "kind"
            if index < len(slots):
                where, target = slots[index]
                if where == "row":
                    rows[target].errors[FORM_NAMES.get(attr, attr)] = message
                else:
                    form[target].errors.append(message)
                continue
        name = "complaint" if key == "description" else key
        if name in form and name != "csrf_token":
            form[name].errors.append(message)
        else:
            rest.append((key, message))
    return rest


# -- the claim list's filters --------------------------------------------------------------------


class ClaimFilterForm(Form):
    """The station's claim list filters, read from the query string (GET: no CSRF)."""

    type = SelectField(
        _l("Type"), choices=_choices([("", _l("All types")), *TYPE_LABELS.items()]), default=""
    )
    status = SelectField(
        _l("Status"),
        choices=_choices([("", _l("All statuses")), *STATUS_LABELS.items()]),
        default="",
    )
    flagged = SelectField(
        _l("Flags"),
        choices=_choices([("", _l("Any")), ("yes", _l("Flagged")), ("no", _l("Not flagged"))]),
        default="",
    )
    date_field = SelectField(
        _l("Date"),
        choices=_choices([("repair", _l("Repair date")), ("created", _l("Created on"))]),
        default="repair",
    )
    date_from = DateField(_l("From"), validators=[Optional()], render_kw={"type": "date"})
    date_to = DateField(_l("To"), validators=[Optional()], render_kw={"type": "date"})
    q = StringField(_l("Claim number or VIN"))


class ShipmentForm(FlaskForm):
    """The shipper of an emergency part records how it travels (紧急调件发货)."""

    carrier = StringField(_l("Carrier"), render_kw={"maxlength": 80})
    tracking_no = StringField(_l("Tracking number"), render_kw={"maxlength": 80})
    freight_amount = StringField(
        _l("Freight (CNY)"), description=_l("Credited to a station that ships on the OEM's behalf.")
    )


class ClaimActionForm(FlaskForm):
    """A button that acts on claims (delete a draft, submit the ticked drafts): the CSRF token;
    the claims ticked in a list are read with `request.form.getlist("number")`."""


class ReceiptForm(FlaskForm):
    """The requesting station confirms the part arrived."""
