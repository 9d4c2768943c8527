"""The demo's fleet and its claim history (车辆保有量与历史索赔): what the analyses analyse.

The story's 300 vehicles and their few hundred claims show the workflow; the analyses need the
OEM's whole fleet. This step adds `FLEET_VEHICLES` more vehicles sold over the last
`FLEET_MONTHS` months (sales growing, every model, every station) and the repair claims of
their warranty history:

- each vehicle fails, on each repair scenario of the story catalogue (`REPAIR_SCENARIOS`) that
  fits its model, at a Weibull time (shape by the part's coverage group, scale so that a share
  `P24` of vehicles fails within 24 months); a failure is claimed when it falls before today
  and inside the part group's coverage (months and km: odometers grow by the vehicle's km/day);
- one part goes bad: the T5's turbocharger (`DEFECT_PART`) of the last production months fails
  early and often, so the nightly early-warning check raises a warning (`early_warnings`);
- one station inflates its claims (`OUTLIER_STATION`): a diagnosis hour and consumables on every
  claim and the same repair claimed again on the same vehicle five to twelve weeks later (past
  the duplicate check's window), so the outlier view shows it.

The claims are what the portal itself makes of them: numbered per station and month, with their
lines priced by the part price on the repair date and the station's rates, one submitted
version, and the events of the workflow: under the auto-approval threshold approved at once,
above it queued and approved (a few rejected) by the auditor. Claims decided before the portal
went live (`go_live`: the first day of the month of the story's first claims) were settled in
the OEM's previous warranty system and migrated with their history; the later ones wait for the
settlement step like every other approved claim.

Tens of thousands of rows are written with bulk inserts (SQLAlchemy core `executemany`), not one
operation at a time: the claims' moments are set from the story, not by the clock. Everything
comes from the demo's `random.Random`; dates are relative to the demo's today.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from portal.claims.models import (
    Claim,
    ClaimEvent,
    ClaimLine,
    ClaimSequence,
    ClaimSettings,
    ClaimStatus,
    ClaimType,
    ClaimVersion,
    LineKind,
)
from portal.claims.operations import AUTO_APPROVED, QUEUED_OVER_THRESHOLD
from portal.claims.pricing import line_amount
from portal.demo.claims.stories import DAYS_BACK, REJECT_REASONS, REPAIR_SCENARIOS, Scenario
from portal.demo.clock import WORKDAY, local_day, local_moment
from portal.demo.context import Demo, DemoError
from portal.demo.masterdata import (
    MODELS,
    VIN_WMI,
    VIN_YEAR_CODES,
    ModelSpec,
    _mobile_number,
    _owner_name,
)
from portal.extensions import db
from portal.masterdata.coverage import coverage_of
from portal.masterdata.models import Part, Station, Vehicle
from portal.masterdata.vin import with_check_digit
from portal.messages import plain_params
from portal.money import round_money

FLEET_VEHICLES = 21_000
FLEET_MONTHS = 30
FLEET_SERIAL_FROM = 500_001  # fleet VINs are numbered from here on, per model
DAYS_PER_MONTH = 365.25 / 12

# Weibull shape by the part's coverage group: electronics fail early (shape < 1), wear parts
# late; the scale makes P24 of the vehicles fail within 24 months.
SHAPES = {"electrical": 0.9, "body": 1.1, "basic": 1.3, "powertrain": 1.6, "wear": 2.2}
P24_DEFAULT = 0.006
P24 = {
    "1307010": 0.018,  # water pump (the reliability test's selection: enough failures)
    "3612020": 0.016,  # NOx sensor
    "3103010": 0.011,  # wheel hub bearing
    "3708010": 0.009,  # starter motor
    "1112010": 0.005,  # injectors (two scenarios)
    "1205010": 0.008,  # SCR unit
    "3610010": 0.003,  # ECU
    "3801010": 0.004,  # instrument cluster
}

# The part that goes bad, on the model it fails on, in the last production months.
DEFECT_PART = "1118010"  # turbocharger (Yufeng Power: the demo supplier login)
DEFECT_MODEL = "HX-T5"
DEFECT_MONTHS = 4  # production months from the first of this many months before today's
DEFECT_SHAPE = 1.3
DEFECT_F3 = 0.07  # share of the bad batch failing within 3 months in service

OUTLIER_STATION = "ST-HZ01"
OUTLIER_REPEAT_SHARE = 0.35
OUTLIER_REPEAT_DAYS = (35, 85)  # after the duplicate check's 30 days, inside the 90 of a repeat
DIAGNOSIS_OPERATION = "W0000-01"
CONSUMABLES = "辅料及清洗剂 Consumables and cleaning agents"
OWN_STATION_SHARE = 0.85  # of repairs done where the vehicle was sold
REJECT_SHARE = 0.04  # of the claims the auditor reviews
LAST_DECISION_DAYS = 2  # the last claims were decided this many days before today

SETTLED_BEFORE_GO_LIVE = (
    "在原保修系统结算，上线时迁入。 "
    "Settled in the previous warranty system; migrated when the portal went live."
)


def go_live(today: date) -> date:
    """The first day of the month the story's claims start in: the portal's first day."""
    return (today - timedelta(days=DAYS_BACK)).replace(day=1)


def is_fleet_vin(vin_column):
    """SQL: the vehicle (or claim) VIN is one of the fleet's (serial `FLEET_SERIAL_FROM` on)."""
    return sa.func.substr(vin_column, 12, 6) >= f"{FLEET_SERIAL_FROM:06d}"


