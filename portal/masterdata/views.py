"""Master-data administration pages (录入基本信息): browse, search, details and CSV import."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cached_property
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
from flask_babel import lazy_pgettext
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from sqlalchemy.orm import InstrumentedAttribute, contains_eager, joinedload, selectinload
from wtforms import SelectChoice, SelectField

from portal import labels as portal_labels
from portal import lists
from portal.auth.models import Role
from portal.auth.permissions import role_required
from portal.extensions import db
from portal.lists import escape_like
from portal.masterdata import contracts, fitment, importer
from portal.masterdata.campaigns import Campaign, CampaignVehicle
from portal.masterdata.coverage import vehicle_coverage
from portal.masterdata.forms import ContractForm, ContractTermsForm
from portal.masterdata.models import (
    Disposition,
    FaultCode,
    LaborOperation,
    Part,
    PartModel,
    Station,
    Supplier,
    Vehicle,
    VehicleModel,
    WarrantyContract,
    WarrantyPolicy,
)
from portal.web import invalid_renders, load_or_404, one_or_404, page_action

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
    order: Any = None  # what it sorts by when not a column of the model itself (a join's)

    @property
    def key(self) -> str:
        return self.path.replace(".", "_")

    def value(self, obj: Any) -> Any:
        for name in self.path.split("."):
            if obj is None:
                return None
            obj = getattr(obj, name)
        return obj


@dataclass(frozen=True, eq=False)
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
    create: str | None = None  # the endpoint of the page that adds one record

    def query(self, q: str) -> sa.Select:
        stmt = sa.select(self.model)
        for target in self.joins:
            stmt = stmt.join(target)
        if q:
            pattern = "%" + escape_like(q.lower()) + "%"
            stmt = stmt.where(
                sa.or_(*(sa.func.lower(c).like(pattern, escape="\\") for c in self.search))
            )
        return stmt.options(*self.options).order_by(*self.order_by)

    @cached_property
    def sorting(self) -> lists.Listing:
        """The page's columns as a sortable, exportable list (portal.lists)."""
        columns = []
        for shown in self.shown:
            order = shown.order
            if order is None and "." not in shown.path:
                attribute = getattr(self.model, shown.path, None)
                if isinstance(attribute, InstrumentedAttribute):
                    order = attribute
            columns.append(lists.Column(shown.key, shown.label, order, shown.value))
        return lists.Listing(
            columns,
            default=columns[0].key,
            tiebreak=self.model.id,
            default_order=lambda descending: list(self.order_by),
        )


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
            Shown(_l("Model"), "model.code", "code", VehicleModel.code),
            Shown(_l("Model name"), "model.name", order=VehicleModel.name),
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
            Shown(_l("Part number"), "part.number", "code", Part.number),
            Shown(NAME, "part.name", order=Part.name),
            Shown(_l("Model"), "model.code", "code", VehicleModel.code),
            Shown(_l("Model name"), "model.name", order=VehicleModel.name),
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
            Shown(_l("Model"), "model.code", "code", VehicleModel.code),
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
    "contracts": Listing(
        _l("Extended warranty contracts"),
        WarrantyContract,
        (
            Shown(_l("Contract number"), "number", "code"),
            Shown(_l("VIN"), "vehicle.vin", "code", Vehicle.vin),
            Shown(_l("Coverage group"), "group", "label:coverage_group"),
            Shown(_l("Start date"), "start_date", "date"),
            Shown(_l("Covered until"), "ends_on", "date"),
            Shown(_l("Months"), "months", "number"),
            Shown(_l("Km"), "km", "number"),
        ),
        search=(WarrantyContract.number, Vehicle.vin, WarrantyContract.group),
        order_by=(WarrantyContract.number, WarrantyContract.group),
        joins=(WarrantyContract.vehicle,),
        options=(contains_eager(WarrantyContract.vehicle),),
        detail=lambda contract: url_for("masterdata.contract_detail", contract_id=contract.id),
        placeholder=_l("Contract number, VIN or coverage group"),
        create="masterdata.contract_new",
    ),
    "campaigns": Listing(
        _l("Campaigns"),
        Campaign,
        (
            Shown(CODE, "code", "code"),
            Shown(_l("Title"), "title"),
            Shown(lazy_pgettext("campaign", "Kind"), "kind", "label:campaign_kind", Campaign.kind),
            Shown(_l("Status"), "status", "label:campaign_status", Campaign.status),
            Shown(_l("Start date"), "start_date", "date"),
            Shown(_l("End date"), "end_date", "date"),
            Shown(_l("Supplier"), "supplier.code", "code"),
            Shown(_l("Recovery share"), "recovery_share", "percent"),
        ),
        search=(Campaign.code, Campaign.title),
        order_by=(Campaign.start_date.desc(), Campaign.code),
        options=(joinedload(Campaign.supplier),),
        detail=lambda campaign: url_for("campaigns.detail", code=campaign.code),
        placeholder=_l("Code or title"),
        create="campaigns.new",
    ),
    "campaign_vehicles": Listing(
        _l("Campaign vehicles"),
        CampaignVehicle,
        (
            Shown(_l("Campaign"), "campaign.code", "code", Campaign.code),
            Shown(_l("VIN"), "vehicle.vin", "code", Vehicle.vin),
        ),
        search=(Campaign.code, Vehicle.vin),
        order_by=(Campaign.code, Vehicle.vin),
        joins=(CampaignVehicle.campaign, CampaignVehicle.vehicle),
        options=(contains_eager(CampaignVehicle.campaign), contains_eager(CampaignVehicle.vehicle)),
        detail=lambda row: url_for("campaigns.detail", code=row.campaign.code),
        placeholder=_l("Campaign or VIN"),
    ),
}
assert set(LISTINGS) == set(importer.KINDS)

