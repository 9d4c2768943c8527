"""Emergency part transfer (紧急调件) after approval: the shipper records carrier and tracking,
the requesting station confirms receipt.

Regular shipments (应发货) leave the OEM parts centre, recorded by an OEM auditor; drop-shipments
(代发货) are sent by the supplier or station named on the request, recorded by its own users.
A station that drop-ships is credited the part value and the freight on its next statement.
"""

from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l

from portal.auth.models import Role, User
from portal.claims.models import APPROVED_STATUSES, Claim, ClaimType
from portal.claims.operations import lock_claim, record_event
from portal.db import utcnow
from portal.errors import Conflict, DomainError, Forbidden, ValidationFailed
from portal.extensions import db
from portal.messages import define
from portal.notifications.operations import notify_organisation

# What the station and the shipper are told (portal.messages).
SHIPPED = define(
    "claim.part_shipped", _l("The part for %(number)s is on its way: %(carrier)s %(tracking)s")
)
RECEIVED = define("claim.part_received", _l("Station %(station)s received the part of %(number)s."))


def can_ship(claim: Claim, user: User) -> bool:
    if claim.type is not ClaimType.EMERGENCY_PART or claim.status not in APPROVED_STATUSES:
        return False
    if claim.fulfilment == "regular":
        return user.role is Role.AUDITOR
    return claim.is_shipper(user)


def ship_emergency_part(
    claim: Claim, user: User, carrier: str, tracking_no: str, freight: Decimal | None
) -> Claim:
    """Record the shipment (the claim row locked first: two shippers at once record one)."""
    claim = lock_claim(claim.id)
    if claim.type is not ClaimType.EMERGENCY_PART:
        raise DomainError(str(_l("Only emergency part requests are shipped.")))
    if claim.shipped_at is not None:
        raise Conflict(str(_l("Request %(number)s is already shipped.", number=claim.number)))
    if claim.status not in APPROVED_STATUSES:
        raise Conflict(str(_l("Request %(number)s is not approved yet.", number=claim.number)))
    if not can_ship(claim, user):
        raise Forbidden(str(_l("Only the shipper of this request records its shipment.")))
    errors = {}
    carrier, tracking_no = carrier.strip(), tracking_no.strip()
    if not carrier:
        errors["carrier"] = str(_l("is required"))
    if not tracking_no:
        errors["tracking_no"] = str(_l("is required"))
    if freight is not None and freight < 0:
        errors["freight_amount"] = str(_l("must not be negative"))
    if errors:
        raise ValidationFailed(str(_l("The shipment was not recorded.")), errors)
    claim.carrier, claim.tracking_no = carrier[:80], tracking_no[:80]
    claim.freight_amount = freight
    claim.shipped_at = utcnow()
    claim.shipped_by = user
    record_event(claim, user, "shipped", reason=f"{carrier} {tracking_no}")
    notify_organisation(
        claim.station_id,
        SHIPPED,
        {"number": claim.number, "carrier": carrier, "tracking": tracking_no},
        f"/claims/{claim.number}",
    )
    db.session.flush()
    return claim


def confirm_receipt(claim: Claim, user: User) -> Claim:
    """The requesting station confirms the part arrived (the claim row locked first)."""
    claim = lock_claim(claim.id)
    if user.role is not Role.STATION or user.organisation_id != claim.station_id:
        raise Forbidden(str(_l("Only the requesting station confirms receipt.")))
    if claim.type is not ClaimType.EMERGENCY_PART:
        raise DomainError(str(_l("Only emergency part requests are received.")))
    if claim.shipped_at is None:
        raise Conflict(str(_l("Request %(number)s is not shipped yet.", number=claim.number)))
    if claim.received_at is not None:
        raise Conflict(str(_l("Receipt of %(number)s is already confirmed.", number=claim.number)))
    claim.received_at = utcnow()
    record_event(claim, user, "received")
    if claim.shipper_org_id is not None:
        notify_organisation(
            claim.shipper_org_id,
            RECEIVED,
            {"station": claim.station.code, "number": claim.number},
            f"/claims/{claim.number}",
        )
    db.session.flush()
    return claim