@dataclass
class FleetVehicle:
    vin: str
    spec: ModelSpec
    production_date: date
    sale_date: date
    station: Station
    km_per_day: int
    base_km: int
    id: int | None = None

    def odometer_on(self, day: date) -> int:
        return self.base_km + (day - self.sale_date).days * self.km_per_day


@dataclass
class Repair:
    vehicle: FleetVehicle
    scenario: Scenario
    repair_date: date
    station: Station
    repeat: bool = False
    created_at: datetime | None = None
    lines: list[dict] = field(default_factory=list)


def add_fleet(demo: Demo) -> None:
    """The fleet's vehicles and their claim history, bulk-inserted and committed."""
    vehicles = _sell(demo)
    _insert_vehicles(demo, vehicles)
    repairs = _fail(demo, vehicles)
    _insert_claims(demo, repairs)
    db.session.commit()


# -- vehicles --------------------------------------------------------------------------------------


def _sell(demo: Demo) -> list[FleetVehicle]:
    """Sales over the last FLEET_MONTHS months, growing threefold; in production order."""
    rng, today = demo.rng, demo.today
    span = int(FLEET_MONTHS * DAYS_PER_MONTH)
    weights = [spec.sales_share for spec in MODELS]
    stations = demo.stations
    sales = []
    for _ in range(FLEET_VEHICLES):
        # density of the sale day 0.5 + t over t in [0, 1] (oldest to newest)
        t = rng.random() if rng.random() < 0.5 else math.sqrt(rng.random())
        sale_date = today - timedelta(days=max(3, span - int(t * span)))
        production_date = sale_date - timedelta(days=rng.randint(5, 55))
        spec = rng.choices(MODELS, weights=weights)[0]
        sales.append((production_date, spec.code, sale_date, spec))
    sales.sort(key=lambda sale: sale[:3])
    serials = dict.fromkeys((spec.code for spec in MODELS), FLEET_SERIAL_FROM - 1)
    vehicles = []
    for production_date, code, sale_date, spec in sales:
        serials[code] += 1
        year_code = VIN_YEAR_CODES[(production_date.year - 2010) % 30]
        vin = with_check_digit(
            f"{VIN_WMI}{spec.vin_vds}0{year_code}{spec.vin_plant}{serials[code]:06d}"
        )
        vehicles.append(
            FleetVehicle(
                vin=vin,
                spec=spec,
                production_date=production_date,
                sale_date=sale_date,
                station=rng.choice(stations),
                km_per_day=rng.randint(*spec.km_per_day),
                base_km=rng.randint(5, 60),
            )
        )
    return vehicles


def _insert_vehicles(demo: Demo, vehicles: list[FleetVehicle]) -> None:
    rng, today = demo.rng, demo.today
    rows = [
        {
            "vin": v.vin,
            "model_id": demo.models[v.spec.code].id,
            "engine_no": f"{v.spec.engine_prefix}{v.production_date:%y}"
            f"{rng.randint(0, 999999):06d}",
            "production_date": v.production_date,
            "sale_date": v.sale_date,
            "selling_station_id": v.station.id,
            "owner_name": _owner_name(rng, v.spec),
            "owner_phone": _mobile_number(rng),
            "odometer_km": v.odometer_on(today),
        }
        for v in vehicles
    ]
    db.session.execute(sa.insert(Vehicle.__table__), rows)
    ids = dict(
        db.session.execute(
            sa.select(Vehicle.vin, Vehicle.id).where(is_fleet_vin(Vehicle.vin))
        ).all()
    )
    for vehicle in vehicles:
        vehicle.id = ids[vehicle.vin]


