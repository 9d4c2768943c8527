"""Bearer authentication, the role gate, and `POST /auth/token`."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import jsonify, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.api.blueprint import ApiError, bp, forbidden, unauthorized
from portal.api.tokens import issue_token, user_for_token
from portal.auth.models import Role, User
from portal.auth.throttle import SignInThrottled, sign_in
from portal.claims.payload import Malformed
from portal.extensions import db
from portal.web import commit


def json_body() -> dict:
    """The request's JSON object; a body that is not one is malformed (400)."""
    data = request.get_json(force=True, silent=True)
    if not isinstance(data, dict):
        raise Malformed(str(_l("The body must be a JSON object.")))
    return data


def bearer_user() -> User:
    """The user of the request's bearer token; 401 when it is missing, unknown or expired."""
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise unauthorized()
    user = user_for_token(token)
    if user is None:
        raise unauthorized(
            _("The token is unknown or expired, or the account is disabled."), invalid_token=True
        )
    return user


def api_view(*roles: Role) -> Callable:
    """Authenticate the bearer, let only `roles` pass (403 JSON), run the view with the user,
    then commit once (the jobs the operations asked for start then; an `after_commit` answer is
    made after them). A failure rolls everything back."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            user = bearer_user()
            if roles and not user.has_role(*roles):
                raise forbidden()
            try:
                response = view(user, *args, **kwargs)
            except BaseException:
                db.session.rollback()
                raise
            return commit(response)

        return wrapped

    return decorator


@bp.route("/auth/token", methods=["POST"])
def create_token():
    data = json_body()
    fields = {}
    for name in ("username", "password"):
        if not isinstance(data.get(name), str) or not data[name].strip():
            fields[name] = str(_l("is required"))
    if fields:
        raise Malformed(str(_l("Give a username and a password.")), fields)
    try:
        user = sign_in(data["username"], data["password"], request.remote_addr)
    except SignInThrottled as refused:
        raise ApiError(
            429,
            "rate_limited",
            refused.message,
            headers={"Retry-After": str(refused.retry_after)},
        ) from None
    if user is None:
        # One message for every failure: whether a username exists is not disclosed.
        raise unauthorized(_("Wrong username or password, or the account is disabled."))
    token, record = issue_token(user)
    body = {"token": token, "expires_at": record.expires_at.isoformat()}
    db.session.commit()
    return jsonify(body)
