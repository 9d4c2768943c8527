"""Announcement pages (信息发布): the auditors publish, the stations read, the OEM follows who
read what. Suppliers have no business here (403)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from portal import inputs
from portal.announcements import operations as ops
from portal.announcements.forms import AnnouncementForm
from portal.announcements.lists import (
    OEM_ANNOUNCEMENTS,
    READ_COLUMNS,
    RECEIPTS,
    audience_text,
    station_inbox,
)
from portal.announcements.models import Announcement
from portal.auth.models import Role
from portal.auth.permissions import role_required
from portal.claims import attachments
from portal.errors import ValidationFailed
from portal.extensions import db
from portal.lists import EXPORT_LIMIT, escape_like, plain, table_response
from portal.masterdata.models import Station
from portal.today import local_midnight
from portal.web import invalid_renders, load_or_404, page_action

bp = Blueprint("announcements", __name__)

READERS = (Role.STATION, *ops.OEM_VIEWERS)


def load_announcement(announcement_id: int) -> Announcement:
    """The announcement if this user may see it; 404 otherwise (its existence is not leaked)."""
    return load_or_404(
        Announcement, announcement_id, visible=lambda a: ops.can_view(a, current_user)
    )


class Filters:
    """What a reader looks for in an announcement list: words of the title or text, and the
    days it was published (local days, inclusive). A value that does not parse is reported
    (`problems`) and left out, never an error page."""

    def __init__(self, args):
        self.problems: dict[str, str] = {}
        self.q = (args.get("q") or "").strip()[:80]
        self.date_from = inputs.date_arg(args, "from", self.problems)
        self.date_to = inputs.date_arg(args, "to", self.problems)
        self.state = args.get("state", "")
        if self.state not in ("", "read", "unread"):
            self.state = ""

    @property
    def active(self) -> bool:
        return bool(self.q or self.date_from or self.date_to or self.state)

    def apply(self, stmt: sa.Select) -> sa.Select:
        if self.q:
            pattern = f"%{escape_like(self.q)}%"
            stmt = stmt.where(
                sa.or_(
                    Announcement.title.ilike(pattern, escape="\\"),
                    Announcement.body.ilike(pattern, escape="\\"),
                )
            )
        if self.date_from:
            stmt = stmt.where(Announcement.published_at >= local_midnight(self.date_from))
        if self.date_to:
            end = local_midnight(self.date_to + timedelta(days=1))
            stmt = stmt.where(Announcement.published_at < end)
        return stmt

    def messages(self) -> list[str]:
        names = {"from": _("Published from"), "to": _("Published to")}
        return [f"{names[name]}: {problem}" for name, problem in self.problems.items()]


@bp.route("/")
@role_required(*READERS)
def index():
    """The announcements the reader may see, filtered, sortable, paged and exported: a station
    user's inbox (unread first), or the OEM's list with how many stations read each."""
    per_page = current_app.config["PAGE_SIZE"]
    filters = Filters(request.args)
    if current_user.role is Role.STATION:
        return _inbox(filters, per_page)
    shown = OEM_ANNOUNCEMENTS.shown(request.args)
    stmt = shown.order(filters.apply(ops.oem_list()))
    if shown.export_format:
        return _export_oem(stmt, shown.export_format)
    page = db.paginate(stmt, per_page=per_page, error_out=False)
    return render_template(
        "announcements/list.html",
        page=page,
        shown=shown,
        filters=filters,
        stats=ops.read_stats(page.items),
        can_publish=ops.can_publish(current_user),
    )


def _inbox(filters: Filters, per_page: int):
    read_at = ops.read_at_of(current_user)
    listing = station_inbox(read_at)
    shown = listing.shown(request.args)
    stmt = filters.apply(ops.inbox(current_user))
    if filters.state == "read":
        stmt = stmt.where(read_at.is_not(None))
    elif filters.state == "unread":
        stmt = stmt.where(read_at.is_(None))
    stmt = shown.order(stmt)
    if shown.export_format:
        announcements = db.session.scalars(stmt.limit(EXPORT_LIMIT)).all()
        read = ops.read_times(current_user, [a.id for a in announcements])
        columns = listing.exported
        headings = [str(c.label) for c in columns] + [_("Read on")]
        rows = (
            [plain(c.value(a)) for c in columns] + [plain(read.get(a.id))] for a in announcements
        )
        return table_response(shown.export_format, "announcements", headings, rows)
    page = db.paginate(stmt, per_page=per_page, error_out=False)
    read = ops.read_times(current_user, [a.id for a in page.items])
    return render_template(
        "announcements/inbox.html", page=page, read_at=read, shown=shown, filters=filters
    )


def _export_oem(stmt: sa.Select, fmt: str):
    """The listed announcements (every page), with whom each went to and how many read it."""
    announcements = db.session.scalars(stmt.limit(EXPORT_LIMIT)).all()
    stats = ops.read_stats(announcements)
    columns = OEM_ANNOUNCEMENTS.exported
    headings = [str(c.label) for c in columns] + [str(label) for label in READ_COLUMNS]
    rows = (
        [plain(c.value(a)) for c in columns]
        + [audience_text(a, stats[a.id].targeted), stats[a.id].read, stats[a.id].targeted]
        for a in announcements
    )
    return table_response(fmt, "announcements", headings, rows)


@bp.route("/new", methods=["GET", "POST"])
@role_required(*ops.PUBLISHERS)
@page_action
def new():
    form = AnnouncementForm()
    form.regions.choices = [(r, r) for r in ops.regions()]
    form.stations.choices = [
        (s.code, f"{s.code} · {s.name} · {s.region}")
        for s in db.session.scalars(sa.select(Station).order_by(Station.code))
    ]
    if form.validate_on_submit():
        storage = form.attachment.data
        upload = None
        if storage is not None and getattr(storage, "filename", ""):
            # One byte more than allowed is enough to know a file is too large.
            data = storage.read(attachments.MAX_ATTACHMENT_BYTES + 1)
            upload = ops.Upload(storage.filename, data)

        def refused(exc: ValidationFailed):
            for name, problem in exc.fields.items():
                getattr(form, name).errors = [*getattr(form, name).errors, problem]
            flash(exc.message, "danger")
            return render_template("announcements/form.html", form=form), 422

        with invalid_renders(refused):
            announcement = ops.publish(
                current_user,
                title=form.title.data,
                body=form.body.data,
                audience=ops.Audience(form.audience.data),
                region_names=form.regions.data or [],
                station_codes=form.stations.data or [],
                upload=upload,
            )
        flash(_("The announcement was published."), "success")
        return redirect(url_for("announcements.detail", announcement_id=announcement.id))
    status = 422 if form.is_submitted() else 200
    return render_template("announcements/form.html", form=form), status


@bp.route("/<int:announcement_id>")
@role_required(*READERS)
@page_action
def detail(announcement_id: int):
    announcement = load_announcement(announcement_id)
    if current_user.role is Role.STATION:
        receipt = ops.record_read(announcement, current_user)
        return render_template(
            "announcements/read.html", announcement=announcement, receipt=receipt
        )
    every = ops.receipts_by_station(announcement)
    regions = sorted({r.station.region for r in every})
    rows = every
    state = request.args.get("state", "")
    if state == "read":
        rows = [r for r in rows if r.receipts]
    elif state == "unread":
        rows = [r for r in rows if not r.receipts]
    else:
        state = ""
    region = (request.args.get("region") or "").strip()[:80]
    if region:
        rows = [r for r in rows if r.station.region == region]
    shown = RECEIPTS.shown(request.args)
    rows = RECEIPTS.sort_rows(rows, shown.sort)
    if shown.export_format:
        name = f"announcement-{announcement.id}-receipts"
        return RECEIPTS.export_records(rows, shown.export_format, name)
    return render_template(
        "announcements/receipts.html",
        announcement=announcement,
        rows=rows,
        shown=shown,
        state=state,
        region=region,
        regions=regions,
        stats=ops.read_stats([announcement])[announcement.id],
    )


@bp.route("/<int:announcement_id>/attachment")
@role_required(*READERS)
def attachment(announcement_id: int):
    announcement = load_announcement(announcement_id)
    return attachments.send_stored(
        ops.attachment_path(announcement),
        announcement.attachment_content_type or "application/octet-stream",
        announcement.attachment_filename or "attachment",
    )
