"""Emergency part transfer (紧急调件) through the API: the shipper records the shipment, the
requesting station confirms receipt. Both answer the claim as `GET /claims/{number}` shows it.

`POST /claims/{number}/shipment {carrier, tracking_no, freight_amount}`:
roles station, supplier, auditor (finance and admin: 403). The claim is loaded as the user may
see it (404 otherwise: a drop-shipper sees the request once it is approved); a carrier or
tracking number missing, or a freight that is not text with at most two decimals (`"85.00"`,
never a JSON number) is 422. Then the operation, the claim row locked: not an emergency part
request 422; already shipped or not approved 409; the user is not this request's shipper (a
regular shipment is recorded by an OEM auditor, a drop-shipment by the users of the shipper
organisation) 403.

`POST /claims/{number}/receipt` (empty body): role station; the requesting station only (a
drop-shipping station sees the request but is 403); not shipped or already confirmed 409.
"""

from __future__ import annotations

from portal.api.auth import api_view
from portal.api.blueprint import bp
from portal.api.claims import claim_response, load_claim
from portal.api.schemas import Claim, Shipment
from portal.api.spec import declare
from portal.auth.models import Role, User
from portal.claims import fulfilment
from portal.errors import ValidationFailed

SHIPPERS = (Role.STATION, Role.SUPPLIER, Role.AUDITOR)


@bp.route("/claims/<number>/shipment", methods=["POST"])
@api_view(*SHIPPERS)
@declare(
    body=Shipment,
    answer=Claim,
    refuse=ValidationFailed,
    errors=(409, 422),
    etag=True,
    tag="fulfilment",
)
def ship_emergency_part(user: User, number: str, body: Shipment):
    """Record the shipment of an approved emergency part request.

    A regular shipment (应发货) is recorded by an OEM auditor, a drop-shipment (代发货) by the
    users of the shipper organisation; anyone else is 403.
    """
    claim = load_claim(number, user)
    fulfilment.ship_emergency_part(claim, user, body.carrier, body.tracking_no, body.freight_amount)
    return claim_response(claim, user)


@bp.route("/claims/<number>/receipt", methods=["POST"])
@api_view(Role.STATION)
@declare(answer=Claim, errors=(409, 422), etag=True, tag="fulfilment")
def confirm_receipt(user: User, number: str):
    """The requesting station confirms it received the part (empty body)."""
    claim = load_claim(number, user)
    fulfilment.confirm_receipt(claim, user)
    return claim_response(claim, user)