_KIND_PATH = "<any(" + ", ".join(importer.KINDS) + "):kind>"
# The kinds kept one record at a time on the record pages below; contracts and campaigns have
# pages of their own, a campaign's vehicles are added on its page.
RECORD_KINDS: tuple[str, ...] = tuple(
    kind for kind in importer.KINDS if kind not in ("contracts", "campaigns", "campaign_vehicles")
)
_RECORD_PATH = "<any(" + ", ".join(RECORD_KINDS) + "):kind>"


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
    shown = listing.sorting.shown(request.args)
    stmt = shown.order(listing.query(q))
    if shown.export_format:
        return listing.sorting.export(stmt, shown.export_format, kind)
    page = db.paginate(stmt, per_page=PER_PAGE, error_out=False)
    return render_template(
        "masterdata/list.html",
        kind=kind,
        listing=listing,
        page=page,
        q=q,
        shown=shown,
        new_record=url_for(listing.create)
        if listing.create
        else url_for("masterdata.record_new", kind=kind)
        if kind in RECORD_KINDS
        else None,
        editable=kind in RECORD_KINDS and importer.editable(kind),
    )


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
    return one_or_404(sa.select(Part).where(Part.id == part_id).options(selectinload(Part.prices)))


def _part_page(part: Part, form: PartModelForm | None = None, status: int = 200):
    listed = {fit.model_id for fit in part.fits}
    form = form or PartModelForm(formdata=None)
    form.model.choices = [
        SelectChoice(m.code, f"{m.code} · {m.name}")
        for m in db.session.scalars(sa.select(VehicleModel).order_by(VehicleModel.code))
        if m.id not in listed
    ]
    return render_template("masterdata/part.html", part=part, model_form=form), status


def _part_url(part_id: int, **_view_args) -> str:
    return url_for("masterdata.part_detail", part_id=part_id)


@bp.route("/parts/<int:part_id>")
@role_required(Role.ADMIN)
def part_detail(part_id: int):
    return _part_page(_part_or_404(part_id))


@bp.route("/parts/<int:part_id>/models", methods=["POST"])
@role_required(Role.ADMIN)
@page_action(page=lambda error, part_id: _part_page(_part_or_404(part_id), status=422))
def part_model_add(part_id: int):
    part = _part_or_404(part_id)
    form = PartModelForm()
    if not form.validate_on_submit():
        return _part_page(part, form, 422)
    fit = fitment.add_model(current_user, part, form.model.data or "")
    flash(
        _("Part %(part)s is listed for model %(model)s.", part=part.number, model=fit.model.code),
        "success",
    )
    return redirect(_part_url(part.id))


