"""The settlement forms: list filters (GET) and the small POST forms of runs, statements and the
chargeback appeal loop.

The operations validate what matters (a month that is not in the future, a payment date and
reference, a reason for a dispute or a resolution); the forms carry the values and the CSRF
token, and show the operations' field errors beside them.
"""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import Form, RadioField, SelectChoice, SelectField, StringField, TextAreaField

from portal.auth.models import Role
from portal.settlement.operations import MAX_REASON
from portal.settlement.queries import (
    CHARGEBACK_STATUS_LABELS,
    STATEMENT_KIND_LABELS,
    STATEMENT_STATUS_LABELS,
)

EVIDENCE_ACCEPT = "image/jpeg,image/png,image/webp,application/pdf"


def _choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(str(value), label) for value, label in pairs]


class DayField(StringField):
    """A date typed as YYYY-MM-DD (the browser's date picker sends that); None when empty."""

    def process_formdata(self, valuelist):
        self.data = None
        if valuelist and valuelist[0].strip():
            try:
                self.data = date.fromisoformat(valuelist[0].strip())
            except ValueError:
                raise ValueError(_l("Give the date as YYYY-MM-DD, e.g. 2026-03-31.")) from None

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return self.data.isoformat() if self.data else ""


class ActionForm(FlaskForm):
    """A button that changes something (release, discard, retry, accept): the CSRF token only."""


class StartRunForm(FlaskForm):
    period = StringField(
        _l("Period"),
        description=_l(
            "The current month settles what is approved so far; a future one is refused."
        ),
        render_kw={"type": "month", "placeholder": "YYYY-MM", "autocomplete": "off"},
    )


class MarkPaidForm(FlaskForm):
    paid_on = DayField(_l("Paid on"), render_kw={"type": "date"})
    reference = StringField(
        _l("Payment reference"), render_kw={"maxlength": 80, "autocomplete": "off"}
    )


class DisputeForm(FlaskForm):
    reason = TextAreaField(
        _l("Why do you dispute this chargeback?"),
        render_kw={"rows": 4, "maxlength": MAX_REASON},
    )
    files = MultipleFileField(_l("Evidence (optional)"), render_kw={"accept": EVIDENCE_ACCEPT})


class EvidenceForm(FlaskForm):
    files = MultipleFileField(_l("Add evidence"), render_kw={"accept": EVIDENCE_ACCEPT})


class ResolveForm(FlaskForm):
    action = RadioField(
        _l("Decision"),
        choices=_choices(
            [
                ("uphold", _l("Uphold: the supplier pays this line")),
                ("waive", _l("Waive: the line drops out of the statement's totals")),
            ]
        ),
        validate_choice=False,  # operations.resolve_chargeback refuses anything else
    )
    reason = TextAreaField(_l("Reason"), render_kw={"rows": 3, "maxlength": MAX_REASON})


class StatementFilterForm(Form):
    """The statement list filters, read from the query string (GET: no CSRF)."""

    kind = SelectField(
        _l("Kind"),
        choices=_choices([("", _l("All kinds")), *STATEMENT_KIND_LABELS.items()]),
        default="",
    )
    status = SelectField(
        _l("Status"),
        choices=_choices([("", _l("All statuses")), *STATEMENT_STATUS_LABELS.items()]),
        default="",
    )
    period = StringField(_l("Period"), render_kw={"type": "month", "placeholder": "YYYY-MM"})
    q = StringField(_l("Organisation"), render_kw={"placeholder": _l("Code or name")})

    @classmethod
    def for_user(cls, formdata, user) -> StatementFilterForm:
        """Finance filters by kind and organisation; an auditor sees supplier statements only,
        a station or a supplier only its own."""
        form = cls(formdata)
        if user.role is not Role.FINANCE:
            del form.kind
        if user.role not in (Role.FINANCE, Role.AUDITOR):
            del form.q
        return form


class ChargebackFilterForm(Form):
    """The supplier's chargeback list filters, read from the query string (GET: no CSRF).
    Without a status the list shows what still waits: open and disputed lines."""

    status = SelectField(
        _l("Status"),
        choices=_choices(
            [
                ("", _l("Waiting (open or disputed)")),
                ("all", _l("All statuses")),
                *((s.value, label) for s, label in CHARGEBACK_STATUS_LABELS.items()),
            ]
        ),
        default="",
    )
    period = StringField(_l("Period"), render_kw={"type": "month", "placeholder": "YYYY-MM"})
    q = StringField(
        _l("Claim number or VIN"),
        render_kw={"maxlength": 40, "autocomplete": "off", "type": "search"},
    )
    min_amount = StringField(_l("Amount from"), render_kw={"inputmode": "decimal"})
    max_amount = StringField(_l("Amount up to"), render_kw={"inputmode": "decimal"})


class AcceptForm(FlaskForm):
    """Accept chargebacks: sent once (a confirmation page answers, with the count and the
    total), then again from there with `confirmed` and the `total` the supplier saw."""

    confirmed = StringField()
    total = StringField()


class DisputeFilterForm(Form):
    status = SelectField(_l("Status"), choices=[], default="disputed")
    supplier = SelectField(_l("Supplier"), choices=[], default="")
    q = StringField(_l("Claim number or VIN"))
