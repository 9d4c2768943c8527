"""The JSON API (DESIGN 8) under `/api/v1`: bearer tokens, JSON errors, claims and vehicles.

Every view is load -> authorize -> act -> commit once (`portal.api.auth.api_view`); domain
errors raised by the operations become `{"error": {"code", "message", "fields"}}` answers.
"""

from __future__ import annotations

from portal.api import auth, claims, openapi, vehicles  # noqa: F401  (they register routes)
from portal.api.blueprint import bp

__all__ = ["bp"]
