"""The station's pages (服务站): its home is its claim list."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy.orm import selectinload

from portal.announcements.operations import unread_for
from portal.auth.models import Role
from portal.auth.permissions import role_required
from portal.campaigns.queries import open_campaign_work
from portal.claims.forms import ClaimActionForm, ClaimFilterForm
from portal.claims.lists import STATION_CLAIMS
from portal.claims.models import APPROVED_STATUSES, Claim, ClaimFlag, ClaimStatus, ClaimType
from portal.claims.operations import RuleRefused, submit_claim
from portal.errors import Conflict, DomainError, ValidationFailed
from portal.extensions import db
from portal.lists import contains, selected
from portal.masterdata.models import Station
from portal.today import local_midnight, local_today
from portal.web import page_action

bp = Blueprint("dealer", __name__)


@bp.route("/")
@role_required(Role.STATION)
def home():
    """The station's claims, newest first, with filters, search and a few counts on top."""
    station = db.session.get(Station, current_user.organisation_id)
    filters = ClaimFilterForm(request.args)
    filters.validate()  # a bad value is shown beside its field and not applied
    stmt = _filtered(sa.select(Claim).where(Claim.station_id == station.id), filters)
    shown = STATION_CLAIMS.shown(request.args)
    stmt = shown.order(stmt)
    if shown.export_format:
        return STATION_CLAIMS.export(stmt, shown.export_format, "claims")
    stmt = stmt.options(selectinload(Claim.flags))
    page = db.paginate(stmt, per_page=current_app.config["PAGE_SIZE"], error_out=False)
    filtered = any(
        f.data
        for f in (
            filters.type,
            filters.status,
            filters.flagged,
            filters.date_from,
            filters.date_to,
            filters.q,
        )
    )
    return render_template(
        "dealer/home.html",
        station=station,
        page=page,
        filters=filters,
        filtered=filtered,
        shown=shown,
        submit_form=ClaimActionForm(formdata=None),
        counts=_counts(station),
        unread_announcements=unread_for(current_user, 5),
        campaign_work=open_campaign_work(station.id),
    )


def _filtered(stmt: sa.Select, f: ClaimFilterForm) -> sa.Select:
    if f.type.data and not f.type.errors:
        stmt = stmt.where(Claim.type == ClaimType(f.type.data))
    if f.status.data and not f.status.errors:
        stmt = stmt.where(Claim.status == ClaimStatus(f.status.data))
    if f.flagged.data in ("yes", "no") and not f.flagged.errors:
        current_flag = (
            sa.select(ClaimFlag.id)
            .where(ClaimFlag.claim_id == Claim.id, ClaimFlag.version == Claim.version)
            .exists()
        )
        stmt = stmt.where(current_flag if f.flagged.data == "yes" else ~current_flag)
    start = f.date_from.data if not f.date_from.errors else None
    end = f.date_to.data if not f.date_to.errors else None
    if f.date_field.data == "created":
        if start:
            stmt = stmt.where(Claim.created_at >= local_midnight(start))
        if end:
            stmt = stmt.where(Claim.created_at < local_midnight(end + timedelta(days=1)))
    else:
        if start:
            stmt = stmt.where(Claim.repair_date >= start)
        if end:
            stmt = stmt.where(Claim.repair_date <= end)
    q = (f.q.data or "").strip().upper()
    if q:
        stmt = stmt.where(contains(q, Claim.number, Claim.vin))
    return stmt


def _counts(station: Station) -> dict[str, int]:
    by_status = dict(
        db.session.execute(
            sa.select(Claim.status, sa.func.count(Claim.id))
            .where(Claim.station_id == station.id)
            .group_by(Claim.status)
        ).all()
    )
    month_start = local_midnight(local_today().replace(day=1))
    approved_this_month = db.session.scalar(
        sa.select(sa.func.count(Claim.id)).where(
            Claim.station_id == station.id,
            Claim.status.in_(APPROVED_STATUSES),
            Claim.decided_at >= month_start,
        )
    )
    return {
        "drafts": by_status.get(ClaimStatus.DRAFT, 0),
        "in_review": by_status.get(ClaimStatus.SUBMITTED, 0)
        + by_status.get(ClaimStatus.IN_REVIEW, 0),
        "returned": by_status.get(ClaimStatus.RETURNED, 0),
        "approved_this_month": approved_this_month or 0,
    }


@bp.route("/submit", methods=["POST"])
@role_required(Role.STATION)
@page_action(back=lambda: url_for("dealer.home", status="draft"))
def submit_selected():
    """Submit the ticked drafts together: all of them, or (one of them refused) none."""
    if not ClaimActionForm().validate_on_submit():
        abort(400)
    numbers = selected("number")
    claims = db.session.scalars(
        sa.select(Claim)
        .where(Claim.number.in_(numbers), Claim.station_id == current_user.organisation_id)
        .order_by(Claim.number)
    ).all()
    if len(claims) != len(numbers):  # another station's claim, or no such claim
        abort(404)
    for claim in claims:
        if claim.status is not ClaimStatus.DRAFT:
            raise Conflict(
                _(
                    "Nothing was submitted: claim %(number)s is no longer a draft.",
                    number=claim.number,
                )
            )
        try:
            submit_claim(claim, current_user)
        except RuleRefused as refused:
            reasons = "; ".join(f.message for f in refused.findings)
            raise ValidationFailed(
                _(
                    "Nothing was submitted: claim %(number)s was refused (%(reasons)s). "
                    "Correct it or untick it, then submit again.",
                    number=claim.number,
                    reasons=reasons,
                )
            ) from None
        except DomainError as refused:
            raise type(refused)(
                _(
                    "Nothing was submitted: claim %(number)s: %(problem)s",
                    number=claim.number,
                    problem=refused.message,
                )
            ) from None
    approved = sum(1 for c in claims if c.status in APPROVED_STATUSES)
    flash(
        ngettext(
            "%(num)d claim was submitted: %(approved)d approved automatically, "
            "%(waiting)d wait for an auditor.",
            "%(num)d claims were submitted: %(approved)d approved automatically, "
            "%(waiting)d wait for an auditor.",
            len(claims),
            approved=approved,
            waiting=len(claims) - approved,
        ),
        "success",
    )
    return redirect(url_for("dealer.home"))
