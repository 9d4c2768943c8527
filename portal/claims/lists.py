"""The claim lists' columns (portal.lists): the station's claims and the auditors' queue."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.claims import labels
from portal.claims.models import FLAG_RULES, Claim, flag_bit
from portal.lists import Column, Listing
from portal.masterdata.models import Organisation, Station


def flag_labels(claim: Claim) -> str:
    """The rules that flagged the claim's current version, by their labels."""
    return ", ".join(
        str(labels.FLAG_LABELS[rule]) for rule in FLAG_RULES if claim.flag_mask & flag_bit(rule)
    )


def _station_code():
    return (
        sa.select(Organisation.code)
        .where(Organisation.id == Claim.station_id)
        .correlate(Claim)
        .scalar_subquery()
    )


def _region():
    return (
        sa.select(Station.region)
        .where(Station.id == Claim.station_id)
        .correlate(Claim)
        .scalar_subquery()
    )


NUMBER = Column("number", _l("Number"), Claim.number, lambda c: c.number)
TYPE = Column("type", _l("Type"), Claim.type, lambda c: labels.TYPE_LABELS[c.type])
STATUS = Column("status", _l("Status"), Claim.status, lambda c: labels.STATUS_LABELS[c.status])
VIN = Column("vin", _l("VIN"), Claim.vin, lambda c: c.vin)
REPAIR_DATE = Column("repair_date", _l("Repair date"), Claim.repair_date, lambda c: c.repair_date)
CLAIMED = Column("claimed", _l("Claimed"), Claim.total_amount, lambda c: c.total_amount)
APPROVED = Column(
    "approved", _l("Approved"), Claim.approved_total_amount, lambda c: c.approved_total_amount
)
FLAGS = Column("flags", _l("Flags"), Claim.flag_mask, flag_labels)
VERSION = Column("version", _l("Version"), Claim.version, lambda c: c.version)

STATION_CLAIMS = Listing(
    [
        NUMBER,
        TYPE,
        STATUS,
        VIN,
        REPAIR_DATE,
        CLAIMED,
        APPROVED,
        FLAGS,
        VERSION,
        Column("created", _l("Created"), Claim.created_at, lambda c: c.created_at),
    ],
    default="-created",
    tiebreak=Claim.id,
)

REVIEW_QUEUE = Listing(
    [
        NUMBER,
        TYPE,
        Column("station", _l("Station"), _station_code(), lambda c: c.station.code),
        Column("region", _l("Region"), _region(), lambda c: c.station.region),
        VIN,
        Column("submitted", _l("Submitted on"), Claim.submitted_at, lambda c: c.submitted_at),
        CLAIMED,
        STATUS,
        APPROVED,
        FLAGS,
        VERSION,
    ],
    default="submitted",
    tiebreak=Claim.id,
)
