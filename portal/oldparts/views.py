"""The old-part pages (旧件): the station's returns, the receivers' scanning and inspection,
the OEM's forwarding to suppliers, write-offs (核销), and each part's timeline.

Every view loads its record scoped to the user (another organisation's part or shipment is a
404), checks the object permission, calls one operation and commits once.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload, undefer

from portal.auth.models import Role
from portal.auth.permissions import role_required
from portal.claims.attachments import MAX_ATTACHMENT_BYTES, send_stored
from portal.errors import DomainError, ValidationFailed
from portal.extensions import db
from portal.labels import in_sentence
from portal.lists import escape_like
from portal.masterdata.models import Organisation, Part, Station, Supplier
from portal.oldparts import labels
from portal.oldparts import operations as op
from portal.oldparts.forms import (
    FindingReviewForm,
    InspectForm,
    MissingForm,
    OldPartFilterForm,
    ReceiveForm,
    SelectionForm,
    ShipForm,
    WaiveForm,
    WriteOffForm,
)
from portal.oldparts.lists import FINDINGS, OLD_PARTS, SHIPMENT_PARTS, SHIPMENTS
from portal.oldparts.models import (
    FindingStatus,
    Inspection,
    OldPart,
    OldPartPhoto,
    OldPartStatus,
    ReturnShipment,
    ShipmentStatus,
)
from portal.oldparts.queries import (
    can_forward,
    can_write_off,
    is_receiver,
    is_sender,
    local_today,
    selectable,
    visible_parts,
    visible_shipments,
)
from portal.web import authorize, invalid_renders, load_or_404, one_or_404, page_action

bp = Blueprint("oldparts", __name__)

VIEWERS = (Role.STATION, Role.AUDITOR, Role.FINANCE, Role.SUPPLIER)
HOLDERS = (Role.AUDITOR, Role.SUPPLIER)  # receive, inspect, write off


def forward_visible(shipment: ReturnShipment) -> bool:
    """Whether the reader may open a forwarding shipment (OEM to supplier): a station never
    does, a supplier once it is shipped to it (as `visible_shipments`); otherwise its number
    is shown without a link, never one that answers 404."""
    if current_user.role is Role.STATION:
        return False
    if current_user.role is Role.SUPPLIER:
        return (
            shipment.to_org_id == current_user.organisation_id
            and shipment.status is not ShipmentStatus.PACKING
        )
    return True


def inspect_question(part: OldPart) -> str:
    """What recording an inspection asks first ("{choice}": the result chosen, filled in by
    portal.js): an OEM finding decides what the supplier is charged, after settlement too."""
    if current_user.role is not Role.SUPPLIER and part.supplier is not None:
        return _(
            "Record “{choice}” for old part %(tag)s of claim %(claim)s? The result decides what "
            "%(supplier)s is charged; if the claim is settled already, the difference goes on "
            "the next statement.",
            tag=part.tag,
            claim=part.claim.number,
            supplier=part.supplier.name,
        )
    return _(
        "Record “{choice}” for old part %(tag)s of claim %(claim)s?",
        tag=part.tag,
        claim=part.claim.number,
    )


@bp.app_context_processor
def oldpart_labels():
    return {
        "oldpart_labels": labels,
        "forward_visible": forward_visible,
        "inspect_question": inspect_question,
    }


def load_part(tag: str) -> OldPart:
    return one_or_404(visible_parts(current_user).where(OldPart.tag == tag))


def load_shipment(number: str) -> ReturnShipment:
    return one_or_404(visible_shipments(current_user).where(ReturnShipment.number == number))


def _back_url(default: str) -> str:
    """The page the form was on (only pages of this blueprint), else `default`."""
    target = request.form.get("next", "")
    if target.startswith("/old-parts") and "//" not in target:
        return target
    return default


def _back(default: str):
    return redirect(_back_url(default))


def _list_page(**_view_args) -> str:
    return _back_url(url_for("oldparts.index"))


def _shipment_page(number: str, **_view_args) -> str:
    return url_for("oldparts.shipment", number=number)


def _part_page(tag: str, **_view_args) -> str:
    return url_for("oldparts.detail", tag=tag)


def _place_on(form, exc: DomainError) -> None:
    for name, problem in exc.fields.items():
        getattr(form, name).errors = [problem]


# -- lists -----------------------------------------------------------------------------------------


def _filtered(stmt: sa.Select, filters: OldPartFilterForm) -> sa.Select:
    if filters.status.data:
        stmt = stmt.where(OldPart.status == OldPartStatus(filters.status.data))
    if filters.disposition.data:
        stmt = stmt.where(OldPart.disposition == filters.disposition.data)
    if filters.overdue.data == "yes":
        stmt = stmt.where(OldPart.overdue_at.is_not(None), OldPart.waived_at.is_(None))
    elif filters.overdue.data == "waived":
        stmt = stmt.where(OldPart.waived_at.is_not(None))
    elif filters.overdue.data == "no":
        stmt = stmt.where(OldPart.overdue_at.is_(None))
    station = getattr(filters, "station", None)
    if station is not None and station.data:
        stmt = stmt.where(OldPart.station_id.in_(_org_ids(Station, station.data)))
    supplier = getattr(filters, "supplier", None)
    if supplier is not None and supplier.data:
        stmt = stmt.where(OldPart.supplier_id.in_(_org_ids(Supplier, supplier.data)))
    return stmt


def _org_ids(model, code: str) -> sa.Select:
    return sa.select(model.id).where(model.code == code)


def _filter_form(formdata) -> OldPartFilterForm:
    """The list filters of the current user; the OEM's users also filter by station and
    supplier (chosen by code)."""
    stations = suppliers = ()
    if current_user.role in (Role.AUDITOR, Role.FINANCE):
        stations = db.session.execute(sa.select(Station.code, Station.name).order_by(Station.code))
        suppliers = db.session.execute(
            sa.select(Supplier.code, Supplier.name).order_by(Supplier.code)
        )
    return OldPartFilterForm.for_user(formdata, current_user, stations, suppliers)


@bp.route("/")
@role_required(*VIEWERS)
def index():
    """Old parts, awaiting return first (nearest deadline first), with filters and paging."""
    filters = _filter_form(request.args)
    if not filters.validate():
        filters = _filter_form(None)  # a hand-made bad value: show everything
    stmt = _filtered(visible_parts(current_user), filters)
    shown = OLD_PARTS.shown(request.args)
    stmt = shown.order(stmt).options(
        selectinload(OldPart.part),
        selectinload(OldPart.claim),
        selectinload(OldPart.destination),
        selectinload(OldPart.shipment),
        selectinload(OldPart.forward_shipment),
    )
    if shown.export_format:
        return OLD_PARTS.export(stmt, shown.export_format, "old-parts")
    page = db.paginate(stmt, per_page=current_app.config["PAGE_SIZE"], error_out=False)
    awaiting = db.session.scalar(
        visible_parts(current_user)
        .where(OldPart.status == OldPartStatus.AWAITING_RETURN, OldPart.shipment_id.is_(None))
        .with_only_columns(sa.func.count())
        .order_by(None)
    )
    return render_template(
        "oldparts/index.html",
        page=page,
        filters=filters,
        filtered=any(f.data for f in filters),
        shown=shown,
        selectable={p.id for p in page.items if selectable(p, current_user)},
        forwardable={p.id for p in page.items if can_forward(p, current_user)},
        awaiting=awaiting,
        today=local_today(),
        form=SelectionForm(formdata=None),
    )


@bp.route("/shipments")
@role_required(*VIEWERS)
def shipments():
    """Return shipments, on their way first, with filters (status, the other organisation, a
    number or tracking number), sortable columns, paging and the export of the same rows."""
    visible = visible_shipments(current_user)
    stmt = visible
    status = request.args.get("status", "")
    if status in set(ShipmentStatus):
        stmt = stmt.where(ReturnShipment.status == ShipmentStatus(status))
    else:
        status = ""  # a hand-made bad value: every status
    # The organisations at the other end of the reader's shipments (by code): where a station's
    # boxes go, whom a supplier's come from, both ends for the OEM.
    orgs = db.session.execute(
        sa.select(Organisation.code, Organisation.name)
        .where(
            sa.or_(
                Organisation.id.in_(visible.with_only_columns(ReturnShipment.from_org_id)),
                Organisation.id.in_(visible.with_only_columns(ReturnShipment.to_org_id)),
            ),
            Organisation.id != current_user.organisation_id,
        )
        .order_by(Organisation.name)
    ).all()
    org = request.args.get("org", "")
    if org in {code for code, _name in orgs}:
        ids = sa.select(Organisation.id).where(Organisation.code == org)
        stmt = stmt.where(
            sa.or_(ReturnShipment.from_org_id.in_(ids), ReturnShipment.to_org_id.in_(ids))
        )
    else:
        org = ""
    q = request.args.get("q", "").strip()[:80]
    if q:
        pattern = f"%{escape_like(q)}%"
        stmt = stmt.where(
            sa.or_(
                ReturnShipment.number.ilike(pattern, escape="\\"),
                ReturnShipment.tracking_no.ilike(pattern, escape="\\"),
            )
        )
    shown = SHIPMENTS.shown(request.args)
    stmt = shown.order(stmt).options(
        selectinload(ReturnShipment.from_org),
        selectinload(ReturnShipment.to_org),
        undefer(ReturnShipment.parts_count),
    )
    if shown.export_format:
        return SHIPMENTS.export(stmt, shown.export_format, "old-part-shipments")
    page = db.paginate(stmt, per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template(
        "oldparts/shipments.html",
        page=page,
        shown=shown,
        status=status,
        org=org,
        orgs=orgs,
        q=q,
        filtered=bool(status or org or q),
    )


# -- the station packs and ships -------------------------------------------------------------------


@bp.route("/shipments", methods=["POST"])
@role_required(Role.STATION)
@page_action(back=lambda **_view_args: url_for("oldparts.index"), category="danger")
def create_shipment():
    if not SelectionForm().validate_on_submit():
        abort(400)
    shipment = op.create_return_shipment(current_user, request.form.getlist("tag"))
    flash(
        _(
            "Shipment %(number)s is packed. Print the packing list, then mark it shipped.",
            number=shipment.number,
        ),
        "success",
    )
    return redirect(url_for("oldparts.shipment", number=shipment.number))


@bp.route("/shipments/<number>")
@role_required(*VIEWERS)
def shipment(number: str):
    return _render_shipment(load_shipment(number))


def _render_shipment(
    shipment: ReturnShipment, *, status: int = 200, ship_form=None, receive_form=None
):
    shown = SHIPMENT_PARTS.shown(request.args, "oldparts.shipment")
    parts = SHIPMENT_PARTS.sort_rows(op.parts_in(shipment), shown.sort)
    if shown.export_format and status == 200 and request.method == "GET":
        return SHIPMENT_PARTS.export_records(parts, shown.export_format, shipment.number)
    receiver = is_receiver(shipment, current_user)
    return render_template(
        "oldparts/shipment.html",
        shipment=shipment,
        parts=parts,
        shown=shown,
        sender=is_sender(shipment, current_user),
        receiver=receiver,
        forwarding=shipment.from_org.is_oem,
        to_receive=[p for p in parts if p.status is OldPartStatus.SHIPPED and receiver],
        selectable={p.id for p in parts if selectable(p, current_user)},
        forwardable={p.id for p in parts if can_forward(p, current_user)},
        write_offable={p.id for p in parts if can_write_off(p, current_user)},
        can_inspect={
            p.id
            for p in parts
            if p.status is OldPartStatus.RECEIVED and op.can_receive(p, current_user)
        },
        ship_form=ship_form or ShipForm(formdata=None),
        receive_form=receive_form or ReceiveForm(formdata=None),
        missing_form=MissingForm(formdata=None),
        inspect_form=InspectForm(formdata=None),
        selection_form=SelectionForm(formdata=None),
    ), status


@bp.route("/shipments/<number>/ship", methods=["POST"])
@role_required(Role.STATION, Role.AUDITOR)
@page_action(back=_shipment_page, forbidden=True)
def ship(number: str):
    shipment = load_shipment(number)
    form = ShipForm()
    if not form.validate_on_submit():
        abort(400)

    def refused(exc: ValidationFailed):
        _place_on(form, exc)
        return _render_shipment(shipment, status=422, ship_form=form)

    with invalid_renders(refused):
        op.ship(shipment, current_user, form.carrier.data or "", form.tracking_no.data or "")
    flash(_("Shipment %(number)s is marked shipped.", number=shipment.number), "success")
    return redirect(url_for("oldparts.shipment", number=number))


# -- the receiver scans, reports missing parts and inspects ----------------------------------------


@bp.route("/shipments/<number>/receive", methods=["POST"])
@role_required(*HOLDERS)
@page_action(back=_shipment_page, forbidden=True)
def receive(number: str):
    shipment = load_shipment(number)
    authorize(is_receiver(shipment, current_user))
    form = ReceiveForm()
    if not form.validate_on_submit():
        abort(400)
    tag = (form.tag.data or "").strip()

    def refused(exc: ValidationFailed):
        form.tag.errors = [exc.message]
        return _render_shipment(shipment, status=422, receive_form=form)

    with invalid_renders(refused):
        part = op.receive(shipment, current_user, tag, form.note.data or "")
    flash(_("Old part %(tag)s received.", tag=part.tag), "success")
    return redirect(url_for("oldparts.shipment", number=number))


@bp.route("/shipments/<number>/missing", methods=["POST"])
@role_required(*HOLDERS)
@page_action(back=_shipment_page, category="danger")
def missing(number: str):
    shipment = load_shipment(number)
    authorize(is_receiver(shipment, current_user))
    form = MissingForm()
    if not form.validate_on_submit():
        abort(400)
    part = op.report_missing(shipment, current_user, form.tag.data or "", form.note.data or "")
    flash(_("Old part %(tag)s is reported missing; the station is told.", tag=part.tag), "warning")
    return redirect(url_for("oldparts.shipment", number=number))


@bp.route("/<tag>/inspect", methods=["POST"])
@role_required(*HOLDERS)
@page_action(
    back=lambda tag, **_view_args: _back_url(_part_page(tag)), category="danger", forbidden=True
)
def inspect(tag: str):
    part = load_part(tag)
    form = InspectForm()
    if not form.validate_on_submit():
        abort(400)
    default = url_for("oldparts.detail", tag=part.tag)
    storage = form.photo.data
    photo = None
    if storage is not None and getattr(storage, "filename", ""):
        # One byte more than allowed is enough to know a file is too large.
        photo = storage.read(MAX_ATTACHMENT_BYTES + 1)
    if photo is not None:
        op.check_photo(photo)  # a refused photo refuses the inspection: nothing changes
    op.inspect(part, current_user, form.result.data or "", form.note.data or "")
    if photo is not None:
        op.add_photo(part, current_user, storage.filename, photo)
    if part.finding_pending:
        flash(
            _(
                "Your finding on old part %(tag)s (%(result)s) is proposed: an auditor confirms "
                "or overrules it.",
                tag=part.tag,
                result=in_sentence(part.inspection),
            ),
            "success",
        )
        return _back(default)
    flash(
        _(
            "Old part %(tag)s inspected: %(result)s.",
            tag=part.tag,
            result=in_sentence(part.inspection),
        ),
        "success",
    )
    return _back(default)


# -- the OEM forwards; the holder writes off -------------------------------------------------------


@bp.route("/forward", methods=["POST"])
@role_required(Role.AUDITOR)
@page_action(back=_list_page, category="danger")
def forward():
    if not SelectionForm().validate_on_submit():
        abort(400)
    shipment = op.forward_to_supplier(current_user, request.form.getlist("tag"))
    flash(
        _(
            "Forwarding shipment %(number)s to %(supplier)s is packed; mark it shipped.",
            number=shipment.number,
            supplier=shipment.to_org.name,
        ),
        "success",
    )
    return redirect(url_for("oldparts.shipment", number=shipment.number))


@bp.route("/write-off", methods=["POST"])
@role_required(*HOLDERS)
@page_action(back=_list_page, category="danger")
def write_off():
    """Write off one part (a row's button) or the checked ones: all of them or none."""
    form = SelectionForm()
    if not form.validate_on_submit():
        abort(400)
    tags = sorted({t.strip() for t in request.form.getlist("tag") if t.strip()})
    if not tags:
        flash(_("Choose at least one part."), "warning")
        return _back(url_for("oldparts.index"))
    parts = db.session.scalars(visible_parts(current_user).where(OldPart.tag.in_(tags))).all()
    if len(parts) != len(tags):
        abort(404)
    for part in parts:
        op.write_off(part, current_user, form.note.data or "")
    flash(
        _("Written off: %(tags)s.", tags=", ".join(p.tag for p in parts)),
        "success",
    )
    return _back(url_for("oldparts.index"))


# -- one part --------------------------------------------------------------------------------------


@bp.route("/<tag>")
@role_required(*VIEWERS)
def detail(tag: str):
    return _render_detail(load_part(tag))


def _render_detail(part: OldPart, *, status: int = 200, waive_form=None, review_form=None):
    return render_template(
        "oldparts/detail.html",
        part=part,
        today=local_today(),
        can_view_claim=part.claim.can_view(current_user),
        can_waive=current_user.role is Role.AUDITOR and part.is_overdue,
        can_inspect=part.status is OldPartStatus.RECEIVED and op.can_receive(part, current_user),
        can_write_off=can_write_off(part, current_user),
        waive_form=waive_form or WaiveForm(formdata=None),
        can_review_finding=current_user.role is Role.AUDITOR and part.finding_pending,
        review_form=review_form or FindingReviewForm(formdata=None),
        inspect_form=InspectForm(formdata=None),
        write_off_form=WriteOffForm(formdata=None),
        max_photo_mb=MAX_ATTACHMENT_BYTES // (1024 * 1024),
    ), status


@bp.route("/<tag>/photos/<int:photo_id>")
@role_required(*VIEWERS)
def photo(tag: str, photo_id: int):
    """An inspection photo, to those who may see its part (404 to anyone else)."""
    part = load_part(tag)
    found = load_or_404(OldPartPhoto, photo_id, visible=lambda p: p.old_part_id == part.id)
    return send_stored(op.photo_path(found), found.content_type, found.filename)


@bp.route("/<tag>/waive", methods=["POST"])
@role_required(Role.AUDITOR)
@page_action(back=_part_page)
def waive(tag: str):
    part = load_part(tag)
    form = WaiveForm()
    if not form.validate_on_submit():
        abort(400)

    def refused(exc: ValidationFailed):
        form.reason.errors = [exc.fields.get("reason", exc.message)]
        return _render_detail(part, status=422, waive_form=form)

    with invalid_renders(refused):
        op.waive_overdue(part, current_user, form.reason.data or "")
    flash(_("The overdue chargeback of %(tag)s is waived.", tag=part.tag), "success")
    return redirect(url_for("oldparts.detail", tag=tag))


# -- the auditors' review of suppliers' findings on their own parts ------------------------------


@bp.route("/findings")
@role_required(Role.AUDITOR)
def findings():
    """The suppliers' findings on their own parts: those waiting for an auditor (oldest first)
    unless another review state is asked for, filtered by supplier, part and proposed result,
    sortable, paged and exported as the page shows them."""
    stmt = sa.select(OldPart).where(OldPart.finding_status.is_not(None))
    review = request.args.get("review", "")
    if review == "all":
        pass
    elif review in set(FindingStatus):
        stmt = stmt.where(OldPart.finding_status == FindingStatus(review))
    else:
        review = FindingStatus.PROPOSED.value  # the default, and the answer to a bad value
        stmt = stmt.where(OldPart.finding_status == FindingStatus.PROPOSED)
    suppliers = db.session.execute(
        sa.select(Supplier.code, Supplier.name).order_by(Supplier.name)
    ).all()
    supplier = request.args.get("supplier", "")
    if supplier in {code for code, _name in suppliers}:
        stmt = stmt.where(OldPart.supplier_id.in_(_org_ids(Supplier, supplier)))
    else:
        supplier = ""
    proposed = request.args.get("proposed", "")
    if proposed in set(Inspection):
        stmt = stmt.where(OldPart.proposed_inspection == Inspection(proposed))
    else:
        proposed = ""
    part = request.args.get("part", "").strip()[:60]
    if part:
        pattern = f"%{escape_like(part)}%"
        stmt = stmt.where(
            OldPart.part_id.in_(
                sa.select(Part.id).where(
                    sa.or_(
                        Part.number.ilike(pattern, escape="\\"),
                        Part.name.ilike(pattern, escape="\\"),
                    )
                )
            )
        )
    shown = FINDINGS.shown(request.args)
    stmt = shown.order(stmt).options(
        selectinload(OldPart.photos),
        selectinload(OldPart.part),
        selectinload(OldPart.claim),
        selectinload(OldPart.supplier),
    )
    if shown.export_format:
        return FINDINGS.export(stmt, shown.export_format, "supplier-findings")
    page = db.paginate(stmt, per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template(
        "oldparts/findings.html",
        page=page,
        shown=shown,
        review=review,
        suppliers=suppliers,
        supplier=supplier,
        proposed=proposed,
        part=part,
        filtered=bool(supplier or proposed or part or review != FindingStatus.PROPOSED.value),
    )


def _detail_url(tag: str, **_view_args) -> str:
    return url_for("oldparts.detail", tag=tag)


@bp.route("/<tag>/finding/confirm", methods=["POST"])
@role_required(Role.AUDITOR)
@page_action(back=_detail_url)
def confirm_finding(tag: str):
    part = load_part(tag)
    form = FindingReviewForm()
    if not form.validate_on_submit():
        abort(400)
    op.confirm_finding(part, current_user, form.reason.data or "")
    flash(_("The supplier's finding on %(tag)s is confirmed.", tag=tag), "success")
    return redirect(url_for("oldparts.findings"))


@bp.route("/<tag>/finding/overrule", methods=["POST"])
@role_required(Role.AUDITOR)
@page_action(back=_detail_url)
def overrule_finding(tag: str):
    part = load_part(tag)
    form = FindingReviewForm()
    if not form.validate_on_submit():
        abort(400)

    def refused(exc: ValidationFailed):
        form.inspection.errors = [exc.fields["inspection"]] if "inspection" in exc.fields else []
        form.reason.errors = [exc.fields["reason"]] if "reason" in exc.fields else []
        return _render_detail(load_part(tag), status=422, review_form=form)

    with invalid_renders(refused):
        op.overrule_finding(part, current_user, form.inspection.data or "", form.reason.data or "")
    flash(_("The supplier's finding on %(tag)s is overruled.", tag=tag), "success")
    return redirect(url_for("oldparts.findings"))


# -- PDFs ------------------------------------------------------------------------------------------


@bp.route("/shipments/<number>/packing-list.pdf")
@role_required(*VIEWERS)
def packing_list_pdf(number: str):
    from portal.oldparts import pdf

    shipment = load_shipment(number)
    return _pdf(pdf.packing_list(shipment, op.parts_in(shipment)), f"{number}-packing-list.pdf")


@bp.route("/shipments/<number>/tags.pdf")
@role_required(*VIEWERS)
def tags_pdf(number: str):
    from portal.oldparts import pdf

    shipment = load_shipment(number)
    return _pdf(pdf.tags(shipment, op.parts_in(shipment)), f"{number}-tags.pdf")


def _pdf(data: bytes, filename: str) -> Response:
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
