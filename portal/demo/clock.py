"""The demo's time: every action runs at the moment of its story (time-machine).

`at(moment)` travels there (the clock stands still while the action runs), so that what the
operations stamp with `utcnow()` or `date.today()` (created, submitted, decided, shipped,
released...) is that moment, through their own code paths. Each action flushes before the
clock travels on, so column defaults and update defaults are filled at the story's moment too.
`Timeline` collects actions with their moments and runs them in order (`run_in_order`). The
demo commits what the actions did itself, whether the operations commit or not: after each
action that a later one depends on in another session (`act`: a job's request), else at the
end of each simulated day (a commit per action would double the demo's load time on SQLite).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import time_machine

from portal.extensions import db

if TYPE_CHECKING:
    import random

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
WORKDAY = (8 * 60 + 30, 17 * 60 + 30)  # minutes after midnight a working moment falls between


def local_moment(day: date, minutes: int) -> datetime:
    """`minutes` after midnight of `day` in the portal's time zone, as an aware UTC datetime."""
    return (
        datetime.combine(day, time.min, tzinfo=LOCAL_TZ) + timedelta(minutes=minutes)
    ).astimezone(UTC)


def local_day(moment: datetime) -> date:
    return moment.astimezone(LOCAL_TZ).date()


@contextmanager
def at(moment: datetime) -> Iterator[None]:
    """Run the block at `moment` (the clock stands still), flushing what it did before leaving."""
    with time_machine.travel(moment, tick=False):
        yield
        db.session.flush()


def act(moment: datetime, action: Callable[[], object]) -> object:
    """Run `action` at `moment` and commit it, as the request or job that does it would."""
    with at(moment):
        result = action()
        db.session.commit()
    return result


def run_in_order(actions: Iterable[tuple[datetime, Callable[[], object]]]) -> None:
    """Run each action at its moment, in the order given; commit at the end of each day."""
    day = None
    for moment, action in actions:
        if day is not None and local_day(moment) != day:
            db.session.commit()
        day = local_day(moment)
        with at(moment):
            action()
    db.session.commit()


@contextmanager
def quiet_notifications() -> Iterator[None]:
    """The demo's hundreds of notifications are not e-mailed, nor logged one by one."""
    logger = logging.getLogger("portal.notifications.operations")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


class Timeline:
    """Actions with their moments, run later in the order of their moments."""

    def __init__(self, rng: random.Random, end: datetime) -> None:
        self.rng, self.end = rng, end
        self.events: list[tuple[datetime, int, Callable[[], object]]] = []

    def after(self, moment: datetime, low: int, high: int) -> datetime:
        """A moment of the working day `low` to `high` days after `moment`, and after it."""
        day = local_day(moment) + timedelta(days=self.rng.randint(low, high))
        later = local_moment(day, self.rng.randint(*WORKDAY))
        if later <= moment:
            later = moment + timedelta(minutes=self.rng.randint(10, 90))
        return later

    def add(self, moment: datetime, action: Callable[[], object]) -> bool:
        """Schedule `action` if `moment` is before the end; answer whether it was."""
        if moment >= self.end:
            return False
        self.append(moment, action)
        return True

    def append(self, moment: datetime, action: Callable[[], object]) -> None:
        """Schedule `action` whatever its moment."""
        self.events.append((moment, len(self.events), action))

    def run(self) -> None:
        events = sorted(self.events, key=lambda event: event[:2])
        run_in_order((moment, action) for moment, _, action in events)
