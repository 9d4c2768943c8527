"""The master-data forms that edit one record at a time: an extended warranty contract's row."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange

from portal.masterdata.contracts import MAX_LIMIT, NUMBER_MAX

REQUIRED = _l("A value is required.")
WHOLE = _l("A whole number of at least 1.")


class ContractTermsForm(FlaskForm):
    """What one row of a contract extends: the group, from when, for how long and how far."""

    group = SelectField(_l("Coverage group"), validate_choice=False)  # the operation checks it
    start_date = DateField(_l("Start date"), validators=[InputRequired(REQUIRED)])
    months = IntegerField(
        _l("Months"),
        validators=[InputRequired(REQUIRED), NumberRange(min=1, max=MAX_LIMIT, message=WHOLE)],
        description=_l("From the start date."),
    )
    km = IntegerField(
        _l("Km"),
        validators=[InputRequired(REQUIRED), NumberRange(min=1, max=MAX_LIMIT, message=WHOLE)],
        description=_l("The odometer reading up to which it covers."),
    )


class ContractForm(ContractTermsForm):
    """A new contract, or another group of an existing one (same number, same VIN)."""

    number = StringField(
        _l("Contract number"), validators=[InputRequired(REQUIRED), Length(max=NUMBER_MAX)]
    )
    vin = StringField(_l("VIN"), validators=[InputRequired(REQUIRED), Length(max=17)])
