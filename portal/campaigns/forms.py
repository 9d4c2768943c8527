"""The campaign forms: open or edit a campaign, choose its vehicles, upload a VIN list."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from portal import labels
from portal.campaigns.operations import CampaignInput
from portal.masterdata.campaigns import Campaign, CampaignKind, CampaignStatus
from portal.masterdata.importer import CellError, package_parts

KIND_LABELS = labels.register(
    "campaign_kind",
    {
        CampaignKind.RECALL: _l("Recall"),
        CampaignKind.SERVICE: _l("Service campaign"),
    },
)
STATUS_LABELS = labels.register(
    "campaign_status",
    {
        CampaignStatus.OPEN: lazy_pgettext("campaign status", "Open"),
        CampaignStatus.CLOSED: _l("Closed"),
    },
)


def _at_most_places(value: Decimal | None, places: int) -> None:
    if value is not None and value != value.quantize(Decimal(1).scaleb(-places)):
        raise ValidationError(str(_l("at most %(n)d decimal places", n=places)))


class CampaignForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(
        lazy_pgettext("campaign", "Kind"),
        choices=[SelectChoice(k.value, label) for k, label in KIND_LABELS.items()],
    )
    start_date = DateField(_l("Start date"), validators=[InputRequired()])
    end_date = DateField(_l("End date"), validators=[Optional()])
    operation_code = StringField(_l("Labor operation"), validators=[DataRequired(), Length(max=32)])
    hours = DecimalField(
        _l("Labor hours"), places=2, validators=[InputRequired(), NumberRange(min=0.01, max=999)]
    )
    parts = StringField(
        _l("Parts"),
        description=_l("Part numbers with quantities, as P-100:2; P-200:1"),
        validators=[Length(max=2000)],
    )
    supplier_code = StringField(
        _l("Responsible supplier"),
        description=_l("Empty: the OEM bears the whole cost."),
        validators=[Length(max=32)],
    )
    recovery_share = DecimalField(
        _l("Supplier's share"),
        places=6,
        description=_l("A fraction: 0.60 is 60%."),
        validators=[Optional(), NumberRange(min=0, max=1)],
    )

    def validate_hours(self, field) -> None:
        _at_most_places(field.data, 2)

    def validate_recovery_share(self, field) -> None:
        _at_most_places(field.data, 6)

    def validate_parts(self, field) -> None:
        try:
            package_parts(field.data or "")
        except CellError as exc:
            raise ValidationError(str(exc)) from None

    def campaign_input(self) -> CampaignInput:
        hours = self.hours.data
        share = self.recovery_share.data
        return CampaignInput(
            code=(self.code.data or "").strip(),
            title=(self.title.data or "").strip(),
            kind=CampaignKind(self.kind.data),
            start_date=self.start_date.data,
            end_date=self.end_date.data,
            operation_code=(self.operation_code.data or "").strip(),
            hours=hours,
            parts=list(package_parts(self.parts.data or "")),
            supplier_code=(self.supplier_code.data or "").strip(),
            recovery_share=share if share is not None else Decimal("0"),
        )

    @classmethod
    def of(cls, campaign: Campaign) -> CampaignForm:
        return cls(
            data={
                "code": campaign.code,
                "title": campaign.title,
                "kind": campaign.kind.value,
                "start_date": campaign.start_date,
                "end_date": campaign.end_date,
                "operation_code": campaign.operation.code,
                "hours": campaign.hours,
                "parts": "; ".join(f"{p.part.number}:{p.qty}" for p in campaign.parts),
                "supplier_code": campaign.supplier.code if campaign.supplier else "",
                "recovery_share": campaign.recovery_share if campaign.supplier else None,
            }
        )


class OpenCampaignForm(CampaignForm):
    """Opening a campaign can announce it to every station at once (信息发布)."""

    announce = BooleanField(
        _l("Announce it to all stations"),
        description=_l(
            "Publishes an announcement with the campaign's work and a link to each station's "
            "own affected vehicles."
        ),
    )
    announcement_note = TextAreaField(
        _l("A word to the stations"),
        description=_l("Optional: added below the campaign's terms in the announcement."),
        validators=[Length(max=5000)],
        render_kw={"rows": 3},
    )


class AnnounceForm(FlaskForm):
    """Announce a campaign already open to every station (after its vehicles are chosen)."""

    note = TextAreaField(
        _l("A word to the stations"),
        description=_l("Optional: added below the campaign's terms in the announcement."),
        validators=[Length(max=5000)],
        render_kw={"rows": 2},
    )


class VehicleRangeForm(FlaskForm):
    """The affected vehicles chosen by model and production-date range."""

    model = StringField(_l("Vehicle model"), validators=[DataRequired(), Length(max=32)])
    produced_from = DateField(_l("Produced from"), validators=[InputRequired()])
    produced_to = DateField(_l("Produced to"), validators=[InputRequired()])


class VehicleFileForm(FlaskForm):
    """The affected vehicles as a `campaign_vehicles` file (`campaign,vin`)."""

    file = FileField(
        _l("CSV file (UTF-8)"),
        validators=[
            FileRequired(_l("Choose a file to upload.")),
            FileAllowed(["csv"], _l("Only .csv files can be imported.")),
        ],
    )


class CloseForm(FlaskForm):
    note = StringField(_l("Why it is closed"), validators=[Length(max=1000)])
