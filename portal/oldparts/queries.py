"""Who sees which old part and shipment, and what each may do with it: read by the old-part
pages, the claim and review pages ("Old parts" section), the settlement pages and the API."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from portal.auth.models import Role, User
from portal.extensions import db
from portal.oldparts import operations as op
from portal.oldparts.models import OldPart, OldPartStatus, ReturnShipment, ShipmentStatus


def local_today() -> date:
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai"))
    return datetime.now(zone).date()


def visible_parts(user: User) -> sa.Select:
    """Old parts `user` may see: a station its own; a supplier those that come to it, routed to
    it by the station once they left the station, or forwarded to it by the OEM once the
    forwarding shipment left (a part held at the OEM is not its supplier's, even when it is
    charged for it: its chargeback page shows the inspection result); the OEM's auditors and
    finance all of them."""
    stmt = sa.select(OldPart)
    if user.role is Role.STATION:
        return stmt.where(OldPart.station_id == user.organisation_id)
    if user.role is Role.SUPPLIER:
        forwarded_to_it = sa.select(ReturnShipment.id).where(
            ReturnShipment.to_org_id == user.organisation_id,
            ReturnShipment.status != ShipmentStatus.PACKING,
        )
        return stmt.where(
            sa.or_(
                sa.and_(
                    OldPart.destination_org_id == user.organisation_id,
                    OldPart.shipment_id.is_not(None),
                    OldPart.status != OldPartStatus.AWAITING_RETURN,
                ),
                OldPart.forward_shipment_id.in_(forwarded_to_it),
            )
        )
    return stmt


def visible_shipments(user: User) -> sa.Select:
    """A station sees what it sends, a supplier what was shipped to it, the OEM everything."""
    stmt = sa.select(ReturnShipment)
    if user.role is Role.STATION:
        return stmt.where(ReturnShipment.from_org_id == user.organisation_id)
    if user.role is Role.SUPPLIER:
        return stmt.where(
            ReturnShipment.to_org_id == user.organisation_id,
            ReturnShipment.status != ShipmentStatus.PACKING,
        )
    return stmt


def claim_old_parts(claim, user: User) -> dict:
    """What the claim page and the review page need for their "Old parts" section: the claim's
    parts, the ids of those `user` may open (the others are listed without a link), today."""
    parts = op.parts_of_claim(claim)
    linked: set[int] = set()
    if parts:
        linked = set(
            db.session.scalars(
                visible_parts(user)
                .where(OldPart.claim_id == claim.id)
                .with_only_columns(OldPart.id)
            )
        )
    return {"old_parts": parts, "old_part_links": linked, "old_parts_today": local_today()}


def is_sender(shipment: ReturnShipment, user: User) -> bool:
    return user.role in (Role.STATION, Role.AUDITOR) and user.organisation_id == (
        shipment.from_org_id
    )


def is_receiver(shipment: ReturnShipment, user: User) -> bool:
    if shipment.to_org.is_oem:
        return user.role is Role.AUDITOR
    return user.role is Role.SUPPLIER and user.organisation_id == shipment.to_org_id


can_write_off = op.can_write_off


def can_forward(part: OldPart, user: User) -> bool:
    return (
        user.role is Role.AUDITOR
        and part.status is OldPartStatus.INSPECTED
        and part.destination is not None
        and part.destination.is_oem
        and part.forward_shipment_id is None
        and part.supplier_id is not None
    )


def selectable(part: OldPart, user: User) -> bool:
    """Whether the list offers a checkbox for `part`: to pack it, forward it or write it off."""
    if user.role is Role.STATION:
        return part.status is OldPartStatus.AWAITING_RETURN and part.shipment_id is None
    return can_forward(part, user) or can_write_off(part, user)
