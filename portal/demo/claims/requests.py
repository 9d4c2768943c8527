"""The plans of requests: roadside trips (外出急救单), outsourced purchases (外购申请单) and
emergency parts (紧急调件单), with the repairs that draw on them."""

from __future__ import annotations

from decimal import Decimal

from portal.claims.models import ClaimStatus
from portal.demo.claims.intents import Intent
from portal.demo.claims.script import Run, Script
from portal.demo.claims.stories import (
    APPROVE,
    AUTO,
    CARRIERS,
    EMERGENCY_PARTS,
    FINAL_STATUS,
    LABOR_OVER_REASONS,
    LOCAL_VENDORS,
    OUTSOURCED_PARTS,
    REPAIR_SCENARIOS,
    RETURN_REASONS,
    ROADS,
    ROADSIDE_STORIES,
    TOWING_FEE,
    Scenario,
    T,
)
from portal.demo.files import photo
from portal.masterdata.models import Part, Vehicle
from portal.money import round_money


class RequestPlans:
    """`Planner`'s plans of requests (a mixin: vehicles, amounts and texts are the planner's)."""

    # roadside emergency (外出急救单)
    def plan_roadside(self, intent: Intent) -> bool:
        rng, station, day = self.rng, intent.station, intent.repair_day()
        costly, step = intent.flavour == "costly", self.odometer_step()
        for state in self.candidates(intent, day):
            vehicle = state.vehicle
            for _ in range(4):
                km = rng.randint(330, 620) if costly else rng.randint(30, 260)
                hours = Decimal(rng.randint(3, 10) if costly else rng.randint(2, 8)) / 2
                tolls = Decimal(rng.randint(0, 32) * 10 if costly else rng.randint(0, 18) * 5)
                complaint, cause, correction, fault = rng.choice(ROADSIDE_STORIES)
                road, at_km = rng.choice(ROADS), rng.randint(12, 1800)
                lines = [{"kind": "trip", "qty": km}, {"kind": "labor", "hours": f"{hours:.2f}"}]
                if tolls:
                    lines.append(
                        {"kind": "other", "amount": f"{tolls:.2f}", "description": "Tolls"}
                    )
                payload = {
                    "type": "roadside",
                    "vin": vehicle.vin,
                    "odometer_km": state.odometer + step,
                    "repair_date": day.isoformat(),
                    "fault_date": day.isoformat(),
                    "fault_code": fault,
                    "complaint": self.text(
                        T(
                            complaint.zh.format(road=road, km=at_km),
                            complaint.en.format(road=road, km=at_km),
                        )
                    ),
                    "cause": self.text(cause),
                    "correction": self.text(correction),
                    "lines": lines,
                }
                payloads = [payload]
                if intent.returns:  # first claimed with a towing fee it had no invoice for
                    towing = {"kind": "other", "amount": "1800.00", "description": TOWING_FEE}
                    payloads = [{**payload, "lines": [*lines, towing]}, payload]
                    if self.auto_approvable(station, payloads[0]):
                        continue
                if self.auto_approvable(station, payload) == costly:
                    continue
                toll_receipt = self.receipt(
                    "过路费发票.pdf",
                    [
                        "Expressway toll receipt",
                        f"Road {road[:3]}",
                        f"Amount CNY {tolls:.2f}",
                        f"Date {day.isoformat()}",
                    ],
                )
                site_photo = ("现场照片.png", photo(rng))
                files = (
                    [[site_photo], [toll_receipt]]
                    if intent.returns
                    else [[toll_receipt, site_photo]]
                )
                expects = [ClaimStatus.IN_REVIEW] * intent.returns + [
                    FINAL_STATUS[AUTO] if intent.outcome == AUTO else ClaimStatus.IN_REVIEW
                ]
                script = Script(
                    self.key(),
                    self.user(station),
                    payloads,
                    files,
                    expects,
                    [RETURN_REASONS["towing"].both] * intent.returns,
                )
                self.add_talk(intent, script)
                self.add_decision(
                    script,
                    intent.outcome,
                    rng.choice(("trip_km", "roadside_hours")),
                    "roadside",
                    return_reason="receipt",
                )
                self.schedule(intent, [script])
                self.book(state, intent, [state.odometer + step], [None])
                return True
        return False

    # outsourced purchase (外购申请单) and the repair that draws on its cap
    def plan_outsourced(self, intent: Intent) -> bool:
        rng, station, day = self.rng, intent.station, intent.repair_day(0)
        chained = bool(intent.then)
        scenarios = [s for s in REPAIR_SCENARIOS if s.part in OUTSOURCED_PARTS]
        step = self.odometer_step()
        for state in self.candidates(intent, day):
            vehicle = state.vehicle
            for scenario, part in self.repairs_for(state, day, scenarios):
                odometer = state.odometer + step
                later = intent.repair_day(1) if chained else day
                if not (
                    self.covered(vehicle, part, day, odometer)
                    and self.covered(vehicle, part, later, odometer + 300)
                ):
                    continue
                price = part.price_on(day)
                quote = round_money(price * Decimal(rng.randint(112, 135)) / 100)
                cap = round_money(price * Decimal("1.10"))
                wait, vendor = rng.randint(10, 25), rng.choice(LOCAL_VENDORS)
                request = {
                    "type": "outsourced_purchase",
                    "vin": vehicle.vin,
                    "odometer_km": odometer,
                    "repair_date": day.isoformat(),
                    "causal_part": part.number,
                    "complaint": (
                        f"配件中心{part.name.split(' ')[0]}缺货，预计{wait}天到货，"
                        "客户车辆停驶，申请本地外购。 "
                        f"Parts centre out of stock ({wait} days); the vehicle is off the road, "
                        "local purchase requested."
                    ),
                    "lines": [
                        {
                            "kind": "other",
                            "amount": f"{quote:.2f}",
                            "description": f"外购报价 Local quotation: {vendor}",
                        }
                    ],
                }
                quotation = self.receipt(
                    "外购报价单.pdf",
                    [
                        "Quotation",
                        f"Part {part.number}",
                        f"Price CNY {quote:.2f}",
                    ],
                )
                script = Script(
                    self.key(),
                    self.user(station),
                    [request],
                    [[quotation]],
                    [ClaimStatus.IN_REVIEW],
                )
                self.add_talk(intent, script)
                self.add_decision(
                    script,
                    intent.outcome,
                    "cap",
                    "outsourced",
                    cap=cap,
                    approve_reason="同意外购，以报价金额为上限，有效期60天。 Approved: the "
                    "quotation is the cap, valid for 60 days.",
                )
                scripts, odometers = [script], [odometer]
                if chained:
                    approved_cap = quote if intent.outcome == APPROVE else cap
                    repair = self.outsourced_repair(
                        intent, vehicle, scenario, part, odometer + 300, script, approved_cap
                    )
                    if repair is None:
                        continue
                    scripts.append(repair)
                    odometers.append(odometer + 300)
                self.schedule(intent, scripts)
                self.book(state, intent, odometers, [part] * len(scripts))
                return True
        return False

    def outsourced_repair(
        self,
        intent: Intent,
        vehicle: Vehicle,
        scenario: Scenario,
        part: Part,
        odometer: int,
        request: Script,
        cap: Decimal,
    ) -> Script | None:
        """The repair that pays the local invoice, up to the request's approved cap."""
        rng, station, outcome = self.rng, intent.station, intent.then
        invoice = round_money(cap * Decimal(rng.randint(92, 100)) / 100)
        operation = self.operations[scenario.operation]
        labor_over, hours = "", operation.standard_hours
        if outcome != AUTO:  # extra hours to fit the local part: flagged for the auditor
            labor_over, hours = rng.choice(LABOR_OVER_REASONS).both, hours + Decimal("1.00")
        payload = self.repair_payload(vehicle, scenario, part, odometer, intent.repair_day(1))
        payload["lines"] = [
            {
                "kind": "other",
                "amount": f"{invoice:.2f}",
                "description": f"外购发票 Invoice No. {rng.randint(10**9, 10**10 - 1)}",
            },
            {
                "kind": "labor",
                "operation_code": operation.code,
                "hours": str(hours),
                "description": labor_over,
            },
        ]
        if (outcome == AUTO) != self.auto_approvable(station, payload):
            return None

        def with_request(run: Run) -> dict:
            return {**payload, "outsourced_request": run.claims[request.key].number}

        invoice_pdf = self.receipt("外购发票.pdf", ["VAT invoice", f"Amount CNY {invoice:.2f}"])
        script = Script(
            self.key(),
            self.user(station),
            [with_request],
            [[invoice_pdf]],
            [FINAL_STATUS[AUTO] if outcome == AUTO else ClaimStatus.IN_REVIEW],
        )
        self.add_talk(intent, script, index=1)
        self.add_decision(script, outcome, "excessive_labor", "repair")
        return script

    # emergency part transfer (紧急调件单)
    def plan_emergency(self, intent: Intent) -> bool:
        rng, station, day = self.rng, intent.station, intent.repair_day()
        fulfilment, step = intent.flavour.split("-")[0], self.odometer_step()
        for state in self.candidates(intent, day):
            part = self.part_for(rng.choice(EMERGENCY_PARTS), state.vehicle)
            if part is None:
                continue
            payload = {
                "type": "emergency_part",
                "vin": state.vehicle.vin,
                "odometer_km": state.odometer + step,
                "repair_date": day.isoformat(),
                "complaint": self.text(
                    T(
                        f"车辆停驶待件（VOR），{part.name.split(' ')[0]}本站无库存，客户急需。",
                        f"Vehicle off the road waiting for {part.number}; none in stock here.",
                    )
                ),
                "fulfilment": "regular" if fulfilment == "regular" else "drop_ship",
                "lines": [{"kind": "part", "part_number": part.number, "qty": 1}],
            }
            shipper = self.auditor  # a regular shipment leaves the OEM parts centre
            if fulfilment == "station":
                shipping = rng.choice([s for s in self.demo.stations if s.id != station.id])
                payload["shipper_code"], shipper = shipping.code, self.user(shipping)
            elif fulfilment == "supplier":
                payload["shipper_code"] = part.supplier.code
                shipper = self.demo.org_users[part.supplier.code]
            carrier, prefix = rng.choice(CARRIERS)
            tracking = f"{prefix}{rng.randint(10**11, 10**12 - 1)}"
            script = Script(
                self.key(),
                self.user(station),
                [payload],
                [[]],
                [ClaimStatus.IN_REVIEW],
                shipper=shipper,
                shipment=(carrier, tracking, Decimal(rng.randint(35, 260))),
            )
            self.add_decision(
                script,
                intent.outcome,
                "",
                "emergency",
                return_reason="vor",
                approve_reason="同意调件，请尽快发货。 Approved: please ship at once.",
            )
            self.schedule(intent, [script])
            self.book(state, intent, [state.odometer + step], [None])
            return True
        return False
