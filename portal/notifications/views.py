"""The user's notifications page, and the count behind the bell in every page's header."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Blueprint, current_app, g, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import SQLAlchemyError

from portal.extensions import db
from portal.notifications import operations as ops
from portal.notifications.lists import NOTIFICATIONS
from portal.notifications.models import Notification
from portal.web import load_or_404, page_action

bp = Blueprint("notifications", __name__)
log = logging.getLogger(__name__)


def load_notification(notification_id: int) -> Notification:
    """The user's own notification; anyone else's is 404."""
    return load_or_404(
        Notification, notification_id, visible=lambda n: n.user_id == current_user.id
    )


def _back_to_list():
    page = request.form.get("page", type=int)
    return redirect(url_for("notifications.index", page=page if page and page > 1 else None))


@bp.route("/")
@login_required
def index():
    shown = NOTIFICATIONS.shown(request.args)
    stmt = shown.order(sa.select(Notification).where(Notification.user_id == current_user.id))
    if shown.export_format:
        return NOTIFICATIONS.export(stmt, shown.export_format, "notifications")
    page = db.paginate(stmt, per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template(
        "notifications/index.html", page=page, shown=shown, local_path=ops.local_path
    )


@bp.route("/<int:notification_id>/open", methods=["POST"])
@login_required
@page_action
def open_(notification_id: int):
    """Mark the notification read and go to what it is about (a path on this site only)."""
    notification = load_notification(notification_id)
    ops.mark_read(notification)
    target = ops.local_path(notification.link)
    return redirect(target) if target else _back_to_list()


@bp.route("/<int:notification_id>/read", methods=["POST"])
@login_required
@page_action
def mark_read(notification_id: int):
    ops.mark_read(load_notification(notification_id))
    return _back_to_list()


@bp.route("/read-all", methods=["POST"])
@login_required
@page_action
def mark_all_read():
    ops.mark_all_read(current_user)
    return _back_to_list()


@bp.app_context_processor
def bell():
    """`unread_notifications()` in every template: the signed-in user's unread count, counted
    once per request and only when a page asks (the header's bell does)."""

    def unread_notifications() -> int | None:
        if not current_user.is_authenticated:
            return None
        if "unread_notifications" not in g:
            try:
                g.unread_notifications = ops.unread_count(current_user)
            except SQLAlchemyError:
                # An error page after a failed transaction still renders, without the count.
                log.warning("could not count the unread notifications", exc_info=True)
                g.unread_notifications = None
        return g.unread_notifications

    return {"unread_notifications": unread_notifications}
