"""The columns of the station's campaign work list (portal.lists): its own vehicles with open
recall or service campaign work, one row per vehicle and campaign."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from portal.campaigns.forms import KIND_LABELS
from portal.claims.models import Claim
from portal.lists import Column, Listing
from portal.masterdata.campaigns import Campaign, CampaignVehicle
from portal.masterdata.models import Organisation, Station, Vehicle, VehicleModel


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


def _supplier_code():
    return (
        sa.select(Organisation.code)
        .where(Organisation.id == Campaign.supplier_id)
        .correlate(Campaign)
        .scalar_subquery()
    )


CAMPAIGNS = Listing(
    [
        Column("code", _l("Code"), Campaign.code, lambda c: c.code),
        Column("title", _l("Title"), Campaign.title, lambda c: c.title),
        Column("kind", lazy_pgettext("campaign", "Kind"), Campaign.kind, lambda c: c.kind),
        Column("status", _l("Status"), Campaign.status, lambda c: c.status),
        Column("start", _l("Start date"), Campaign.start_date, lambda c: c.start_date),
        Column("end", _l("End date"), Campaign.end_date, lambda c: c.end_date),
        Column(
            "supplier",
            _l("Supplier"),
            _supplier_code(),
            lambda c: c.supplier.code if c.supplier else "",
        ),
    ],
    default="-start",  # the latest campaign first
    tiebreak=Campaign.id,
    default_order=lambda descending: [Campaign.start_date.desc(), Campaign.code],
)

# The completion columns a campaign's export adds after the listing's own (not sortable: they
# are counted per page, portal.campaigns.queries.completions).
COMPLETION_COLUMNS = (
    (_l("Affected"), lambda c: c.affected),
    (_l("Done"), lambda c: c.done),
    (_l("In work"), lambda c: c.in_work),
    (_l("Remaining"), lambda c: c.remaining),
    (_l("Share done (%)"), lambda c: c.percent_done),
    (_l("Cost so far"), lambda c: c.cost_so_far),
)


def _station_code():
    return (
        sa.select(Station.code)
        .where(Station.id == Claim.station_id)
        .correlate(Claim)
        .scalar_subquery()
    )


def _campaign_claims() -> Listing:
    return Listing(
        [
            Column("claim", _l("Claim"), Claim.number, lambda c: c.number),
            Column("station", _l("Station"), _station_code(), lambda c: c.station.code),
            Column("vin", _l("VIN"), Claim.vin, lambda c: c.vin),
            Column("submitted", _l("Submitted"), Claim.submitted_at, lambda c: c.submitted_at),
            Column("repair", _l("Repair date"), Claim.repair_date, lambda c: c.repair_date),
            Column("status", _l("Status"), Claim.status, lambda c: c.status),
            Column(
                "approved",
                _l("Approved"),
                Claim.approved_total_amount,
                lambda c: c.approved_total_amount,
            ),
        ],
        default="-submitted",  # the newest first
        tiebreak=Claim.id,
    )


# A campaign's claims on its page (the OEM's): newest first unless a column is chosen.
CAMPAIGN_CLAIMS = _campaign_claims()
