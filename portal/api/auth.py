"""Bearer authentication, the role gate, and `POST /auth/token`."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import request
from flask_babel import gettext as _

from portal.api.blueprint import ApiError, bp, forbidden, unauthorized
from portal.api.schemas import Token, TokenRequest
from portal.api.spec import declare
from portal.api.tokens import issue_token, user_for_token
from portal.auth.models import Role, User
from portal.auth.throttle import SignInThrottled, sign_in
from portal.extensions import db
from portal.web import commit


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

        wrapped.roles = roles
        return wrapped

    return decorator


@bp.route("/auth/token", methods=["POST"])
@declare(body=TokenRequest, answer=Token, open=True, errors=(401, 429), tag="auth")
def create_token(body: TokenRequest):
    """Exchange a username and password for a bearer token.

    The token is shown once; it expires after 30 days (configurable). Rate-limited like the
    sign-in page.
    """
    try:
        user = sign_in(body.username, body.password, request.remote_addr)
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
    answer = Token(token=token, expires_at=record.expires_at)
    db.session.commit()
    return answer
