"""The claim workflow: create and edit drafts, submit (checks, flags, auto-approval), return,
comment. One function per transition; each checks the from-state, records who and when, and
writes an event. Operations flush and never commit; the view or job commits once.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.auditlog.operations import AuditKind, record
from portal.auth.models import Role, User
from portal.claims import campaign as campaign_work
from portal.claims import preauth, pricing
from portal.claims.attachments import path_of
from portal.claims.labels import BREAK_IN_DESCRIPTION
from portal.claims.models import (
    EDITABLE_STATUSES,
    Claim,
    ClaimComment,
    ClaimEvent,
    ClaimFlag,
    ClaimLine,
    ClaimSettings,
    ClaimStatus,
    ClaimType,
    ClaimVersion,
    LineKind,
    flag_bit,
)
from portal.claims.numbering import next_number
from portal.claims.payload import ClaimInput
from portal.claims.rules import APPRAISAL_VALID_DAYS, run_checks
from portal.claims.signals import claim_approved
from portal.db import utcnow
from portal.errors import Conflict, DomainError, NotFound, ValidationFailed
from portal.extensions import db
from portal.labels import in_sentence, label
from portal.masterdata.campaigns import Campaign
from portal.masterdata.models import (
    FaultCode,
    LaborOperation,
    Organisation,
    OrgKind,
    Part,
    Station,
    Vehicle,
)
from portal.messages import day, define, plain_params
from portal.notifications.operations import notify_organisation

LINE_KINDS_BY_TYPE: dict[ClaimType, frozenset[LineKind]] = {
    ClaimType.REPAIR: frozenset({LineKind.PART, LineKind.LABOR, LineKind.OTHER}),
    ClaimType.MAJOR_ASSEMBLY: frozenset({LineKind.PART, LineKind.LABOR, LineKind.OTHER}),
    ClaimType.APPRAISAL: frozenset(),
    ClaimType.BREAK_IN: frozenset(),  # the package line is added from the vehicle's model
    ClaimType.ROADSIDE: frozenset({LineKind.TRIP, LineKind.LABOR, LineKind.OTHER, LineKind.PART}),
    ClaimType.OUTSOURCED_PURCHASE: frozenset({LineKind.OTHER}),
    ClaimType.EMERGENCY_PART: frozenset({LineKind.PART, LineKind.OTHER}),
    ClaimType.CAMPAIGN: frozenset({LineKind.PART, LineKind.LABOR, LineKind.OTHER}),
}
# Pre-authorisations and requests never pay by themselves and always go to an auditor.
NEVER_AUTO_APPROVED = frozenset(
    {ClaimType.APPRAISAL, ClaimType.OUTSOURCED_PURCHASE, ClaimType.EMERGENCY_PART}
)
OUTSOURCED_VALID_DAYS = 60

# The portal's words in the timeline and the station's notifications (portal.messages).
AUTO_APPROVED = define(
    "claim.auto_approved",
    _l("No flags, and the total %(total)s is under the auto-approval limit of %(threshold)s."),
    total="money",
    threshold="money",
)
AUTO_APPROVED_CAPPED = define(
    "claim.auto_approved_capped",
    _l(
        "No flags, and the total %(total)s is under the auto-approval limit of %(threshold)s; "
        "the purchased parts are cut to the price cap of request %(request)s."
    ),
    total="money",
    threshold="money",
)
# The audit-log note of an automatic approval whose why was not kept (before revision 0032).
AUTO_APPROVED_BY_RULE = define(
    "claim.auto_approved_by_rule",
    _l("%(rule)s."),
    rule="label:auto_rule",
    example={"rule": "auto_approve_under_2000.00"},
)
AUTO_APPROVED_CAMPAIGN = define(
    "claim.auto_approved_campaign",
    _l("No flags, and exactly the package of campaign %(campaign)s."),
)
QUEUED_NOT_PACKAGE = define(
    "claim.queued_not_package",
    _l("An auditor checks it: not the package of campaign %(campaign)s: %(differences)s."),
    differences="messages",
    example={
        "campaign": "RC-2026-01",
        "differences": [
            {"key": "campaign.differs.hours", "params": {"hours": "1.5", "package": "1.2"}},
            {"key": "campaign.differs.parts", "params": {}},
        ],
    },
)
QUEUED_FLAGGED = define(
    "claim.queued_flagged",
    _l("An auditor checks it: %(rules)s."),
    rules="words:flag_rule",
    example={"rules": ["duplicate", "labor_hours"]},
)
QUEUED_ALWAYS_REVIEWED = define(
    "claim.queued_always_reviewed",
    _l("An auditor reviews every %(type)s."),
    type="word:claim_type",
    example={"type": "appraisal"},
)
QUEUED_AUTO_APPROVAL_OFF = define(
    "claim.queued_auto_approval_off", _l("Automatic approval is switched off.")
)
QUEUED_OVER_THRESHOLD = define(
    "claim.queued_over_threshold",
    _l("The total %(total)s is not under the auto-approval limit of %(threshold)s."),
    total="money",
    threshold="money",
)
COMMENTED = define("claim.commented", _l("An auditor commented on claim %(number)s."))
# Written by the revision 0016 where one outsourced-purchase request funded several claims.
REQUEST_RELEASED = define(
    "claim.request_released",
    _l("Outsourced-purchase request %(number)s was used up by an earlier claim."),
)


class RuleRefused(DomainError):
    """Submit refused by the named checks; `findings` holds each refusal."""

    code = "rule_refused"
    status = 422

    def __init__(self, findings):
        self.findings = findings
        # `fields` keeps each rule's name ahead of its message: API clients read it (DESIGN 8);
        # `message` is for people, in their words.
        fields = {}
        for f in findings:
            fields.setdefault(f.field or f.rule, f"{f.rule}: {f.message}")
        message = " ".join(f.message for f in findings)
        super().__init__(message, fields)


def record_event(
    claim: Claim,
    user: User | None,
    action: str,
    *,
    reason: str = "",
    from_status: ClaimStatus | None = None,
    to_status: ClaimStatus | None = None,
    message: tuple[str, dict] | None = None,
) -> ClaimEvent:
    """An entry in the claim's timeline (kept forever); every event is a change of the claim,
    so its revision goes up. `reason` is what a person wrote; `message` the portal's own words,
    a key of portal.messages and its parameters, written out in each reader's language."""
    claim.touch()
    event = ClaimEvent(
        claim=claim,
        user=user,
        action=action,
        reason=reason,
        version=claim.version or 1,
        from_status=from_status.value if from_status else None,
        to_status=to_status.value if to_status else None,
    )
    if message is not None:
        event.message_key, event.params = message[0], plain_params(message[1])
    db.session.add(event)
    return event


