"""The auditor's decision (审核) on a claim under review: line by line, with reason codes for
cuts, the responsible supplier (责任单位判定), or a return to the station (退单).

Two auditors deciding the same claim at once: the claim row is locked (SELECT ... FOR UPDATE)
before its state is checked, so the second waits, then finds it decided and gets a Conflict.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from pydantic import ConfigDict, Field, TypeAdapter, ValidationError
from pydantic.dataclasses import dataclass

from portal import fields as f
from portal.auditlog.operations import AuditKind, record
from portal.auth.models import Role, User
from portal.claims import preauth, pricing
from portal.claims.models import Claim, ClaimStatus, ClaimType, LineKind, ReasonCode
from portal.claims.operations import (
    _set_validity,
    _transition,
    audit_decision,
    default_supplier,
    lock_claim,
    return_claim,
)
from portal.claims.payload import MAX_LINES, Malformed
from portal.claims.signals import claim_approved
from portal.db import utcnow
from portal.errors import Conflict, DomainError, ValidationFailed
from portal.extensions import db
from portal.labels import in_sentence
from portal.masterdata.models import Supplier
from portal.messages import define, money
from portal.money import round_money
from portal.notifications.operations import notify_organisation

ACTIONS = ("approve", "reject", "return")

RETURNED = define("claim.returned", _l("Claim %(number)s was returned: %(reason)s"))
DECIDED = define(
    "claim.decided",
    _l("Claim %(number)s was decided: %(status)s, approved %(amount)s."),
    status="word:claim_status",
    amount="money",
)
RESPONSIBLE_SUPPLIER = define(
    "claim.responsible_supplier", _l("Responsible supplier: %(supplier)s.")
)
# Pre-authorisations: approving them pays nothing, so an approval may carry no amount.
PRE_AUTHORISATIONS = frozenset(
    {ClaimType.APPRAISAL, ClaimType.OUTSOURCED_PURCHASE, ClaimType.EMERGENCY_PART}
)


_DECLARED = ConfigDict(validate_by_name=True, validate_by_alias=True, extra="ignore")


@dataclass(config=_DECLARED)
class DecisionLine:
    """What the auditor decides for one line; a value left out is approved as claimed."""

    id: f.whole(1, required=True, description="the claim line's id")
    approved_qty: f.whole(0) = None
    approved_hours: f.amount() = None
    approved_amount: f.amount() = None
    reason: f.text(
        40, description="a reason code (GET /reason-codes), required where a value is cut"
    ) = ""
    note: f.text(2000) = ""


LineDecision = DecisionLine


@dataclass(config=_DECLARED)
class Decision:
    """The auditor's decision on a claim under review (DESIGN 8)."""

    action: f.words(*ACTIONS)
    lines: f.items(DecisionLine, MAX_LINES) = Field(default_factory=list)
    supplier_code: f.text(32, description="the responsible supplier, if not the part's") = ""
    reason: f.text(description="free text; required to reject or return") = ""
    expected_version: f.whole(
        1, alias="version", description="the claim's version as read; another one is a 409"
    ) = None


def parse_decision(data: Any) -> Decision:
    """A `Decision` from the API's JSON or the form's dict; raises `Malformed` naming every
    malformed field."""
    try:
        return TypeAdapter(Decision).validate_python(data)
    except ValidationError as error:
        fields = f.field_errors(error)
        if "" in fields:
            raise Malformed(str(_l("The body must be a JSON object."))) from None
        raise Malformed(str(_l("The decision is malformed.")), fields) from None


def decide_claim(claim_id: int, user: User, decision: Decision, today: date | None = None) -> Claim:
    """Approve (in full or in part), reject, or return a claim under review."""
    if user.role is not Role.AUDITOR:
        raise DomainError(str(_l("Only auditors decide claims.")))
    claim = lock_claim(claim_id)
    if claim.status is not ClaimStatus.IN_REVIEW:
        raise Conflict(
            str(
                _l(
                    "Claim %(number)s is %(status)s: it was decided or changed meanwhile.",
                    number=claim.number,
                    status=in_sentence(claim.status),
                )
            )
        )
    if decision.expected_version is not None and decision.expected_version != claim.version:
        raise Conflict(
            str(
                _l(
                    "Claim %(number)s is at version %(version)s now; reload it.",
                    number=claim.number,
                    version=claim.version,
                )
            )
        )
    today = today or date.today()
    if decision.action == "return":
        return_claim(claim, user, decision.reason)
        record(
            AuditKind.CLAIM_DECIDED,
            user,
            subject=claim.type.value,
            claim_number=claim.number,
            amount_before=claim.total_amount,
            after={"status": claim.status, "version": claim.version},
            note=decision.reason,
        )
        _tell_station(claim, RETURNED, {"number": claim.number, "reason": decision.reason})
        return claim
    # Every problem of the decision is named at once: the supplier's, the reason's, each line's.
    errors: dict[str, str] = {}
    supplier = _responsible_supplier(claim, decision.supplier_code, errors)
    if decision.action == "reject":
        _reject(claim, user, decision, supplier, errors)
    else:
        _approve(claim, user, decision, supplier, today, errors)
    _tell_station(
        claim,
        DECIDED,
        {"number": claim.number, "status": claim.status, "amount": claim.approved_total_amount},
    )
    db.session.flush()
    return claim


