"""Domain errors raised by operations; views turn them into messages, 404s, 409s and 422s."""

from __future__ import annotations


class DomainError(Exception):
    """A rule refused the action. `fields` maps a field name to what is wrong with it."""

    code = "rule_refused"
    status = 422

    def __init__(self, message: str, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class Malformed(DomainError):
    """The request itself is malformed (HTTP 400), as opposed to refused by a rule (422)."""

    code = "malformed"
    status = 400


class ValidationFailed(DomainError):
    code = "invalid"
    status = 422


class Forbidden(DomainError):
    """The user may not do this to this record (a role may, this user may not)."""

    code = "forbidden"
    status = 403


class Conflict(DomainError):
    code = "conflict"
    status = 409


class NotFound(DomainError):
    code = "not_found"
    status = 404
