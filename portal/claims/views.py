"""The claim pages: the form a station files a claim with, the claim page everyone who may see
the claim reads, attachments and comments, and the small JSON lookups the form uses.

Every view loads the claim by number (another station's claim, or a draft an OEM user may not
see, is a 404), checks the object permission, calls one operation and commits once.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from portal import inputs
from portal.auth.models import Role
from portal.auth.permissions import role_required
from portal.claims import attachments, fulfilment, labels
from portal.claims import campaign as campaign_work
from portal.claims.forms import (
    LAYOUTS,
    LINE_KEY,
    AttachmentForm,
    ClaimActionForm,
    ClaimForm,
    CommentForm,
    LineRow,
    ReceiptForm,
    ShipmentForm,
    claim_payload,
    initial_data,
    place_errors,
    rows_from_request,
    split_claim_lines,
)
from portal.claims.history import version_history
from portal.claims.models import (
    Attachment,
    Claim,
    ClaimStatus,
    ClaimType,
    LineKind,
    ReasonCode,
)
from portal.claims.operations import (
    RuleRefused,
    add_comment,
    create_claim,
    delete_draft,
    submit_claim,
    update_claim,
)
from portal.claims.payload import Malformed, parse_claim
from portal.claims.rules import last_known_odometer
from portal.errors import Conflict, DomainError, ValidationFailed
from portal.extensions import db
from portal.labels import in_sentence, label
from portal.masterdata.campaigns import Campaign
from portal.masterdata.coverage import vehicle_coverage
from portal.masterdata.models import FaultCode, LaborOperation, Part, Station, Vehicle
from portal.masterdata.vin import vin_error
from portal.oldparts.queries import claim_old_parts
from portal.web import after_commit, invalid_renders, load_or_404, one_or_404, page_action

bp = Blueprint("claims", __name__)

# Suppliers see only the emergency part requests they drop-ship (Claim.can_view).
VIEWERS = (Role.STATION, Role.AUDITOR, Role.FINANCE, Role.SUPPLIER)
COMMENTERS = (Role.STATION, Role.AUDITOR)
LOOKUP_LIMIT = 20
HISTORY_LIMIT = 25


@bp.app_context_processor
def claim_labels():
    """The enum labels (labels.py) for every template: claim pages, lists, auditor pages."""
    return {"claim_labels": labels}


def load_claim(number: str) -> Claim:
    """The claim `number` if the current user may see it; otherwise 404 (existence not leaked)."""
    claim = one_or_404(sa.select(Claim).where(Claim.number == number))
    if not claim.can_view(current_user):
        abort(404)
    return claim


def _back_to(claim: Claim, anchor: str = ""):
    return redirect(url_for("claims.detail", number=claim.number) + anchor)


def _claim_page(number: str, **_view_args) -> str:
    return url_for("claims.detail", number=number)


def _claim_section(anchor: str):
    return lambda number, **_view_args: _claim_page(number) + anchor


# -- filing: the type chooser and the form ------------------------------------------------------


@bp.route("/new", methods=["GET", "POST"])
@role_required(Role.STATION)
@page_action(back=lambda **_view_args: url_for("dealer.home"))
def new():
    raw_type = request.args.get("type")
    if not raw_type:
        return render_template("claims/choose_type.html", types=list(ClaimType))
    try:
        claim_type = ClaimType(raw_type)
    except ValueError:
        abort(404)
    return _claim_form(claim_type, None)


@bp.route("/<number>/edit", methods=["GET", "POST"])
@role_required(Role.STATION)
@page_action(back=_claim_page)
def edit(number: str):
    claim = load_claim(number)
    if not claim.can_edit(current_user):
        raise Conflict(
            _(
                "Claim %(number)s is %(status)s and can no longer be edited.",
                number=claim.number,
                status=in_sentence(claim.status),
            )
        )
    return _claim_form(claim.type, claim)


def _claim_form(claim_type: ClaimType, claim: Claim | None):
    """New and edit: show the form, or save it (create or update the draft) and go to the claim."""
    layout = LAYOUTS[claim_type]
    if request.method != "POST":
        form = ClaimForm(data=initial_data(claim) if claim else {})
        rows = split_claim_lines(claim)[1] if claim else []
        if claim is None and layout.line_kinds and not layout.roadside:  # one row to fill
            rows = [_blank_row(layout.line_kinds[0].value)]
        if claim is None and claim_type is ClaimType.CAMPAIGN:
            form, rows = _campaign_prefill(form, rows)
        return _render_form(claim_type, claim, form, rows)
    form = ClaimForm()
    rows = rows_from_request(request.form)
    action = request.form.get("line_action", "")
    if action:  # without JavaScript, adding and removing a line row is a round trip
        _apply_line_action(action, rows, layout)
        return _render_form(claim_type, claim, form, rows)
    if not form.validate_on_submit():
        return _render_form(claim_type, claim, form, rows, status=422)
    if claim is None and form.is_empty(rows):  # no numbered draft of nothing
        form.vin.errors = [*form.vin.errors, _("Type the VIN of the vehicle.")]
        problem = _("Nothing was saved: the form is empty. Type at least the VIN first.")
        return _render_form(claim_type, claim, form, rows, status=422, problem=problem)
    data, slots = claim_payload(claim_type, form, rows)

    def refused(exc: DomainError):
        unplaced = [
            (str(labels.FIELD_LABELS.get(k, k)), m)
            for k, m in place_errors(exc.fields, form, rows, slots)
        ]
        return _render_form(
            claim_type, claim, form, rows, status=422, problem=exc.message, unplaced=unplaced
        )

    with invalid_renders(refused, on=(Malformed, ValidationFailed)):
        parsed = parse_claim(data)
        if claim is None:
            claim = create_claim(current_user, parsed)
        else:
            update_claim(claim, current_user, parsed, expected_revision=form.expected_revision())
    flash(
        _("Claim %(number)s saved as a draft.", number=claim.number)
        if claim.status is ClaimStatus.DRAFT
        else _("Claim %(number)s saved.", number=claim.number),
        "success",
    )
    return _back_to(claim)


def _render_form(
    claim_type: ClaimType,
    claim: Claim | None,
    form: ClaimForm,
    rows: list[LineRow],
    *,
    status: int = 200,
    problem: str | None = None,
    unplaced=(),
):
    layout = LAYOUTS[claim_type]
    _describe_rows(rows, _day(form.repair_date.data))
    return render_template(
        "claims/form.html",
        form=form,
        rows=rows,
        claim=claim,
        claim_type=claim_type,
        layout=layout,
        station=db.session.get(Station, current_user.organisation_id),
        problem=problem,
        unplaced=list(unplaced),
        blank_rows={k.value: _blank_row(k.value) for k in layout.line_kinds},
    ), status


def _campaign_prefill(form: ClaimForm, rows: list[LineRow]):
    """A new campaign claim opened from a VIN lookup (`?vin=&campaign=`): the VIN, the campaign,
    today as the repair date, and the campaign's package as the lines."""
    code = request.args.get("campaign", "").strip()[:32]
    vin = request.args.get("vin", "").strip().upper()[:17]
    campaign = db.session.scalar(sa.select(Campaign).where(Campaign.code == code)) if code else None
    form = ClaimForm(data={"vin": vin, "campaign": code, "repair_date": date.today().isoformat()})
    if campaign is None:
        return form, rows
    package = [
        LineRow(
            kind=LineKind.LABOR.value, operation=campaign.operation.code, hours=str(campaign.hours)
        )
    ] + [
        LineRow(kind=LineKind.PART.value, part=item.part.number, qty=str(item.qty))
        for item in campaign.parts
    ]
    return form, package


