from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from portal.auth.models import Role

ROLE_LABELS = {
    Role.STATION: _l("Station"),
    Role.AUDITOR: _l("Auditor"),
    Role.FINANCE: _l("Finance"),
    Role.SUPPLIER: _l("Supplier"),
    Role.ADMIN: _l("Administrator"),
}


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
    password = PasswordField(_l("Initial password"), validators=[DataRequired(), Length(max=256)])


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=256)])
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )
