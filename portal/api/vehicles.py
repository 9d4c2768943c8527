"""`GET /vehicles/{vin}`: a vehicle, its claims count and its warranty coverage as of today."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.api.auth import api_view
from portal.api.blueprint import bp, not_found
from portal.api.schemas import Vehicle
from portal.api.spec import declare
from portal.auth.models import Role, User
from portal.claims.rules import render_message
from portal.errors import Malformed
from portal.extensions import db
from portal.masterdata.models import Vehicle as VehicleRecord
from portal.masterdata.vin import vin_error


@bp.route("/vehicles/<vin>", methods=["GET"])
@api_view(Role.STATION, Role.AUDITOR)
@declare(answer=Vehicle, errors=(400,), tag="vehicles")
def get_vehicle(user: User, vin: str):
    """A vehicle, its claims count and its coverage per group as of today.

    A station may look up any vehicle of the brand: it may be asked to repair any of them. A VIN
    that is not one (length, characters, check digit) is 400.
    """
    vin = vin.strip().upper()
    problem = vin_error(vin)
    if problem:
        message = render_message("vin_invalid", {"vin": vin, "problem": problem})
        raise Malformed(message, {"vin": message})
    vehicle = db.session.scalar(sa.select(VehicleRecord).where(VehicleRecord.vin == vin))
    if vehicle is None:
        raise not_found(_("No vehicle of the brand has VIN %(vin)s.", vin=vin))
    return Vehicle.of(vehicle, user)