def lock_claim(claim_id: int) -> Claim:
    """The claim, re-read and locked for this transaction (PostgreSQL; SQLite has one writer)."""
    claim = db.session.scalar(
        sa.select(Claim)
        .where(Claim.id == claim_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if claim is None:
        raise NotFound(str(_l("No such claim.")))
    return claim


class StaleRevision(Conflict):
    """An edit based on a revision of the claim that is no longer the current one."""

    def __init__(self, claim: Claim):
        super().__init__(
            str(
                _l(
                    "Claim %(number)s was changed meanwhile: it is at revision %(revision)d "
                    "now. Read it again and make your change on that.",
                    number=claim.number,
                    revision=claim.revision,
                )
            ),
            {"revision": str(_l("is %(revision)d now", revision=claim.revision))},
        )


def _transition(
    claim: Claim,
    user: User | None,
    to: ClaimStatus,
    action: str,
    reason: str = "",
    message: tuple[str, dict] | None = None,
) -> None:
    record_event(
        claim, user, action, reason=reason, from_status=claim.status, to_status=to, message=message
    )
    claim.status = to


# -- drafts ------------------------------------------------------------------------------------


def create_claim(user: User, data: ClaimInput, today: date | None = None) -> Claim:
    """A new draft of `user`'s station, numbered at once (the number is what people quote)."""
    if user.role is not Role.STATION:
        raise DomainError(str(_l("Only stations file claims.")))
    station = db.session.get(Station, user.organisation_id)
    today = today or date.today()
    claim = Claim(
        type=data.type,
        station=station,
        created_by=user,
        status=ClaimStatus.DRAFT,
        number=next_number(station, data.type, today),
    )
    db.session.add(claim)
    _fill(claim, data, today)
    record_event(claim, user, "created", to_status=ClaimStatus.DRAFT)
    db.session.flush()
    return claim


def delete_draft(claim: Claim, user: User) -> list:
    """Delete a draft of `user`'s station that was never submitted, with its lines and
    attachments. Its number is not given out again (the numbering sequence only goes up).
    Answers the stored files of its attachments, for the caller to remove once committed."""
    if user.role is not Role.STATION or claim.station_id != user.organisation_id:
        raise DomainError(str(_l("Only the claim's station deletes its draft.")))
    if claim.status is not ClaimStatus.DRAFT or claim.submitted_at is not None:
        raise Conflict(
            str(
                _l(
                    "Claim %(number)s was submitted: only a draft that was never submitted "
                    "can be deleted.",
                    number=claim.number,
                )
            )
        )
    files = [path_of(a) for a in claim.attachments]
    db.session.delete(claim)
    db.session.flush()
    return files


def update_claim(
    claim: Claim,
    user: User,
    data: ClaimInput,
    today: date | None = None,
    *,
    expected_revision: int | None = None,
) -> Claim:
    """Replace what a draft (or a returned claim) says; its type cannot change. The claim row is
    locked first; with `expected_revision` (the revision the editor saw), an edit of a claim
    changed since is refused (StaleRevision, 409) instead of overwriting that change."""
    claim = lock_claim(claim.id)
    if expected_revision is not None and expected_revision != claim.revision:
        raise StaleRevision(claim)
    if not claim.can_edit(user):
        raise Conflict(
            str(
                _l(
                    "Claim %(number)s is %(status)s and cannot be edited.",
                    number=claim.number,
                    status=in_sentence(claim.status),
                )
            )
        )
    if data.type is not claim.type:
        raise ValidationFailed(
            str(_l("The type of a claim cannot change.")),
            {"type": str(_l("must stay %(type)s", type=in_sentence(claim.type)))},
        )
    _fill(claim, data, today or date.today())
    record_event(claim, user, "edited")
    db.session.flush()
    return claim


def _fill(claim: Claim, data: ClaimInput, today: date) -> None:
    """Set header and lines from `data`, resolving references; unknown references are refused."""
    errors: dict[str, str] = {}
    station = claim.station
    claim.vin = data.vin
    claim.vehicle = (
        db.session.scalar(sa.select(Vehicle).where(Vehicle.vin == data.vin)) if data.vin else None
    )
    claim.odometer_km = data.odometer_km
    claim.repair_date = data.repair_date
    claim.fault_date = data.fault_date
    claim.complaint, claim.cause, claim.correction = data.complaint, data.cause, data.correction
    claim.goodwill_reason = data.goodwill_reason
    claim.fault_code = _lookup(FaultCode, FaultCode.code, data.fault_code, "fault_code", errors)
    claim.causal_part = _lookup(Part, Part.number, data.causal_part, "causal_part", errors)
    claim.outsourced_request = None
    if data.outsourced_request:
        request = _lookup(
            Claim, Claim.number, data.outsourced_request, "outsourced_request", errors
        )
        if request is not None and request.station_id != station.id:
            # Another station's request is answered as one that does not exist.
            errors["outsourced_request"] = str(
                _l("no such record: %(value)s", value=data.outsourced_request)
            )
            request = None
        claim.outsourced_request = request
    claim.fulfilment = data.fulfilment or None
    claim.shipper_org = None
    if data.shipper_code:
        shipper = _lookup(
            Organisation, Organisation.code, data.shipper_code, "shipper_code", errors
        )
        if shipper is not None and (shipper.kind is OrgKind.OEM or shipper.id == station.id):
            errors["shipper_code"] = str(_l("must be another station or a supplier"))
        claim.shipper_org = shipper
    claim.campaign = None
    if claim.type is ClaimType.CAMPAIGN and data.campaign:
        claim.campaign = _lookup(Campaign, Campaign.code, data.campaign, "campaign", errors)
    claim.labor_rate, claim.km_rate = station.labor_rate, station.km_rate
    claim.parts_handling_rate = station.parts_handling_rate

    allowed = LINE_KINDS_BY_TYPE[claim.type]
    price_day = data.repair_date or today
    lines: list[ClaimLine] = []
    for index, item in enumerate(data.lines):
        prefix = f"lines[{index}]."
        if item.kind not in allowed:
            errors[prefix + "kind"] = str(
                _l(
                    "%(kind)s lines are not part of a %(type)s claim",
                    kind=label(item.kind),
                    type=in_sentence(claim.type),
                )
            )
            continue
        line = ClaimLine(position=index + 1, kind=item.kind, description=item.description)
        if item.kind is LineKind.PART:
            line.part = _lookup(
                Part, Part.number, item.part_number, prefix + "part_number", errors, required=True
            )
            line.qty = item.qty or 1
            if line.part is not None:
                line.unit_price = line.part.price_on(price_day)
                if line.unit_price is None:
                    errors[prefix + "part_number"] = str(
                        _l(
                            "part %(part)s has no price valid on %(day)s",
                            part=line.part.number,
                            day=day(price_day),
                        )
                    )
        elif item.kind is LineKind.LABOR:
            if item.operation_code:
                line.operation = _lookup(
                    LaborOperation,
                    LaborOperation.code,
                    item.operation_code,
                    prefix + "operation_code",
                    errors,
                )
            if item.hours is None or item.hours <= 0:
                errors[prefix + "hours"] = str(_l("give the hours worked"))
            line.hours = item.hours
            line.unit_price = claim.labor_rate
        elif item.kind is LineKind.TRIP:
            if not item.qty:
                errors[prefix + "qty"] = str(_l("give the round-trip km"))
            line.qty = item.qty
            line.unit_price = claim.km_rate
        else:
            if item.amount is None:
                errors[prefix + "amount"] = str(_l("give the amount"))
            line.amount = item.amount or Decimal("0")
        line.amount = pricing.line_amount(
            line.kind,
            qty=line.qty,
            hours=line.hours,
            unit_price=line.unit_price,
            amount=line.amount,
        )
        lines.append(line)
    if claim.type is ClaimType.BREAK_IN and claim.vehicle is not None:
        price = claim.vehicle.model.break_in_price
        lines.append(
            ClaimLine(
                position=1,
                kind=LineKind.PACKAGE,
                amount=price,
                unit_price=price,
                description=BREAK_IN_DESCRIPTION,
            )
        )
    if claim.type is ClaimType.CAMPAIGN and not data.lines and claim.campaign is not None:
        lines = campaign_work.package_lines(claim.campaign, claim.labor_rate, price_day)
    if errors:
        raise ValidationFailed(str(_l("The claim was not saved.")), errors)
    claim.lines = lines
    pricing.apply_claimed_totals(claim)


def _lookup(model, column, value: str, field_name: str, errors: dict, required: bool = False):
    if not value:
        if required:
            errors[field_name] = str(_l("is required"))
        return None
    found = db.session.scalar(sa.select(model).where(column == value))
    if found is None:
        errors[field_name] = str(_l("no such record: %(value)s", value=value))
    return found


# -- submit --------------------------------------------------------------------------------------


def submit_claim(claim: Claim, user: User, today: date | None = None) -> Claim:
    """Run the checks; refuse (nothing saved) or record flags, then auto-approve or queue."""
    if claim.station_id != user.organisation_id or user.role is not Role.STATION:
        raise DomainError(str(_l("Only the claim's station submits it.")))
    if claim.status not in EDITABLE_STATUSES:
        raise Conflict(
            str(
                _l(
                    "Claim %(number)s is already %(status)s.",
                    number=claim.number,
                    status=in_sentence(claim.status),
                )
            )
        )
    today = today or date.today()
    checks = run_checks(claim, today)
    if checks.refusals:
        raise RuleRefused(checks.refusals)

    if claim.type is ClaimType.MAJOR_ASSEMBLY:
        claim.appraisal = checks.appraisal
    claim.contract = checks.contract
    resubmission = claim.status is ClaimStatus.RETURNED
    if resubmission:
        claim.version += 1
    claim.submitted_at = utcnow()
    claim.flag_mask = 0
    for finding in checks.flags:
        claim.flag_mask |= flag_bit(finding.rule)
        db.session.add(
            ClaimFlag(
                claim=claim,
                version=claim.version,
                rule=finding.rule,
                field=finding.field,
                message=finding.message_en,
                message_key=finding.key,
                params=finding.params,
            )
        )
    db.session.add(
        ClaimVersion(
            claim=claim, version=claim.version, submitted_by=user, snapshot=snapshot(claim)
        )
    )
    _transition(claim, user, ClaimStatus.SUBMITTED, "resubmitted" if resubmission else "submitted")
    _flush_use_of_preauthorisation(claim)
    _auto_adjudicate(claim, checks.flags, today)
    db.session.flush()
    return claim


def _flush_use_of_preauthorisation(claim: Claim) -> None:
    """Write the submitted claim; a pre-authorisation another claim took meanwhile (the unique
    index refuses the second use) is a conflict, not an error."""
    try:
        db.session.flush()
    except sa.exc.IntegrityError:
        db.session.rollback()
        if claim.type is ClaimType.CAMPAIGN:
            raise Conflict(
                str(
                    _l(
                        "The campaign's work on VIN %(vin)s was submitted by another claim "
                        "meanwhile: it is already done.",
                        vin=claim.vin,
                    )
                )
            ) from None
        raise Conflict(
            str(
                _l(
                    "The pre-authorisation claim %(number)s draws on was used by another claim "
                    "meanwhile.",
                    number=claim.number,
                )
            )
        ) from None


def _auto_adjudicate(claim: Claim, flags, today: date) -> None:
    settings = ClaimSettings.current()
    blocking = [f for f in flags if settings.blocks(f.rule)]
    rule = None
    if claim.type is ClaimType.CAMPAIGN:
        # A campaign claim of exactly the package is approved whatever its amount.
        if settings.auto_approve_enabled and not blocking and campaign_work.matches_package(claim):
            rule = "campaign_package"
    elif (
        settings.auto_approve_enabled
        and not blocking
        and claim.type not in NEVER_AUTO_APPROVED
        and claim.total_amount < settings.auto_approve_threshold
    ):
        rule = f"auto_approve_under_{settings.auto_approve_threshold}"
    if rule is None:
        why = _queue_reason(claim, blocking, settings)
        _transition(claim, None, ClaimStatus.IN_REVIEW, "queued", message=why)
        return
    for line in claim.lines:
        line.approved_qty, line.approved_hours, line.approved_amount = (
            line.qty,
            line.hours,
            line.amount,
        )
    capped = preauth.apply_outsourced_cap(claim)
    pricing.apply_approved_totals(claim)
    claim.auto_decision_rule = rule
    claim.decided_at = utcnow()
    claim.responsible_supplier = default_supplier(claim)
    _set_validity(claim, today)
    params = {"total": claim.total_amount, "threshold": settings.auto_approve_threshold}
    if claim.type is ClaimType.CAMPAIGN:
        why = (AUTO_APPROVED_CAMPAIGN, {"campaign": claim.campaign.code})
    elif capped:
        why = (AUTO_APPROVED_CAPPED, {**params, "request": claim.outsourced_request.number})
    else:
        why = (AUTO_APPROVED, params)
    _transition(
        claim,
        None,
        ClaimStatus.PARTIALLY_APPROVED if capped else ClaimStatus.APPROVED,
        "auto_approved",
        message=why,
    )
    # The entry keeps the rule's code beside the message's own parameters.
    audit_decision(
        claim, None, AuditKind.CLAIM_AUTO_APPROVED, message=(why[0], {**why[1], "rule": rule})
    )
    claim_approved.send(claim, today=today)


def default_supplier(claim: Claim):
    """The responsible supplier unless the auditor says otherwise: a campaign's supplier for a
    campaign claim, else the causal part's supplier (None when there is neither)."""
    if claim.type is ClaimType.CAMPAIGN:
        return claim.campaign.supplier if claim.campaign is not None else None
    return claim.causal_part.supplier if claim.causal_part is not None else None


def _queue_reason(claim: Claim, flags, settings: ClaimSettings) -> tuple[str, dict]:
    """Why the claim waits for an auditor, as a message key and its parameters."""
    if flags:
        return QUEUED_FLAGGED, {"rules": sorted({f.rule for f in flags})}
    if claim.type is ClaimType.CAMPAIGN and settings.auto_approve_enabled:
        return QUEUED_NOT_PACKAGE, {
            "campaign": claim.campaign.code if claim.campaign else None,
            "differences": campaign_work.package_differences(claim),
        }
    if claim.type in NEVER_AUTO_APPROVED:
        return QUEUED_ALWAYS_REVIEWED, {"type": claim.type}
    if not settings.auto_approve_enabled:
        return QUEUED_AUTO_APPROVAL_OFF, {}
    return QUEUED_OVER_THRESHOLD, {
        "total": claim.total_amount,
        "threshold": settings.auto_approve_threshold,
    }


def _set_validity(claim: Claim, today: date) -> None:
    if claim.type is ClaimType.APPRAISAL:
        claim.valid_until = today + timedelta(days=APPRAISAL_VALID_DAYS)
    elif claim.type is ClaimType.OUTSOURCED_PURCHASE:
        claim.valid_until = today + timedelta(days=OUTSOURCED_VALID_DAYS)


def return_claim(claim: Claim, user: User, reason: str) -> Claim:
    """退单: send a claim under review back to its station, with a reason."""
    if user.role is not Role.AUDITOR:
        raise DomainError(str(_l("Only auditors return claims.")))
    if claim.status is not ClaimStatus.IN_REVIEW:
        raise Conflict(
            str(
                _l(
                    "Claim %(number)s is %(status)s and cannot be returned.",
                    number=claim.number,
                    status=in_sentence(claim.status),
                )
            )
        )
    if not reason.strip():
        raise ValidationFailed(
            str(_l("Say why the claim is returned.")), {"reason": str(_l("is required"))}
        )
    claim.decision_reason = reason.strip()
    _transition(claim, user, ClaimStatus.RETURNED, "returned", reason.strip())
    db.session.flush()
    return claim


def add_comment(claim: Claim, user: User, body: str) -> ClaimComment:
    if claim.status is ClaimStatus.DRAFT:
        raise Conflict(
            str(_l("You cannot comment on a draft: comments open once the claim is submitted."))
        )
    if not claim.can_comment(user):
        raise DomainError(str(_l("You cannot comment on this claim.")))
    body = body.strip()
    if not body or len(body) > 4000:
        raise ValidationFailed(
            str(_l("Write a comment of 1 to 4000 characters.")),
            {"body": str(_l("1 to 4000 characters"))},
        )
    comment = ClaimComment(claim=claim, user=user, body=body)
    db.session.add(comment)
    db.session.flush()
    if user.role is Role.AUDITOR:  # the station hears of the OEM's comments, not of its own
        notify_organisation(
            claim.station_id, COMMENTED, {"number": claim.number}, f"/claims/{claim.number}"
        )
    return comment


# -- versions ------------------------------------------------------------------------------------

SNAPSHOT_FIELDS = (
    "vin",
    "odometer_km",
    "repair_date",
    "fault_date",
    "complaint",
    "cause",
    "correction",
    "goodwill_reason",
    "fulfilment",
)


def _line_label(line: ClaimLine) -> str:
    if line.part is not None:
        return line.part.number
    if line.operation is not None:
        return line.operation.code
    return line.description or line.kind.value


def snapshot(claim: Claim) -> dict:
    """What the claim says, as plain JSON (kept per version)."""
    data = {name: _plain(getattr(claim, name)) for name in SNAPSHOT_FIELDS}
    data["fault_code"] = claim.fault_code.code if claim.fault_code else None
    data["causal_part"] = claim.causal_part.number if claim.causal_part else None
    if claim.campaign is not None:
        data["campaign"] = claim.campaign.code
    data["total_amount"] = str(claim.total_amount)
    data["lines"] = [
        {
            "kind": ln.kind.value,
            "item": _line_label(ln),
            "qty": ln.qty,
            "hours": _plain(ln.hours),
            "unit_price": _plain(ln.unit_price),
            "amount": str(ln.amount),
            "description": ln.description,
        }
        for ln in claim.lines
    ]
    data["attachments"] = [a.filename for a in claim.attachments]
    return data


def _plain(value):
    if value is None or isinstance(value, int | str):
        return value
    return str(value) if isinstance(value, Decimal) else value.isoformat()


def diff_snapshots(old: dict, new: dict) -> list[dict]:
    """What changed between two versions: header fields, and lines added, removed or changed."""
    changes = []
    for name in (*SNAPSHOT_FIELDS, "fault_code", "causal_part", "total_amount"):
        if old.get(name) != new.get(name):
            changes.append({"what": name, "old": old.get(name), "new": new.get(name)})
    old_lines = {(ln["kind"], ln["item"]): ln for ln in old.get("lines", [])}
    new_lines = {(ln["kind"], ln["item"]): ln for ln in new.get("lines", [])}
    for key in old_lines.keys() - new_lines.keys():
        changes.append({"what": f"line {key[1]}", "old": old_lines[key]["amount"], "new": None})
    for key in new_lines.keys() - old_lines.keys():
        changes.append({"what": f"line {key[1]}", "old": None, "new": new_lines[key]["amount"]})
    for key in old_lines.keys() & new_lines.keys():
        a, b = old_lines[key], new_lines[key]
        for attr in ("qty", "hours", "amount", "description"):
            if a.get(attr) != b.get(attr):
                changes.append(
                    {"what": f"line {key[1]} {attr}", "old": a.get(attr), "new": b.get(attr)}
                )
    for name in sorted(set(new.get("attachments", [])) - set(old.get("attachments", []))):
        changes.append({"what": "attachment", "old": None, "new": name})
    return changes


def audit_decision(
    claim: Claim,
    user: User | None,
    kind: AuditKind,
    note: str = "",
    message: tuple[str, dict] | None = None,
) -> None:
    """The decision in the audit log: claimed and approved totals, and each line's values."""
    record(
        kind,
        user,
        subject=claim.type.value,
        claim_number=claim.number,
        amount_before=claim.total_amount,
        amount_after=claim.approved_total_amount,
        after={
            "status": claim.status,
            "version": claim.version,
            "supplier": claim.responsible_supplier.code if claim.responsible_supplier else None,
            "lines": [
                {
                    "position": line.position,
                    "kind": line.kind,
                    "amount": line.amount,
                    "approved_amount": line.approved_amount,
                    "reason": line.reason_code,
                }
                for line in claim.lines
            ],
        },
        note=note,
        message=message,
    )