def _blank_row(kind: str) -> LineRow:
    return LineRow(kind=kind, qty="1" if kind in (LineKind.PART, LineKind.TRIP) else "")


def _apply_line_action(action: str, rows: list[LineRow], layout) -> None:
    verb, _sep, arg = action.partition(":")
    if verb == "add" and arg in {k.value for k in layout.line_kinds}:
        rows.append(_blank_row(arg))
    elif verb == "remove" and arg.isascii() and arg.isdigit() and int(arg) < len(rows):
        del rows[int(arg)]


def _day(text: str | None) -> date:
    """The date `text` (ASCII, YYYY-MM-DD), else today."""
    try:
        return inputs.parse_date(text or "")
    except ValueError:
        return date.today()


def _describe_rows(rows: list[LineRow], price_day: date) -> None:
    """Names, prices on the repair date and standard hours beside the typed numbers and codes."""
    numbers = {r.part for r in rows if r.part}
    codes = {r.operation.upper() for r in rows if r.operation}
    parts = (
        {
            p.number: p
            for p in db.session.scalars(
                sa.select(Part).where(Part.number.in_(numbers)).options(selectinload(Part.prices))
            )
        }
        if numbers
        else {}
    )
    operations = (
        {
            o.code: o
            for o in db.session.scalars(
                sa.select(LaborOperation).where(LaborOperation.code.in_(codes))
            )
        }
        if codes
        else {}
    )
    for row in rows:
        part = parts.get(row.part)
        if part is not None:
            row.name, row.unit_price = part.name, part.price_on(price_day)
        operation = operations.get(row.operation.upper())
        if operation is not None:
            row.name, row.standard_hours = operation.description, operation.standard_hours