@bp.route("/parts/<int:part_id>/models/<int:model_id>/remove", methods=["POST"])
@role_required(Role.ADMIN)
@page_action(back=_part_url, category="danger")
def part_model_remove(part_id: int, model_id: int):
    part = _part_or_404(part_id)
    fitment.remove_model(current_user, part, model_id)
    flash(_("Part %(part)s is no longer listed for that model.", part=part.number), "success")
    return redirect(_part_url(part.id))


@bp.route("/vehicles/<string(length=17):vin>")
@role_required(Role.ADMIN)
def vehicle_detail(vin: str):
    vehicle = one_or_404(sa.select(Vehicle).where(Vehicle.vin == vin.upper()))
    return render_template(
        "masterdata/vehicle.html",
        vehicle=vehicle,
        coverage=vehicle_coverage(vehicle),
        today=date.today(),
    )


@bp.route("/import", methods=["GET", "POST"])
@role_required(Role.ADMIN)
@page_action
def import_upload():
    form = ImportForm()
    if request.method == "GET" and request.args.get("kind") in importer.KINDS:
        form.kind.data = request.args["kind"]
    if form.validate_on_submit():
        kind = form.kind.data

        def rejected(exc: importer.ImportRejected):
            return _render_import(form, exc.errors)

        with invalid_renders(rejected, on=importer.ImportRejected):
            result = importer.import_csv(kind, form.file.data.read(), actor=current_user)
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
    return _render_import(form, [])


def _render_import(form: ImportForm, errors: list[importer.RowError]):
    return render_template(
        "masterdata/import.html",
        form=form,
        errors=errors,
        listings=LISTINGS,
        order=importer.IMPORT_ORDER,
        columns=importer.columns,
    )


# --- one record at a time -------------------------------------------------------------------

# The import's columns, as the record pages label them.
COLUMN_LABELS = {
    "code": CODE,
    "name": NAME,
    "description": DESCRIPTION,
    "region": _l("Region"),
    "labor_rate": _l("Labor rate / h"),
    "km_rate": _l("Roadside rate / km"),
    "parts_handling_rate": _l("Parts handling rate"),
    "recovery_share": _l("Recovery share"),
    "labor_hours_cap": _l("Labor-hour cap"),
    "handling_fee_rate": _l("Handling fee rate"),
    "break_in_days": _l("Break-in days"),
    "break_in_min_km": _l("Break-in from km"),
    "break_in_max_km": _l("Break-in to km"),
    "break_in_price": _l("Break-in price"),
    "model": _l("Model"),
    "group": _l("Coverage group"),
    "months": _l("Months"),
    "km": _l("Km"),
    "number": _l("Part number"),
    "supplier": _l("Supplier"),
    "unit_price": _l("Unit price"),
    "major_assembly": _l("Major assembly"),
    "disposition": _l("Old part"),
    "scrap_rate": _l("Scrap rate"),
    "part": _l("Part number"),
    "standard_hours": _l("Standard hours"),
    "system": _l("System"),
    "vin": _l("VIN"),
    "engine_no": _l("Engine number"),
    "production_date": _l("Production date"),
    "sale_date": _l("Sale date"),
    "station": _l("Selling station"),
    "owner_name": _l("Owner name"),
    "owner_phone": _l("Owner phone"),
    "odometer_km": _l("Odometer (km)"),
    "title": _l("Title"),
    "kind": lazy_pgettext("campaign", "Kind"),
    "start_date": _l("Start date"),
    "end_date": _l("End date"),
    "operation": _l("Labor operation"),
    "hours": _l("Hours"),
    "parts": _l("Parts"),
    "campaign": _l("Campaign"),
}
# The audit log names an edited record's fields by these labels too.
portal_labels.register("masterdata_column", COLUMN_LABELS)
COLUMN_HINTS = {
    "labor_rate": _l("CNY, two decimals"),
    "km_rate": _l("CNY, two decimals"),
    "break_in_price": _l("CNY, two decimals"),
    "unit_price": _l("CNY, two decimals"),
    "parts_handling_rate": _l("a fraction: 0.10 is 10%"),
    "recovery_share": _l("a fraction: 1 is 100%; empty is 1"),
    "handling_fee_rate": _l("a fraction: 0.10 is 10%; empty is 0"),
    "scrap_rate": _l("a fraction, for parts scrapped at the station only"),
    "labor_hours_cap": _l("hours; empty is no cap"),
}
# The choices of a select: the value the import reads, shown by its label.
CHOICES = {
    "major_assembly": (("false", _l("No")), ("true", _l("Yes"))),
    "disposition": (
        (Disposition.RETURN_TO_OEM.value, _l("Return to the OEM")),
        (Disposition.RETURN_TO_SUPPLIER.value, _l("Return to the supplier")),
        (Disposition.SCRAP_AT_STATION.value, _l("Scrap at the station")),
    ),
}
DATE_COLUMNS = frozenset({"production_date", "sale_date"})