# -- failures --------------------------------------------------------------------------------------


def _weibull_scale(shape: float, months: float, share: float) -> float:
    """The scale that makes `share` fail within `months`: F(months) = share."""
    return months / (-math.log(1 - share)) ** (1 / shape)


def _fail(demo: Demo, vehicles: list[FleetVehicle]) -> list[Repair]:
    """Each vehicle's claimed failures: a Weibull time per scenario that fits its model, claimed
    when before the last repair day and inside the coverage of the part's group."""
    rng, today = demo.rng, demo.today
    parts = {part.number: part for part in demo.parts}
    last_repair = today - timedelta(days=LAST_DECISION_DAYS + 8)
    defect_from = _months_before(today.replace(day=1), DEFECT_MONTHS - 1)
    modes = _modes(parts, int(FLEET_MONTHS * DAYS_PER_MONTH))
    defect_scale = _weibull_scale(DEFECT_SHAPE, 3, DEFECT_F3)
    defect_scenario = next(s for s in REPAIR_SCENARIOS if s.part == DEFECT_PART)
    own_share = OWN_STATION_SHARE
    repairs: list[Repair] = []
    for vehicle in vehicles:
        age = (last_repair - vehicle.sale_date).days / DAYS_PER_MONTH
        if age <= 0:
            continue
        days = (last_repair - vehicle.sale_date).days
        found = []
        for scenario, shape, scale, by_age in modes[vehicle.spec.part_suffix]:
            u = rng.random()
            if u < by_age[days]:  # fails before the last repair day, at F^-1(u)
                found.append((scale * (-math.log(1 - u)) ** (1 / shape), scenario))
        if vehicle.spec.code == DEFECT_MODEL and vehicle.production_date >= defect_from:
            months = defect_scale * (-math.log(1 - rng.random())) ** (1 / DEFECT_SHAPE)
            if months < age:
                found.append((months, defect_scenario))
        seen: set[str] = set()
        for months, scenario in sorted(found, key=lambda f: f[0]):
            if scenario.part in seen:  # one claim per part and vehicle (the duplicate check)
                continue
            seen.add(scenario.part)
            repair_date = vehicle.sale_date + timedelta(days=max(1, int(months * DAYS_PER_MONTH)))
            if not _covered(demo, vehicle, scenario, parts, repair_date):
                continue
            station = vehicle.station
            if rng.random() > own_share:
                station = rng.choice(demo.stations)
            repairs.append(Repair(vehicle, scenario, repair_date, station))
    repeats = []
    for repair in repairs:
        if repair.station.code == OUTLIER_STATION and rng.random() < OUTLIER_REPEAT_SHARE:
            day = repair.repair_date + timedelta(days=rng.randint(*OUTLIER_REPEAT_DAYS))
            if day <= last_repair and _covered(demo, repair.vehicle, repair.scenario, parts, day):
                repeats.append(Repair(repair.vehicle, repair.scenario, day, repair.station, True))
    return repairs + repeats


def _modes(parts: dict[str, Part], days: int) -> dict[str, list[tuple]]:
    """Per model suffix: the scenarios whose causal part it has, with their Weibull shape and
    scale and its CDF by age in days (0 .. `days`), looked up rather than computed per vehicle."""
    per_part = defaultdict(int)
    for scenario in REPAIR_SCENARIOS:
        per_part[scenario.part] += 1
    modes: dict[str, list] = {}
    for spec in MODELS:
        fitting = []
        for scenario in REPAIR_SCENARIOS:
            part = _part_for(parts, scenario.part, spec.part_suffix)
            if part is None:
                continue
            shape = SHAPES[part.group]
            share = P24.get(scenario.part, P24_DEFAULT) / per_part[scenario.part]
            scale = _weibull_scale(shape, 24, share)
            by_age = [
                1 - math.exp(-((d / DAYS_PER_MONTH / scale) ** shape)) for d in range(days + 1)
            ]
            fitting.append((scenario, shape, scale, by_age))
        modes[spec.part_suffix] = fitting
    return modes


