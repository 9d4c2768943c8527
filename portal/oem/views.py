"""The OEM auditors' pages (整车厂审核): the review queue and the review page of a claim.

The review page shows everything an auditor decides on (the claim page's sections, the price list
behind each line, the vehicle's coverage and earlier claims) and, while the claim is in review,
the decision form. Each view loads the claim (a draft is a 404), calls one operation and commits
once; a refused decision is rolled back and the page shown again with each problem in its place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from portal.auth.models import Role
from portal.auth.permissions import role_required
from portal.claims import labels
from portal.claims.decisions import Decision, decide_claim, parse_decision
from portal.claims.forms import CommentForm
from portal.claims.history import version_history
from portal.claims.lists import REVIEW_QUEUE
from portal.claims.models import FLAG_RULES, Claim, ClaimLine, ClaimStatus, ReasonCode, flag_bit
from portal.claims.operations import NEVER_AUTO_APPROVED, add_comment
from portal.claims.payload import Malformed
from portal.db import utcnow
from portal.errors import Conflict, DomainError, ValidationFailed
from portal.extensions import db
from portal.labels import in_sentence
from portal.lists import selected
from portal.masterdata.coverage import vehicle_coverage
from portal.masterdata.models import Part, Station, Supplier
from portal.messages import money
from portal.oem.forms import (
    BulkApproveForm,
    DecisionForm,
    QueueFilterForm,
    decision_payload,
    filter_args,
    place_errors,
)
from portal.oem.queue import (
    QUEUE_STATUSES,
    WORK_STATUSES,
    QueueFilter,
    QueuePage,
    queue_counts,
    queue_page,
    queue_statement,
)
from portal.oldparts.queries import claim_old_parts
from portal.web import invalid_renders, page_action

bp = Blueprint("oem", __name__)

QUEUE_PAGE_SIZE = 25
HISTORY_LIMIT = 25  # earlier claims of the vehicle shown on the review page


# -- the review queue ------------------------------------------------------------------------------


@bp.route("/review")
@role_required(Role.AUDITOR)
def review_queue():
    """Claims by status, oldest first, filtered; keyset pages (`after` is the last row seen).
    Sorted by another column (`sort`), the queue is paged by number (`page`)."""
    f = QueueFilter.from_args(request.args)
    shown = REVIEW_QUEUE.shown(request.args)
    cursor = request.args.get("after") or None
    paged = None
    if shown.export_format and not f.errors:
        stmt = shown.order(queue_statement(f)).options(selectinload(Claim.station))
        return REVIEW_QUEUE.export(stmt, shown.export_format, "review-queue")
    # A refused filter shows the form again with its message, and no claims it did not filter.
    if f.errors:
        page = QueuePage([], None)
    elif shown.sort == REVIEW_QUEUE.default:
        page = queue_page(f, cursor, limit=QUEUE_PAGE_SIZE)
    else:
        paged = db.paginate(
            shown.order(queue_statement(f)), per_page=QUEUE_PAGE_SIZE, error_out=False
        )
        page = QueuePage(list(paged.items), None)
    counts = queue_counts(f)
    _load_stations(page.items)
    regions = db.session.scalars(sa.select(Station.region).distinct().order_by(Station.region))
    args = filter_args(f)
    now = utcnow()
    return render_template(
        "oem/review_queue.html",
        f=f,
        page=page,
        paged=paged,
        shown=shown,
        counts=counts,
        filters=QueueFilterForm.showing(f, counts["type"], regions, request.args),
        args=args,
        filtered=bool({k for k in args if k != "status"}),
        statuses=QUEUE_STATUSES,
        work_statuses=WORK_STATUSES,
        cursor=cursor,
        ages={c.id: (now - c.submitted_at).days for c in page.items},
        flags={c.id: flag_rules(c.flag_mask) for c in page.items},
        clean={c.id for c in page.items if is_clean(c)},
        action_form=BulkApproveForm(formdata=None),
    ), (400 if f.errors else 200)


def _load_stations(claims: list[Claim]) -> None:
    """The page's stations in one query, set on each claim's `station` (the session holds
    loaded objects only weakly, so merely loading them would not spare a query per claim)."""
    ids = {c.station_id for c in claims}
    if ids:
        stations = {
            s.id: s for s in db.session.scalars(sa.select(Station).where(Station.id.in_(ids)))
        }
        for claim in claims:
            set_committed_value(claim, "station", stations[claim.station_id])


def flag_rules(mask: int) -> list[str]:
    """The rules that flagged a claim, from its flag bits (no join to claim_flag)."""
    return [rule for rule in FLAG_RULES if mask & flag_bit(rule)]


# -- the review page -------------------------------------------------------------------------------


def load_claim(number: str) -> Claim:
    """The claim `number` as an auditor sees it: a draft or an unknown number is a 404."""
    claim = db.session.scalar(
        sa.select(Claim)
        .where(Claim.number == number)
        .options(
            selectinload(Claim.lines).selectinload(ClaimLine.part).selectinload(Part.prices),
            selectinload(Claim.lines).selectinload(ClaimLine.operation),
        )
    )
    if claim is None or not claim.can_view(current_user):
        abort(404)
    return claim


@bp.route("/claims/<number>")
@role_required(Role.AUDITOR)
def review(number: str):
    return _render_review(load_claim(number))


@dataclass(frozen=True)
class PriceInfo:
    """What the price list says behind a claim line (shown under the line's item)."""

    price_day: date
    part: Part | None = None
    list_price: Decimal | None = None  # the part's price on the repair date
    current_price: Decimal | None = None  # the part's price today
    standard_hours: Decimal | None = None  # the labor operation's flat-rate hours
    over_standard: bool = False


def price_info(claim: Claim) -> dict[int, PriceInfo]:
    day = claim.repair_date or date.today()
    found = {}
    for line in claim.lines:
        if line.part is not None:
            found[line.id] = PriceInfo(
                day, line.part, line.part.price_on(day), line.part.current_price
            )
        elif line.operation is not None:
            standard = line.operation.standard_hours
            found[line.id] = PriceInfo(
                day,
                standard_hours=standard,
                over_standard=line.hours is not None and line.hours > standard,
            )
    return found


def earlier_claims(claim: Claim) -> list[Claim]:
    """The other submitted claims of the same VIN, newest first."""
    if not claim.vin:
        return []
    return list(
        db.session.scalars(
            sa.select(Claim)
            .where(
                Claim.vin == claim.vin,
                Claim.id != claim.id,
                Claim.status != ClaimStatus.DRAFT,
            )
            .order_by(Claim.submitted_at.desc(), Claim.id.desc())
            .limit(HISTORY_LIMIT)
        )
    )


def _render_review(
    claim: Claim,
    *,
    status: int = 200,
    form: DecisionForm | None = None,
    problem: str | None = None,
    unplaced=(),
    conflict: str | None = None,
    lost: DecisionForm | None = None,
    comment_form: CommentForm | None = None,
):
    locale = str(get_locale())
    codes = list(db.session.scalars(sa.select(ReasonCode).order_by(ReasonCode.code)))
    deciding = claim.status is ClaimStatus.IN_REVIEW
    if deciding:
        form = form or DecisionForm.for_claim(claim)
        default_supplier = claim.causal_part.supplier if claim.causal_part else None
        form.set_choices(
            [("", _("No cut"))] + [(rc.code, rc.label(locale)) for rc in codes if rc.active],
            _supplier_choices(default_supplier),
        )
    line_forms = form.line_forms() if deciding else {}
    versions, pending_changes = version_history(claim)
    coverage = []
    if claim.vehicle is not None:
        coverage = vehicle_coverage(claim.vehicle, claim.repair_date, claim.odometer_km)
    return render_template(
        "oem/review.html",
        claim=claim,
        coverage=coverage,
        versions=versions,
        pending_changes=pending_changes,
        change_label=labels.change_label,
        change_value=labels.change_value,
        reason_labels={rc.code: rc.label(locale) for rc in codes},
        refused={},
        line_refused={},
        today_date=date.today(),
        can_edit=False,
        can_comment=claim.can_comment(current_user),
        comment_form=comment_form or CommentForm(formdata=None),
        info=price_info(claim),
        earlier=earlier_claims(claim),
        deciding=deciding,
        form=form if deciding else None,
        line_forms=line_forms,
        line_errors={
            line_id: bool(lf.approved.errors or lf.reason.errors or lf.note.errors)
            for line_id, lf in line_forms.items()
        },
        problem=problem,
        unplaced=unplaced,
        conflict=conflict,
        lost=lost,
        **claim_old_parts(claim, current_user),
    ), status


def _supplier_choices(default: Supplier | None) -> list[tuple[str, str]]:
    choices = [] if default is not None else [("", _("None"))]
    for supplier in db.session.scalars(sa.select(Supplier).order_by(Supplier.code)):
        label = f"{supplier.code} · {supplier.name}"
        if default is not None and supplier.id == default.id:
            label += " — " + _("default: the causal part's supplier")
        choices.append((supplier.code, label))
    return choices


@bp.route("/claims/<number>/decision", methods=["POST"])
@role_required(Role.AUDITOR)
@page_action(forbidden=True)  # a role that may never decide is kept out by the gate above
def decide(number: str):
    """Approve (lines may be cut), reject or return; then on to the next claim in the queue."""
    claim = load_claim(number)
    posted = DecisionForm()
    if not posted.validate_on_submit():
        abort(400)
    data, errors = decision_payload(posted, claim)
    problem = None
    decision = None
    try:
        decision = parse_decision(data)
    except Malformed as exc:
        errors = {**exc.fields, **errors}
        problem = exc.message
    if errors:
        return _refused(number, posted, errors, problem)

    def refused(exc: DomainError):
        if isinstance(exc, Conflict):
            return _conflict(number, exc.message, posted)
        return _refused(number, posted, exc.fields, exc.message)

    with invalid_renders(refused, on=(Conflict, ValidationFailed)):
        decide_claim(claim.id, current_user, decision)
    flash(_decided_message(claim), "success")
    following = next_in_queue(claim)
    if following is None:
        flash(_("The review queue is empty: no other claim waits for a decision."), "info")
        return redirect(url_for("oem.review_queue"))
    return redirect(url_for("oem.review", number=following.number))


def _refused(number: str, posted: DecisionForm, errors: dict, problem: str | None):
    """The decision is shown again with its problems; nothing of it is kept."""
    claim = load_claim(number)
    if claim.status is not ClaimStatus.IN_REVIEW:
        return _conflict(number, "", posted)
    form = DecisionForm.for_claim(claim, version=_int(posted.version.data), kept=posted)
    unplaced = place_errors(errors, form)
    return _render_review(
        claim,
        status=422,
        form=form,
        problem=problem or _("The decision was not saved."),
        unplaced=[(str(labels.FIELD_LABELS.get(k, k)), m) for k, m in unplaced],
    )


def _int(text: str | None) -> int | None:
    try:
        return int(text or "")
    except ValueError:
        return None


def _conflict(number: str, message: str, posted: DecisionForm):
    """Another auditor decided or changed the claim: show it as it is now, with what was typed."""
    claim = load_claim(number)
    form = None
    if claim.status is ClaimStatus.IN_REVIEW:  # changed, still in review: decide it again
        form = DecisionForm.for_claim(claim, kept=posted)
    return _render_review(claim, status=409, form=form, conflict=message, lost=posted)


def _decided_message(claim: Claim) -> str:
    if claim.status is ClaimStatus.RETURNED:
        return _("Claim %(number)s was returned to the station.", number=claim.number)
    if claim.status is ClaimStatus.REJECTED:
        return _("Claim %(number)s was rejected.", number=claim.number)
    return _(
        "Claim %(number)s is %(status)s: %(approved)s approved of %(claimed)s claimed.",
        number=claim.number,
        status=in_sentence(claim.status),
        approved=money(claim.approved_total_amount),
        claimed=money(claim.total_amount),
    )


def next_in_queue(claim: Claim) -> Claim | None:
    """The oldest claim in review other than `claim`."""
    for other in queue_page(QueueFilter(), limit=2).items:
        if other.id != claim.id:
            return other
    return None


@bp.route("/claims/<number>/comments", methods=["POST"])
@role_required(Role.AUDITOR)
@page_action
def comment(number: str):
    """The auditor writes to the station from the review page."""
    claim = load_claim(number)
    form = CommentForm()
    if not form.validate_on_submit():
        abort(400)

    def refused(exc: ValidationFailed):
        form.body.errors = [*form.body.errors, exc.message]
        return _render_review(load_claim(number), status=422, comment_form=form)

    with invalid_renders(refused):
        add_comment(claim, current_user, form.body.data or "")
    flash(_("Your comment was added."), "success")
    return redirect(url_for("oem.review", number=claim.number) + "#comments")


# -- approving clean claims together ---------------------------------------------------------------


def is_clean(claim: Claim) -> bool:
    """Whether the queue offers the claim for approving with others (touchless-eligible): in
    review, no flag on its current version, and not a pre-authorisation or request (those
    always take an auditor's own decision)."""
    return (
        claim.status is ClaimStatus.IN_REVIEW
        and claim.flag_mask == 0
        and claim.type not in NEVER_AUTO_APPROVED
    )


@bp.route("/review/approve", methods=["POST"])
@role_required(Role.AUDITOR)
@page_action(back=lambda: url_for("oem.review_queue"))
def approve_selected():
    """Approve the ticked clean claims as claimed, all of them or none: first a confirmation
    page with their count and total, then (confirmed, the total unchanged) the approvals."""
    form = BulkApproveForm()
    if not form.validate_on_submit():
        abort(400)
    numbers = selected("number")
    claims = db.session.scalars(
        sa.select(Claim).where(Claim.number.in_(numbers)).order_by(Claim.number)
    ).all()
    if len(claims) != len(numbers) or not all(c.can_view(current_user) for c in claims):
        abort(404)
    refused = [c.number for c in claims if not is_clean(c)]
    if refused:
        raise ValidationFailed(
            _(
                "Nothing was approved: %(numbers)s cannot be approved with others (flagged, "
                "no longer in review, or a request that takes a decision of its own). "
                "Untick it and try again.",
                numbers=", ".join(refused),
            )
        )
    total = sum((c.total_amount for c in claims), Decimal("0"))
    if form.confirmed.data != "yes":
        _load_stations(claims)
        return render_template("oem/approve_confirm.html", claims=claims, total=total, form=form)
    if form.total.data != str(total):
        raise Conflict(
            _(
                "Nothing was approved: the ticked claims changed since you confirmed them "
                "(their total is %(total)s now). Check them again.",
                total=money(total),
            )
        )
    for claim in claims:
        decide_claim(claim.id, current_user, Decision("approve"))
    flash(
        ngettext(
            "%(num)d claim was approved as claimed: %(total)s in total.",
            "%(num)d claims were approved as claimed: %(total)s in total.",
            len(claims),
            total=money(total),
        ),
        "success",
    )
    return redirect(url_for("oem.review_queue"))
