"""Sign in, sign out, and the role home pages."""

from __future__ import annotations

from flask import (
    Blueprint,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from portal.auth.forms import LoginForm
from portal.auth.models import Role, User
from portal.auth.sessions import end_session, start_session, user_for_session
from portal.auth.throttle import SignInThrottled, sign_in
from portal.db import utcnow
from portal.extensions import db, login_manager
from portal.security import local_path
from portal.web import page_action

bp = Blueprint("auth", __name__)

HOME_ENDPOINTS = {
    Role.STATION: "dealer.home",
    Role.AUDITOR: "oem.review_queue",
    Role.FINANCE: "settlement.home",
    Role.SUPPLIER: "settlement.chargebacks",
    Role.ADMIN: "masterdata.index",
}


def home_url_for(user: User) -> str:
    return url_for(HOME_ENDPOINTS[user.role])


@login_manager.user_loader
def load_user(session_token: str) -> User | None:
    """The user of the session cookie's token while its session is open (`portal.auth.sessions`).
    When the session's `last_seen_at` is due, it is committed here only if nothing else had
    started a transaction in this request (otherwise the request's own commit takes it along)."""
    started_here = not db.session().in_transaction()
    user = user_for_session(session_token)
    if started_here and db.session.dirty:
        db.session.commit()
    return user


def _safe_next(target: str | None) -> str | None:
    """Only same-site relative paths are followed after sign-in (no open redirect)."""
    return local_path(target)


@bp.route("/")
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(home_url_for(current_user))


@bp.route("/login", methods=["GET", "POST"])
@page_action
def login():
    if current_user.is_authenticated:
        return redirect(home_url_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = sign_in(form.username.data, form.password.data, request.remote_addr)
        except SignInThrottled as refused:
            flash(refused.message, "danger")
            response = make_response(render_template("auth/login.html", form=form), 429)
            response.headers["Retry-After"] = str(refused.retry_after)
            return response
        if user is not None:
            lang = session.get("lang")
            session.clear()  # no session fixation: nothing from before the sign-in survives
            if lang:
                session["lang"] = lang
            start_session(user, user_agent=request.user_agent.string, address=request.remote_addr)
            login_user(user)
            user.last_login_at = utcnow()
            return redirect(_safe_next(request.args.get("next")) or home_url_for(user))
        # One message for every failure: whether a username exists is not disclosed.
        flash(_("Wrong username or password, or the account is disabled."), "danger")
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@page_action
def logout():
    lang = session.get("lang") or getattr(current_user, "locale", None)
    if current_user.is_authenticated:
        end_session(current_user.session_token)
    logout_user()
    session.clear()
    if lang:  # the language picked on this browser outlives the sign-out, as it does the sign-in
        session["lang"] = lang
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))
