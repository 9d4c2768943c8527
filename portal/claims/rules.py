"""The named checks that run on submit (DESIGN 3), as small pieces per rule and claim type.

A check either *refuses* the submit (HTTP 422, nothing saved) or *flags* the claim (stored with
its rule and explanation, shown to station and auditor, and blocking auto-approval). Messages
are kept as a key into MESSAGES plus parameters, so each reader sees them in their language.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from portal import messages
from portal.claims import campaign as campaign_work
from portal.claims import preauth
from portal.claims.models import APPROVED_STATUSES, Claim, ClaimStatus, ClaimType, LineKind
from portal.extensions import db
from portal.masterdata import fitment
from portal.masterdata.campaigns import CampaignStatus
from portal.masterdata.coverage import coverage_of
from portal.masterdata.models import Vehicle, WarrantyContract
from portal.masterdata.vin import vin_error

DUPLICATE_WINDOW_DAYS = 30
APPRAISAL_VALID_DAYS = 30
ALL_TYPES = frozenset(ClaimType)
PAYING_FOR_A_FAILURE = frozenset({ClaimType.REPAIR, ClaimType.MAJOR_ASSEMBLY, ClaimType.APPRAISAL})

MESSAGES = {
    "required": _l("%(field)s is required for a claim of type %(type)s."),
    "lines_required": _l("Add at least one line."),
    "vin_invalid": _l("VIN %(vin)s is not valid: %(problem)s."),
    "vin_unknown": _l("No vehicle of the brand has VIN %(vin)s."),
    "repair_in_future": _l("The repair date %(date)s is in the future."),
    "fault_after_repair": _l("The fault date %(fault)s is after the repair date %(repair)s."),
    "repair_before_sale": _l(
        "The repair date %(date)s is before the vehicle's sale date %(sale)s."
    ),
    "odometer_below_last": _l(
        "The odometer %(km)s km is below the last known reading of %(last)s km."
    ),
    "no_policy": _l("Model %(model)s has no warranty policy for coverage group %(group)s."),
    "outside_coverage_time": _l(
        "Outside %(group)s coverage: it ended on %(expires)s (%(months)s months); "
        "add a goodwill reason to submit it anyway."
    ),
    "outside_coverage_km": _l(
        "Outside %(group)s coverage: %(km)s km is above the %(limit)s km limit; "
        "add a goodwill reason to submit it anyway."
    ),
    "outside_coverage_goodwill_time": _l(
        "Outside %(group)s coverage (it ended on %(expires)s); submitted as goodwill: %(reason)s"
    ),
    "outside_coverage_goodwill_km": _l(
        "Outside %(group)s coverage (%(km)s km is above the %(limit)s km limit); submitted as "
        "goodwill: %(reason)s"
    ),
    # Flags written before the two above: `why` was written in the submitter's language.
    "outside_coverage_goodwill": _l(
        "Outside %(group)s coverage (%(why)s); submitted as goodwill: %(reason)s"
    ),
    "duplicate": _l(
        "Claim %(other)s for the same VIN and causal part %(part)s has a repair date within "
        "%(days)s days (%(date)s)."
    ),
    "duplicate_other_station": _l(
        "Another station's claim for the same VIN and causal part %(part)s has a repair date "
        "within %(days)s days (%(date)s)."
    ),
    "part_not_for_model": _l("Part %(part)s is not listed for model %(model)s."),
    "labor_over_standard": _l(
        "%(hours)s hours for %(operation)s are above its standard %(standard)s hours: %(reason)s"
    ),
    "labor_reason_required": _l(
        "%(hours)s hours for %(operation)s are above its standard %(standard)s hours; "
        "give the reason in the line's description."
    ),
    "labor_operation_required": _l("A labor line needs a labor operation."),
    "break_in_window": _l(
        "Break-in maintenance is paid within %(days)s days of the sale and between %(min)s and "
        "%(max)s km; this vehicle is at day %(age)s and %(km)s km."
    ),
    "break_in_once": _l("VIN %(vin)s already has break-in claim %(other)s."),
    "break_in_once_other_station": _l(
        "VIN %(vin)s already has a break-in claim: another station's claim."
    ),
    "appraisal_required": _l(
        "A major-assembly claim needs an appraisal for VIN %(vin)s and part %(part)s approved "
        "within the last %(days)s days."
    ),
    "appraisal_used": _l(
        "The appraisal for VIN %(vin)s and part %(part)s is used up by claim %(other)s."
    ),
    "not_major_assembly": _l("Part %(part)s is not a major assembly."),
    "major_assembly_on_repair": _l(
        "Part %(part)s is a major assembly: file a major-assembly claim for it."
    ),
    "trip_required": _l("Give the round-trip distance of the roadside trip."),
    "receipt_required": _l("Attach the receipts of the roadside trip."),
    "outsourced_request_invalid": _l(
        "Outsourced-purchase request %(number)s is not approved and valid for this station and VIN."
    ),
    "outsourced_request_used": _l(
        "Outsourced-purchase request %(number)s is used up by claim %(other)s."
    ),
    "outsourced_request_used_other_station": _l(
        "Outsourced-purchase request %(number)s is used up by another station's claim."
    ),
    "outsourced_repair_before_approval": _l(
        "The repair date %(date)s is before outsourced-purchase request %(number)s was approved "
        "on %(approved)s."
    ),
    "shipper_required": _l("A drop-shipment needs the code of the station or supplier that ships."),
    "shipper_invalid": _l("%(code)s is not a station or supplier that can ship this part."),
    "campaign_not_affected": _l("VIN %(vin)s is not on campaign %(code)s."),
    "campaign_closed": _l("Campaign %(code)s is closed."),
    "campaign_not_started": _l(
        "Campaign %(code)s starts on %(start)s; the repair date %(date)s is before it."
    ),
    "campaign_ended": _l(
        "Campaign %(code)s ended on %(end)s; the repair date %(date)s is after it."
    ),
    "campaign_done": _l(
        "The work of campaign %(code)s on VIN %(vin)s is already done: %(other)s of %(date)s."
    ),
    "campaign_done_other_station": _l(
        "The work of campaign %(code)s on VIN %(vin)s is already done (%(date)s)."
    ),
}

# The parameters shown otherwise than as stored (portal.messages): codes by their labels,
# dates in the reader's locale, numbers with thousands separators.
_DATE, _NUMBER = "date", "decimal"
PARAM_KINDS: dict[str, dict[str, str]] = {
    "required": {"field": "label:claim_field", "type": "word:claim_type"},
    "repair_in_future": {"date": _DATE},
    "fault_after_repair": {"fault": _DATE, "repair": _DATE},
    "repair_before_sale": {"date": _DATE, "sale": _DATE},
    "odometer_below_last": {"km": _NUMBER, "last": _NUMBER},
    "no_policy": {"group": "word:coverage_group"},
    "outside_coverage_time": {"group": "word:coverage_group", "expires": _DATE},
    "outside_coverage_km": {"group": "word:coverage_group", "km": _NUMBER, "limit": _NUMBER},
    "outside_coverage_goodwill_time": {"group": "word:coverage_group", "expires": _DATE},
    "outside_coverage_goodwill_km": {
        "group": "word:coverage_group",
        "km": _NUMBER,
        "limit": _NUMBER,
    },
    "outside_coverage_goodwill": {"group": "word:coverage_group"},
    "duplicate": {"date": _DATE},
    "duplicate_other_station": {"date": _DATE},
    "labor_over_standard": {"hours": _NUMBER, "standard": _NUMBER},
    "labor_reason_required": {"hours": _NUMBER, "standard": _NUMBER},
    "break_in_window": {"min": _NUMBER, "max": _NUMBER, "km": _NUMBER},
    "outsourced_repair_before_approval": {"date": _DATE, "approved": _DATE},
    "campaign_not_started": {"start": _DATE, "date": _DATE},
    "campaign_ended": {"end": _DATE, "date": _DATE},
    "campaign_done": {"date": _DATE},
    "campaign_done_other_station": {"date": _DATE},
}
for _key, _text in MESSAGES.items():
    messages.define(_key, _text, **PARAM_KINDS.get(_key, {}))


@dataclass(frozen=True)
class Finding:
    rule: str
    field: str | None
    key: str
    params: dict = field(default_factory=dict)

    @property
    def message(self) -> str:
        """The message in the current locale."""
        return render_message(self.key, self.params)

    @property
    def message_en(self) -> str:
        with force_locale("en"):
            return render_message(self.key, self.params)


def render_message(key: str, params: dict) -> str:
    return messages.render(key, params)


@dataclass
class Checks:
    claim: Claim
    today: date
    vehicle: Vehicle | None = None
    appraisal: Claim | None = None  # the appraisal a major-assembly claim uses up
    contract: WarrantyContract | None = None  # the contract the claim is covered only thanks to
    refusals: list[Finding] = field(default_factory=list)
    flags: list[Finding] = field(default_factory=list)

    def refuse(self, rule: str, field_name: str | None, key: str, **params) -> None:
        self.refusals.append(Finding(rule, field_name, key, _plain(params)))

    def flag(self, rule: str, field_name: str | None, key: str, **params) -> None:
        self.flags.append(Finding(rule, field_name, key, _plain(params)))


def _plain(params: dict) -> dict:
    """Parameters as JSON-safe values (amounts and hours as their exact text)."""
    return {k: v if isinstance(v, int | str) else str(v) for k, v in params.items()}


Rule = Callable[[Checks], None]
RULES: list[tuple[str, frozenset[ClaimType], Rule]] = []


def rule(name: str, types=ALL_TYPES):
    def register(fn: Rule) -> Rule:
        RULES.append((name, frozenset(types), fn))
        return fn

    return register


def run_checks(claim: Claim, today: date) -> Checks:
    checks = Checks(claim, today)
    for _name, types, fn in RULES:
        if claim.type in types:
            fn(checks)
    return checks


# -- the header ------------------------------------------------------------------------------

REQUIRED_FIELDS: dict[ClaimType, tuple[str, ...]] = {
    ClaimType.REPAIR: ("vin", "odometer_km", "repair_date", "fault_code", "causal_part"),
    ClaimType.MAJOR_ASSEMBLY: ("vin", "odometer_km", "repair_date", "fault_code", "causal_part"),
    ClaimType.APPRAISAL: ("vin", "odometer_km", "repair_date", "fault_code", "causal_part"),
    ClaimType.BREAK_IN: ("vin", "odometer_km", "repair_date"),
    ClaimType.ROADSIDE: ("vin", "odometer_km", "repair_date"),
    ClaimType.OUTSOURCED_PURCHASE: ("vin", "odometer_km", "repair_date", "causal_part"),
    ClaimType.EMERGENCY_PART: ("vin", "fulfilment"),
    ClaimType.CAMPAIGN: ("vin", "odometer_km", "repair_date", "campaign"),
}
FIELD_ATTRS = {
    "fault_code": "fault_code_id",
    "causal_part": "causal_part_id",
    "campaign": "campaign_id",
}
NEEDS_LINES = frozenset(set(ClaimType) - {ClaimType.APPRAISAL, ClaimType.BREAK_IN})


@rule("required")
def required_fields(c: Checks) -> None:
    for name in REQUIRED_FIELDS[c.claim.type]:
        value = getattr(c.claim, FIELD_ATTRS.get(name, name))
        if value in (None, ""):
            c.refuse("required", name, "required", field=name, type=c.claim.type.value)
    if c.claim.type in NEEDS_LINES and not c.claim.lines:
        c.refuse("required", "lines", "lines_required")


@rule("vin")
def vin_exists(c: Checks) -> None:
    vin = c.claim.vin
    if not vin:
        return
    problem = vin_error(vin)
    if problem:
        c.refuse("vin", "vin", "vin_invalid", vin=vin, problem=problem)
        return
    c.vehicle = db.session.scalar(sa.select(Vehicle).where(Vehicle.vin == vin))
    if c.vehicle is None:
        c.refuse("vin", "vin", "vin_unknown", vin=vin)
    else:
        c.claim.vehicle = c.vehicle


@rule("dates")
def dates_in_order(c: Checks) -> None:
    claim = c.claim
    if claim.repair_date and claim.repair_date > c.today:
        c.refuse("dates", "repair_date", "repair_in_future", date=claim.repair_date.isoformat())
    if claim.fault_date and claim.repair_date and claim.fault_date > claim.repair_date:
        c.refuse(
            "dates",
            "fault_date",
            "fault_after_repair",
            fault=claim.fault_date.isoformat(),
            repair=claim.repair_date.isoformat(),
        )
    if c.vehicle and claim.repair_date and claim.repair_date < c.vehicle.sale_date:
        c.refuse(
            "dates",
            "repair_date",
            "repair_before_sale",
            date=claim.repair_date.isoformat(),
            sale=c.vehicle.sale_date.isoformat(),
        )


def last_known_odometer(vehicle: Vehicle, excluding_claim_id: int | None) -> int:
    """The highest of the imported reading and the readings on submitted (non-draft) claims."""
    on_claims = db.session.scalar(
        sa.select(sa.func.max(Claim.odometer_km)).where(
            Claim.vehicle_id == vehicle.id,
            Claim.status != ClaimStatus.DRAFT,
            Claim.id != (excluding_claim_id or 0),
        )
    )
    return max(vehicle.odometer_km, on_claims or 0)


@rule("odometer")
def odometer_not_below_last(c: Checks) -> None:
    if c.vehicle is None or c.claim.odometer_km is None:
        return
    last = last_known_odometer(c.vehicle, c.claim.id)
    if c.claim.odometer_km < last:
        c.refuse(
            "odometer", "odometer_km", "odometer_below_last", km=c.claim.odometer_km, last=last
        )


# -- coverage, duplicates, labor ------------------------------------------------------------------


@rule("coverage", PAYING_FOR_A_FAILURE)
def in_coverage(c: Checks) -> None:
    claim, vehicle, part = c.claim, c.vehicle, c.claim.causal_part
    if vehicle is None or part is None or claim.repair_date is None:
        return
    policy = vehicle.model.policy_for(part.group)
    if policy is None:
        c.refuse("coverage", "causal_part", "no_policy", model=vehicle.model.code, group=part.group)
        return
    cov = coverage_of(
        policy, vehicle.sale_date, claim.repair_date, claim.odometer_km, vehicle.contracts
    )
    if cov.in_coverage:
        c.contract = cov.contract if cov.by_contract else None
        return
    if claim.goodwill_reason:
        if cov.reason == "time":
            key, why = "outside_coverage_goodwill_time", {"expires": cov.expires_on.isoformat()}
        else:
            key, why = "outside_coverage_goodwill_km", {"km": claim.odometer_km, "limit": cov.km}
        c.flag(
            "outside_coverage",
            "causal_part",
            key,
            group=part.group,
            reason=claim.goodwill_reason,
            **why,
        )
    elif cov.reason == "time":
        c.refuse(
            "coverage",
            "repair_date",
            "outside_coverage_time",
            group=part.group,
            expires=cov.expires_on.isoformat(),
            months=cov.months,
        )
    else:
        c.refuse(
            "coverage",
            "odometer_km",
            "outside_coverage_km",
            group=part.group,
            km=claim.odometer_km,
            limit=cov.km,
        )


@rule("duplicate", {ClaimType.REPAIR, ClaimType.MAJOR_ASSEMBLY})
def not_a_duplicate(c: Checks) -> None:
    claim = c.claim
    if c.vehicle is None or claim.causal_part_id is None or claim.repair_date is None:
        return
    window = timedelta(days=DUPLICATE_WINDOW_DAYS)
    other = db.session.execute(
        sa.select(Claim.number, Claim.repair_date, Claim.station_id)
        .where(
            Claim.vehicle_id == c.vehicle.id,
            Claim.causal_part_id == claim.causal_part_id,
            Claim.id != (claim.id or 0),
            Claim.status.not_in([ClaimStatus.DRAFT, ClaimStatus.REJECTED]),
            Claim.type.in_([ClaimType.REPAIR, ClaimType.MAJOR_ASSEMBLY]),
            Claim.repair_date.between(claim.repair_date - window, claim.repair_date + window),
        )
        .order_by((Claim.station_id == claim.station_id).desc(), Claim.repair_date.desc())
        .limit(1)
    ).first()
    if other is None:
        return
    params = dict(
        part=claim.causal_part.number,
        days=DUPLICATE_WINDOW_DAYS,
        date=other.repair_date.isoformat(),
    )
    if other.station_id == claim.station_id:
        c.flag("duplicate", "causal_part", "duplicate", other=other.number, **params)
    else:  # another station's claim is named only as such, never by its number
        c.flag("duplicate", "causal_part", "duplicate_other_station", **params)


@rule("part_not_for_model")
def parts_fit_the_vehicle(c: Checks) -> None:
    """The causal part and each part line's part is listed for the vehicle's model, unless the
    part lists no model at all (it fits every model)."""
    if c.vehicle is None:
        return
    parts = [("causal_part", c.claim.causal_part)] + [
        (f"lines[{index}].part_number", line.part)
        for index, line in enumerate(c.claim.lines)
        if line.kind is LineKind.PART
    ]
    fits = fitment.models_of({part.id for _field, part in parts if part is not None})
    flagged: set[int] = set()
    for field_name, part in parts:
        if part is None or part.id in flagged or part.id not in fits:
            continue
        if c.vehicle.model_id not in fits[part.id]:
            flagged.add(part.id)
            c.flag(
                "part_not_for_model",
                field_name,
                "part_not_for_model",
                part=part.number,
                model=c.vehicle.model.code,
            )


# A campaign's package sets its own hours: a campaign claim is compared with its package.
@rule("labor_hours", ALL_TYPES - {ClaimType.CAMPAIGN})
def labor_within_standard(c: Checks) -> None:
    for index, line in enumerate(c.claim.lines):
        if line.kind is not LineKind.LABOR:
            continue
        field_name = f"lines[{index}]"
        if line.operation is None:
            if c.claim.type is not ClaimType.ROADSIDE:
                c.refuse("labor_hours", field_name + ".operation_code", "labor_operation_required")
            continue
        standard = line.operation.standard_hours
        if line.hours is None or line.hours <= standard:
            continue
        params = dict(hours=line.hours, operation=line.operation.code, standard=standard)
        if line.description:
            c.flag(
                "labor_hours",
                field_name + ".hours",
                "labor_over_standard",
                reason=line.description,
                **params,
            )
        else:
            c.refuse("labor_hours", field_name + ".description", "labor_reason_required", **params)


# -- per-type rules -----------------------------------------------------------------------------


@rule("break_in_window", {ClaimType.BREAK_IN})
def break_in_in_window(c: Checks) -> None:
    claim, vehicle = c.claim, c.vehicle
    if vehicle is None or claim.repair_date is None or claim.odometer_km is None:
        return
    model = vehicle.model
    age = (claim.repair_date - vehicle.sale_date).days
    if age > model.break_in_days or not (
        model.break_in_min_km <= claim.odometer_km <= model.break_in_max_km
    ):
        c.refuse(
            "break_in_window",
            "repair_date" if age > model.break_in_days else "odometer_km",
            "break_in_window",
            days=model.break_in_days,
            min=model.break_in_min_km,
            max=model.break_in_max_km,
            age=age,
            km=claim.odometer_km,
        )


@rule("break_in_once", {ClaimType.BREAK_IN})
def break_in_only_once(c: Checks) -> None:
    if c.vehicle is None:
        return
    other = db.session.execute(
        sa.select(Claim.number, Claim.station_id)
        .where(
            Claim.vehicle_id == c.vehicle.id,
            Claim.type == ClaimType.BREAK_IN,
            Claim.id != (c.claim.id or 0),
            Claim.status.not_in([ClaimStatus.DRAFT, ClaimStatus.REJECTED]),
        )
        .order_by((Claim.station_id == c.claim.station_id).desc())
        .limit(1)
    ).first()
    if other is None:
        return
    if other.station_id == c.claim.station_id:
        c.refuse("break_in_once", "vin", "break_in_once", vin=c.vehicle.vin, other=other.number)
    else:
        c.refuse("break_in_once", "vin", "break_in_once_other_station", vin=c.vehicle.vin)


@rule("major_assembly", {ClaimType.MAJOR_ASSEMBLY})
def major_assembly_needs_appraisal(c: Checks) -> None:
    part = c.claim.causal_part
    if part is None or c.vehicle is None:
        return
    if not part.is_major_assembly:
        c.refuse("major_assembly", "causal_part", "not_major_assembly", part=part.number)
        return
    c.appraisal, used_by = preauth.appraisal_for(c.claim, c.today)
    if used_by is not None:
        c.refuse(
            "appraisal_required",
            "causal_part",
            "appraisal_used",
            vin=c.vehicle.vin,
            part=part.number,
            other=used_by.number,
        )
    elif c.appraisal is None:
        c.refuse(
            "appraisal_required",
            "causal_part",
            "appraisal_required",
            vin=c.vehicle.vin,
            part=part.number,
            days=APPRAISAL_VALID_DAYS,
        )


@rule("major_assembly", {ClaimType.REPAIR, ClaimType.ROADSIDE})
def no_major_assembly_on_a_repair(c: Checks) -> None:
    for index, line in enumerate(c.claim.lines):
        if line.kind is LineKind.PART and line.part is not None and line.part.is_major_assembly:
            c.refuse(
                "major_assembly",
                f"lines[{index}].part_number",
                "major_assembly_on_repair",
                part=line.part.number,
            )


@rule("roadside", {ClaimType.ROADSIDE})
def roadside_has_trip_and_receipts(c: Checks) -> None:
    if not any(ln.kind is LineKind.TRIP and ln.qty for ln in c.claim.lines):
        c.refuse("roadside", "trip_km", "trip_required")
    if not c.claim.attachments:
        c.refuse("roadside", "attachments", "receipt_required")


@rule("outsourced_request")
def outsourced_request_is_usable(c: Checks) -> None:
    """The named request is an approved outsourced purchase of this station and VIN, still
    valid, approved on or before the repair, and not used by another claim. What it pays is
    capped on approval (preauth.apply_outsourced_cap), never refused here."""
    claim, request = c.claim, c.claim.outsourced_request
    if request is None:
        return
    preauth.lock(request.id)
    holder = preauth.using_claim(request)
    held = holder is not None and holder.id == claim.id  # a returned claim resubmitted
    valid = (
        request.type is ClaimType.OUTSOURCED_PURCHASE
        and request.status in APPROVED_STATUSES
        and request.station_id == claim.station_id
        and request.vin == claim.vin
        and (held or request.valid_until is None or request.valid_until >= c.today)
    )
    if not valid:
        c.refuse(
            "outsourced_request",
            "outsourced_request",
            "outsourced_request_invalid",
            number=request.number,
        )
        return
    approved_on = request.decided_at.date() if request.decided_at else None
    if claim.repair_date and approved_on and claim.repair_date < approved_on:
        c.refuse(
            "outsourced_request",
            "repair_date",
            "outsourced_repair_before_approval",
            date=claim.repair_date.isoformat(),
            number=request.number,
            approved=approved_on.isoformat(),
        )
    if holder is not None and not held and holder.station_id == claim.station_id:
        c.refuse(
            "outsourced_request",
            "outsourced_request",
            "outsourced_request_used",
            number=request.number,
            other=holder.number,
        )
    elif holder is not None and not held:
        c.refuse(
            "outsourced_request",
            "outsourced_request",
            "outsourced_request_used_other_station",
            number=request.number,
        )


@rule("emergency_part", {ClaimType.EMERGENCY_PART})
def emergency_part_has_a_shipper(c: Checks) -> None:
    if c.claim.fulfilment == "drop_ship" and c.claim.shipper_org_id is None:
        c.refuse("emergency_part", "shipper_code", "shipper_required")


@rule("campaign", {ClaimType.CAMPAIGN})
def campaign_work_is_due(c: Checks) -> None:
    """The VIN is on the campaign, the campaign is open on the repair date, and its work on the
    vehicle is not done yet (once per VIN and campaign). The first claim is named by its number
    only to its own station; to another, it is "already done" and its date."""
    claim, campaign, vehicle = c.claim, c.claim.campaign, c.vehicle
    if campaign is None or vehicle is None:
        return
    params = dict(code=campaign.code, vin=vehicle.vin)
    if not campaign_work.is_affected(campaign, vehicle):
        c.refuse("campaign", "vin", "campaign_not_affected", **params)
        return
    day = claim.repair_date
    if campaign.status is not CampaignStatus.OPEN:
        c.refuse("campaign", "campaign", "campaign_closed", code=campaign.code)
    elif day is not None and day < campaign.start_date:
        c.refuse(
            "campaign",
            "repair_date",
            "campaign_not_started",
            code=campaign.code,
            start=campaign.start_date.isoformat(),
            date=day.isoformat(),
        )
    elif day is not None and campaign.end_date is not None and day > campaign.end_date:
        c.refuse(
            "campaign",
            "repair_date",
            "campaign_ended",
            code=campaign.code,
            end=campaign.end_date.isoformat(),
            date=day.isoformat(),
        )
    other = campaign_work.work_on(campaign.id, vehicle.id, claim.id)
    if other is None:
        return
    done = (other.repair_date or other.submitted_at.date()).isoformat()
    if other.station_id == claim.station_id:
        c.refuse(
            "campaign_done", "campaign", "campaign_done", other=other.number, date=done, **params
        )
    else:
        c.refuse("campaign_done", "campaign", "campaign_done_other_station", date=done, **params)
