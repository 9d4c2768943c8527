"""The station's pages (服务站): its home is its claim list."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Blueprint, current_app, render_template, request
from flask_login import current_user
from sqlalchemy.orm import selectinload

from portal.announcements.operations import unread_for
from portal.auth.models import Role
from portal.auth.permissions import role_required
from portal.campaigns.queries import open_campaign_work
from portal.claims.forms import ClaimFilterForm
from portal.claims.models import APPROVED_STATUSES, Claim, ClaimFlag, ClaimStatus, ClaimType
from portal.extensions import db
from portal.masterdata.models import Station

bp = Blueprint("dealer", __name__)


@bp.route("/")
@role_required(Role.STATION)
def home():
    """The station's claims, newest first, with filters, search and a few counts on top."""
    station = db.session.get(Station, current_user.organisation_id)
    filters = ClaimFilterForm(request.args)
    filters.validate()  # a bad value is shown beside its field and not applied
    stmt = _filtered(sa.select(Claim).where(Claim.station_id == station.id), filters)
    stmt = stmt.options(selectinload(Claim.flags)).order_by(
        Claim.created_at.desc(), Claim.id.desc()
    )
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
        counts=_counts(station),
        unread_announcements=unread_for(current_user, 5),
        campaign_work=open_campaign_work(station.id),
    )


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def _local_midnight_utc(day: date) -> datetime:
    """The start of `day` in the portal's time zone (Asia/Shanghai), for UTC timestamp columns."""
    return datetime.combine(day, time.min, tzinfo=_zone())


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
            stmt = stmt.where(Claim.created_at >= _local_midnight_utc(start))
        if end:
            stmt = stmt.where(Claim.created_at < _local_midnight_utc(end + timedelta(days=1)))
    else:
        if start:
            stmt = stmt.where(Claim.repair_date >= start)
        if end:
            stmt = stmt.where(Claim.repair_date <= end)
    q = (f.q.data or "").strip().upper()
    if q:
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            sa.or_(
                sa.func.upper(Claim.number).like(like, escape="\\"),
                sa.func.upper(Claim.vin).like(like, escape="\\"),
            )
        )
    return stmt


def _counts(station: Station) -> dict[str, int]:
    by_status = dict(
        db.session.execute(
            sa.select(Claim.status, sa.func.count(Claim.id))
            .where(Claim.station_id == station.id)
            .group_by(Claim.status)
        ).all()
    )
    month_start = _local_midnight_utc(datetime.now(_zone()).date().replace(day=1))
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
