"""Emergency part transfer (紧急调件) through the API: the shipper records the shipment, the
requesting station confirms receipt. Both answer the claim as `GET /claims/{number}` shows it.

`POST /claims/{number}/shipment {carrier, tracking_no, freight_amount}`:
roles station, supplier, auditor (finance and admin: 403). The claim is loaded as the user may
see it (404 otherwise: a drop-shipper sees the request once it is approved). Then, in order:
not an emergency part request 422; already shipped or not approved 409; the user is not this
request's shipper (a regular shipment is recorded by an OEM auditor, a drop-shipment by the
users of the shipper organisation) 403; a missing carrier or tracking number, or a freight
that is not text with at most two decimals (`"85.00"`, never a JSON number) 422.

`POST /claims/{number}/receipt` (empty body): role station; the requesting station only (a
drop-shipping station sees the request but is 403); not shipped or already confirmed 409.

The claim row is locked before the state is checked, so two shippers at once record one
shipment and the other gets a 409.
"""

from __future__ import annotations

import re
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.api.auth import api_view, json_body
from portal.api.blueprint import bp, forbidden
from portal.api.claims import claim_response, load_claim
from portal.auth.models import Role, User
from portal.claims import fulfilment
from portal.claims.models import APPROVED_STATUSES, Claim, ClaimType
from portal.errors import Conflict, DomainError, ValidationFailed
from portal.extensions import db

SHIPPERS = (Role.STATION, Role.SUPPLIER, Role.AUDITOR)
FREIGHT = re.compile(r"^[0-9]{1,12}(\.[0-9]{1,2})?$")  # ASCII, within Numeric(14, 2)
MAX_TEXT = 80


def _locked(claim: Claim) -> Claim:
    """The claim's row locked for this transaction, its state read afresh."""
    return db.session.scalar(
        sa.select(Claim)
        .where(Claim.id == claim.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _text(data: dict, key: str, errors: dict[str, str]) -> str:
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        errors[key] = str(_l("is required"))
        return ""
    if not isinstance(value, str):
        errors[key] = str(_l("must be text"))
        return ""
    if len(value.strip()) > MAX_TEXT:
        errors[key] = str(_l("at most %(n)d characters", n=MAX_TEXT))
    return value.strip()


def _freight(data: dict, errors: dict[str, str]) -> Decimal | None:
    value = data.get("freight_amount")
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        errors["freight_amount"] = str(
            _l('must be text with at most two decimals, e.g. "85.00" (never a number)')
        )
        return None
    value = value.strip()
    if value.startswith("-") and FREIGHT.match(value[1:]):
        errors["freight_amount"] = str(_l("must not be negative"))
        return None
    if not FREIGHT.match(value):
        errors["freight_amount"] = str(
            _l('must be an amount with at most two decimals, e.g. "85.00"')
        )
        return None
    return Decimal(value)


@bp.route("/claims/<number>/shipment", methods=["POST"])
@api_view(*SHIPPERS)
def ship_emergency_part(user: User, number: str):
    claim = _locked(load_claim(number, user))
    data = json_body()
    if claim.type is not ClaimType.EMERGENCY_PART:
        raise DomainError(str(_l("Only emergency part requests are shipped.")))
    if claim.shipped_at is not None:
        raise Conflict(str(_l("Request %(number)s is already shipped.", number=claim.number)))
    if claim.status not in APPROVED_STATUSES:
        raise Conflict(str(_l("Request %(number)s is not approved yet.", number=claim.number)))
    if not fulfilment.can_ship(claim, user):
        raise forbidden()
    errors: dict[str, str] = {}
    carrier = _text(data, "carrier", errors)
    tracking_no = _text(data, "tracking_no", errors)
    freight = _freight(data, errors)
    if errors:
        raise ValidationFailed(str(_l("The shipment was not recorded.")), errors)
    fulfilment.ship_emergency_part(claim, user, carrier, tracking_no, freight)
    return claim_response(claim)


@bp.route("/claims/<number>/receipt", methods=["POST"])
@api_view(Role.STATION)
def confirm_receipt(user: User, number: str):
    claim = _locked(load_claim(number, user))
    if claim.station_id != user.organisation_id:  # a drop-shipping station sees it, no more
        raise forbidden()
    if claim.type is not ClaimType.EMERGENCY_PART:
        raise DomainError(str(_l("Only emergency part requests are received.")))
    fulfilment.confirm_receipt(claim, user)  # 409: not shipped yet, or already confirmed
    return claim_response(claim)
