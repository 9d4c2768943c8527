"""The claim a station sends (API JSON or the form), declared once: `ClaimCreate` validates it,
types it and describes it in the API's OpenAPI document.

Validation refuses only what is malformed (an unknown type, a date that is not a date, a
negative quantity); a draft may be incomplete, and the business checks run on submit (rules.py).
"""

from __future__ import annotations

from typing import Annotated, Any

from flask_babel import lazy_gettext as _l
from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from portal import fields as f
from portal.claims.models import ClaimType, LineKind
from portal.errors import Malformed

# Kinds a station may send; trip lines come from the roadside fields, package lines from the model.
SENDABLE_KINDS = (LineKind.PART, LineKind.LABOR, LineKind.OTHER, LineKind.TRIP)
MAX_LINES = 200

__all__ = ["MAX_LINES", "SENDABLE_KINDS", "ClaimCreate", "ClaimUpdate", "Malformed", "parse_claim"]


class ClaimLineInput(BaseModel):
    """A line as the station sends it."""

    model_config = ConfigDict(extra="ignore")

    kind: f.choice(LineKind, SENDABLE_KINDS)
    part_number: f.text(40) = ""
    qty: f.whole(1, description="parts: quantity (default 1); trip: round-trip km") = None
    operation_code: f.text(32, upper=True) = ""
    hours: f.amount() = None
    amount: f.amount(description="other lines: the amount (toll, invoice)") = None
    description: f.text(1000) = ""


class ClaimCreate(BaseModel):
    """A claim as the station sends it; only `type` is required of a draft."""

    model_config = ConfigDict(extra="ignore")

    type: f.choice(ClaimType)
    vin: f.text(17, upper=True) = ""
    odometer_km: f.whole(0) = None
    repair_date: f.day() = None
    fault_date: f.day() = None
    fault_code: f.text(32, upper=True) = ""
    causal_part: f.text(40, description="the causal part's number") = ""
    complaint: f.text(
        validation_alias=AliasChoices("description", "complaint"),
        description="the customer's complaint",
    ) = ""
    cause: f.text() = ""
    correction: f.text() = ""
    goodwill_reason: f.text(
        description="lets a claim outside coverage be submitted (flagged outside_coverage)"
    ) = ""
    outsourced_request: f.text(
        40, description="the approved outsourced-purchase request the invoice draws on"
    ) = ""
    fulfilment: Annotated[
        f.words("regular", "drop_ship", ""),
        BeforeValidator(lambda v: "" if v is None else v),
        Field(description="emergency part: regular shipment (应发货) or drop-shipment (代发货)"),
    ] = ""
    shipper_code: f.text(32, description="drop-shipment: the shipping station or supplier") = ""
    campaign: f.text(
        32,
        description="campaign claim: the code of the open campaign whose work it is; without "
        "lines, the campaign's package fills them",
    ) = ""
    lines: f.items(ClaimLineInput, MAX_LINES) = []


class ClaimUpdate(ClaimCreate):
    """A PATCH of a draft: the whole content again; the type may be left out (it cannot change),
    and `revision` names the revision changed when no If-Match header does."""

    type: f.choice(ClaimType) | None = None
    revision: f.whole(1, description="the claim's revision as last read (or send If-Match)") = None


ClaimInput = ClaimCreate


def parse_claim(data: Any, model: type[ClaimCreate] = ClaimCreate) -> ClaimCreate:
    """A claim from a JSON-like dict; raises `Malformed` naming every malformed field."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        fields = f.field_errors(error)
        if "" in fields:
            raise Malformed(str(_l("The body must be a JSON object."))) from None
        raise Malformed(str(_l("The claim is malformed.")), fields) from None
