"""The claim a station sends (API JSON or the form), parsed into typed values.

Parsing refuses only what is malformed (an unknown type, a date that is not a date, a negative
quantity); a draft may be incomplete, and the business checks run on submit (rules.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l

from portal.claims.models import ClaimType, LineKind
from portal.errors import DomainError
from portal.inputs import MAX_ID, MAX_INTEGER_DIGITS, parse_date

# Kinds a station may send; trip lines come from the roadside fields, package lines from the model.
SENDABLE_KINDS = (LineKind.PART, LineKind.LABOR, LineKind.OTHER, LineKind.TRIP)
MAX_LINES = 200


class Malformed(DomainError):
    """The request itself is malformed (HTTP 400), as opposed to refused by a rule (422)."""

    code = "malformed"
    status = 400


@dataclass
class LineInput:
    kind: LineKind
    part_number: str = ""
    qty: int | None = None
    operation_code: str = ""
    hours: Decimal | None = None
    amount: Decimal | None = None
    description: str = ""


@dataclass
class ClaimInput:
    type: ClaimType
    vin: str = ""
    odometer_km: int | None = None
    repair_date: date | None = None
    fault_date: date | None = None
    fault_code: str = ""
    causal_part: str = ""
    complaint: str = ""
    cause: str = ""
    correction: str = ""
    goodwill_reason: str = ""
    outsourced_request: str = ""
    fulfilment: str = ""
    shipper_code: str = ""
    campaign: str = ""  # a campaign claim's campaign code
    lines: list[LineInput] = field(default_factory=list)


class _Parser:
    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def text(self, data: dict, key: str, max_len: int = 4000, prefix: str = "") -> str:
        value = data.get(key)
        if value is None:
            return ""
        if not isinstance(value, str):
            self.errors[prefix + key] = str(_l("must be text"))
            return ""
        value = value.strip()
        if len(value) > max_len:
            self.errors[prefix + key] = str(_l("at most %(n)d characters", n=max_len))
        return value

    def integer(
        self, data: dict, key: str, minimum: int = 0, prefix: str = "", maximum: int = MAX_ID
    ) -> int | None:
        value = data.get(key)
        if value is None or value == "":
            return None
        try:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            if isinstance(value, str) and not value.strip().isascii():
                raise ValueError  # "１２" or "٣": digits, but not the ones a number is written in
            number = int(Decimal(str(value)))
            if Decimal(str(value)) != number:
                raise ValueError
        except (ValueError, InvalidOperation):
            self.errors[prefix + key] = str(_l("must be a whole number"))
            return None
        if number < minimum:
            self.errors[prefix + key] = str(_l("must be at least %(n)d", n=minimum))
            return None
        if number > maximum:
            self.errors[prefix + key] = str(_l("must be at most %(n)d", n=maximum))
            return None
        return number

    def decimal(self, data: dict, key: str, places: int = 2, prefix: str = "") -> Decimal | None:
        value = data.get(key)
        if value is None or value == "":
            return None
        try:
            if isinstance(value, bool) or (isinstance(value, str) and not value.isascii()):
                raise InvalidOperation
            number = Decimal(str(value))
            if not number.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            self.errors[prefix + key] = str(_l("must be a number"))
            return None
        if number < 0:
            self.errors[prefix + key] = str(_l("must not be negative"))
            return None
        if number.adjusted() >= MAX_INTEGER_DIGITS:
            self.errors[prefix + key] = str(
                _l("at most %(n)d digits before the point", n=MAX_INTEGER_DIGITS)
            )
            return None
        if number != number.quantize(Decimal(1).scaleb(-places)):
            self.errors[prefix + key] = str(_l("at most %(n)d decimal places", n=places))
            return None
        return number

    def day(self, data: dict, key: str) -> date | None:
        value = data.get(key)
        if value is None or value == "":
            return None
        try:
            return parse_date(str(value))
        except ValueError:
            self.errors[key] = str(_l("must be a date as YYYY-MM-DD"))
            return None


def parse_claim(data: Any, *, type_required: bool = True) -> ClaimInput:
    """A `ClaimInput` from a JSON-like dict; raises `Malformed` naming every bad field."""
    if not isinstance(data, dict):
        raise Malformed(str(_l("The body must be a JSON object.")))
    p = _Parser()
    raw_type = data.get("type")
    claim_type = ClaimType.REPAIR
    try:
        claim_type = ClaimType(raw_type)
    except ValueError:
        if type_required or raw_type is not None:
            p.errors["type"] = str(
                _l(
                    "unknown claim type; one of: %(types)s",
                    types=", ".join(t.value for t in ClaimType),
                )
            )
    vin = p.text(data, "vin", 17).upper()
    result = ClaimInput(
        type=claim_type,
        vin=vin,
        odometer_km=p.integer(data, "odometer_km"),
        repair_date=p.day(data, "repair_date"),
        fault_date=p.day(data, "fault_date"),
        fault_code=p.text(data, "fault_code", 32).upper(),
        causal_part=p.text(data, "causal_part", 40),
        complaint=p.text(data, "description") or p.text(data, "complaint"),
        cause=p.text(data, "cause"),
        correction=p.text(data, "correction"),
        goodwill_reason=p.text(data, "goodwill_reason"),
        outsourced_request=p.text(data, "outsourced_request", 40),
        fulfilment=p.text(data, "fulfilment", 16),
        shipper_code=p.text(data, "shipper_code", 32),
        campaign=p.text(data, "campaign", 32),
    )
    if result.fulfilment and result.fulfilment not in ("regular", "drop_ship"):
        p.errors["fulfilment"] = str(_l("must be regular or drop_ship"))
    lines = data.get("lines") or []
    if not isinstance(lines, list):
        p.errors["lines"] = str(_l("must be a list"))
        lines = []
    if len(lines) > MAX_LINES:
        p.errors["lines"] = str(_l("at most %(n)d lines", n=MAX_LINES))
        lines = []
    for index, raw in enumerate(lines):
        prefix = f"lines[{index}]."
        if not isinstance(raw, dict):
            p.errors[f"lines[{index}]"] = str(_l("must be an object"))
            continue
        try:
            kind = LineKind(raw.get("kind"))
            if kind not in SENDABLE_KINDS:
                raise ValueError
        except ValueError:
            p.errors[prefix + "kind"] = str(_l("must be part, labor, other or trip"))
            continue
        result.lines.append(
            LineInput(
                kind=kind,
                part_number=p.text(raw, "part_number", 40, prefix),
                qty=p.integer(raw, "qty", 1, prefix),
                operation_code=p.text(raw, "operation_code", 32, prefix).upper(),
                hours=p.decimal(raw, "hours", 2, prefix),
                amount=p.decimal(raw, "amount", 2, prefix),
                description=p.text(raw, "description", 1000, prefix),
            )
        )
    if p.errors:
        raise Malformed(str(_l("The claim is malformed.")), p.errors)
    return result
