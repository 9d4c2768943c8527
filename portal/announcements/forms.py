"""The auditor's form to publish an announcement (信息发布)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import RadioField, SelectChoice, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from portal.announcements.operations import BODY_MAX, TITLE_MAX, Audience

AUDIENCE_LABELS = {
    Audience.ALL: _l("All stations"),
    Audience.REGIONS: _l("The stations of chosen regions"),
    Audience.STATIONS: _l("Chosen stations"),
}


class AnnouncementForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=TITLE_MAX)])
    body = TextAreaField(
        _l("Text"),
        validators=[DataRequired(), Length(max=BODY_MAX)],
        description=_l("Plain text; line breaks are kept."),
        render_kw={"rows": 10},
    )
    audience = RadioField(
        _l("Send to"),
        choices=[SelectChoice(a.value, label) for a, label in AUDIENCE_LABELS.items()],
        default=Audience.ALL.value,
    )
    # Choices are set by the view from the master data; the operation checks the values again.
    regions = SelectMultipleField(_l("Regions"), choices=[], validate_choice=False)
    stations = SelectMultipleField(
        _l("Stations"),
        choices=[],
        validate_choice=False,
        description=_l("Hold Ctrl (⌘ on a Mac) to choose several."),
    )
    attachment = FileField(
        _l("Attached file"), description=_l("Optional: a PDF or a photo (JPEG, PNG, WebP).")
    )