# -- the claim page --------------------------------------------------------------------------------


@bp.route("/<number>")
@role_required(*VIEWERS)
def detail(number: str):
    return _render_detail(load_claim(number))


def _render_detail(
    claim: Claim,
    *,
    status: int = 200,
    refusals=None,
    comment_form=None,
    upload_form=None,
    shipment_form=None,
):
    refused: dict[str, list] = defaultdict(list)
    line_refused: dict[int, list] = defaultdict(list)
    for finding in refusals or ():
        on_line = LINE_KEY.match(finding.field or "")
        if on_line:
            line_refused[int(on_line.group(1))].append(finding)
        else:
            refused[finding.field or "claim"].append(finding)
    coverage = []
    if claim.vehicle is not None:
        coverage = vehicle_coverage(claim.vehicle, claim.repair_date, claim.odometer_km)
    versions, pending_changes = version_history(claim)
    locale = str(get_locale())
    reason_labels = {rc.code: rc.label(locale) for rc in db.session.scalars(sa.select(ReasonCode))}
    can_edit = claim.can_edit(current_user)
    return render_template(
        "claims/detail.html",
        claim=claim,
        coverage=coverage,
        versions=versions,
        pending_changes=pending_changes,
        reason_labels=reason_labels,
        refused=refused,
        line_refused=line_refused,
        today_date=date.today(),
        max_attachment_mb=attachments.MAX_ATTACHMENT_BYTES // (1024 * 1024),
        refusals=refusals or [],
        can_edit=can_edit,
        can_comment=claim.can_comment(current_user),
        comment_form=comment_form or CommentForm(formdata=None),
        upload_form=upload_form or AttachmentForm(formdata=None),
        roadside_hint=LAYOUTS[claim.type].roadside,
        can_ship=fulfilment.can_ship(claim, current_user) and claim.shipped_at is None,
        can_confirm_receipt=(
            claim.shipped_at is not None
            and claim.received_at is None
            and current_user.organisation_id == claim.station_id
        ),
        shipment_form=shipment_form or ShipmentForm(formdata=None),
        receipt_form=ReceiptForm(formdata=None),
        change_label=labels.change_label,
        change_value=labels.change_value,
        **claim_old_parts(claim, current_user),
    ), status


@bp.route("/<number>/submit", methods=["POST"])
@role_required(Role.STATION)
@page_action(back=_claim_page)
def submit(number: str):
    claim = load_claim(number)
    # Nothing of a refused submit is kept: the claim stays a draft.
    with invalid_renders(
        lambda exc: _render_detail(claim, status=422, refusals=exc.findings), on=RuleRefused
    ):
        submit_claim(claim, current_user)
    if claim.status in (ClaimStatus.APPROVED, ClaimStatus.PARTIALLY_APPROVED):
        flash(
            _("Claim %(number)s was submitted and approved automatically.", number=claim.number),
            "success",
        )
    else:
        flash(
            _("Claim %(number)s was submitted and waits for an auditor.", number=claim.number),
            "success",
        )
    return _back_to(claim)


