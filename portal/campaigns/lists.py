"""The columns of the station's campaign work list (portal.lists): its own vehicles with open
recall or service campaign work, one row per vehicle and campaign."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from portal.campaigns.forms import KIND_LABELS
from portal.lists import Column, Listing
from portal.masterdata.campaigns import Campaign, CampaignVehicle
from portal.masterdata.models import Vehicle, VehicleModel


def _model_code():
    return (
        sa.select(VehicleModel.code)
        .where(VehicleModel.id == Vehicle.model_id)
        .correlate(Vehicle)
        .scalar_subquery()
    )


STATION_WORK = Listing(
    [
        Column("vin", _l("VIN"), Vehicle.vin, lambda w: w.vehicle.vin),
        Column("model", _l("Model"), _model_code(), lambda w: w.vehicle.model.code),
        Column("campaign", _l("Campaign"), Campaign.code, lambda w: w.campaign.code),
        Column(
            "kind",
            lazy_pgettext("campaign", "Kind"),
            Campaign.kind,
            lambda w: KIND_LABELS[w.campaign.kind],
        ),
        Column("title", _l("Title"), None, lambda w: w.campaign.title),
        Column("sale_date", _l("Sale date"), Vehicle.sale_date, lambda w: w.vehicle.sale_date),
        Column("owner", _l("Owner"), Vehicle.owner_name, lambda w: w.vehicle.owner_name),
        Column("phone", _l("Phone"), None, lambda w: w.vehicle.owner_phone),
    ],
    default="kind",
    tiebreak=CampaignVehicle.id,
    # Recalls first, then by campaign and VIN.
    default_order=lambda descending: [Campaign.kind, Campaign.code, Vehicle.vin],
)
