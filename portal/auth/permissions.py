"""Coarse role gates. Object-level checks live on the models (`claim.can_view(user)`)."""

from __future__ import annotations

from functools import wraps

from flask import abort, request
from flask_login import current_user, login_required

from portal.auth.models import Role


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def role_required(*roles: Role):
    """Signed-in users of one of `roles` may pass; others get 403 (JSON for API clients)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
