"""The old-part forms: list filters (GET), and the small POST forms of the workflow steps.

The operations validate what matters (required carrier, known tag, a reason for a waiver); the
forms carry the values and the CSRF token, and show the operations' field errors beside them.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import Form, SelectChoice, SelectField, StringField, TextAreaField

from portal.auth.models import Role
from portal.oldparts.labels import DISPOSITION_LABELS, INSPECTION_LABELS, STATUS_LABELS


def _choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(str(value), label) for value, label in pairs]


class OldPartFilterForm(Form):
    """The old-part list filters, read from the query string (GET: no CSRF)."""

    status = SelectField(
        _l("Status"),
        choices=_choices([("", _l("All statuses")), *STATUS_LABELS.items()]),
        default="",
    )
    disposition = SelectField(
        _l("Disposition"),
        choices=_choices([("", _l("All dispositions")), *DISPOSITION_LABELS.items()]),
        default="",
    )
    overdue = SelectField(
        _l("Overdue"),
        choices=_choices(
            [
                ("", _l("Any")),
                ("yes", _l("Overdue")),
                ("waived", _l("Overdue, waived")),
                ("no", _l("Not overdue")),
            ]
        ),
        default="",
    )
    # The OEM's filters (auditors and finance); `for_user` fills their choices or drops them.
    station = SelectField(_l("Station"), choices=[], default="")
    supplier = SelectField(_l("Supplier"), choices=[], default="")

    @classmethod
    def for_user(cls, formdata, user, stations, suppliers) -> OldPartFilterForm:
        """The filters `user` gets: station and supplier (by code) only for the OEM's users;
        `stations` and `suppliers` are (code, name) pairs."""
        form = cls(formdata)
        if user.role in (Role.AUDITOR, Role.FINANCE):
            form.station.choices = _choices(
                [("", _l("All stations")), *((c, f"{c} · {n}") for c, n in stations)]
            )
            form.supplier.choices = _choices(
                [("", _l("All suppliers")), *((c, f"{c} · {n}") for c, n in suppliers)]
            )
        else:
            del form.station
            del form.supplier
        return form


class SelectionForm(FlaskForm):
    """Checked parts (the `tag` checkboxes, read with getlist) and an optional note."""

    note = StringField(_l("Note"), render_kw={"maxlength": 2000})


class ShipForm(FlaskForm):
    """The sender records how the box travels."""

    carrier = StringField(_l("Carrier"), render_kw={"maxlength": 80})
    tracking_no = StringField(_l("Tracking number"), render_kw={"maxlength": 80})


class ReceiveForm(FlaskForm):
    """Scan or type a tag; a barcode scanner types the tag and presses Enter."""

    tag = StringField(_l("Tag"), render_kw={"maxlength": 60, "autocomplete": "off"})
    note = StringField(_l("Note"), render_kw={"maxlength": 2000})


class MissingForm(FlaskForm):
    tag = StringField(_l("Tag"))
    note = StringField(_l("Note"), render_kw={"maxlength": 2000})


class InspectForm(FlaskForm):
    result = SelectField(
        _l("Result"),
        choices=_choices([("", _l("Choose…")), *INSPECTION_LABELS.items()]),
        validate_choice=False,  # operations.inspect refuses an unknown result with its message
    )
    note = StringField(_l("Note"), render_kw={"maxlength": 2000})
    photo = FileField(
        _l("Photo (optional)"), render_kw={"accept": "image/jpeg,image/png,image/webp"}
    )


class WriteOffForm(FlaskForm):
    note = StringField(_l("Note"), render_kw={"maxlength": 2000})


class WaiveForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), render_kw={"rows": 2, "maxlength": 2000})


class FindingReviewForm(FlaskForm):
    """An auditor's review of a supplier's finding on its own part: confirm it (a note may go
    with it), or overrule it with another result and a reason."""

    inspection = SelectField(
        _l("Result in force"),
        choices=_choices([("", _l("Choose…")), *INSPECTION_LABELS.items()]),
        validate_choice=False,  # operations.overrule_finding refuses an unknown result
    )
    reason = TextAreaField(_l("Reason"), render_kw={"rows": 2, "maxlength": 2000})