@bp.route("/<number>/delete", methods=["POST"])
@role_required(Role.STATION)
@page_action(back=_claim_page)
def delete(number: str):
    """The station deletes a draft it never submitted; its number is not used again."""
    claim = load_claim(number)
    if not ClaimActionForm().validate_on_submit():
        abort(400)
    files = delete_draft(claim, current_user)
    flash(_("Draft %(number)s was deleted.", number=number), "success")
    return after_commit(lambda: _removed(files))


def _removed(files):
    """Once the deletion is committed: the draft's stored attachment files go too."""
    for path in files:
        path.unlink(missing_ok=True)
    return redirect(url_for("dealer.home"))


def _place_on(form, exc: DomainError) -> None:
    for name, problem in exc.fields.items():
        getattr(form, name).errors = [problem]


@bp.route("/<number>/shipment", methods=["POST"])
@role_required(Role.STATION, Role.SUPPLIER, Role.AUDITOR)
@page_action(back=_claim_page, forbidden=True)
def ship(number: str):
    """The shipper records carrier, tracking and freight of an emergency part."""
    claim = load_claim(number)
    form = ShipmentForm()
    if not form.validate_on_submit():
        abort(400)
    freight = None
    if (form.freight_amount.data or "").strip():
        try:
            freight = Decimal(form.freight_amount.data.strip())
            if freight != freight.quantize(Decimal("0.01")):
                raise InvalidOperation
        except InvalidOperation:
            form.freight_amount.errors = [_("Give an amount with at most two decimals.")]
            return _render_detail(claim, status=422, shipment_form=form)

    def refused(exc: ValidationFailed):
        _place_on(form, exc)
        return _render_detail(claim, status=422, shipment_form=form)

    with invalid_renders(refused):
        fulfilment.ship_emergency_part(
            claim, current_user, form.carrier.data or "", form.tracking_no.data or "", freight
        )
    flash(_("The shipment of %(number)s is recorded.", number=claim.number), "success")
    return _back_to(claim, "#shipment")


@bp.route("/<number>/receipt", methods=["POST"])
@role_required(Role.STATION)
@page_action(back=_claim_page, forbidden=True)
def confirm_receipt(number: str):
    """The requesting station confirms the emergency part arrived."""
    claim = load_claim(number)
    if not ReceiptForm().validate_on_submit():
        abort(400)
    fulfilment.confirm_receipt(claim, current_user)
    flash(_("Receipt of %(number)s is confirmed.", number=claim.number), "success")
    return _back_to(claim, "#shipment")


@bp.route("/<number>/comments", methods=["POST"])
@role_required(*COMMENTERS)
@page_action(back=_claim_page)
def comment(number: str):
    claim = load_claim(number)
    if not claim.can_comment(current_user):
        raise DomainError(_("Comments open once the claim is submitted."))
    form = CommentForm()
    form.validate_on_submit()

    def refused(exc: ValidationFailed):
        form.body.errors = [*form.body.errors, exc.message]
        return _render_detail(claim, status=422, comment_form=form)

    with invalid_renders(refused):
        add_comment(claim, current_user, form.body.data or "")
    flash(_("Your comment was added."), "success")
    return _back_to(claim, "#comments")


# -- attachments ----------------------------------------------------------------------------------


