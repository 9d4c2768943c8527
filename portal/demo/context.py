"""What every step of the demo shares: the data set as it is built, and the demo's error."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date

from portal.auth.models import User
from portal.claims.models import Claim
from portal.extensions import db
from portal.masterdata.models import (
    FaultCode,
    LaborOperation,
    Organisation,
    Part,
    Station,
    Supplier,
    Vehicle,
    VehicleModel,
)


class DemoError(RuntimeError):
    """The demo built something that did not behave as its story says: a bug in the demo."""


@dataclass
class Demo:
    """The data set as it is built, so that each step can use what the steps before it made."""

    rng: random.Random
    today: date
    oem: Organisation | None = None
    stations: list[Station] = field(default_factory=list)
    suppliers: dict[str, Supplier] = field(default_factory=dict)
    models: dict[str, VehicleModel] = field(default_factory=dict)
    parts: list[Part] = field(default_factory=list)
    labor_operations: list[LaborOperation] = field(default_factory=list)
    fault_codes: list[FaultCode] = field(default_factory=list)
    vehicles: list[Vehicle] = field(default_factory=list)
    users: dict[str, User] = field(default_factory=dict)
    org_users: dict[str, User] = field(default_factory=dict)  # organisation code -> its user
    claims: list[Claim] = field(default_factory=list)

    def add(self, objects: list) -> None:
        """Add and flush, so the rows have their ids for the steps after."""
        db.session.add_all(objects)
        db.session.flush()
