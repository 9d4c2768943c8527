"""The campaign pages: the list and the page of each campaign (completion, claims, remaining
vehicles), opening, editing and closing one, choosing its vehicles; the VIN lookup that shows a
vehicle's open campaigns; the station's list of its vehicles with open campaign work.

Each view loads its record (another supplier's campaign is a 404), checks the permission and
calls one operation; `page_action` commits once, or rolls back and answers a refusal.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import joinedload

from portal import messages
from portal.analysis import charts
from portal.announcements import operations as announcements
from portal.auth.models import Role
from portal.auth.permissions import role_required
from portal.campaigns import operations, queries
from portal.campaigns.forms import (
    KIND_LABELS,
    AnnounceForm,
    CampaignForm,
    CloseForm,
    OpenCampaignForm,
    VehicleFileForm,
    VehicleRangeForm,
)
from portal.campaigns.lists import CAMPAIGN_CLAIMS, CAMPAIGNS, COMPLETION_COLUMNS, STATION_WORK
from portal.claims import campaign as campaign_work
from portal.claims import labels
from portal.claims.models import Claim, ClaimStatus
from portal.claims.rules import last_known_odometer
from portal.errors import Conflict, DomainError
from portal.extensions import db
from portal.lists import EXPORT_LIMIT, contains, escape_like, plain, table_response
from portal.masterdata import importer
from portal.masterdata.campaigns import Campaign, CampaignKind, CampaignStatus, CampaignVehicle
from portal.masterdata.coverage import vehicle_coverage
from portal.masterdata.models import Vehicle
from portal.masterdata.vin import vin_error
from portal.web import invalid_renders, page_action

bp = Blueprint("campaigns", __name__)

EVENT_LABELS = {
    "opened": _l("Opened"),
    "edited": _l("Edited"),
    "closed": _l("Closed"),
    "vehicles_added": _l("Vehicles added"),
    "vehicles_imported": _l("Vehicles imported"),
}

VIEWERS = (Role.AUDITOR, Role.ADMIN, Role.FINANCE, Role.SUPPLIER)
MANAGERS = operations.MANAGERS
PER_PAGE = 25
WORK_PER_PAGE = 50


@bp.app_context_processor
def campaign_labels():
    return {"campaign_kind_labels": KIND_LABELS}


def load_campaign(code: str) -> Campaign:
    """The campaign `code` if the current user may see it; otherwise 404."""
    campaign = db.session.scalar(sa.select(Campaign).where(Campaign.code == code))
    if campaign is None or not operations.can_view(campaign, current_user):
        abort(404)
    return campaign


# -- the list and the page -------------------------------------------------------------------


@bp.route("/")
@role_required(*VIEWERS)
def index():
    """The campaigns the reader may see, open ones by default, filtered by kind and code or
    title, sortable, paged and exported with their completion."""
    status = request.args.get("status", "open")
    if status not in ("open", "closed", "all"):
        status = "open"  # a hand-made bad value: the default
    stmt = sa.select(Campaign).where(operations.visible_to(current_user))
    if status != "all":
        stmt = stmt.where(Campaign.status == CampaignStatus(status))
    kind = request.args.get("kind", "")
    if kind in set(CampaignKind):
        stmt = stmt.where(Campaign.kind == CampaignKind(kind))
    else:
        kind = ""
    q = request.args.get("q", "").strip()[:60]
    if q:
        pattern = f"%{escape_like(q)}%"
        stmt = stmt.where(
            sa.or_(
                Campaign.code.ilike(pattern, escape="\\"),
                Campaign.title.ilike(pattern, escape="\\"),
            )
        )
    shown = CAMPAIGNS.shown(request.args)
    stmt = shown.order(stmt).options(joinedload(Campaign.supplier))
    if shown.export_format:
        return _export_campaigns(stmt, shown.export_format)
    page = db.paginate(stmt, per_page=PER_PAGE, error_out=False)
    completions = queries.completions([c.id for c in page.items])
    return render_template(
        "campaigns/index.html",
        page=page,
        completions=completions,
        status=status,
        kind=kind,
        q=q,
        shown=shown,
        kind_labels=KIND_LABELS,
        can_manage=operations.can_manage(current_user),
    )


def _export_campaigns(stmt: sa.Select, fmt: str):
    """The listed campaigns (every page) with their completion, as the page shows them."""
    campaigns = db.session.scalars(stmt.limit(EXPORT_LIMIT)).unique().all()
    completions = queries.completions([c.id for c in campaigns])
    none = queries.Completion(affected=0, done=0, in_work=0, cost_so_far=Decimal(0))
    columns = CAMPAIGNS.exported
    headings = [str(c.label) for c in columns] + [str(label) for label, _v in COMPLETION_COLUMNS]
    rows = (
        [plain(column.value(campaign)) for column in columns]
        + [value(completions.get(campaign.id, none)) for _label, value in COMPLETION_COLUMNS]
        for campaign in campaigns
    )
    return table_response(fmt, "campaigns", headings, rows)


@bp.route("/<code>")
@role_required(*VIEWERS)
def detail(code: str):
    campaign = load_campaign(code)
    if current_user.role is Role.SUPPLIER:
        return _detail_page(campaign, claims=None)
    # The OEM's list of the campaign's claims: sorted, narrowed, paged and exported.
    shown = CAMPAIGN_CLAIMS.shown(request.args)
    stmt = queries.campaign_claims(campaign)
    search = (request.args.get("q") or "").strip().upper()[:40]
    if search:
        stmt = stmt.where(contains(search, Claim.number, Claim.vin))
    status = request.args.get("status", "")
    if status in {s.value for s in ClaimStatus} and status != ClaimStatus.DRAFT.value:
        stmt = stmt.where(Claim.status == ClaimStatus(status))
    else:
        status = ""
    stmt = shown.order(stmt).options(joinedload(Claim.station))
    if shown.export_format:
        return CAMPAIGN_CLAIMS.export(stmt, shown.export_format, f"{campaign.code}-claims")
    claims = db.paginate(stmt, per_page=PER_PAGE, error_out=False)
    return _detail_page(
        campaign, claims=claims, claims_shown=shown, claims_q=search, claims_status=status
    )


def _over_time_chart(points: list[queries.CompletionPoint]):
    """Completion over time: one bar per week (or month), the share of vehicles done by its end."""
    if not points:
        return None
    bars = [
        charts.Bar(
            label=messages.day(point.start),
            value=float(point.percent_done),
            title=_(
                "By %(day)s: %(done)d of %(affected)d vehicles done (%(percent)s%%)",
                day=messages.day(point.end),
                done=point.done,
                affected=point.affected,
                percent=point.percent_done,
            ),
        )
        for point in points
    ]
    return charts.bar_chart(
        bars, _("Share of the vehicles done, over time (%)"), "completion-over-time", top=100
    )


def _region_chart(rows: list[queries.CompletionRow]):
    if not rows:
        return None
    bars = [
        charts.Bar(
            label=row.key or _("No station"),
            value=float(row.completion.percent_done),
            title=_(
                "%(region)s: %(done)d of %(affected)d vehicles done (%(percent)s%%)",
                region=row.key or _("No station"),
                done=row.completion.done,
                affected=row.completion.affected,
                percent=row.completion.percent_done,
            ),
        )
        for row in rows
    ]
    return charts.bar_chart(bars, _("Share done by region (%)"), "completion-by-region", top=100)


def _detail_page(campaign: Campaign, status: int = 200, **forms):
    manage = operations.can_manage(current_user)
    over_time = queries.completion_over_time(campaign)
    by_region = queries.completion_by(campaign, "region")
    return render_template(
        "campaigns/detail.html",
        campaign=campaign,
        completion=queries.completion(campaign),
        over_time=over_time,
        over_time_chart=_over_time_chart(over_time),
        region_chart=_region_chart(by_region),
        work_by_station=queries.work_by_station(campaign),
        by_region=by_region,
        by_station=queries.completion_by(campaign, "station"),
        claims=forms.pop("claims", None),
        claims_shown=forms.pop("claims_shown", None),
        claims_q=forms.pop("claims_q", ""),
        claims_status=forms.pop("claims_status", ""),
        claim_statuses=[s for s in labels.STATUS_LABELS if s is not ClaimStatus.DRAFT],
        oem=current_user.role is not Role.SUPPLIER,
        can_manage=manage,
        range_form=forms.get("range_form") or VehicleRangeForm(formdata=None),
        file_form=forms.get("file_form") or VehicleFileForm(formdata=None),
        close_form=CloseForm(formdata=None),
        announce_form=AnnounceForm(formdata=None),
        announcement=announcements.announcement_of(campaign),
        can_announce=announcements.can_publish(current_user),
        import_errors=forms.get("import_errors") or [],
        status_labels=labels.STATUS_LABELS,
        event_labels=EVENT_LABELS,
    ), status


@bp.route("/<code>/remaining.<any(csv, xlsx):fmt>")
@role_required(Role.AUDITOR, Role.ADMIN, Role.FINANCE)
def remaining_vins(code: str, fmt: str):
    """The vehicles whose campaign work is still to do: VIN, model, dates, selling station and
    its region, as CSV or XLSX."""
    campaign = load_campaign(code)
    stmt = queries.remaining_vehicles(campaign).options(
        joinedload(Vehicle.model), joinedload(Vehicle.selling_station)
    )
    headings = ["vin", "model", "production_date", "sale_date", "station", "region"]
    rows = (
        [
            vehicle.vin,
            vehicle.model.code,
            vehicle.production_date,
            vehicle.sale_date,
            vehicle.selling_station.code if vehicle.selling_station else "",
            vehicle.selling_station.region if vehicle.selling_station else "",
        ]
        for vehicle in db.session.scalars(stmt)
    )
    return table_response(fmt, f"{campaign.code}-remaining", headings, rows)


# -- opening, editing, closing, vehicles ------------------------------------------------------


def _detail_url(code: str) -> str:
    return url_for("campaigns.detail", code=code)


@bp.route("/new", methods=["GET", "POST"])
@role_required(*MANAGERS)
@page_action
def new():
    if request.method == "GET":
        return _form_page(_open_form(formdata=None, data={"start_date": date.today()}), None)
    form = _open_form()
    if not form.validate_on_submit():
        return _form_page(form, None, 422)
    with invalid_renders(lambda exc: _form_page(_placed(form, exc), None, 422)):
        campaign = operations.open_campaign(current_user, form.campaign_input())
        if getattr(form, "announce", None) is not None and form.announce.data:
            title, body = operations.announcement_text(campaign, form.announcement_note.data)
            announcements.publish(
                current_user,
                title=title,
                body=body,
                audience=announcements.Audience.ALL,
                campaign=campaign,
            )
            flash(_("The campaign was announced to all stations."), "success")
    flash(_("Campaign %(code)s is open; choose its vehicles now.", code=campaign.code), "success")
    return redirect(_detail_url(campaign.code))


def _open_form(**kwargs) -> CampaignForm:
    """The form to open a campaign; with the announcement option for those who publish
    announcements (auditors)."""
    form = OpenCampaignForm(**kwargs)
    if not announcements.can_publish(current_user):
        del form.announce
        del form.announcement_note
    return form


@bp.route("/<code>/edit", methods=["GET", "POST"])
@role_required(*MANAGERS)
@page_action
def edit(code: str):
    campaign = load_campaign(code)
    if request.method == "GET":
        return _form_page(CampaignForm.of(campaign), campaign)
    form = CampaignForm()
    form.code.data = campaign.code  # the code stays
    if not form.validate_on_submit():
        return _form_page(form, campaign, 422)
    with invalid_renders(lambda exc: _form_page(_placed(form, exc), load_campaign(code), 422)):
        operations.edit_campaign(campaign, current_user, form.campaign_input())
    flash(_("Campaign %(code)s saved.", code=campaign.code), "success")
    return redirect(_detail_url(campaign.code))


def _form_page(form: CampaignForm, campaign: Campaign | None, status: int = 200):
    return render_template("campaigns/form.html", form=form, campaign=campaign), status


def _placed(form, exc: DomainError):
    """The refusal's field problems beside their fields; the others and its message on top."""
    for name, message in exc.fields.items():
        if name in form:
            form[name].errors = [*form[name].errors, message]
        else:
            flash(message, "danger")
    flash(exc.message, "danger")
    return form


