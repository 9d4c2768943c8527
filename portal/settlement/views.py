"""Finance (结算) and supplier chargeback (追偿) pages."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, render_template
from flask_login import current_user

from portal.auth.models import Role
from portal.auth.permissions import role_required
from portal.extensions import db
from portal.masterdata.models import Part, Station, Supplier

bp = Blueprint("settlement", __name__)


@bp.route("/")
@role_required(Role.FINANCE)
def home():
    counts = {
        "stations": db.session.scalar(sa.select(sa.func.count(Station.id))),
        "suppliers": db.session.scalar(sa.select(sa.func.count(Supplier.id))),
    }
    return render_template("settlement/home.html", counts=counts)


@bp.route("/chargebacks")
@role_required(Role.SUPPLIER)
def chargebacks():
    supplier = db.session.get(Supplier, current_user.organisation_id)
    parts_supplied = db.session.scalar(
        sa.select(sa.func.count(Part.id)).where(Part.supplier_id == supplier.id)
    )
    return render_template(
        "settlement/chargebacks.html", supplier=supplier, parts_supplied=parts_supplied
    )
