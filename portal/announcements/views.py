"""Announcement pages (信息发布): the auditors publish, the stations read, the OEM follows who
read what. Suppliers have no business here (403)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from portal.announcements import operations as ops
from portal.announcements.forms import AnnouncementForm
from portal.announcements.models import Announcement
from portal.auth.models import Role
from portal.auth.permissions import role_required
from portal.claims import attachments
from portal.errors import ValidationFailed
from portal.extensions import db
from portal.masterdata.models import Station
from portal.web import invalid_renders, load_or_404, page_action

bp = Blueprint("announcements", __name__)

READERS = (Role.STATION, *ops.OEM_VIEWERS)


def load_announcement(announcement_id: int) -> Announcement:
    """The announcement if this user may see it; 404 otherwise (its existence is not leaked)."""
    return load_or_404(
        Announcement, announcement_id, visible=lambda a: ops.can_view(a, current_user)
    )


@bp.route("/")
@role_required(*READERS)
def index():
    per_page = current_app.config["PAGE_SIZE"]
    if current_user.role is Role.STATION:
        page = db.paginate(ops.inbox(current_user), per_page=per_page, error_out=False)
        read_at = ops.read_times(current_user, [a.id for a in page.items])
        return render_template("announcements/inbox.html", page=page, read_at=read_at)
    page = db.paginate(ops.oem_list(), per_page=per_page, error_out=False)
    return render_template(
        "announcements/list.html",
        page=page,
        stats=ops.read_stats(page.items),
        can_publish=ops.can_publish(current_user),
    )


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
    rows = ops.receipts_by_station(announcement)
    return render_template(
        "announcements/receipts.html",
        announcement=announcement,
        rows=rows,
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