class RecordForm(FlaskForm):
    """The record pages' form: its cells are read by column name; this holds the CSRF token."""


def _record_or_404(kind: str, record_id: int) -> Any:
    return load_or_404(LISTINGS[kind].model, record_id)


def _record_page(
    kind: str,
    cells: dict[str, str],
    *,
    record: Any = None,
    errors: dict[str, str] | None = None,
    message: str = "",
    price_from: str = "",
    status: int = 200,
):
    return render_template(
        "masterdata/record.html",
        heading=_("New record: %(kind)s", kind=LISTINGS[kind].title)
        if record is None
        else _("Edit record: %(kind)s", kind=LISTINGS[kind].title),
        kind=kind,
        listing=LISTINGS[kind],
        record=record,
        columns=importer.columns(kind),
        keys=importer.key_columns(kind) if record is not None else (),
        cells=cells,
        errors=errors or {},
        message=message,
        labels=COLUMN_LABELS,
        hints=COLUMN_HINTS,
        choices=CHOICES,
        date_columns=DATE_COLUMNS,
        price_from=price_from,
        form=RecordForm(formdata=None),
    ), status


def _price_from(raw: str) -> tuple[date | None, str | None]:
    raw = (raw or "").strip()
    if not raw:
        return date.today(), None
    try:
        return date.fromisoformat(raw), None
    except ValueError:
        return None, _('"%(value)s" is not a date in the form YYYY-MM-DD', value=raw[:40])


def _save(kind: str, record_id: int | None = None):
    """Create (no `record_id`) or edit one record from the posted cells: the import's checks,
    a refusal shows the form again with each problem beside its field."""
    record = _record_or_404(kind, record_id) if record_id is not None else None
    form = RecordForm()
    cells = {name: request.form.get(name, "") for name in importer.columns(kind)}
    price_raw = request.form.get("price_from", "")

    def again(errors: dict[str, str], message: str, status: int = 422):
        shown = _record_or_404(kind, record_id) if record_id is not None else None
        return _record_page(
            kind,
            cells,
            record=shown,
            errors=errors,
            message=message,
            price_from=price_raw,
            status=status,
        )

    if not form.validate_on_submit():
        return again({}, _("The form expired; please try again."), 400)
    today, problem = _price_from(price_raw)
    if problem:
        return again({"price_from": problem}, _("The record was not saved."))

    def rejected(exc: importer.ImportRejected):
        errors: dict[str, str] = {}
        for error in exc.errors:
            name = error.column or "_"
            errors[name] = f"{errors[name]}; {error.message}" if name in errors else error.message
        return again(
            errors, _("The record was not saved: %(count)d problem(s).", count=len(exc.errors))
        )

    with invalid_renders(rejected, on=importer.ImportRejected):
        saved = importer.save_record(kind, cells, record=record, today=today, actor=current_user)
    flash(
        _("%(kind)s: the record is saved.", kind=LISTINGS[kind].title)
        if record is not None
        else _("%(kind)s: the record is created.", kind=LISTINGS[kind].title),
        "success",
    )
    if not importer.editable(kind):
        return redirect(url_for("masterdata.records", kind=kind))
    return redirect(url_for("masterdata.record_edit", kind=kind, record_id=saved.id))


