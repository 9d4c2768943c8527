"""Warranty coverage of a vehicle per group: months and km, whichever comes first."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from portal.masterdata.models import Vehicle, WarrantyPolicy


def add_months(day: date, months: int) -> date:
    """`day` plus `months` months, clamped to the month's end (Jan 31 + 1 month = Feb 28)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Coverage:
    group: str
    months: int
    km: int
    expires_on: date  # the last day covered by time
    km_left: int | None  # None when the odometer is unknown
    in_coverage: bool
    reason: str | None  # "time" or "km" when out of coverage

    def as_dict(self) -> dict:
        return {
            "group": self.group,
            "months": self.months,
            "km": self.km,
            "expires_on": self.expires_on.isoformat(),
            "km_left": self.km_left,
            "in_coverage": self.in_coverage,
        }


def coverage_of(
    policy: WarrantyPolicy, sale_date: date, on_day: date, odometer_km: int | None
) -> Coverage:
    # Covered while repair date < sale date + months (36 months from 2024-03-01 end on 2027-02-28).
    expires_on = date.fromordinal(add_months(sale_date, policy.months).toordinal() - 1)
    reason = None
    if on_day > expires_on:
        reason = "time"
    elif odometer_km is not None and odometer_km > policy.km:
        reason = "km"
    km_left = None if odometer_km is None else max(policy.km - odometer_km, 0)
    return Coverage(
        policy.group, policy.months, policy.km, expires_on, km_left, reason is None, reason
    )


def vehicle_coverage(
    vehicle: Vehicle, on_day: date | None = None, odometer_km: int | None = None
) -> list[Coverage]:
    """Coverage per group of the vehicle's model, as of `on_day` (today) at `odometer_km`."""
    on_day = on_day or date.today()
    km = vehicle.odometer_km if odometer_km is None else odometer_km
    return [coverage_of(p, vehicle.sale_date, on_day, km) for p in vehicle.model.policies]