@bp.route("/<code>/close", methods=["POST"])
@role_required(*MANAGERS)
@page_action(back=_detail_url)
def close(code: str):
    campaign = load_campaign(code)
    form = CloseForm()
    if not form.validate_on_submit():
        abort(400)
    operations.close_campaign(campaign, current_user, form.note.data or "")
    flash(_("Campaign %(code)s is closed.", code=campaign.code), "success")
    return redirect(_detail_url(code))


@bp.route("/<code>/announce", methods=["POST"])
@role_required(*announcements.PUBLISHERS)
@page_action(back=_detail_url)
def announce(code: str):
    """Announce an open campaign to all stations (once), say after its vehicles are chosen."""
    campaign = load_campaign(code)
    form = AnnounceForm()
    if not form.validate_on_submit():
        abort(400)
    if campaign.status is not CampaignStatus.OPEN:
        raise Conflict(_("Campaign %(code)s is closed: it is not announced.", code=code))
    if announcements.announcement_of(campaign) is not None:
        raise Conflict(_("Campaign %(code)s was announced already.", code=code))
    title, body = operations.announcement_text(campaign, form.note.data or "")
    announcements.publish(
        current_user,
        title=title,
        body=body,
        audience=announcements.Audience.ALL,
        campaign=campaign,
    )
    flash(_("The campaign was announced to all stations."), "success")
    return redirect(_detail_url(code))


