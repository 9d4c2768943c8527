"""Planning the claims: each story (an intent) gets its days, a station, a vehicle and a
repair that fit, and becomes the scripts of its claims.

1. *Intents* (`CLAIM_MIX`): what each story ends as, e.g. "a costly repair, returned once for
   photos, then partially approved" or "an appraisal approved, then its major-assembly claim".
2. Each intent gets the days of its events (create, submit, return, resubmit, comment, decide,
   ship, receive) and a start day within the last half year; an intent that ends in a state
   people are still working on (a draft, a claim in review, a returned one) ends recently.
3. In the order of their start days, each intent gets a vehicle and a repair that fit: sold
   before the repair, inside the coverage of the causal part's group (or outside it, with a
   goodwill reason, when that is the story), odometer readings that only grow per vehicle, no
   accidental duplicate, and an amount that lands where the story needs it (under the
   auto-approval threshold, or not).

The plans of the repairs are in `repairs`, those of the requests (roadside trips, outsourced
purchases, emergency parts) in `requests`; what is shared is here.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from portal.claims.decisions import Decision
from portal.claims.models import Claim, ClaimSettings, ClaimStatus
from portal.claims.rules import APPRAISAL_VALID_DAYS, DUPLICATE_WINDOW_DAYS
from portal.demo.claims.decisions import cut_lines
from portal.demo.claims.intents import Intent, VehicleState, lifecycle, merge
from portal.demo.claims.repairs import RepairPlans
from portal.demo.claims.requests import RequestPlans
from portal.demo.claims.script import Event, Files, Run, Script
from portal.demo.claims.stories import (
    APPROVE,
    AUTO,
    CLAIM_MIX,
    COMMENT_THREADS,
    DAYS_BACK,
    FINAL_STATUS,
    FIRST_STATIONS_WEIGHT,
    MA_OUTCOMES,
    PARTIAL,
    RECENT_DAYS,
    REJECT,
    REJECT_REASONS,
    RETURN,
    RETURN_REASONS,
    ZERO,
    Text,
)
from portal.demo.context import Demo, DemoError
from portal.demo.files import pdf_document, photo
from portal.masterdata.coverage import coverage_of
from portal.money import round_money

if TYPE_CHECKING:
    from portal.auth.models import User
    from portal.masterdata.models import Part, Station, Vehicle


class Planner(RepairPlans, RequestPlans):
    """Turns the intents into scripts: days, stations, vehicles, repairs and decisions."""

    def __init__(self, demo: Demo) -> None:
        self.demo = demo
        self.rng = demo.rng
        self.today = demo.today
        self.auditor = demo.users["auditor"]
        self.parts = {part.number: part for part in demo.parts}
        self.operations = {op.code: op for op in demo.labor_operations}
        self.states = [
            VehicleState(v, v.odometer_km, v.sale_date + timedelta(days=1)) for v in demo.vehicles
        ]
        self.by_station: dict[int, list[VehicleState]] = {}
        for state in self.states:
            self.by_station.setdefault(state.vehicle.selling_station.id, []).append(state)
        self.threshold = ClaimSettings.current().auto_approve_threshold
        self.events: list[Event] = []
        self.counter = 0

    # -- intents ---------------------------------------------------------------------------

    def intents(self) -> list[Intent]:
        rng = self.rng
        intents = [
            Intent(kind, flavour, outcome, returns)
            for kind, flavour, outcome, returns, count in CLAIM_MIX
            if kind != "break_in"
            for _ in range(count)
        ]
        rng.shuffle(intents)
        self._assign_stations(intents)
        for intent in intents:
            self._shape(intent)
        return intents

    def _assign_stations(self, intents: list[Intent]) -> None:
        """The two demo station logins first get one story of every final state and type."""
        stations = self.demo.stations
        first = stations[:2]
        wants = {s.id: {*FINAL_STATUS, *(k for k, *_ in CLAIM_MIX), "resubmitted"} for s in first}
        weights = [FIRST_STATIONS_WEIGHT if s in first else 1 for s in stations]
        for intent in intents:
            keys = {intent.outcome, intent.kind} | ({"resubmitted"} if intent.returns else set())
            for station in first:
                if keys & wants[station.id]:
                    wants[station.id] -= keys
                    intent.station = station
                    break
            else:
                intent.station = self.rng.choices(stations, weights=weights)[0]

    def _shape(self, intent: Intent) -> None:
        """The days of the intent's events, and its start within the last half year."""
        rng, kind, outcome = self.rng, intent.kind, intent.outcome
        recent = RECENT_DAYS.get(outcome)
        if kind == "duplicate":  # then: how the first claim ended (auto or by the auditor)
            intent.then = AUTO if rng.random() < 0.6 else APPROVE
            first = lifecycle(rng, intent.then, 0, comments=False)
            gap = rng.randint(5, DUPLICATE_WINDOW_DAYS - 8)
            second = [(o + gap, 1, a) for o, _, a in lifecycle(rng, outcome, 0, index=1)]
            intent.events, intent.repair_offsets = merge(first, second), [0, gap]
        elif kind == "appraisal" and intent.flavour.startswith("ma-"):
            appraisal = lifecycle(rng, APPROVE, 0, comments=False)
            intent.then = MA_OUTCOMES[intent.flavour]
            returns = 1 if intent.flavour == "ma-resubmitted" else 0
            gap = appraisal[-1][0] + rng.randint(1, 6)
            ma = [(o + gap, 1, a) for o, _, a in lifecycle(rng, intent.then, returns, index=1)]
            intent.events, intent.repair_offsets = appraisal + ma, [0, gap]
            recent = RECENT_DAYS.get(intent.then)
        elif kind == "outsourced" and intent.flavour == "chain":
            request = lifecycle(rng, outcome, 0, comments=False)
            gap = request[-1][0] + rng.randint(2, 15)
            intent.then = rng.choice((AUTO, AUTO, APPROVE, PARTIAL))
            repair = [(o + gap, 1, a) for o, _, a in lifecycle(rng, intent.then, 0, index=1)]
            intent.events, intent.repair_offsets = request + repair, [0, gap]
        elif kind == "emergency":
            events = lifecycle(rng, outcome, 0, urgent=True)
            state = intent.flavour.split("-")[-1]
            if state in ("shipped", "received"):
                t = events[-1][0] + rng.randint(0, 1)
                events.append((t, 0, "ship"))
                if state == "received":
                    events.append((t + rng.randint(1, 3), 0, "receive"))
                else:
                    recent = 4
            elif state == "waiting":
                recent = 2
            intent.events, intent.repair_offsets = events, [0]
        else:
            intent.events = lifecycle(rng, outcome, intent.returns)
            intent.repair_offsets = [0]
            if kind == "appraisal" and intent.flavour == "valid":
                recent = APPRAISAL_VALID_DAYS - 8
            if kind == "outsourced" and outcome == APPROVE:
                recent = 40
        last = self.today - timedelta(days=1)
        low = self.today - timedelta(days=DAYS_BACK)
        high = last - timedelta(days=intent.length)
        if recent is not None:
            low = max(low, last - timedelta(days=recent + intent.length - 1))
        low = min(low, high)
        intent.start = low + timedelta(days=rng.randint(0, (high - low).days))

    # -- vehicles --------------------------------------------------------------------------

    def candidates(self, intent: Intent, first_day: date) -> list[VehicleState]:
        """Free vehicles sold before `first_day`, the station's own first most of the time."""
        rng = self.rng
        own = list(self.by_station.get(intent.station.id, []))
        rng.shuffle(own)
        everyone = list(self.states)
        rng.shuffle(everyone)
        ordered = own + everyone if rng.random() < 0.7 else everyone
        seen, result = set(), []
        for state in ordered:
            vid = id(state)
            if vid in seen:
                continue
            seen.add(vid)
            if (
                state.busy_until < first_day
                and state.vehicle.sale_date + timedelta(days=3) <= first_day
            ):
                result.append(state)
        return result

    def book(
        self,
        state: VehicleState,
        intent: Intent,
        odometers: list[int],
        causal_parts: list[Part | None],
    ) -> None:
        state.busy_until = max(intent.submit_days() or [intent.day(intent.length)])
        state.odometer = max(odometers)
        for index, part in enumerate(causal_parts):
            if part is not None:
                state.repairs.append((part.id, intent.repair_day(index)))

    def recently_repaired(self, state: VehicleState, part: Part, day: date) -> bool:
        window = timedelta(days=DUPLICATE_WINDOW_DAYS + 1)
        return any(pid == part.id and abs(day - d) <= window for pid, d in state.repairs)

    def part_for(self, number: str, vehicle: Vehicle) -> Part | None:
        suffix = vehicle.model.code.rsplit("-", 1)[-1]
        return self.parts.get(f"{number}-{suffix}") or self.parts.get(number)

    def other_model_part(self, number: str, vehicle: Vehicle) -> Part | None:
        """Another model's variant of catalogue part `number` (listed for that model only)."""
        own = vehicle.model.code.rsplit("-", 1)[-1]
        for suffix in ("H9", "T5", "S7"):
            if suffix != own and f"{number}-{suffix}" in self.parts:
                return self.parts[f"{number}-{suffix}"]
        return None

    def covered(self, vehicle: Vehicle, part: Part, day: date, odometer: int) -> bool:
        policy = vehicle.model.policy_for(part.group)
        return coverage_of(policy, vehicle.sale_date, day, odometer).in_coverage

    def odometer_step(self) -> int:
        return self.rng.randint(120, 2600)

    # -- amounts ---------------------------------------------------------------------------

    def total(self, station: Station, payload: dict) -> Decimal:
        """The claim's total as `pricing` will compute it (parts priced on the repair day)."""
        day = date.fromisoformat(payload["repair_date"])
        parts = labor = other = ZERO
        for line in payload.get("lines", []):
            kind = line["kind"]
            if kind == "part":
                price = self.parts[line["part_number"]].price_on(day)
                parts += round_money(Decimal(line["qty"]) * price)
            elif kind == "labor":
                labor += round_money(Decimal(line["hours"]) * station.labor_rate)
            elif kind == "trip":
                other += round_money(Decimal(line["qty"]) * station.km_rate)
            else:
                other += Decimal(line["amount"])
        return parts + round_money(parts * station.parts_handling_rate) + labor + other

    def auto_approvable(self, station: Station, payload: dict) -> bool:
        return self.total(station, payload) < self.threshold

    # -- helpers for texts and files -------------------------------------------------------

    def text(self, text: Text) -> str:
        """Chinese, and in some claims the English after it (stations write both ways)."""
        return f"{text.zh} {text.en}" if self.rng.random() < 0.35 else text.zh

    def photos(
        self, count: int, names: tuple[str, ...] = ("故障件照片", "仪表故障码", "里程表")
    ) -> Files:
        return [(f"{names[i % len(names)]}{i + 1}.png", photo(self.rng)) for i in range(count)]

    def receipt(self, name: str, lines: list[str]) -> tuple[str, bytes]:
        return name, pdf_document(lines)

    def user(self, station: Station) -> User:
        return self.demo.org_users[station.code]

    def key(self) -> str:
        self.counter += 1
        return f"c{self.counter}"

    # -- scripts ---------------------------------------------------------------------------

    def schedule(self, intent: Intent, scripts: list[Script]) -> None:
        for offset, index, action in intent.events:
            self.events.append(Event(intent.day(offset), scripts[index], action))

    def plan(self) -> list[Event]:
        for intent in self.break_in_intents():
            self.plan_break_in(intent)
        intents = self.intents()
        intents.sort(key=lambda i: (i.start, i.length))
        for intent in intents:
            builder = getattr(self, "plan_" + intent.kind)
            if not builder(intent):
                raise DemoError(f"no vehicle fits the {intent.kind} story {intent}")
        return self.events

    def claim_files(self) -> Files:
        """Photos, and now and then the repair order, on a good share of claims."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.4:
            return []
        files = self.photos(rng.randint(1, 2))
        if roll > 0.85:
            files.append(
                self.receipt(
                    "维修工单.pdf",
                    [
                        "Huaxing Motors - Repair order",
                        f"No. WO{rng.randint(100000, 999999)}",
                        "Warranty repair: parts and labor as claimed.",
                    ],
                )
            )
        return files

    def add_talk(self, intent: Intent, script: Script, index: int = 0) -> None:
        """The comments of the script's `comment` events: a question and its answer."""
        talk = sum(1 for _, i, action in intent.events if action == "comment" and i == index)
        if talk:
            first, question, second, answer = self.rng.choice(COMMENT_THREADS)
            users = {"auditor": self.auditor, "station": script.user}
            said = [(users[first], self.text(question)), (users[second], self.text(answer))]
            script.comments = said[:talk]

    def add_decision(
        self,
        script: Script,
        outcome: str,
        recipe: str = "",
        reject_kind: str = "",
        *,
        approve_reason: str = "",
        return_reason: str = "photos",
        other_key: str = "",
        cap: Decimal | None = None,
    ) -> None:
        """How the auditor ends the script: approve, cut, reject, or return it once more."""
        if outcome == APPROVE:
            script.decision = lambda claim, run: Decision("approve", reason=approve_reason)
            script.decided = ClaimStatus.APPROVED
        elif outcome == PARTIAL:

            def partial(claim: Claim, run: Run) -> Decision:
                other = run.claims[other_key].number if other_key else ""
                return Decision(
                    "approve",
                    lines=cut_lines(claim, recipe, other=other, cap=cap),
                    reason="部分批准，详见各行说明。 Partially approved, see the lines.",
                )

            script.decision, script.decided = partial, ClaimStatus.PARTIALLY_APPROVED
        elif outcome == REJECT:
            template = self.rng.choice(REJECT_REASONS[reject_kind])

            def reject(claim: Claim, run: Run) -> Decision:
                other = run.claims[other_key].number if other_key else ""
                return Decision("reject", reason=template.both.format(other=other))

            script.decision, script.decided = reject, ClaimStatus.REJECTED
        elif outcome == RETURN:
            script.returns = [*script.returns, RETURN_REASONS[return_reason].both]

    # the same VIN and causal part twice within 30 days (duplicate flag)