@bp.route("/<number>/attachments", methods=["POST"])
@role_required(Role.STATION)
@page_action(back=_claim_page)
def upload(number: str):
    claim = load_claim(number)
    if not claim.can_edit(current_user):
        raise DomainError(_("Attachments can only be added to a draft or returned claim."))
    form = AttachmentForm()
    form.validate_on_submit()
    storage = form.file.data

    def refused(exc: ValidationFailed):
        form.file.errors = [*form.file.errors, exc.message]
        return _render_detail(claim, status=422, upload_form=form)

    with invalid_renders(refused):
        if storage is None or not getattr(storage, "filename", ""):
            raise ValidationFailed(_("Choose a photo or PDF file to attach."))
        # One byte more than allowed is enough to know a file is too large.
        data = storage.read(attachments.MAX_ATTACHMENT_BYTES + 1)
        attachment = attachments.add_attachment(claim, current_user, storage.filename, data)
    flash(_("%(name)s was attached.", name=attachment.filename), "success")
    return _back_to(claim, "#attachments")


def _load_attachment(claim: Claim, attachment_id: int) -> Attachment:
    return load_or_404(Attachment, attachment_id, visible=lambda a: a.claim_id == claim.id)


@bp.route("/<number>/attachments/<int:attachment_id>")
@role_required(*VIEWERS)
def attachment(number: str, attachment_id: int):
    attachment = _load_attachment(load_claim(number), attachment_id)
    return attachments.send_stored(
        attachments.path_of(attachment), attachment.content_type, attachment.filename
    )


@bp.route("/<number>/attachments/<int:attachment_id>/delete", methods=["POST"])
@role_required(Role.STATION)
@page_action(back=_claim_section("#attachments"))
def remove_attachment(number: str, attachment_id: int):
    claim = load_claim(number)
    attachment = _load_attachment(claim, attachment_id)
    name = attachment.filename
    attachments.remove_attachment(attachment, current_user)
    flash(_("%(name)s was removed.", name=name), "success")
    return _back_to(claim, "#attachments")


# -- lookups for the form (JSON, signed-in session) ---------------------------------------------


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _query() -> str:
    return request.args.get("q", "").strip()[:64]


def _json_error(status: int, code: str, message: str):
    return jsonify({"error": {"code": code, "message": message, "fields": {}}}), status


@bp.route("/lookup/vehicle")
@role_required(Role.STATION, Role.AUDITOR)
def lookup_vehicle():
    """The vehicle, its coverage per group on the repair date at the odometer, and its claims.

    Any station may look up any VIN. Another station's claims are listed without their number
    (a station sees only its own records); drafts of other stations are not listed at all.
    """
    vin = request.args.get("vin", "").strip().upper()
    problem = vin_error(vin) if vin else _("give a VIN")
    if problem:
        return _json_error(
            400, "malformed", _("VIN %(vin)s is not valid: %(problem)s.", vin=vin, problem=problem)
        )
    vehicle = db.session.scalar(sa.select(Vehicle).where(Vehicle.vin == vin))
    if vehicle is None:
        return _json_error(404, "not_found", _("No vehicle of the brand has VIN %(vin)s.", vin=vin))
    fields: dict[str, str] = {}
    km = inputs.int_arg(request.args, "km", fields, minimum=0)
    on_day = inputs.date_arg(request.args, "date", fields) or date.today()
    inputs.refuse_if(fields)
    last_km = last_known_odometer(vehicle, None)
    if km is None:
        km = last_km
    own_station = current_user.station_id
    history_stmt = (
        sa.select(Claim)
        .where(Claim.vehicle_id == vehicle.id)
        .order_by(Claim.created_at.desc(), Claim.id.desc())
        .limit(HISTORY_LIMIT)
    )
    if own_station is not None:
        history_stmt = history_stmt.where(
            sa.or_(Claim.station_id == own_station, Claim.status != ClaimStatus.DRAFT)
        )
    else:
        history_stmt = history_stmt.where(Claim.status != ClaimStatus.DRAFT)
    history = []
    for claim in db.session.scalars(history_stmt):
        visible = claim.can_view(current_user)
        history.append(
            {
                "number": claim.number if visible else None,
                "url": url_for("claims.detail", number=claim.number) if visible else None,
                "own": claim.station_id == own_station,
                "type": claim.type.value,
                "type_label": str(labels.TYPE_LABELS[claim.type]),
                "status": claim.status.value,
                "status_label": str(labels.STATUS_LABELS[claim.status]),
                "repair_date": claim.repair_date.isoformat() if claim.repair_date else None,
                "odometer_km": claim.odometer_km,
                "causal_part": claim.causal_part.number if claim.causal_part else None,
            }
        )
    return jsonify(
        {
            "vin": vehicle.vin,
            "model": {"code": vehicle.model.code, "name": vehicle.model.name},
            "engine_no": vehicle.engine_no,
            "production_date": vehicle.production_date.isoformat(),
            "sale_date": vehicle.sale_date.isoformat(),
            "selling_station": vehicle.selling_station.code if vehicle.selling_station else None,
            "odometer_km": vehicle.odometer_km,
            "last_known_odometer_km": last_km,
            "coverage_as_of": {"date": on_day.isoformat(), "odometer_km": km},
            "coverage": [
                {
                    **c.as_dict(),
                    "group_label": label(c.group, "coverage_group"),
                    "reason": c.reason,
                    "by_contract": c.by_contract,
                }
                for c in vehicle_coverage(vehicle, on_day, km)
            ],
            "contracts": [
                {
                    "number": contract.number,
                    "group": contract.group,
                    "group_label": label(contract.group, "coverage_group"),
                    "start_date": contract.start_date.isoformat(),
                    "ends_on": contract.ends_on.isoformat(),
                    "km": contract.km,
                    "in_force": contract.in_force_on(on_day),
                }
                for contract in vehicle.contracts
            ],
            "claims": history,
            "campaigns": [
                {
                    "code": campaign.code,
                    "title": campaign.title,
                    "kind": campaign.kind.value,
                    "done_on": done_on.isoformat() if done_on else None,
                    "url": url_for(
                        "claims.new", type="campaign", vin=vehicle.vin, campaign=campaign.code
                    ),
                }
                for campaign, done_on in campaign_work.open_work_of(vehicle, on_day)
            ],
        }
    )