@bp.route("/<code>/vehicles", methods=["POST"])
@role_required(*MANAGERS)
@page_action
def add_vehicles(code: str):
    campaign = load_campaign(code)
    form = VehicleRangeForm()
    if not form.validate_on_submit():
        return _detail_page(campaign, 422, range_form=form)
    with invalid_renders(
        lambda exc: _detail_page(load_campaign(code), 422, range_form=_placed(form, exc))
    ):
        added = operations.add_vehicles_produced(
            campaign,
            current_user,
            form.model.data.strip(),
            form.produced_from.data,
            form.produced_to.data,
        )
    flash(_("%(count)d vehicles added to campaign %(code)s.", count=added, code=code), "success")
    return redirect(_detail_url(code) + "#vehicles")


@bp.route("/<code>/vehicles/upload", methods=["POST"])
@role_required(*MANAGERS)
@page_action
def upload_vehicles(code: str):
    """A `campaign_vehicles` file (`campaign,vin`), imported as the admin import does: all or
    nothing, every bad row named by its line."""
    campaign = load_campaign(code)
    form = VehicleFileForm()
    if not form.validate_on_submit():
        return _detail_page(campaign, 422, file_form=form)

    def rejected(exc: importer.ImportRejected):
        return _detail_page(load_campaign(code), 422, file_form=form, import_errors=exc.errors)

    with invalid_renders(rejected, on=importer.ImportRejected):
        result = importer.import_csv("campaign_vehicles", form.file.data.read())
    operations.record_vehicle_import(campaign, current_user, result.created)
    flash(_("%(count)d vehicles added from the file.", count=result.created), "success")
    return redirect(_detail_url(code) + "#vehicles")


