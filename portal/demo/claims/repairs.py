"""The plans of repairs: break-in maintenance, warranty repairs, duplicates, appraisals and
their major-assembly claims."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

from portal.claims.models import ClaimStatus
from portal.demo.claims.decisions import RECIPE_LINES
from portal.demo.claims.intents import Intent, VehicleState, lifecycle
from portal.demo.claims.script import Files, Script
from portal.demo.claims.stories import (
    AUTO,
    CAUSE_ADDENDA,
    CLAIM_MIX,
    DRAFT,
    FINAL_STATUS,
    GOODWILL_REASONS,
    LABOR_OVER_REASONS,
    MAJOR_ASSEMBLY_SCENARIOS,
    PARTIAL,
    REPAIR_SCENARIOS,
    RETURN,
    RETURN_REASONS,
    TOWING_FEE,
    Extra,
    Scenario,
    T,
)
from portal.demo.context import DemoError
from portal.masterdata.coverage import coverage_of
from portal.masterdata.models import Part, Station, Vehicle


class RepairPlans:
    """`Planner`'s plans of repairs (a mixin: the vehicles, amounts and texts are the planner's)."""

    def break_in_intents(self) -> list[Intent]:
        intents = [
            Intent("break_in", flavour, outcome, returns)
            for kind, flavour, outcome, returns, count in CLAIM_MIX
            if kind == "break_in"
            for _ in range(count)
        ]
        self._assign_stations(intents)
        return intents

    # break-in maintenance (走保): the vehicle first, then a day inside its window
    def plan_break_in(self, intent: Intent) -> bool:
        rng, last = self.rng, self.today - timedelta(days=1)
        events = lifecycle(rng, intent.outcome, 0, comments=False)
        length = events[-1][0]
        for state in self.candidates_for_break_in(intent.station):
            model, vehicle = state.vehicle.model, state.vehicle
            first = vehicle.sale_date + timedelta(days=1)
            latest = min(
                vehicle.sale_date + timedelta(days=model.break_in_days),
                last - timedelta(days=length),
            )
            if intent.outcome == DRAFT:
                first = max(first, last - timedelta(days=13 + length))
            odometer = max(state.odometer, model.break_in_min_km) + rng.randint(0, 150)
            if latest < first or odometer > model.break_in_max_km:
                continue
            intent.events, intent.repair_offsets = events, [0]
            intent.start = first + timedelta(days=rng.randint(0, (latest - first).days))
            payload = {
                "type": "break_in",
                "vin": vehicle.vin,
                "odometer_km": odometer,
                "repair_date": intent.start.isoformat(),
                "correction": self.text(
                    T(
                        "首次走合保养：更换机油及机油滤清器，检查底盘紧固件及各油液液位。",
                        "First break-in service: oil and filter changed, chassis bolts "
                        "torqued, fluids checked.",
                    )
                ),
            }
            files = [self.photos(1, ("走保卡",))] if rng.random() < 0.4 else [[]]
            script = Script(
                self.key(),
                self.user(intent.station),
                [payload],
                files,
                expects=[ClaimStatus.APPROVED],
            )
            self.schedule(intent, [script])
            state.broken_in = True
            self.book(state, intent, [odometer], [None])
            return True
        raise DemoError("no vehicle is left inside its break-in window")

    def candidates_for_break_in(self, station: Station) -> list[VehicleState]:
        states = [
            s
            for s in self.states
            if not s.broken_in and s.busy_until <= s.vehicle.sale_date + timedelta(days=1)
        ]
        own = [s for s in states if s.vehicle.selling_station.id == station.id]
        others = [s for s in states if s.vehicle.selling_station.id != station.id]
        self.rng.shuffle(own)
        self.rng.shuffle(others)
        return own + others

    # warranty repairs (保修单)
    def plan_repair(self, intent: Intent) -> bool:
        day, step = intent.repair_day(), self.odometer_step()
        goodwill = intent.flavour == "goodwill"
        for state in self.candidates(intent, day):
            for scenario, part in self.repairs_for(state, day, REPAIR_SCENARIOS):
                if intent.flavour == "other_model_part":
                    # The station fits another model's variant of the part: part_not_for_model.
                    part = self.other_model_part(scenario.part, state.vehicle)
                    if part is None:
                        continue
                odometer = state.odometer + step
                if self.covered(state.vehicle, part, day, odometer) == goodwill:
                    continue
                script = self.repair_script(intent, state.vehicle, scenario, part, odometer)
                if script is not None:
                    self.schedule(intent, [script])
                    self.book(state, intent, [odometer], [part])
                    return True
        return False

    def repairs_for(self, state: VehicleState, day: date, scenarios) -> Iterator[tuple]:
        """The scenarios (with the vehicle's variant of the part) not repaired lately."""
        scenarios = list(scenarios)
        self.rng.shuffle(scenarios)
        for scenario in scenarios:
            part = self.part_for(scenario.part, state.vehicle)
            if part is not None and not self.recently_repaired(state, part, day):
                yield scenario, part

    def repair_payload(
        self,
        vehicle: Vehicle,
        scenario: Scenario,
        part: Part,
        odometer: int,
        day: date,
        *,
        extra_lines: tuple = (),
        labor_over: str = "",
        goodwill: str = "",
        hours: Decimal | None = None,
        claim_type: str = "repair",
    ) -> dict:
        operation = self.operations[scenario.operation]
        hours = operation.standard_hours if hours is None else hours
        lines = [
            {"kind": "part", "part_number": part.number, "qty": scenario.qty},
            {
                "kind": "labor",
                "operation_code": operation.code,
                "hours": str(hours),
                "description": labor_over,
            },
        ]
        for extra in (*scenario.extras, *extra_lines):
            if extra.kind == "part":
                extra_part = self.part_for(extra.ref, vehicle)
                if extra_part is not None:
                    lines.append({"kind": "part", "part_number": extra_part.number, "qty": 1})
            else:
                lines.append({"kind": "other", "amount": extra.amount, "description": extra.ref})
        fault_day = max(vehicle.sale_date, day - timedelta(days=self.rng.randint(0, 4)))
        return {
            "type": claim_type,
            "vin": vehicle.vin,
            "odometer_km": odometer,
            "repair_date": day.isoformat(),
            "fault_date": fault_day.isoformat(),
            "fault_code": scenario.fault,
            "causal_part": part.number,
            "complaint": self.text(scenario.complaint),
            "cause": self.text(scenario.cause),
            "correction": self.text(scenario.correction),
            "goodwill_reason": goodwill,
            "lines": lines,
        }

    def repair_script(
        self, intent: Intent, vehicle: Vehicle, scenario: Scenario, part: Part, odometer: int
    ) -> Script | None:
        """The script of a repair story, or None when the repair's amount does not fit it."""
        rng, station, flavour, outcome = self.rng, intent.station, intent.flavour, intent.outcome
        day = intent.repair_day()
        operation = self.operations[scenario.operation]
        recipe, extra_lines = "", ()
        if outcome == PARTIAL:
            recipe = {"labor": "excessive_labor", "goodwill": "goodwill"}.get(
                flavour
            ) or rng.choice(("diagnosis", "towing", "wear_item", "part_not_returned"))
            extra_lines = RECIPE_LINES.get(recipe, ())
        elif flavour == "costly" and rng.random() < 0.3:
            extra_lines = (Extra("other", TOWING_FEE, f"{rng.randint(30, 90) * 10}.00"),)
        labor_over, hours, goodwill = "", operation.standard_hours, ""
        if flavour == "labor":
            labor_over = rng.choice(LABOR_OVER_REASONS).both
            hours += Decimal(rng.choice(("0.50", "1.00", "1.50", "2.00")))
        if flavour == "goodwill":
            policy = vehicle.model.policy_for(part.group)
            coverage = coverage_of(policy, vehicle.sale_date, day, odometer)
            months = (day - coverage.expires_on).days // 30 + 1
            reason = rng.choice(GOODWILL_REASONS[coverage.reason])
            goodwill = reason.both.format(months=months, limit=policy.km)
        first = self.repair_payload(
            vehicle,
            scenario,
            part,
            odometer,
            day,
            extra_lines=extra_lines,
            labor_over=labor_over,
            goodwill=goodwill,
            hours=hours,
        )
        payloads, files, reasons = [first], [self.claim_files()], []
        asked = ["labor"] if flavour == "labor" else rng.sample(("photos", "cause"), 2)
        for reason in asked[: intent.returns]:  # what the station changes after each return
            reasons.append(RETURN_REASONS[reason].both)
            following = dict(payloads[-1])
            added: Files = []
            if reason == "labor":
                following["lines"] = [
                    {**line, "hours": str(operation.standard_hours), "description": ""}
                    if line.get("operation_code") == operation.code
                    else line
                    for line in following["lines"]
                ]
            elif reason == "cause":
                following["cause"] += " " + rng.choice(CAUSE_ADDENDA).both
            else:
                added = self.photos(2, ("补充故障件照片", "补充故障码截图"))
            payloads.append(following)
            files.append(added)
        # Each submission must land where the story says: auto-approved, or in the queue.
        expects = []
        for index, payload in enumerate(payloads):
            flagged = flavour in ("goodwill", "other_model_part") or (
                flavour == "labor" and index == 0
            )
            auto = not flagged and self.auto_approvable(station, payload)
            if outcome == DRAFT:
                if auto != (flavour == "cheap"):
                    return None
                continue
            wants_auto = outcome == AUTO and index == len(payloads) - 1
            if auto != wants_auto:
                return None
            expects.append(ClaimStatus.APPROVED if wants_auto else ClaimStatus.IN_REVIEW)
        script = Script(self.key(), self.user(station), payloads, files, expects, reasons)
        self.add_talk(intent, script)
        self.add_decision(
            script,
            outcome,
            recipe,
            "goodwill" if flavour == "goodwill" else "repair",
            return_reason=rng.choice(("photos", "cause")),
        )
        return script

    def plan_duplicate(self, intent: Intent) -> bool:
        day, second_day = intent.repair_day(0), intent.repair_day(1)
        step, step2 = self.odometer_step(), self.odometer_step()
        for state in self.candidates(intent, day):
            vehicle = state.vehicle
            for scenario, part in self.repairs_for(state, day, REPAIR_SCENARIOS):
                odometer, odometer2 = state.odometer + step, state.odometer + step + step2
                if not (
                    self.covered(vehicle, part, day, odometer)
                    and self.covered(vehicle, part, second_day, odometer2)
                ):
                    continue
                first = self.repair_payload(vehicle, scenario, part, odometer, day)
                if self.auto_approvable(intent.station, first) != (intent.then == AUTO):
                    continue
                second = self.repair_payload(vehicle, scenario, part, odometer2, second_day)
                second["complaint"] = (
                    "同一故障再次出现。 The same fault came back. " + second["complaint"]
                )
                user = self.user(intent.station)
                one = Script(
                    self.key(),
                    user,
                    [first],
                    [self.claim_files()],
                    [FINAL_STATUS[AUTO] if intent.then == AUTO else ClaimStatus.IN_REVIEW],
                )
                self.add_decision(one, intent.then)
                two = Script(self.key(), user, [second], [self.photos(2)], [ClaimStatus.IN_REVIEW])
                self.add_talk(intent, two, index=1)
                self.add_decision(two, intent.outcome, "duplicate", "duplicate", other_key=one.key)
                self.schedule(intent, [one, two])
                self.book(state, intent, [odometer, odometer2], [part, part])
                return True
        return False

    # appraisal (鉴定单), and the major-assembly claim (大总成单) it allows
    def plan_appraisal(self, intent: Intent) -> bool:
        rng, day = self.rng, intent.repair_day(0)
        chained = bool(intent.then)
        days = [day, intent.repair_day(1)] if chained else [day]
        step = self.odometer_step()
        for state in self.candidates(intent, day):
            vehicle = state.vehicle
            for scenario, part in self.repairs_for(state, day, MAJOR_ASSEMBLY_SCENARIOS):
                odometer = state.odometer + step
                if not all(self.covered(vehicle, part, d, odometer + 100) for d in days):
                    continue
                fault_day = max(vehicle.sale_date, day - timedelta(days=rng.randint(0, 3)))
                payload = {
                    "type": "appraisal",
                    "vin": vehicle.vin,
                    "odometer_km": odometer,
                    "repair_date": day.isoformat(),
                    "fault_date": fault_day.isoformat(),
                    "fault_code": scenario.fault,
                    "causal_part": part.number,
                    "complaint": self.text(scenario.complaint),
                    "cause": self.text(scenario.cause),
                    "correction": self.text(
                        T("申请更换总成。", "Requesting a replacement assembly.")
                    ),
                }
                photos = (
                    []
                    if intent.outcome == RETURN
                    else self.photos(rng.randint(2, 3), ("拆检照片",))
                )
                appraisal = Script(
                    self.key(),
                    self.user(intent.station),
                    [payload],
                    [photos],
                    [ClaimStatus.IN_REVIEW],
                )
                self.add_talk(intent, appraisal)
                self.add_decision(
                    appraisal,
                    intent.outcome,
                    "",
                    "appraisal",
                    return_reason="teardown",
                    approve_reason="同意更换总成，请在30天内提交大总成单。 Approved: file the "
                    "major-assembly claim within 30 days.",
                )
                scripts, odometers = [appraisal], [odometer]
                if chained:
                    odometers.append(odometer + rng.randint(0, 100))
                    scripts.append(
                        self.major_assembly_script(intent, vehicle, scenario, part, odometers[-1])
                    )
                self.schedule(intent, scripts)
                self.book(state, intent, odometers, [part] * len(scripts))
                return True
        return False

    def major_assembly_script(
        self, intent: Intent, vehicle: Vehicle, scenario: Scenario, part: Part, odometer: int
    ) -> Script:
        rng, outcome = self.rng, intent.then
        operation = self.operations[scenario.operation]
        recipe = "excessive_labor" if outcome == PARTIAL and rng.random() < 0.5 else "towing"
        labor_over, hours, extra = "", operation.standard_hours, ()
        if recipe == "excessive_labor":
            labor_over, hours = rng.choice(LABOR_OVER_REASONS).both, hours + Decimal("2.00")
        else:
            extra = (Extra("other", TOWING_FEE, f"{rng.randint(40, 120) * 10}.00"),)
        payload = self.repair_payload(
            vehicle,
            scenario,
            part,
            odometer,
            intent.repair_day(1),
            extra_lines=extra,
            labor_over=labor_over,
            hours=hours,
            claim_type="major_assembly",
        )
        returns = 1 if intent.flavour == "ma-resubmitted" else 0
        script = Script(
            self.key(),
            self.user(intent.station),
            [payload] * (1 + returns),
            [self.photos(2, ("总成铭牌", "损坏部位"))] + [self.photos(2, ("旧件照片",))] * returns,
            [ClaimStatus.IN_REVIEW] * (1 + returns),
            [RETURN_REASONS["photos"].both] * returns,
        )
        self.add_talk(intent, script, index=1)
        self.add_decision(script, outcome, recipe, "repair")
        return script
