"""The OEM auditors' pages (整车厂审核)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, render_template

from portal.auth.models import Role
from portal.auth.permissions import role_required
from portal.extensions import db
from portal.masterdata.models import Station, Supplier, Vehicle

bp = Blueprint("oem", __name__)


@bp.route("/review")
@role_required(Role.AUDITOR)
def review_queue():
    counts = {
        "stations": db.session.scalar(sa.select(sa.func.count(Station.id))),
        "suppliers": db.session.scalar(sa.select(sa.func.count(Supplier.id))),
        "vehicles": db.session.scalar(sa.select(sa.func.count(Vehicle.id))),
    }
    return render_template("oem/review_queue.html", counts=counts)
