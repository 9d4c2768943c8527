"""The auditors' forms: the review queue's filters (a GET form) and the decision on a claim.

The decision form only carries text, like the claim form: `decision_payload` turns it into the
dict the API takes, so that `parse_decision` and `decide_claim` decide what is malformed or
refused, with the same messages on the page and in the API.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)

from portal.claims.labels import FLAG_LABELS, TYPE_LABELS
from portal.claims.models import FLAG_RULES, Claim, ClaimLine, LineKind
from portal.oem.queue import QueueFilter

# -- the queue's filters ---------------------------------------------------------------------------


class QueueFilterForm(Form):
    """The filter bar of the review queue, shown with the values `QueueFilter` applied.

    `QueueFilter.from_args` reads the query string; this form only renders the filters, so
    what is shown is what is applied, and a refused age or amount is shown as typed with its
    message.
    """

    status = HiddenField()
    q = StringField(
        _l("Claim number or VIN"),
        render_kw={"maxlength": 40, "autocomplete": "off", "spellcheck": "false", "type": "search"},
    )
    type = SelectField(_l("Type"), validate_choice=False)
    station = StringField(
        _l("Station code"),
        render_kw={"maxlength": 32, "autocomplete": "off", "spellcheck": "false"},
    )
    region = SelectField(_l("Region"), validate_choice=False)
    flag = SelectField(_l("Flags"), validate_choice=False)
    age = StringField(
        _l("Older than (days)"), render_kw={"inputmode": "numeric", "type": "number", "min": 0}
    )
    min_amount = StringField(_l("Claimed from (CNY)"), render_kw={"inputmode": "decimal"})
    max_amount = StringField(_l("Claimed up to (CNY)"), render_kw={"inputmode": "decimal"})

    @classmethod
    def showing(
        cls,
        f: QueueFilter,
        type_counts: Mapping[str, int],
        regions: Iterable[str],
        args: Mapping[str, str] | None = None,
    ) -> QueueFilterForm:
        form = cls(data=filter_args(f, keep_status=True))
        for name, message in f.errors.items():
            form[name].data = (args or {}).get(name, "")
            form[name].errors = [message]
        form.type.choices = [SelectChoice("", _l("All types"))] + [
            SelectChoice(
                t.value,
                f"{label} ({type_counts.get(t.value, 0)})" if type_counts else label,
            )
            for t, label in TYPE_LABELS.items()
        ]
        form.region.choices = [SelectChoice("", _l("All regions"))] + [
            SelectChoice(r, r) for r in regions
        ]
        form.flag.choices = [
            SelectChoice("", _l("All claims")),
            SelectChoice("any", _l("Flagged")),
            SelectChoice("none", _l("Not flagged")),
        ] + [SelectChoice(rule, FLAG_LABELS.get(rule, rule)) for rule in FLAG_RULES]
        return form


def filter_args(f: QueueFilter, *, keep_status: bool = False) -> dict[str, str]:
    """The query-string arguments that reproduce `f` (defaults left out), for links."""
    args = {
        "status": f.status.value if keep_status or f.status.value != "in_review" else "",
        "type": f.type.value if f.type else "",
        "station": f.station_code,
        "region": f.region,
        "flag": f.flag,
        "age": str(f.min_age_days) if f.min_age_days else "",
        "min_amount": str(f.min_amount) if f.min_amount is not None else "",
        "max_amount": str(f.max_amount) if f.max_amount is not None else "",
        "q": f.search,
    }
    return {k: v for k, v in args.items() if v}


class BulkApproveForm(FlaskForm):
    """Approve the ticked clean claims as claimed (`number` checkboxes, read with getlist).
    Sent once from the queue (the confirmation page answers, with the count and the total),
    then again from there with `confirmed` and the `total` the auditor saw."""

    confirmed = HiddenField()
    total = HiddenField()


# -- the decision ----------------------------------------------------------------------------------

ACTIONS = ("approve", "reject", "return")
# Which approved value a line's input carries, by the API's names (DESIGN 8).
APPROVED_KEYS = {
    LineKind.PART: "approved_qty",
    LineKind.TRIP: "approved_qty",
    LineKind.LABOR: "approved_hours",
    LineKind.OTHER: "approved_amount",
    LineKind.PACKAGE: "approved_amount",
}
LINE_ERROR_KEY = re.compile(r"^lines\[(\d+)\](?:\.(\w+))?$")


class LineDecisionForm(Form):
    """One line of the decision: the approved quantity, hours or amount, a reason code, a note."""

    line_id = HiddenField()
    approved = StringField(
        _l("Approved"),
        render_kw={"inputmode": "decimal", "autocomplete": "off", "data-approve-input": True},
    )
    reason = SelectField(_l("Reason code"), validate_choice=False)
    note = StringField(_l("Note"), render_kw={"maxlength": 2000, "autocomplete": "off"})


class DecisionForm(FlaskForm):
    """审核: approve (lines may be cut, each cut with a reason code), reject, or return (退单).

    `version` is the claim version the auditor saw; a claim changed or decided meanwhile is a
    conflict. `action` comes from the button pressed.
    """

    version = HiddenField()
    action = HiddenField()
    lines = FieldList(FormField(LineDecisionForm))
    supplier_code = SelectField(_l("Responsible supplier"), validate_choice=False)
    reason = TextAreaField(
        _l("Reason"),
        description=_l("Required to reject or return the claim; shown to the station."),
        render_kw={"rows": 2, "maxlength": 4000},
    )

    @classmethod
    def for_claim(
        cls,
        claim: Claim,
        *,
        version: int | None = None,
        kept: DecisionForm | None = None,
    ) -> DecisionForm:
        """The form for `claim`, prefilled with what was claimed, or with what the auditor typed
        in `kept` for the lines still on the claim (nothing typed is lost on a re-render)."""
        typed = {}
        if kept is not None:
            typed = {entry.form.line_id.data: entry.form.data for entry in kept.lines}
        lines = []
        for line in claim.lines:
            previous = typed.get(str(line.id))
            lines.append(
                {
                    "line_id": str(line.id),
                    "approved": previous["approved"] if previous else claimed_value(line),
                    "reason": previous["reason"] if previous else "",
                    "note": previous["note"] if previous else "",
                }
            )
        default_supplier = claim.causal_part.supplier.code if claim.causal_part else ""
        return cls(
            formdata=None,
            data={
                "version": str(version if version is not None else claim.version),
                "lines": lines,
                "supplier_code": kept.supplier_code.data if kept else default_supplier,
                "reason": kept.reason.data if kept else "",
            },
        )

    def line_forms(self) -> dict[int, LineDecisionForm]:
        """The line subforms by claim line id."""
        found = {}
        for entry in self.lines:
            try:
                found[int(entry.form.line_id.data)] = entry.form
            except (TypeError, ValueError):
                continue
        return found

    def set_choices(self, reason_choices: list, supplier_choices: list) -> None:
        self.supplier_code.choices = supplier_choices
        for entry in self.lines:
            entry.form.reason.choices = reason_choices


def claimed_value(line: ClaimLine) -> str:
    """What the line claimed, in the unit its approved value is given in."""
    key = APPROVED_KEYS[line.kind]
    if key == "approved_qty":
        return str(line.qty if line.qty is not None else "")
    if key == "approved_hours":
        return _plain(line.hours)
    return _plain(line.amount)


def _plain(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


def decision_payload(form: DecisionForm, claim: Claim) -> tuple[dict, dict[str, str]]:
    """The API's decision dict from the form, and the errors the form itself finds (a blank
    approved value: the field is prefilled, so a blank is a mistake, not "as claimed")."""
    action = form.action.data or ""
    data: dict = {
        "action": action,
        "version": form.version.data or None,
        "supplier_code": form.supplier_code.data or "",
        "reason": form.reason.data or "",
        "lines": [],
    }
    errors: dict[str, str] = {}
    if action != "approve":
        return data, errors  # a rejection or a return decides no line
    kinds = {line.id: line.kind for line in claim.lines}
    for index, entry in enumerate(form.lines):
        sub = entry.form
        raw_id = sub.line_id.data or ""
        line = {"id": raw_id, "reason": sub.reason.data or "", "note": sub.note.data or ""}
        kind = kinds.get(int(raw_id)) if raw_id.isascii() and raw_id.isdigit() else None
        if kind is not None:
            value = (sub.approved.data or "").strip()
            if not value:
                errors[f"lines[{index}].{APPROVED_KEYS[kind]}"] = str(_l("is required"))
            line[APPROVED_KEYS[kind]] = value
        data["lines"].append(line)
    return data, errors


def place_errors(errors: Mapping[str, str], form: DecisionForm) -> list[tuple[str, str]]:
    """Put each error of the decision beside its field or line; returns (key, message) of the rest.

    `lines[i].x` names the i-th line of the payload, which is the i-th line of the form.
    """
    rest = []
    entries = list(form.lines)
    for key, message in errors.items():
        found = LINE_ERROR_KEY.match(key)
        if found and int(found.group(1)) < len(entries):
            sub = entries[int(found.group(1))].form
            attr = found.group(2) or ""
            target = {"reason": sub.reason, "note": sub.note}.get(attr, sub.approved)
            target.errors = [*target.errors, message]
            continue
        if key in ("supplier_code", "reason"):
            field = form[key]
            field.errors = [*field.errors, message]
        else:
            rest.append((key, message))
    return rest
