"""The JSON API (DESIGN 8) under `/api/v1`: bearer tokens, JSON errors, claims, decisions,
emergency part fulfilment, old parts, vehicles and settlement (runs, statements, chargebacks).

Every view is load -> authorize -> act -> commit once (`portal.api.auth.api_view`) and declares
what it accepts and answers (`portal.api.spec.declare`, models in `portal.api.schemas`); domain
errors raised by the operations become `{"error": {"code", "message", "fields"}}` answers.
"""

from __future__ import annotations

from portal.api import (  # noqa: F401  (they register routes)
    analysis,
    auditlog,
    auth,
    campaigns,
    claims,
    decisions,
    fulfilment,
    oldparts,
    settlement,
    spec,
    vehicles,
)
from portal.api.blueprint import bp

__all__ = ["bp"]
