"""Master-data administration pages (录入基本信息)."""

from __future__ import annotations

from flask import Blueprint, render_template

from portal.auth.models import Role
from portal.auth.permissions import role_required

bp = Blueprint("masterdata", __name__)


@bp.route("/")
@role_required(Role.ADMIN)
def index():
    return render_template("masterdata/index.html")


@bp.route("/import", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def import_upload():
    return render_template("masterdata/index.html")
