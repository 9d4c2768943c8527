from __future__ import annotations

import re
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal import labels
from portal.admin.operations import LABEL_MAX, REASON_CODE_MAX
from portal.auth.models import Role
from portal.auth.operations import MIN_PASSWORD_LENGTH
from portal.claims.models import ALWAYS_BLOCKING, FLAG_RULES
from portal.masterdata.models import OrgKind

ROLE_LABELS = {
    Role.STATION: _l("Station"),
    Role.AUDITOR: _l("Auditor"),
    Role.FINANCE: _l("Finance"),
    Role.SUPPLIER: _l("Supplier"),
    Role.ADMIN: _l("Administrator"),
}
labels.register("role", ROLE_LABELS)
labels.register(
    "organisation_kind",
    {OrgKind.OEM: _l("OEM"), OrgKind.STATION: _l("Station"), OrgKind.SUPPLIER: _l("Supplier")},
)


PASSWORD_HINT = _l(
    "At least %(n)d characters and hard to guess: no common password, no keyboard pattern or "
    "date, nothing built from the username or the name.",
    n=MIN_PASSWORD_LENGTH,
)


class UserForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(min=3, max=64)])
    full_name = StringField(_l("Full name"), validators=[Optional(), Length(max=120)])
    email = EmailField(_l("E-mail"), validators=[Optional(), Length(max=200)])
    role = SelectField(
        _l("Role"), choices=[SelectChoice(r.value, label) for r, label in ROLE_LABELS.items()]
    )
    org = StringField(
        _l("Organisation code"),
        validators=[DataRequired(), Length(max=32)],
        description=_l(
            "OEM for auditors, finance and admins; the station or supplier code otherwise."
        ),
    )
    password = PasswordField(
        _l("Initial password"),
        validators=[DataRequired(), Length(max=256)],
        description=PASSWORD_HINT,
    )


class ResetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(max=256)], description=PASSWORD_HINT
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )


# -- rules: auto-adjudication and reason codes ---------------------------------------------------

# What each flag rule (claims.rules) means, in the words of the settings page.
FLAG_RULE_LABELS = {
    "outside_coverage": _l("Outside coverage, submitted with a goodwill reason"),
    "duplicate": _l("Duplicate: same VIN and causal part within 30 days"),
    "labor_hours": _l("Labor hours above the operation's standard hours"),
    "part_not_for_model": _l("A part not listed for the vehicle's model"),
}
# An amount as typed: digits, at most two decimals; "2,000.00" as the pages show it is fine too.
MONEY_TEXT = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,2})?")


class MoneyField(StringField):
    """CNY, parsed from the text as a `Decimal` (never through a float); 0 or more."""

    def process_formdata(self, valuelist):
        self.data = None
        if valuelist and valuelist[0].strip():
            text = valuelist[0].strip().replace(",", "")
            if not MONEY_TEXT.fullmatch(text):
                raise ValueError(
                    _l("Give an amount of 0 or more with at most two decimals, e.g. 2000.00.")
                )
            self.data = Decimal(text)

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else f"{self.data:.2f}"


class ClaimSettingsForm(FlaskForm):
    auto_approve_enabled = BooleanField(_l("Approve clean claims under the threshold on submit"))
    auto_approve_threshold = MoneyField(
        _l("Threshold (CNY)"),
        validators=[InputRequired()],
        description=_l(
            "A claim with no blocking flag whose total is below this amount is approved "
            "automatically; every other claim waits for an auditor."
        ),
    )
    blocking_rules = SelectMultipleField(
        _l("Flags that block auto-approval"),
        choices=[
            SelectChoice(rule, FLAG_RULE_LABELS.get(rule, rule))
            for rule in FLAG_RULES
            if rule not in ALWAYS_BLOCKING
        ],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )


class DecisionTargetForm(FlaskForm):
    decision_target_days = IntegerField(
        _l("Decision target (working days)"),
        validators=[Optional()],
        description=_l(
            "A claim waiting for an auditor longer than this is shown as late on the "
            "auditors' home page."
        ),
    )


class ReasonCodeLabelsForm(FlaskForm):
    label_en = StringField(
        _l("English label"),
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
        validators=[DataRequired(), Length(max=LABEL_MAX)],
    )
    label_zh = StringField(
        _l("Chinese label"),
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
        validators=[DataRequired(), Length(max=LABEL_MAX)],
    )


class ReasonCodeForm(ReasonCodeLabelsForm):
    code = StringField(
        _l("Code"),
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
        validators=[DataRequired(), Length(max=REASON_CODE_MAX)],
        description=_l("lower_snake_case, e.g. missing_photos; it never changes once added."),
    )


# -- rules: settlement -----------------------------------------------------------------------------

# A percentage as typed, at most four decimals ("13", "6.5"): a rate keeps millionths.
PERCENT_TEXT = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,4})?")


class PercentField(StringField):
    """A percentage, parsed from the text as a `Decimal` (never through a float)."""

    def process_formdata(self, valuelist):
        self.data = None
        if valuelist and valuelist[0].strip():
            text = valuelist[0].strip().removesuffix("%").strip()
            if not PERCENT_TEXT.fullmatch(text):
                raise ValueError(
                    _l("Give a percentage from 0 to below 100 with at most four decimals, e.g. 13.")
                )
            self.data = Decimal(text)

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else f"{self.data.normalize():f}"


class SettlementSettingsForm(FlaskForm):
    vat_percent = PercentField(
        _l("VAT rate (%)"),
        validators=[InputRequired()],
        description=_l(
            "Statements show net, VAT and gross. A run keeps the rate in force when it starts; "
            "runs started before a change keep theirs."
        ),
    )