@bp.route(f"/{_RECORD_PATH}/new", methods=["GET"])
@role_required(Role.ADMIN)
def record_new(kind: str):
    cells = {name: (request.args.get(name) or "")[:200] for name in importer.columns(kind)}
    return _record_page(kind, cells)


@bp.route(f"/{_RECORD_PATH}/new", methods=["POST"])
@role_required(Role.ADMIN)
@page_action
def record_create(kind: str):
    return _save(kind)


@bp.route(f"/{_RECORD_PATH}/<int:record_id>/edit", methods=["GET"])
@role_required(Role.ADMIN)
def record_edit(kind: str, record_id: int):
    record = _record_or_404(kind, record_id)
    if not importer.editable(kind):
        abort(404)
    return _record_page(kind, importer.record_cells(kind, record), record=record)


@bp.route(f"/{_RECORD_PATH}/<int:record_id>/edit", methods=["POST"])
@role_required(Role.ADMIN)
@page_action
def record_update(kind: str, record_id: int):
    if not importer.editable(kind):
        abort(404)
    return _save(kind, record_id)


# -- extended warranty contracts (延保 / 服务协议), one record at a time ---------------------


def _contract_or_404(contract_id: int) -> WarrantyContract:
    return one_or_404(sa.select(WarrantyContract).where(WarrantyContract.id == contract_id))


def _offer_groups(form: ContractTermsForm) -> None:
    groups = db.session.scalars(
        sa.select(WarrantyPolicy.group).distinct().order_by(WarrantyPolicy.group)
    )
    form.group.choices = [
        SelectChoice(group, portal_labels.label(group, "coverage_group")) for group in groups
    ]


def _terms(form: ContractTermsForm) -> contracts.Terms:
    return contracts.Terms(
        group=form.group.data or "",
        start_date=form.start_date.data,
        months=form.months.data,
        km=form.km.data,
    )


def _contract_form(form: ContractTermsForm, contract: WarrantyContract | None, error=None):
    """The form (new or edit), its refused fields marked; 422 when it was refused."""
    if error is not None:
        for name, message in error.fields.items():
            field = getattr(form, name, None)
            if field is not None:
                field.errors = [*field.errors, message]
            else:
                flash(message, "danger")
        flash(error.message, "danger")
    status = 422 if error is not None or form.errors else 200
    return render_template("masterdata/contract_form.html", form=form, contract=contract), status


@bp.route("/contracts/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
@page_action
def contract_new():
    form = ContractForm(data={k: request.args[k] for k in ("number", "vin") if k in request.args})
    _offer_groups(form)
    if not form.validate_on_submit():
        return _contract_form(form, None)
    with invalid_renders(lambda error: _contract_form(form, None, error)):
        contract = contracts.create_contract(
            current_user, form.number.data or "", form.vin.data or "", _terms(form)
        )
    flash(
        _(
            "Contract %(number)s extends %(group)s on %(vin)s.",
            number=contract.number,
            group=contract.group,
            vin=contract.vehicle.vin,
        ),
        "success",
    )
    return redirect(url_for("masterdata.contract_detail", contract_id=contract.id))


@bp.route("/contracts/<int:contract_id>")
@role_required(Role.ADMIN)
def contract_detail(contract_id: int):
    """The whole contract (every group it extends) of one of its rows."""
    contract = _contract_or_404(contract_id)
    return render_template(
        "masterdata/contract.html",
        contract=contract,
        rows=contracts.contract_rows(contract.number),
        today=date.today(),
    )


@bp.route("/contracts/<int:contract_id>/edit", methods=["GET", "POST"])
@role_required(Role.ADMIN)
@page_action
def contract_edit(contract_id: int):
    contract = _contract_or_404(contract_id)
    form = ContractTermsForm(obj=contract)
    _offer_groups(form)
    if not form.validate_on_submit():
        return _contract_form(form, contract)
    with invalid_renders(lambda error: _contract_form(form, contract, error)):
        changes = contracts.update_contract(current_user, contract, _terms(form))
    if changes:
        flash(_("Contract %(number)s was saved.", number=contract.number), "success")
    else:
        flash(_("Nothing was changed."), "info")
    return redirect(url_for("masterdata.contract_detail", contract_id=contract.id))
