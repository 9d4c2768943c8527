"""The API blueprint and its error answers: `{"error": {"code", "message", "fields"}}`."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _
from werkzeug.routing import IntegerConverter

from portal.errors import DomainError
from portal.extensions import db
from portal.fields import MAX_INT

bp = Blueprint("api", __name__)
API_PREFIX = "/api/"  # where the blueprint is mounted (/api/v1), unknown paths under it included

# RFC 6750: a 401 names the scheme the client should use.
BEARER_CHALLENGE = 'Bearer realm="api"'
INVALID_TOKEN_CHALLENGE = 'Bearer realm="api", error="invalid_token"'  # noqa: S105


class IdConverter(IntegerConverter):
    """`<id:name>`: a record id in ASCII digits, 1 to 2**31-1; anything else is no such record
    (404), like "٣" or a number larger than the id columns."""

    regex = r"[0-9]+"

    def __init__(self, url_map, *args, **kwargs):
        super().__init__(url_map, min=1, max=MAX_INT)


@bp.record_once
def _id_converter(state) -> None:
    state.app.url_map.converters.setdefault("id", IdConverter)


class ApiError(Exception):
    """An answer other than success that no domain operation raised (401, 403, 404, 400...)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        fields: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or {}
        self.headers = headers or {}


def error_response(
    status: int,
    code: str,
    message: str,
    fields: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
):
    body = {"error": {"code": code, "message": str(message), "fields": dict(fields or {})}}
    response = jsonify(body)
    response.status_code = status
    response.headers.update(headers or {})
    return response


def unauthorized(message: str | None = None, *, invalid_token: bool = False) -> ApiError:
    return ApiError(
        401,
        "unauthorized",
        message or _("A valid bearer token is required."),
        headers={
            "WWW-Authenticate": INVALID_TOKEN_CHALLENGE if invalid_token else BEARER_CHALLENGE
        },
    )


def forbidden() -> ApiError:
    return ApiError(403, "forbidden", _("Your role may not do this."))


def not_found(message: str | None = None) -> ApiError:
    return ApiError(
        404, "not_found", message or _("There is no such record, or it is not yours to see.")
    )


@bp.errorhandler(ApiError)
def _api_error(e: ApiError):
    return error_response(e.status, e.code, e.message, e.fields, e.headers)


@bp.errorhandler(DomainError)
def _domain_error(e: DomainError):
    """A refused operation: nothing it did is kept, and the answer names every field."""
    db.session.rollback()
    return error_response(e.status, e.code, e.message, _fields_of(e))


def _fields_of(e: DomainError) -> dict[str, str]:
    findings = getattr(e, "findings", None)
    if not findings:
        return e.fields
    # A submit refusal: every finding, several on one field joined, each named by its rule.
    fields: dict[str, list[str]] = {}
    for finding in findings:
        fields.setdefault(finding.field or finding.rule, []).append(
            f"{finding.rule}: {finding.message}"
        )
    return {name: "; ".join(messages) for name, messages in fields.items()}


@bp.after_app_request
def _not_stored(response):
    """No answer under /api/v1 is kept by a browser or a proxy, success or error: claims carry
    owners' data and money (pages get the same from `portal.security`)."""
    if request.blueprint == bp.name or request.path.startswith(API_PREFIX):
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    return response