def _responsible_supplier(claim: Claim, code: str, errors: dict[str, str]) -> Supplier | None:
    if not code:
        return default_supplier(claim)
    supplier = db.session.scalar(sa.select(Supplier).where(Supplier.code == code))
    if supplier is None:
        errors["supplier_code"] = str(_l("no such supplier"))
    return supplier


def _reject(
    claim: Claim, user: User, decision: Decision, supplier: Supplier | None, errors: dict
) -> None:
    if not decision.reason:
        errors["reason"] = str(_l("is required to reject"))
    if errors:
        raise ValidationFailed(str(_l("The decision was not saved.")), errors)
    for line in claim.lines:
        line.approved_qty = 0 if line.qty is not None else None
        line.approved_hours = Decimal("0") if line.hours is not None else None
        line.approved_amount = Decimal("0.00")
    _finish(claim, user, ClaimStatus.REJECTED, decision.reason, supplier)


def _approve(
    claim: Claim,
    user: User,
    decision: Decision,
    supplier: Supplier | None,
    today: date,
    errors: dict,
) -> None:
    by_id = {d.id: d for d in decision.lines}
    known = {line.id for line in claim.lines}
    for index, d in enumerate(decision.lines):
        if d.id not in known:
            errors[f"lines[{index}].id"] = str(_l("line %(id)s is not on this claim", id=d.id))
    # Only active codes may be given; a deactivated one stays on the lines decided with it.
    active_codes = set(db.session.scalars(sa.select(ReasonCode.code).where(ReasonCode.active)))
    cut_any = False
    for line in claim.lines:
        d = by_id.get(line.id) or DecisionLine(id=line.id)
        where = f"lines[{_index_of(decision, line.id)}]"
        cut_any |= _decide_line(line, d, where, active_codes, errors)
    if errors:
        raise ValidationFailed(str(_l("The decision was not saved.")), errors)
    cut_any |= preauth.apply_outsourced_cap(claim)  # purchased parts: never above the cap
    pricing.apply_approved_totals(claim)
    if (
        claim.approved_total_amount == 0
        and claim.total_amount > 0
        and claim.type not in PRE_AUTHORISATIONS
    ):
        raise ValidationFailed(
            str(_l("Every line is cut to zero: reject the claim instead.")),
            {"action": str(_l("reject instead"))},
        )
    status = ClaimStatus.PARTIALLY_APPROVED if cut_any else ClaimStatus.APPROVED
    _set_validity(claim, today)
    _finish(claim, user, status, decision.reason, supplier)
    claim_approved.send(claim, today=today)  # 旧件: the failed parts that must come back


def _index_of(decision: Decision, line_id: int) -> int | str:
    for index, d in enumerate(decision.lines):
        if d.id == line_id:
            return index
    return f"id={line_id}"


def _decide_line(line, d: DecisionLine, where: str, active_codes: set[str], errors: dict) -> bool:
    """Set the line's approved values; answers whether it was cut. Errors go to `errors`."""
    ceiling = line.amount
    if line.kind in (LineKind.PART, LineKind.TRIP):
        qty = line.qty if d.approved_qty is None else d.approved_qty
        if qty > (line.qty or 0):
            errors[where + ".approved_qty"] = str(_l("more than the %(n)s claimed", n=line.qty))
            return False
        line.approved_qty = qty
        ceiling = round_money(Decimal(qty) * (line.unit_price or 0))
    elif line.kind is LineKind.LABOR:
        hours = line.hours if d.approved_hours is None else d.approved_hours
        if hours > (line.hours or 0):
            errors[where + ".approved_hours"] = str(
                _l("more than the %(n)s hours claimed", n=line.hours)
            )
            return False
        line.approved_hours = hours
        ceiling = round_money(hours * (line.unit_price or 0))
    amount = ceiling if d.approved_amount is None else d.approved_amount
    if amount > ceiling:
        errors[where + ".approved_amount"] = str(
            _l("more than the %(amount)s claimed", amount=money(ceiling))
        )
        return False
    line.approved_amount = amount
    cut = amount < line.amount
    if d.reason and d.reason not in active_codes:
        errors[where + ".reason"] = str(_l("unknown reason code %(code)s", code=d.reason))
    elif cut and not d.reason:
        errors[where + ".reason"] = str(_l("a cut needs a reason code"))
    line.reason_code = d.reason or None
    line.decision_note = d.note
    return cut


def _finish(
    claim: Claim, user: User, status: ClaimStatus, reason: str, supplier: Supplier | None
) -> None:
    claim.responsible_supplier = supplier
    claim.decided_by = user
    claim.decided_at = utcnow()
    claim.decision_reason = reason
    if status is ClaimStatus.REJECTED:
        pricing.apply_approved_totals(claim)
    message = None
    if supplier is not None:
        message = (RESPONSIBLE_SUPPLIER, {"supplier": f"{supplier.code} {supplier.name}"})
    _transition(claim, user, status, status.value, reason, message)
    audit_decision(claim, user, AuditKind.CLAIM_DECIDED, reason)


def _tell_station(claim: Claim, key: str, params: dict) -> None:
    notify_organisation(claim.station_id, key, params, f"/claims/{claim.number}")