def _part_for(parts: dict[str, Part], number: str, suffix: str) -> Part | None:
    return parts.get(f"{number}-{suffix}") or parts.get(number)


def _months_before(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def _covered(demo: Demo, vehicle: FleetVehicle, scenario: Scenario, parts, day: date) -> bool:
    part = _part_for(parts, scenario.part, vehicle.spec.part_suffix)
    policy = demo.models[vehicle.spec.code].policy_for(part.group)
    if policy is None:
        return False
    return coverage_of(policy, vehicle.sale_date, day, vehicle.odometer_on(day)).in_coverage


# -- claims ----------------------------------------------------------------------------------------


def _insert_claims(demo: Demo, repairs: list[Repair]) -> None:
    """Number, price and decide every repair; insert claims, lines, versions and events."""
    rng, today = demo.rng, demo.today
    parts = {part.number: part for part in demo.parts}
    operations = {op.code: op for op in demo.labor_operations}
    fault_codes = {fault.code: fault for fault in demo.fault_codes}
    threshold = ClaimSettings.current().auto_approve_threshold
    auditor = demo.users["auditor"]
    live = local_moment(go_live(today), 0)
    latest = local_moment(today - timedelta(days=LAST_DECISION_DAYS), 0)

    # created on the repair day or up to three days later, in the order of each vehicle's repairs
    last_created: dict[int, datetime] = {}
    for repair in sorted(repairs, key=lambda r: (r.vehicle.id, r.repair_date)):
        day = repair.repair_date + timedelta(days=rng.choice((0, 0, 1, 1, 2, 3)))
        moment = local_moment(day, rng.randint(*WORKDAY))
        previous = last_created.get(repair.vehicle.id)
        if previous is not None and moment <= previous:
            moment = previous + timedelta(minutes=rng.randint(30, 120))
        repair.created_at = last_created[repair.vehicle.id] = moment
    repairs.sort(key=lambda r: (r.created_at, r.vehicle.id))

    sequences = {
        (row.station_id, row.period): row.last_value
        for row in db.session.scalars(
            sa.select(ClaimSequence).where(ClaimSequence.prefix == ClaimType.REPAIR.prefix)
        )
    }
    claims, plans = [], []
    for repair in repairs:
        station, vehicle, scenario = repair.station, repair.vehicle, repair.scenario
        lines = _lines(repair, parts, operations, rng)
        parts_amount = sum(
            (ln["amount"] for ln in lines if ln["kind"] is LineKind.PART), Decimal(0)
        )
        labor = sum((ln["amount"] for ln in lines if ln["kind"] is LineKind.LABOR), Decimal(0))
        other = sum((ln["amount"] for ln in lines if ln["kind"] is LineKind.OTHER), Decimal(0))
        handling = round_money(parts_amount * station.parts_handling_rate)
        total = parts_amount + handling + labor + other
        submitted = repair.created_at + timedelta(minutes=rng.randint(5, 90))
        if total < threshold:
            outcome, decided = "auto", submitted
        else:
            outcome = "reject" if rng.random() < REJECT_SHARE else "approve"
            decided = local_moment(
                local_day(submitted) + timedelta(days=rng.randint(1, 6)), rng.randint(*WORKDAY)
            )
        if decided >= latest:
            continue  # not decided yet: the demo's fleet claims are all decided
        period = local_day(repair.created_at).strftime("%y%m")
        key = (station.id, period)
        sequences[key] = sequences.get(key, 0) + 1
        number = f"{ClaimType.REPAIR.prefix}-{station.code}-{period}-{sequences[key]:04d}"
        approved = outcome != "reject"
        legacy = approved and decided < live
        part = _part_for(parts, scenario.part, vehicle.spec.part_suffix)
        zero = Decimal("0.00")
        claim = {
            "number": number,
            "type": ClaimType.REPAIR,
            "status": ClaimStatus.SETTLED
            if legacy
            else (ClaimStatus.APPROVED if approved else ClaimStatus.REJECTED),
            "version": 1,
            "station_id": station.id,
            "created_by_id": demo.org_users[station.code].id,
            "created_at": repair.created_at,
            "submitted_at": submitted,
            "decided_at": decided,
            "vin": vehicle.vin,
            "vehicle_id": vehicle.id,
            "odometer_km": vehicle.odometer_on(repair.repair_date),
            "repair_date": repair.repair_date,
            "fault_date": max(
                vehicle.sale_date, repair.repair_date - timedelta(days=rng.randint(0, 3))
            ),
            "fault_code_id": fault_codes[scenario.fault].id,
            "causal_part_id": part.id,
            "complaint": _text(scenario.complaint, rng),
            "cause": _text(scenario.cause, rng),
            "correction": _text(scenario.correction, rng),
            "labor_rate": station.labor_rate,
            "km_rate": station.km_rate,
            "parts_handling_rate": station.parts_handling_rate,
            "parts_amount": parts_amount,
            "handling_amount": handling,
            "labor_amount": labor,
            "other_amount": other,
            "total_amount": total,
            "approved_parts_amount": parts_amount if approved else zero,
            "approved_handling_amount": handling if approved else zero,
            "approved_labor_amount": labor if approved else zero,
            "approved_other_amount": other if approved else zero,
            "approved_total_amount": total if approved else zero,
            "auto_decision_rule": f"auto_approve_under_{threshold}" if outcome == "auto" else None,
            "responsible_supplier_id": part.supplier_id if approved else None,
            "decision_reason": "" if approved else _reject_reason(rng),
            "decided_by_id": None if outcome == "auto" else auditor.id,
        }
        for line in lines:
            line["approved_qty"] = line["qty"] if approved else None
            line["approved_hours"] = line["hours"] if approved else None
            line["approved_amount"] = line["amount"] if approved else None
        supplier_code = part.supplier.code if approved else None
        events = _events(claim, outcome, threshold, demo, legacy, supplier_code)
        claim["revision"] = 1 + len(events)
        claim["updated_at"] = events[-1]["at"]
        claims.append(claim)
        plans.append(
            (number, lines, events, _snapshot(claim, part, scenario, lines, parts, operations))
        )

    if not claims:
        raise DemoError("the fleet has no claims")
    db.session.execute(sa.insert(Claim.__table__), claims)
    ids = dict(
        db.session.execute(sa.select(Claim.number, Claim.id).where(is_fleet_vin(Claim.vin))).all()
    )
    line_rows, event_rows, version_rows = [], [], []
    for (number, lines, events, snapshot), claim in zip(plans, claims, strict=True):
        claim_id = ids[number]
        line_rows.extend({**line, "claim_id": claim_id} for line in lines)
        event_rows.extend({**event, "claim_id": claim_id} for event in events)
        version_rows.append(
            {
                "claim_id": claim_id,
                "version": 1,
                "submitted_at": claim["submitted_at"],
                "submitted_by_id": claim["created_by_id"],
                "snapshot": snapshot,
            }
        )
    db.session.execute(sa.insert(ClaimLine.__table__), line_rows)
    db.session.execute(sa.insert(ClaimEvent.__table__), event_rows)
    db.session.execute(sa.insert(ClaimVersion.__table__), version_rows)
    _store_sequences(sequences)


def _text(text, rng) -> str:
    """Chinese, and about a third of the time the English after it, as the stations write."""
    return text.both if rng.random() < 0.3 else text.zh


def _reject_reason(rng) -> str:
    return rng.choice(REJECT_REASONS["repair"]).both


def _lines(repair: Repair, parts, operations, rng) -> list[dict]:
    scenario, vehicle, station = repair.scenario, repair.vehicle, repair.station
    suffix = vehicle.spec.part_suffix
    lines: list[dict] = []

    def add(kind, *, part=None, operation=None, qty=None, hours=None, price=None, amount=None,
            description=""):  # fmt: skip
        lines.append(
            {
                "position": len(lines) + 1,
                "kind": kind,
                "part_id": part.id if part else None,
                "operation_id": operation.id if operation else None,
                "qty": qty,
                "hours": hours,
                "unit_price": price,
                "amount": line_amount(kind, qty=qty, hours=hours, unit_price=price, amount=amount),
                "description": description,
                "reason_code": None,
                "decision_note": "",
            }
        )

    causal = _part_for(parts, scenario.part, suffix)
    add(LineKind.PART, part=causal, qty=scenario.qty, price=causal.price_on(repair.repair_date))
    operation = operations[scenario.operation]
    add(LineKind.LABOR, operation=operation, hours=operation.standard_hours,
        price=station.labor_rate)  # fmt: skip
    for extra in scenario.extras:
        if extra.kind == "part":
            part = _part_for(parts, extra.ref, suffix)
            add(LineKind.PART, part=part, qty=1, price=part.price_on(repair.repair_date))
        else:
            add(LineKind.OTHER, amount=Decimal(extra.amount), description=extra.ref)
    if station.code == OUTLIER_STATION:
        diagnosis = operations[DIAGNOSIS_OPERATION]
        if operation is not diagnosis:
            add(LineKind.LABOR, operation=diagnosis, hours=diagnosis.standard_hours,
                price=station.labor_rate)  # fmt: skip
        add(LineKind.OTHER, amount=Decimal(rng.randint(150, 400)), description=CONSUMABLES)
    return lines


def _events(
    claim: dict, outcome: str, threshold: Decimal, demo: Demo, legacy: bool, supplier_code
) -> list[dict]:
    station_user = claim["created_by_id"]
    total = claim["total_amount"]

    def event(at, user, action, from_status, to_status, reason="", message=None):
        """A timeline entry: `reason` what a person wrote, `message` the portal's own words (a
        key of portal.messages and its parameters, written out in the reader's language)."""
        return {
            "at": at,
            "user_id": user,
            "action": action,
            "from_status": from_status,
            "to_status": to_status,
            "reason": reason,
            "version": 1,
            "message_key": message[0] if message else None,
            "params": plain_params(message[1]) if message else None,
        }

    submitted, decided = claim["submitted_at"], claim["decided_at"]
    events = [
        event(claim["created_at"], station_user, "created", None, "draft"),
        event(submitted, station_user, "submitted", "draft", "submitted"),
    ]
    if outcome == "auto":
        why = (AUTO_APPROVED, {"total": total, "threshold": threshold})
        events.append(event(decided, None, "auto_approved", "submitted", "approved", message=why))
    else:
        why = (QUEUED_OVER_THRESHOLD, {"total": total, "threshold": threshold})
        events.append(event(submitted, None, "queued", "submitted", "in_review", message=why))
        status = "approved" if outcome == "approve" else "rejected"
        note = claim["decision_reason"]
        if supplier_code is not None:
            note = f"{note} [supplier {supplier_code}]".strip()
        events.append(event(decided, demo.users["auditor"].id, status, "in_review", status, note))
    if legacy:
        day = local_day(decided).replace(day=1)
        following = date(day.year + day.month // 12, day.month % 12 + 1, 3)
        settled = local_moment(following, demo.rng.randint(9 * 60, 11 * 60))
        events.append(
            event(settled, None, "settled", "approved", "settled", SETTLED_BEFORE_GO_LIVE)
        )
    return events


def _snapshot(claim: dict, part: Part, scenario: Scenario, lines, parts, operations) -> dict:
    """What `portal.claims.operations.snapshot` keeps of a submitted claim."""
    by_id = {p.id: p.number for p in parts.values()}
    op_by_id = {op.id: op.code for op in operations.values()}

    def label(line):
        if line["part_id"]:
            return by_id[line["part_id"]]
        if line["operation_id"]:
            return op_by_id[line["operation_id"]]
        return line["description"] or line["kind"].value

    def plain(value):
        return str(value) if isinstance(value, Decimal) else value

    return {
        "vin": claim["vin"],
        "odometer_km": claim["odometer_km"],
        "repair_date": claim["repair_date"].isoformat(),
        "fault_date": claim["fault_date"].isoformat(),
        "complaint": claim["complaint"],
        "cause": claim["cause"],
        "correction": claim["correction"],
        "goodwill_reason": "",
        "fulfilment": None,
        "fault_code": scenario.fault,
        "causal_part": part.number,
        "total_amount": str(claim["total_amount"]),
        "lines": [
            {
                "kind": line["kind"].value,
                "item": label(line),
                "qty": line["qty"],
                "hours": plain(line["hours"]),
                "unit_price": plain(line["unit_price"]),
                "amount": str(line["amount"]),
                "description": line["description"],
            }
            for line in lines
        ],
        "attachments": [],
    }


def _store_sequences(sequences: dict) -> None:
    """The stations' repair-claim counters continue after the fleet's numbers."""
    prefix = ClaimType.REPAIR.prefix
    existing = {
        (row.station_id, row.period): row
        for row in db.session.scalars(
            sa.select(ClaimSequence).where(ClaimSequence.prefix == prefix)
        )
    }
    for (station_id, period), value in sequences.items():
        row = existing.get((station_id, period))
        if row is None:
            db.session.add(
                ClaimSequence(prefix=prefix, station_id=station_id, period=period, last_value=value)
            )
        else:
            row.last_value = value
    db.session.flush()
