"""Administration of users: list, create, disable / enable, reset passwords."""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from portal.admin import settings  # noqa: F401  (the rules pages: views of this blueprint too)
from portal.admin.blueprint import bp
from portal.admin.forms import ROLE_LABELS, ResetPasswordForm, UserForm
from portal.admin.lists import USERS
from portal.auth import operations
from portal.auth.models import Role, User
from portal.auth.permissions import role_required
from portal.errors import ValidationFailed
from portal.extensions import db
from portal.lists import escape_like
from portal.masterdata.models import Organisation
from portal.web import invalid_renders, load_or_404, page_action


def _place_on(form, exc: ValidationFailed) -> None:
    for name, problem in exc.fields.items():
        getattr(form, name).errors.append(problem)


@bp.route("/users")
@role_required(Role.ADMIN)
def users():
    """Every account, by username unless another column is chosen, filtered by a text search,
    role, organisation and status, paged, and exported as the page shows it."""
    q = request.args.get("q", "").strip()[:100]
    role = request.args.get("role", "")
    org = request.args.get("org", "").strip()
    active = request.args.get("active", "")
    stmt = sa.select(User)
    if q:
        like = f"%{escape_like(q.lower())}%"
        stmt = stmt.where(
            sa.or_(
                sa.func.lower(User.username).like(like, escape="\\"),
                sa.func.lower(User.full_name).like(like, escape="\\"),
                sa.func.lower(sa.func.coalesce(User.email, "")).like(like, escape="\\"),
                User.organisation_id.in_(
                    sa.select(Organisation.id).where(
                        sa.or_(
                            sa.func.lower(Organisation.code).like(like, escape="\\"),
                            sa.func.lower(Organisation.name).like(like, escape="\\"),
                        )
                    )
                ),
            )
        )
    if role in {r.value for r in Role}:
        stmt = stmt.where(User.role == Role(role))
    else:
        role = ""
    orgs = db.session.execute(
        sa.select(Organisation.code, Organisation.name).order_by(Organisation.code)
    ).all()
    if org in {code for code, _name in orgs}:
        stmt = stmt.where(
            User.organisation_id.in_(sa.select(Organisation.id).where(Organisation.code == org))
        )
    else:
        org = ""
    if active in ("yes", "no"):
        stmt = stmt.where(User.active.is_(active == "yes"))
    else:
        active = ""
    shown = USERS.shown(request.args)
    stmt = shown.order(stmt).options(selectinload(User.organisation))
    if shown.export_format:
        return USERS.export(stmt, shown.export_format, "users")
    page = db.paginate(stmt, per_page=25, error_out=False)
    return render_template(
        "admin/users.html",
        page=page,
        q=q,
        role=role,
        org=org,
        orgs=orgs,
        active=active,
        shown=shown,
        filtered=bool(q or role or org or active),
        role_labels=ROLE_LABELS,
    )


@bp.route("/users/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
@page_action
def user_new():
    form = UserForm()
    if form.validate_on_submit():

        def refused(exc: ValidationFailed):
            _place_on(form, exc)
            flash(exc.message, "danger")
            return render_template("admin/user_form.html", form=form)

        with invalid_renders(refused):
            user = operations.create_user(
                form.username.data,
                form.role.data,
                form.org.data,
                form.password.data,
                full_name=form.full_name.data or "",
                email=form.email.data or None,
                acting=current_user,
            )
        flash(_("User %(name)s created.", name=user.username), "success")
        return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form)


def _users_page(**_view_args) -> str:
    """Back to the list the button was on (with its search), else the user list."""
    if request.referrer and request.referrer.startswith(request.host_url):
        return request.referrer
    return url_for("admin.users")


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@role_required(Role.ADMIN)
@page_action(back=_users_page, category="danger")
def user_set_active(user_id: int):
    user = load_or_404(User, user_id)
    active = request.form.get("active") == "1"
    operations.set_active(user, active, acting=current_user)
    if active:
        flash(_("%(name)s can sign in again.", name=user.username), "success")
    else:
        flash(_("%(name)s is disabled and can no longer sign in.", name=user.username), "success")
    return redirect(_users_page())


@bp.route("/users/<int:user_id>/password", methods=["GET", "POST"])
@role_required(Role.ADMIN)
@page_action
def user_password(user_id: int):
    user = load_or_404(User, user_id)
    form = ResetPasswordForm()
    if form.validate_on_submit():

        def refused(exc: ValidationFailed):
            form.password.errors.append(exc.message)
            return render_template("admin/password_form.html", form=form, user=user)

        with invalid_renders(refused):
            operations.reset_password(user, form.password.data, acting=current_user)
        flash(
            _(
                "The password of %(name)s was reset; their other sessions are signed out.",
                name=user.username,
            ),
            "success",
        )
        return redirect(url_for("admin.users"))
    return render_template("admin/password_form.html", form=form, user=user)