# -- stations: the VIN lookup and the open campaign work ----------------------------------------


@bp.route("/vin")
@role_required(Role.STATION, Role.AUDITOR)
def vin_lookup():
    """A vehicle looked up by VIN: its open campaigns first (they cannot be missed), then its
    coverage as of today. Any station may look up any vehicle of the brand."""
    vin = request.args.get("vin", "").strip().upper()[:17]
    vehicle, problem, status = None, None, 200
    if vin:
        problem = vin_error(vin)
        if problem:
            problem, status = (
                _("VIN %(vin)s is not valid: %(problem)s.", vin=vin, problem=problem),
                400,
            )
        else:
            vehicle = db.session.scalar(sa.select(Vehicle).where(Vehicle.vin == vin))
            if vehicle is None:
                problem, status = _("No vehicle of the brand has VIN %(vin)s.", vin=vin), 404
    work, coverage, odometer = [], [], None
    if vehicle is not None:
        work = campaign_work.open_work_of(vehicle)
        odometer = last_known_odometer(vehicle, None)
        coverage = vehicle_coverage(vehicle, None, odometer)
    return render_template(
        "campaigns/vin.html",
        vin=vin,
        vehicle=vehicle,
        problem=problem,
        work=work,
        coverage=coverage,
        odometer=odometer,
        is_station=current_user.role is Role.STATION,
    ), status


@bp.route("/work")
@role_required(Role.STATION)
def station_work():
    """The station's own vehicles (sold or serviced by it) with open campaign work, of every
    open campaign or of one (`?campaign=CODE`, the link of a campaign's announcement); sorted
    by any column, exported as CSV or XLSX (`?export=csv|xlsx`)."""
    code = request.args.get("campaign", "").strip()
    campaign = None
    if code:
        campaign = db.session.scalar(sa.select(Campaign).where(Campaign.code == code[:32]))
        if campaign is None:
            abort(404)
    stmt = queries.station_open_work(
        current_user.organisation_id, campaign_id=campaign.id if campaign else None
    )
    shown = STATION_WORK.shown(request.args)
    stmt = shown.order(stmt).options(
        joinedload(CampaignVehicle.vehicle).joinedload(Vehicle.model),
        joinedload(CampaignVehicle.campaign),
    )
    if shown.export_format:
        name = f"campaign-work-{campaign.code}" if campaign else "campaign-work"
        return STATION_WORK.export(stmt, shown.export_format, name)
    page = db.paginate(stmt, per_page=WORK_PER_PAGE, error_out=False)
    return render_template("campaigns/station_work.html", page=page, shown=shown, campaign=campaign)


@bp.route("/work.csv")
@role_required(Role.STATION)
def station_work_csv():
    """The list's CSV under its first address."""
    return redirect(url_for("campaigns.station_work", export="csv"))
