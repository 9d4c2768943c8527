"""Warranty coverage of a vehicle per group: months and km, whichever comes first.

A group's coverage is its model's policy, counted from the sale date, extended by the vehicle's
extended warranty contracts (延保 / 服务协议) for that group that are in force on the day (started
on or before it, not yet ended): the later end date and the higher km limit of the policy and
those contracts apply. A repair the policy alone would not cover but its contracts do is
covered only thanks to a contract (`Coverage.by_contract`), and `Coverage.contract` names it.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from portal.masterdata.models import Vehicle, WarrantyContract, WarrantyPolicy


def add_months(day: date, months: int) -> date:
    """`day` plus `months` months, clamped to the month's end (Jan 31 + 1 month = Feb 28)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def months_end(start: date, months: int) -> date:
    """The last day covered by `months` months from `start` (36 months from 2024-03-01 end on
    2027-02-28)."""
    return add_months(start, months) - timedelta(days=1)


def _whole_months(start: date, end: date) -> int:
    """Whole months from `start` to `end` (a month elapses on the same day of a later month, or
    on that month's last day when it is shorter)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if end.day < start.day and end.day < calendar.monthrange(end.year, end.month)[1]:
        months -= 1
    return months


@dataclass(frozen=True)
class Coverage:
    group: str
    months: int  # from the sale date to the end of coverage by time
    km: int
    expires_on: date  # the last day covered by time
    km_left: int | None  # None when the odometer is unknown
    in_coverage: bool
    reason: str | None  # "time" or "km" when out of coverage
    # The contract in force that day whose limits extend the policy's (the highest km, then the
    # latest end), and whether the day and odometer are covered only thanks to it.
    contract: WarrantyContract | None = None
    by_contract: bool = False

    def as_dict(self) -> dict:
        return {
            "group": self.group,
            "months": self.months,
            "km": self.km,
            "expires_on": self.expires_on.isoformat(),
            "km_left": self.km_left,
            "in_coverage": self.in_coverage,
            "contract": self.contract.number if self.contract is not None else None,
        }


def _judged(
    km: int, expires_on: date, on_day: date, odometer_km: int | None
) -> tuple[bool, str | None, int | None]:
    """Covered, why not ("time" or "km") and the km left, under these limits."""
    reason = None
    if on_day > expires_on:
        reason = "time"
    elif odometer_km is not None and odometer_km > km:
        reason = "km"
    km_left = None if odometer_km is None else max(km - odometer_km, 0)
    return reason is None, reason, km_left


def coverage_of(
    policy: WarrantyPolicy,
    sale_date: date,
    on_day: date,
    odometer_km: int | None,
    contracts: Iterable[WarrantyContract] = (),
) -> Coverage:
    """The policy's group on `on_day` at `odometer_km`, extended by those of `contracts` (the
    vehicle's) that are for the group and in force on `on_day`."""
    # Covered while repair date < sale date + months (36 months from 2024-03-01 end on 2027-02-28).
    expires_on = months_end(sale_date, policy.months)
    covered, reason, km_left = _judged(policy.km, expires_on, on_day, odometer_km)
    in_force = [c for c in contracts if c.group == policy.group and c.in_force_on(on_day)]
    if not in_force:
        return Coverage(
            policy.group, policy.months, policy.km, expires_on, km_left, covered, reason
        )
    best = max(in_force, key=lambda c: (c.km, c.ends_on, c.number))
    later_end = max([expires_on, *(c.ends_on for c in in_force)])
    higher_km = max(policy.km, best.km)
    extended, reason, km_left = _judged(higher_km, later_end, on_day, odometer_km)
    months = _whole_months(sale_date, later_end + timedelta(days=1))
    extends = later_end > expires_on or higher_km > policy.km
    return Coverage(
        policy.group,
        months,
        higher_km,
        later_end,
        km_left,
        extended,
        reason,
        contract=best if extends else None,
        by_contract=extended and not covered,
    )


def vehicle_coverage(
    vehicle: Vehicle, on_day: date | None = None, odometer_km: int | None = None
) -> list[Coverage]:
    """Coverage per group of the vehicle's model and its contracts, as of `on_day` (today) at
    `odometer_km` (its imported reading)."""
    on_day = on_day or date.today()
    km = vehicle.odometer_km if odometer_km is None else odometer_km
    return [
        coverage_of(p, vehicle.sale_date, on_day, km, vehicle.contracts)
        for p in vehicle.model.policies
    ]
