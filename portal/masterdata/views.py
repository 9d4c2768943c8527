"""Master-data administration pages (录入基本信息): browse, search, details and CSV import."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    has_request_context,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from sqlalchemy.orm import contains_eager, joinedload, selectinload
from wtforms import SelectChoice, SelectField

from portal.auth.models import Role
from portal.auth.permissions import role_required
from portal.errors import DomainError
from portal.extensions import db
from portal.masterdata import fitment, importer
from portal.masterdata.coverage import vehicle_coverage
from portal.masterdata.models import (
    FaultCode,
    LaborOperation,
    Part,
    PartModel,
    Station,
    Supplier,
    Vehicle,
    VehicleModel,
    WarrantyPolicy,
)

bp = Blueprint("masterdata", __name__)

CODE_OR_NAME = _l("Code or name")

PER_PAGE = 25


@dataclass(frozen=True)
class Shown:
    """A column of a list page: its heading, the attribute path it shows and how to format it.

    `fmt` is one of: text, code (monospace), money, percent, number, hours, date, bool, or
    `label:KIND` (a code by its label, portal.labels).
    """

    label: Any
    path: str
    fmt: str = "text"

    def value(self, obj: Any) -> Any:
        for name in self.path.split("."):
            if obj is None:
                return None
            obj = getattr(obj, name)
        return obj


@dataclass(frozen=True)
class Listing:
    """The list page of one kind: what it shows, how it searches and sorts, where rows link."""

    title: Any
    model: type[db.Model]
    shown: tuple[Shown, ...]
    search: tuple[Any, ...]
    order_by: tuple[Any, ...]
    joins: tuple[Any, ...] = ()
    options: tuple[Any, ...] = ()
    detail: Callable[[Any], str] | None = None
    placeholder: Any = CODE_OR_NAME

    def query(self, q: str) -> sa.Select:
        stmt = sa.select(self.model)
        for target in self.joins:
            stmt = stmt.join(target)
        if q:
            pattern = "%" + _escape_like(q.lower()) + "%"
            stmt = stmt.where(
                sa.or_(*(sa.func.lower(c).like(pattern, escape="\\") for c in self.search))
            )
        return stmt.options(*self.options).order_by(*self.order_by)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


CODE = _l("Code")
NAME = _l("Name")
DESCRIPTION = _l("Description")

LISTINGS: dict[str, Listing] = {
    "stations": Listing(
        _l("Stations"),
        Station,
        (
            Shown(CODE, "code", "code"),
            Shown(NAME, "name"),
            Shown(_l("Region"), "region"),
            Shown(_l("Labor rate / h"), "labor_rate", "money"),
            Shown(_l("Roadside rate / km"), "km_rate", "money"),
            Shown(_l("Parts handling"), "parts_handling_rate", "percent"),
        ),
        search=(Station.code, Station.name, Station.region),
        order_by=(Station.code,),
        placeholder=_l("Code, name or region"),
    ),
    "suppliers": Listing(
        _l("Suppliers"),
        Supplier,
        (
            Shown(CODE, "code", "code"),
            Shown(NAME, "name"),
            Shown(_l("Recovery share"), "recovery_share", "percent"),
            Shown(_l("Labor-hour cap"), "labor_hours_cap", "hours"),
            Shown(_l("Handling fee"), "handling_fee_rate", "percent"),
        ),
        search=(Supplier.code, Supplier.name),
        order_by=(Supplier.code,),
    ),
    "models": Listing(
        _l("Vehicle models"),
        VehicleModel,
        (
            Shown(CODE, "code", "code"),
            Shown(NAME, "name"),
            Shown(_l("Break-in days"), "break_in_days", "number"),
            Shown(_l("Break-in from km"), "break_in_min_km", "number"),
            Shown(_l("Break-in to km"), "break_in_max_km", "number"),
            Shown(_l("Break-in price"), "break_in_price", "money"),
        ),
        search=(VehicleModel.code, VehicleModel.name),
        order_by=(VehicleModel.code,),
    ),
    "policies": Listing(
        _l("Warranty policies"),
        WarrantyPolicy,
        (
            Shown(_l("Model"), "model.code", "code"),
            Shown(_l("Model name"), "model.name"),
            Shown(_l("Coverage group"), "group", "label:coverage_group"),
            Shown(_l("Months"), "months", "number"),
            Shown(_l("Km"), "km", "number"),
        ),
        search=(VehicleModel.code, VehicleModel.name, WarrantyPolicy.group),
        order_by=(VehicleModel.code, WarrantyPolicy.group),
        joins=(WarrantyPolicy.model,),
        options=(contains_eager(WarrantyPolicy.model),),
        placeholder=_l("Model or coverage group"),
    ),
    "parts": Listing(
        _l("Parts"),
        Part,
        (
            Shown(_l("Part number"), "number", "code"),
            Shown(NAME, "name"),
            Shown(_l("Coverage group"), "group", "label:coverage_group"),
            Shown(_l("Supplier"), "supplier.code", "code"),
            Shown(_l("Current price"), "current_price", "money"),
            Shown(_l("Major assembly"), "is_major_assembly", "bool"),
            Shown(_l("Old part"), "disposition", "label:disposition"),
            Shown(_l("Scrap rate"), "scrap_rate", "percent"),
        ),
        search=(Part.number, Part.name),
        order_by=(Part.number,),
        options=(joinedload(Part.supplier), selectinload(Part.prices)),
        detail=lambda part: url_for("masterdata.part_detail", part_id=part.id),
        placeholder=_l("Part number or name"),
    ),
    "part_models": Listing(
        _l("Models per part"),
        PartModel,
        (
            Shown(_l("Part number"), "part.number", "code"),
            Shown(NAME, "part.name"),
            Shown(_l("Model"), "model.code", "code"),
            Shown(_l("Model name"), "model.name"),
        ),
        search=(Part.number, Part.name, VehicleModel.code),
        order_by=(Part.number, VehicleModel.code),
        joins=(PartModel.part, PartModel.model),
        options=(contains_eager(PartModel.part), contains_eager(PartModel.model)),
        detail=lambda fit: url_for("masterdata.part_detail", part_id=fit.part_id),
        placeholder=_l("Part number, name or model"),
    ),
    "labor_operations": Listing(
        _l("Labor operations"),
        LaborOperation,
        (
            Shown(CODE, "code", "code"),
            Shown(DESCRIPTION, "description"),
            Shown(_l("Standard hours"), "standard_hours", "hours"),
        ),
        search=(LaborOperation.code, LaborOperation.description),
        order_by=(LaborOperation.code,),
        placeholder=_l("Code or description"),
    ),
    "fault_codes": Listing(
        _l("Fault codes"),
        FaultCode,
        (
            Shown(CODE, "code", "code"),
            Shown(DESCRIPTION, "description"),
            Shown(_l("System"), "system"),
        ),
        search=(FaultCode.code, FaultCode.description, FaultCode.system),
        order_by=(FaultCode.code,),
        placeholder=_l("Code, description or system"),
    ),
    "vehicles": Listing(
        _l("Vehicles"),
        Vehicle,
        (
            Shown(_l("VIN"), "vin", "code"),
            Shown(_l("Model"), "model.code", "code"),
            Shown(_l("Engine number"), "engine_no", "code"),
            Shown(_l("Sale date"), "sale_date", "date"),
            Shown(_l("Selling station"), "selling_station.code", "code"),
            Shown(_l("Odometer (km)"), "odometer_km", "number"),
        ),
        search=(Vehicle.vin, Vehicle.engine_no, VehicleModel.code),
        order_by=(Vehicle.vin,),
        joins=(Vehicle.model,),
        options=(contains_eager(Vehicle.model), joinedload(Vehicle.selling_station)),
        detail=lambda vehicle: url_for("masterdata.vehicle_detail", vin=vehicle.vin),
        placeholder=_l("VIN, engine number or model"),
    ),
}
assert set(LISTINGS) == set(importer.KINDS)

_KIND_PATH = "<any(" + ", ".join(importer.KINDS) + "):kind>"


class ImportForm(FlaskForm):
    kind = SelectField(
        _l("What the file holds"),
        choices=[SelectChoice(kind, LISTINGS[kind].title) for kind in importer.IMPORT_ORDER],
    )
    file = FileField(
        _l("CSV file (UTF-8)"),
        validators=[
            FileRequired(_l("Choose a file to upload.")),
            FileAllowed(["csv"], _l("Only .csv files can be imported.")),
        ],
    )


@bp.url_defaults
def _keep_kind(endpoint: str, values: dict[str, Any]) -> None:
    """A list page's own links (the pager's) keep its kind without naming it."""
    if endpoint != "masterdata.records" or "kind" in values or not has_request_context():
        return
    if request.view_args and request.view_args.get("kind"):
        values["kind"] = request.view_args["kind"]


def _count(model: type[db.Model]) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


@bp.route("/")
@role_required(Role.ADMIN)
def index():
    kinds = [(kind, LISTINGS[kind], _count(LISTINGS[kind].model)) for kind in importer.IMPORT_ORDER]
    return render_template("masterdata/index.html", kinds=kinds)


@bp.route(f"/{_KIND_PATH}")
@role_required(Role.ADMIN)
def records(kind: str):
    listing = LISTINGS[kind]
    q = request.args.get("q", "").strip()
    page = db.paginate(listing.query(q), per_page=PER_PAGE, error_out=False)
    return render_template("masterdata/list.html", kind=kind, listing=listing, page=page, q=q)


@bp.route(f"/{_KIND_PATH}/template.csv")
@role_required(Role.ADMIN)
def template_csv(kind: str):
    """An empty file of KIND: the header row, with a BOM so that Excel opens it as UTF-8."""
    body = "\ufeff" + ",".join(importer.columns(kind)) + "\r\n"
    return Response(
        body.encode("utf-8"),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={kind}.csv"},
    )


class PartModelForm(FlaskForm):
    model = SelectField(_l("Vehicle model"), validate_choice=False)  # the operation checks it


def _part_or_404(part_id: int) -> Part:
    part = db.session.get(Part, part_id, options=[selectinload(Part.prices)])
    if part is None:
        abort(404)
    return part


def _part_page(part: Part, form: PartModelForm | None = None, status: int = 200):
    listed = {fit.model_id for fit in part.fits}
    form = form or PartModelForm(formdata=None)
    form.model.choices = [
        SelectChoice(m.code, f"{m.code} · {m.name}")
        for m in db.session.scalars(sa.select(VehicleModel).order_by(VehicleModel.code))
        if m.id not in listed
    ]
    return render_template("masterdata/part.html", part=part, model_form=form), status


@bp.route("/parts/<int:part_id>")
@role_required(Role.ADMIN)
def part_detail(part_id: int):
    return _part_page(_part_or_404(part_id))


@bp.route("/parts/<int:part_id>/models", methods=["POST"])
@role_required(Role.ADMIN)
def part_model_add(part_id: int):
    part = _part_or_404(part_id)
    form = PartModelForm()
    if not form.validate_on_submit():
        return _part_page(part, form, 422)
    try:
        fit = fitment.add_model(current_user, part, form.model.data or "")
    except DomainError as exc:
        db.session.rollback()
        for message in list(exc.fields.values()) or [exc.message]:
            flash(message, "danger")
        return _part_page(_part_or_404(part_id), status=422)
    db.session.commit()
    flash(
        _("Part %(part)s is listed for model %(model)s.", part=part.number, model=fit.model.code),
        "success",
    )
    return redirect(url_for("masterdata.part_detail", part_id=part.id))


@bp.route("/parts/<int:part_id>/models/<int:model_id>/remove", methods=["POST"])
@role_required(Role.ADMIN)
def part_model_remove(part_id: int, model_id: int):
    part = _part_or_404(part_id)
    try:
        fitment.remove_model(current_user, part, model_id)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return redirect(url_for("masterdata.part_detail", part_id=part.id))
    db.session.commit()
    flash(_("Part %(part)s is no longer listed for that model.", part=part.number), "success")
    return redirect(url_for("masterdata.part_detail", part_id=part.id))


@bp.route("/vehicles/<string(length=17):vin>")
@role_required(Role.ADMIN)
def vehicle_detail(vin: str):
    vehicle = db.session.scalar(sa.select(Vehicle).where(Vehicle.vin == vin.upper()))
    if vehicle is None:
        abort(404)
    return render_template(
        "masterdata/vehicle.html", vehicle=vehicle, coverage=vehicle_coverage(vehicle)
    )


@bp.route("/import", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def import_upload():
    form = ImportForm()
    if request.method == "GET" and request.args.get("kind") in importer.KINDS:
        form.kind.data = request.args["kind"]
    errors: list[importer.RowError] = []
    if form.validate_on_submit():
        kind = form.kind.data
        try:
            result = importer.import_csv(kind, form.file.data.read())
        except importer.ImportRejected as exc:
            db.session.rollback()
            errors = exc.errors
        else:
            db.session.commit()
            flash(
                _(
                    "%(kind)s imported: %(created)d created, %(updated)d updated.",
                    kind=LISTINGS[kind].title,
                    created=result.created,
                    updated=result.updated,
                ),
                "success",
            )
            return redirect(url_for("masterdata.records", kind=kind))
    return render_template(
        "masterdata/import.html",
        form=form,
        errors=errors,
        listings=LISTINGS,
        order=importer.IMPORT_ORDER,
        columns=importer.columns,
    )