def _matches(model, key, text, q: str, *options):
    """Up to LOOKUP_LIMIT records whose key or text contains `q`, an exact key match first."""
    like = _like(q)
    return db.session.scalars(
        sa.select(model)
        .where(
            sa.or_(
                sa.func.lower(key).like(like, escape="\\"),
                sa.func.lower(text).like(like, escape="\\"),
            )
        )
        .order_by(sa.func.lower(key) != q.lower(), key)
        .limit(LOOKUP_LIMIT)
        .options(*options)
    )


@bp.route("/lookup/parts")
@role_required(Role.STATION, Role.AUDITOR)
def lookup_parts():
    """Up to 20 parts whose number or name contains `q`, with the price on `date` (today)."""
    q = _query()
    if not q:
        return jsonify({"results": []})
    on_day = _day(request.args.get("date"))
    parts = _matches(Part, Part.number, Part.name, q, selectinload(Part.prices))
    results = []
    for part in parts:
        price = part.price_on(on_day)
        results.append(
            {
                "number": part.number,
                "name": part.name,
                "group": part.group,
                "unit_price": str(price) if price is not None else None,
                "major_assembly": part.is_major_assembly,
            }
        )
    return jsonify({"date": on_day.isoformat(), "results": results})


@bp.route("/lookup/operations")
@role_required(Role.STATION, Role.AUDITOR)
def lookup_operations():
    q = _query()
    if not q:
        return jsonify({"results": []})
    operations = _matches(LaborOperation, LaborOperation.code, LaborOperation.description, q)
    return jsonify(
        {
            "results": [
                {
                    "code": o.code,
                    "description": o.description,
                    "standard_hours": str(o.standard_hours),
                }
                for o in operations
            ]
        }
    )


@bp.route("/lookup/fault-codes")
@role_required(Role.STATION, Role.AUDITOR)
def lookup_fault_codes():
    q = _query()
    if not q:
        return jsonify({"results": []})
    codes = _matches(FaultCode, FaultCode.code, FaultCode.description, q)
    return jsonify(
        {
            "results": [
                {"code": f.code, "description": f.description, "system": f.system} for f in codes
            ]
        }
    )
