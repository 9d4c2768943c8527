"""The old-part list's columns (portal.lists)."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.claims.models import Claim
from portal.lists import Column, Listing
from portal.masterdata.models import Organisation, Part
from portal.oldparts import labels
from portal.oldparts.models import OldPart, OldPartStatus


def _of(model, column, key):
    return sa.select(column).where(model.id == key).correlate(OldPart).scalar_subquery()


def _inspection(p: OldPart) -> str:
    return str(labels.INSPECTION_LABELS[p.inspection]) if p.inspection else ""


OLD_PARTS = Listing(
    [
        Column("tag", _l("Tag"), OldPart.tag, lambda p: p.tag),
        Column(
            "claim",
            _l("Claim"),
            _of(Claim, Claim.number, OldPart.claim_id),
            lambda p: p.claim.number,
        ),
        Column(
            "part", _l("Part"), _of(Part, Part.number, OldPart.part_id), lambda p: p.part.number
        ),
        Column("part_name", _l("Part name"), None, lambda p: p.part.name),
        Column("status", _l("Status"), OldPart.status, lambda p: labels.STATUS_LABELS[p.status]),
        Column(
            "disposition",
            _l("Disposition"),
            OldPart.disposition,
            lambda p: labels.DISPOSITION_LABELS[p.disposition],
        ),
        Column(
            "destination",
            _l("Destination"),
            _of(Organisation, Organisation.name, OldPart.destination_org_id),
            lambda p: p.destination.name if p.destination else "",
        ),
        Column("deadline", _l("Return deadline"), OldPart.deadline, lambda p: p.deadline),
        Column("inspection", _l("Inspection"), OldPart.inspection, _inspection),
        Column("unit_price", _l("Unit price"), OldPart.unit_price, lambda p: p.unit_price),
    ],
    default="deadline",
    tiebreak=OldPart.id,
    # Awaiting return first, the nearest deadline first.
    default_order=lambda descending: [
        sa.case((OldPart.status == OldPartStatus.AWAITING_RETURN, 0), else_=1),
        OldPart.deadline.asc().nulls_last(),
        OldPart.tag,
    ],
)
