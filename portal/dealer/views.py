"""The station's pages (服务站)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, render_template
from flask_login import current_user

from portal.auth.models import Role
from portal.auth.permissions import role_required
from portal.extensions import db
from portal.masterdata.models import Station, Vehicle

bp = Blueprint("dealer", __name__)


@bp.route("/")
@role_required(Role.STATION)
def home():
    station = db.session.get(Station, current_user.organisation_id)
    vehicles_sold = db.session.scalar(
        sa.select(sa.func.count(Vehicle.id)).where(Vehicle.selling_station_id == station.id)
    )
    return render_template("dealer/home.html", station=station, vehicles_sold=vehicles_sold)
