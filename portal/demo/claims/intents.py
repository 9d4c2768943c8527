"""Intents: what one story ends as and the days of its events; what a vehicle is booked for."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

from portal.demo.claims.stories import APPROVE, DRAFT, PARTIAL, REJECT, RETURN, REVIEW

if TYPE_CHECKING:
    import random

    from portal.masterdata.models import Station, Vehicle


@dataclass
class Intent:
    kind: str
    flavour: str
    outcome: str
    returns: int
    station: Station | None = None
    # (day offset, claim index within the story, action), in order
    events: list[tuple[int, int, str]] = field(default_factory=list)
    repair_offsets: list[int] = field(default_factory=list)  # per claim of the story
    start: date | None = None
    then: str = ""  # the outcome of the story's second claim (duplicate, major assembly, repair)

    @property
    def length(self) -> int:
        return self.events[-1][0] if self.events else 0

    def day(self, offset: int) -> date:
        return self.start + timedelta(days=offset)

    def repair_day(self, index: int = 0) -> date:
        return self.day(self.repair_offsets[index])

    def submit_days(self) -> list[date]:
        return [self.day(o) for o, _, a in self.events if a in ("submit", "resubmit")]


@dataclass
class VehicleState:
    """What the planner has booked for a vehicle so far."""

    vehicle: Vehicle
    odometer: int
    busy_until: date
    repairs: list[tuple[int, date]] = field(default_factory=list)  # (causal part id, day)
    broken_in: bool = False


def lifecycle(
    rng: random.Random,
    outcome: str,
    returns: int,
    *,
    urgent: bool = False,
    index: int = 0,
    comments: bool = True,
) -> list[tuple[int, int, str]]:
    """The day offsets of one claim's events, from its repair day (offset 0)."""
    events = []
    t = 0 if urgent else rng.randint(0, 2)
    events.append((t, index, "create"))
    if outcome == DRAFT:
        return events
    t += 0 if urgent else rng.randint(0, 2)
    events.append((t, index, "submit"))
    for _ in range(returns):
        t += rng.randint(1, 5)
        events.append((t, index, "return"))
        t += rng.randint(1, 6)
        events.append((t, index, "resubmit"))
    talk = comments and not urgent and rng.random() < 0.3
    if outcome in (APPROVE, PARTIAL, REJECT):
        gap = rng.randint(0, 1) if urgent else rng.randint(1, 8)
        if talk:
            events.append((t + rng.randint(0, gap), index, "comment"))
            events.append((t + gap, index, "comment"))
        t += gap
        events.append((t, index, "decide"))
    elif outcome == RETURN:
        t += rng.randint(1, 5)
        events.append((t, index, "return"))
    elif outcome == REVIEW and talk:
        t += rng.randint(0, 3)
        events.append((t, index, "comment"))
        t += rng.randint(0, 2)
        events.append((t, index, "comment"))
    return events


def merge(first: list, second: list) -> list:
    return sorted(first + second, key=lambda event: event[0])
