"""The demo's extended warranty contracts (延保 / 服务协议) and repairs covered thanks to them.

Most owners bought two more years of basic coverage (some with powertrain too) with the vehicle
or later, starting the day their basic policy ends, up to 50,000 km more than the policy: a few
hundred contracts, most of them not yet in force. The contracts are recorded after the half year
of claims (`claims`), so those claims stand as they were judged; then, yesterday, stations repair
a few vehicles whose basic policy has ended: the coverage check accepts them thanks to their
contracts and marks the claims so, and the auditor approves them before finance's draft run of
the evening (their old parts wait at the stations). The analysis pages' "contract" filter shows
them apart.
"""

from __future__ import annotations

import random
from datetime import timedelta

from portal.claims.decisions import Decision, decide_claim
from portal.claims.models import ClaimStatus
from portal.claims.operations import create_claim, submit_claim
from portal.claims.payload import parse_claim
from portal.claims.rules import last_known_odometer
from portal.demo.clock import act, local_moment
from portal.demo.context import Demo, DemoError
from portal.extensions import db
from portal.masterdata.coverage import coverage_of, months_end
from portal.masterdata.models import Vehicle, WarrantyContract

CONTRACT_SHARE = 0.7  # of the vehicles: a contract is sold with most new vehicles
CONTRACT_REPAIRS = 3  # repairs covered only thanks to a contract
EXTRA_MONTHS = 24
EXTRA_KM = 50000


def _own_rng(demo: Demo) -> random.Random:
    """A generator of its own, seeded from the demo's without drawing from it: the steps after
    this one make the same data with or without the contracts."""
    return random.Random(sum(demo.rng.getstate()[1][:8]))


def _contract_rows(rng: random.Random, vehicle: Vehicle, serial: int) -> list[WarrantyContract]:
    model = vehicle.model
    number = f"YB{vehicle.sale_date:%y}{serial:05d}"
    groups = ["basic"] + (["powertrain"] if rng.random() < 0.3 else [])
    rows = []
    for group in groups:
        policy = model.policy_for(group)
        if policy is None:
            continue
        rows.append(
            WarrantyContract(
                number=number,
                vehicle=vehicle,
                group=group,
                start_date=months_end(vehicle.sale_date, policy.months) + timedelta(days=1),
                months=EXTRA_MONTHS,
                km=policy.km + EXTRA_KM,
            )
        )
    return rows


def add_contracts(demo: Demo) -> None:
    """Contracts on most vehicles, then a few repairs covered only thanks to one."""
    rng, today = _own_rng(demo), demo.today
    covered = [v for v in demo.vehicles if v.model.policy_for("basic") is not None]
    chosen = rng.sample(covered, max(1, int(len(covered) * CONTRACT_SHARE)))
    # Every vehicle whose basic policy has ended by time and that is still within the
    # contract's km gets one, so that the repairs below have vehicles to be filed on.
    ended = [
        v
        for v in covered
        if (basic_end := months_end(v.sale_date, v.model.policy_for("basic").months))
        < today - timedelta(30)
        and months_end(basic_end + timedelta(days=1), EXTRA_MONTHS) > today
        and last_known_odometer(v, None) + 1000 <= v.model.policy_for("basic").km + EXTRA_KM
    ]
    repaired = {claim.vehicle_id for claim in demo.claims}
    ended.sort(key=lambda v: v.id in repaired)  # a vehicle without claims yet first
    candidates = ended[: CONTRACT_REPAIRS * 2]
    for vehicle in candidates:
        if vehicle not in chosen:
            chosen.append(vehicle)
    rows = [
        row
        for serial, vehicle in enumerate(sorted(chosen, key=lambda v: v.vin), start=1)
        for row in _contract_rows(rng, vehicle, serial)
    ]
    demo.add(rows)
    db.session.commit()
    _repairs_thanks_to_contracts(demo, rng, [v for v in candidates if v.contracts])


def _repairs_thanks_to_contracts(demo: Demo, rng: random.Random, vehicles: list[Vehicle]) -> None:
    """Stations repair a basic-group part of `CONTRACT_REPAIRS` vehicles whose basic policy has
    ended (at least two)."""
    today, auditor = demo.today, demo.users["auditor"]
    repair_day = today - timedelta(days=2)
    done = 0
    for vehicle in vehicles:
        if done == CONTRACT_REPAIRS:
            return
        part = next(
            (
                p
                for p in demo.parts
                if p.group == "basic"
                and not p.is_major_assembly
                and (not p.fits or any(fit.model_id == vehicle.model_id for fit in p.fits))
                and p.price_on(repair_day) is not None
            ),
            None,
        )
        station = vehicle.selling_station
        user = demo.org_users.get(station.code) if station is not None else None
        if part is None or user is None:
            continue
        odometer = last_known_odometer(vehicle, None) + rng.randint(200, 900)
        policy = vehicle.model.policy_for("basic")
        if coverage_of(policy, vehicle.sale_date, repair_day, odometer).in_coverage:
            continue
        payload = {
            "type": "repair",
            "vin": vehicle.vin,
            "odometer_km": odometer,
            "repair_date": repair_day.isoformat(),
            "fault_date": repair_day.isoformat(),
            "fault_code": demo.fault_codes[0].code,
            "causal_part": part.number,
            "complaint": "客户反映异响，车辆在延保期内。 Noise reported; the vehicle is under an "
            "extended warranty contract.",
            "cause": "零件磨损失效。 The part wore out.",
            "correction": "更换零件。 Part replaced.",
            "lines": [{"kind": "part", "part_number": part.number, "qty": 1}],
        }
        filed = local_moment(today - timedelta(days=1), 10 * 60 + 40 * done)

        def file(payload=payload, user=user):
            claim = create_claim(user, parse_claim(payload))
            return submit_claim(claim, user)

        claim = act(filed, file)
        if claim.contract is None:
            raise DemoError(f"{claim.number} was not covered thanks to its contract")
        if claim.status is ClaimStatus.IN_REVIEW:
            act(
                local_moment(today - timedelta(days=1), 15 * 60 + 10 * done),
                lambda claim=claim: decide_claim(claim.id, auditor, Decision(action="approve")),
            )
        demo.claims.append(claim)
        done += 1
    if done < 2:
        raise DemoError("too few vehicles to repair thanks to an extended warranty contract")
