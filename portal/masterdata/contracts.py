"""Extended warranty contracts (延保 / 服务协议), one record at a time, as the `contracts` import
does in bulk: one row per contract number and coverage group it extends on one vehicle.

A contract stays on its vehicle (its number names one VIN); the vehicle's model must have a
policy for the group; months and km are whole numbers >= 1, km being the odometer reading up to
which it covers. Admins only. Operations flush, never commit; each change is logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.auditlog import operations as audit
from portal.errors import DomainError, ValidationFailed
from portal.extensions import db
from portal.masterdata.models import Vehicle, WarrantyContract
from portal.masterdata.vin import vin_error

if TYPE_CHECKING:  # the acting user; master data sits below the accounts
    from portal.auth.models import User

log = logging.getLogger(__name__)

MAX_LIMIT = 2**31 - 1  # INTEGER columns
NUMBER_MAX = WarrantyContract.number.property.columns[0].type.length
GROUP_MAX = WarrantyContract.group.property.columns[0].type.length


@dataclass(frozen=True)
class Terms:
    """What a contract row says: the group it extends, from when, for how long and how far."""

    group: str
    start_date: date | None
    months: int | None
    km: int | None


def _require_admin(user: User) -> None:
    if user.role != "admin":  # Role.ADMIN (a StrEnum), named by value from below the accounts
        raise DomainError(str(_l("Only administrators keep the contracts.")))


def contract_rows(number: str) -> list[WarrantyContract]:
    """The rows of contract `number`, by group (none: no such contract)."""
    return list(
        db.session.scalars(
            sa.select(WarrantyContract)
            .where(WarrantyContract.number == number)
            .order_by(WarrantyContract.group)
        )
    )


def _check_terms(terms: Terms, vehicle: Vehicle | None, errors: dict[str, str]) -> None:
    group = terms.group.strip()
    if not group:
        errors["group"] = str(_l("a value is required"))
    elif len(group) > GROUP_MAX:
        errors["group"] = str(_l("at most %(n)d characters", n=GROUP_MAX))
    elif vehicle is not None and vehicle.model.policy_for(group) is None:
        errors["group"] = str(
            _l(
                'model %(model)s has no warranty policy for coverage group "%(group)s"',
                model=vehicle.model.code,
                group=group,
            )
        )
    if terms.start_date is None:
        errors["start_date"] = str(_l("a value is required"))
    elif vehicle is not None and terms.start_date < vehicle.sale_date:
        errors["start_date"] = str(
            _l(
                "%(start)s is before the vehicle's sale date %(sale)s",
                start=terms.start_date.isoformat(),
                sale=vehicle.sale_date.isoformat(),
            )
        )
    for name in ("months", "km"):
        value = getattr(terms, name)
        if value is None:
            errors[name] = str(_l("a value is required"))
        elif not 1 <= value <= MAX_LIMIT:
            errors[name] = str(_l("must be a whole number of at least 1"))


def _taken(number: str, group: str, excluding: int | None = None) -> bool:
    stmt = sa.select(WarrantyContract.id).where(
        WarrantyContract.number == number, WarrantyContract.group == group
    )
    if excluding is not None:
        stmt = stmt.where(WarrantyContract.id != excluding)
    return db.session.scalar(stmt.limit(1)) is not None


def _terms_of(contract: WarrantyContract) -> dict:
    return {
        "group": contract.group,
        "start_date": contract.start_date,
        "months": contract.months,
        "km": contract.km,
    }


def create_contract(user: User, number: str, vin: str, terms: Terms) -> WarrantyContract:
    """Add contract `number`'s extension of one group on the vehicle `vin` (a new contract, or
    another group of an existing one on the same vehicle)."""
    _require_admin(user)
    errors: dict[str, str] = {}
    number, vin = number.strip(), vin.strip().upper()
    vehicle = None
    if not number:
        errors["number"] = str(_l("a value is required"))
    elif len(number) > NUMBER_MAX:
        errors["number"] = str(_l("at most %(n)d characters", n=NUMBER_MAX))
    problem = vin_error(vin)
    if problem:
        errors["vin"] = str(_l("VIN %(vin)s is not valid: %(problem)s.", vin=vin, problem=problem))
    else:
        vehicle = db.session.scalar(sa.select(Vehicle).where(Vehicle.vin == vin))
        if vehicle is None:
            errors["vin"] = str(_l("No vehicle of the brand has VIN %(vin)s.", vin=vin))
    _check_terms(terms, vehicle, errors)
    if "number" not in errors and vehicle is not None:
        existing = contract_rows(number)
        if existing and existing[0].vehicle_id != vehicle.id:
            errors["vin"] = str(
                _l(
                    "contract %(number)s is on VIN %(vin)s",
                    number=number,
                    vin=existing[0].vehicle.vin,
                )
            )
        elif "group" not in errors and _taken(number, terms.group.strip()):
            errors["group"] = str(
                _l(
                    "contract %(number)s already extends %(group)s",
                    number=number,
                    group=terms.group.strip(),
                )
            )
    if errors:
        raise ValidationFailed(str(_l("The contract was not saved.")), errors)
    contract = WarrantyContract(
        number=number,
        vehicle=vehicle,
        group=terms.group.strip(),
        start_date=terms.start_date,
        months=terms.months,
        km=terms.km,
    )
    db.session.add(contract)
    db.session.flush()
    audit.record(
        audit.AuditKind.MASTERDATA_CREATED,
        user,
        subject=f"contracts {number},{contract.group}",
        after={"vin": vin, **_terms_of(contract)},
    )
    log.info(
        "contract %s on %s extends %s from %s: %s months, %s km (by %s)",
        number,
        vin,
        contract.group,
        contract.start_date,
        contract.months,
        contract.km,
        user.username,
    )
    return contract


def update_contract(user: User, contract: WarrantyContract, terms: Terms) -> list[str]:
    """Change what one row of a contract extends: its group, start date, months and km (the
    number and the vehicle stay). Answers the changes, as logged."""
    _require_admin(user)
    errors: dict[str, str] = {}
    _check_terms(terms, contract.vehicle, errors)
    group = terms.group.strip()
    if "group" not in errors and _taken(contract.number, group, excluding=contract.id):
        errors["group"] = str(
            _l("contract %(number)s already extends %(group)s", number=contract.number, group=group)
        )
    if errors:
        raise ValidationFailed(str(_l("The contract was not saved.")), errors)
    wanted = {
        "group": group,
        "start_date": terms.start_date,
        "months": terms.months,
        "km": terms.km,
    }
    changes = []
    was = _terms_of(contract)
    for name, value in wanted.items():
        before = getattr(contract, name)
        if before != value:
            changes.append(f"{name} {before} -> {value}")
            setattr(contract, name, value)
    db.session.flush()
    if changes:
        now = _terms_of(contract)
        changed = [k for k in now if now[k] != was[k]]
        audit.record(
            audit.AuditKind.MASTERDATA_UPDATED,
            user,
            subject=f"contracts {contract.number},{contract.group}",
            before={k: was[k] for k in changed},
            after={k: now[k] for k in changed},
        )
        log.info("contract %s: %s (by %s)", contract.number, "; ".join(changes), user.username)
    return changes
