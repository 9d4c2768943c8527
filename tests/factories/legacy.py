"""Builders for test data. Each returns flushed objects in the test's session."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from portal.auth.models import Role, User
from portal.extensions import db
from portal.masterdata.models import (
    OEM_CODE,
    Disposition,
    FaultCode,
    LaborOperation,
    Organisation,
    Part,
    PartPrice,
    Station,
    Supplier,
    Vehicle,
    VehicleModel,
    WarrantyPolicy,
)
from portal.masterdata.vin import with_check_digit

PASSWORD = "Test-password-1"  # noqa: S105 - test only
_seq = itertools.count(1)
_password_hash: str | None = None


def _hash_of_test_password() -> str:
    """argon2 is slow on purpose; the tests hash the shared test password once."""
    global _password_hash
    if _password_hash is None:
        probe = User()
        probe.set_password(PASSWORD)
        _password_hash = probe.password_hash
    return _password_hash


def oem() -> Organisation:
    org = db.session.query(Organisation).filter_by(code=OEM_CODE).one_or_none()
    if org is None:
        org = Organisation(code=OEM_CODE, name="Test Motors")
        db.session.add(org)
        db.session.flush()
    return org


def station(code: str | None = None, **kw) -> Station:
    n = next(_seq)
    values = dict(
        code=code or f"ST{n:03d}",
        name=f"Station {n}",
        region="East",
        labor_rate=Decimal("80.00"),
        km_rate=Decimal("3.50"),
        parts_handling_rate=Decimal("0.10"),
    )
    values.update(kw)
    obj = Station(**values)
    db.session.add(obj)
    db.session.flush()
    return obj


def supplier(code: str | None = None, **kw) -> Supplier:
    n = next(_seq)
    values = dict(
        code=code or f"SU{n:03d}",
        name=f"Supplier {n}",
        recovery_share=Decimal("1"),
        labor_hours_cap=Decimal("4.00"),
        handling_fee_rate=Decimal("0.05"),
    )
    values.update(kw)
    obj = Supplier(**values)
    db.session.add(obj)
    db.session.flush()
    return obj


def user(role: Role, org: Organisation, username: str | None = None, **kw) -> User:
    obj = User(username=username or f"{role.value}{next(_seq)}", role=role, organisation=org, **kw)
    obj.password_hash = _hash_of_test_password()
    db.session.add(obj)
    db.session.flush()
    return obj


def users(role: Role, org: Organisation, usernames: list[str]) -> list[User]:
    """Many users at once (one INSERT), all with the shared test password's hash."""
    password_hash = _hash_of_test_password()
    db.session.execute(
        sa.insert(User),
        [
            {
                "username": name,
                "role": role,
                "organisation_id": org.id,
                "password_hash": password_hash,
            }
            for name in usernames
        ],
    )
    return list(db.session.scalars(sa.select(User).where(User.username.in_(usernames))))


def vehicle_model(code: str | None = None, **kw) -> VehicleModel:
    n = next(_seq)
    values = dict(
        code=code or f"M{n:03d}",
        name=f"Model {n}",
        break_in_days=90,
        break_in_min_km=1500,
        break_in_max_km=5000,
        break_in_price=Decimal("300.00"),
    )
    values.update(kw)
    model = VehicleModel(**values)
    model.policies = [
        WarrantyPolicy(group="basic", months=36, km=100000),
        WarrantyPolicy(group="powertrain", months=60, km=200000),
        WarrantyPolicy(group="wear", months=6, km=5000),
    ]
    db.session.add(model)
    db.session.flush()
    return model


def part(supplier_obj: Supplier, number: str | None = None, price: str = "100.00", **kw) -> Part:
    n = next(_seq)
    values = dict(
        number=number or f"P{n:05d}",
        name=f"Part {n}",
        group="basic",
        supplier=supplier_obj,
        is_major_assembly=False,
        disposition=Disposition.RETURN_TO_OEM,
        scrap_rate=Decimal("0"),
    )
    values.update(kw)
    obj = Part(**values)
    obj.prices = [PartPrice(unit_price=Decimal(price))]
    db.session.add(obj)
    db.session.flush()
    return obj


def vehicle(model: VehicleModel, station_obj: Station | None = None, **kw) -> Vehicle:
    n = next(_seq)
    values = dict(
        vin=with_check_digit(f"LTEST{n:04d}0B{n:06d}"[:17]),
        model=model,
        engine_no=f"E{n:08d}",
        production_date=date(2025, 1, 10),
        sale_date=date(2025, 3, 1),
        selling_station=station_obj,
        owner_name="张三",
        owner_phone="13812345678",
        odometer_km=1000,
    )
    values.update(kw)
    obj = Vehicle(**values)
    db.session.add(obj)
    db.session.flush()
    return obj


@dataclass
class World:
    oem: Organisation
    stations: list[Station]
    suppliers: list[Supplier]
    users: dict[str, User] = field(default_factory=dict)

    @property
    def usernames(self) -> dict[str, str]:
        return {key: u.username for key, u in self.users.items()}

    @classmethod
    def build(cls) -> World:
        the_oem = oem()
        stations = [
            station("ST-A", name="Station A"),
            station("ST-B", name="Station B", region="North"),
        ]
        suppliers = [supplier("SU-A", name="Supplier A"), supplier("SU-B", name="Supplier B")]
        world = cls(the_oem, stations, suppliers)
        world.users = {
            "station": user(Role.STATION, stations[0], "station_a"),
            "station_b": user(Role.STATION, stations[1], "station_b"),
            "auditor": user(Role.AUDITOR, the_oem, "auditor"),
            "finance": user(Role.FINANCE, the_oem, "finance"),
            "supplier": user(Role.SUPPLIER, suppliers[0], "supplier_a"),
            "supplier_b": user(Role.SUPPLIER, suppliers[1], "supplier_b"),
            "admin": user(Role.ADMIN, the_oem, "admin"),
        }
        return world


def labor_operation(code: str | None = None, hours: str = "1.50", **kw) -> LaborOperation:
    obj = LaborOperation(
        code=code or f"OP{next(_seq):04d}",
        description="Replace part",
        standard_hours=Decimal(hours),
        **kw,
    )
    db.session.add(obj)
    db.session.flush()
    return obj


def fault_code(code: str | None = None, **kw) -> FaultCode:
    obj = FaultCode(code=code or f"P{next(_seq):04d}", description="Misfire", system="engine", **kw)
    db.session.add(obj)
    db.session.flush()
    return obj


@dataclass
class Fleet:
    """What claims need: a model, vehicles, parts with prices, operations, fault codes."""

    model: VehicleModel
    vehicle: Vehicle  # sold 2025-03-01, 1000 km, in coverage
    new_vehicle: Vehicle  # sold 30 days ago at 2000 km: break-in window
    old_vehicle: Vehicle  # sold more than 3 years ago: outside basic coverage
    part: Part  # basic group, 100.00, supplier A, return to OEM
    part_b: Part  # basic group, 45.50, supplier B
    engine: Part  # major assembly, powertrain, 12000.00
    filter: Part  # wear group, 20.00, scrap at station
    operation: LaborOperation  # 1.50 standard hours
    fault: FaultCode

    @classmethod
    def build(cls, world: World) -> Fleet:
        from datetime import timedelta

        model = vehicle_model("HX5", name="Huaxing HX5")
        today = date.today()
        su_a, su_b = world.suppliers
        return cls(
            model=model,
            vehicle=vehicle(
                model,
                world.stations[0],
                sale_date=today - timedelta(days=400),
                production_date=today - timedelta(days=430),
            ),
            new_vehicle=vehicle(
                model,
                world.stations[0],
                sale_date=today - timedelta(days=30),
                production_date=today - timedelta(days=60),
                odometer_km=100,
            ),
            old_vehicle=vehicle(
                model,
                world.stations[1],
                sale_date=today - timedelta(days=3 * 365 + 40),
                production_date=today - timedelta(days=3 * 365 + 60),
                odometer_km=90000,
            ),
            part=part(su_a, "P-100", price="100.00", name="机油泵 Oil pump"),
            part_b=part(su_b, "P-200", price="45.50", name="传感器 Sensor"),
            engine=part(
                su_a,
                "ENG-1",
                price="12000.00",
                group="powertrain",
                is_major_assembly=True,
                disposition=Disposition.RETURN_TO_SUPPLIER,
                name="发动机总成 Engine",
            ),
            filter=part(
                su_b,
                "FLT-1",
                price="20.00",
                group="wear",
                disposition=Disposition.SCRAP_AT_STATION,
                scrap_rate=Decimal("0.1"),
            ),
            operation=labor_operation("OP-1", "1.50"),
            fault=fault_code("P0301"),
        )


def claim_payload(fleet: Fleet, **overrides) -> dict:
    """A complete repair claim as the API takes it."""
    from datetime import timedelta

    data = {
        "type": "repair",
        "vin": fleet.vehicle.vin,
        "odometer_km": 15000,
        "repair_date": (date.today() - timedelta(days=2)).isoformat(),
        "fault_date": (date.today() - timedelta(days=3)).isoformat(),
        "fault_code": fleet.fault.code,
        "causal_part": fleet.part.number,
        "description": "Oil pressure warning light on",
        "lines": [
            {"kind": "part", "part_number": fleet.part.number, "qty": 1},
            {"kind": "labor", "operation_code": fleet.operation.code, "hours": "1.50"},
        ],
    }
    data.update(overrides)
    return data


def claim_in(status, world: World, fleet: Fleet, station: str = "station", **overrides):
    """A repair claim (`claim_payload` with `overrides`) taken through the real workflow to
    `status`: created (draft), submitted with auto-approval off (in review), then decided by the
    auditor: approved as claimed, partially approved (the first line cut to 95.00), rejected.
    A settled claim is an approved one marked settled, as a released settlement run does."""
    from portal.claims import operations as ops
    from portal.claims.decisions import Decision, LineDecision, decide_claim
    from portal.claims.models import ClaimSettings, ClaimStatus
    from portal.claims.payload import parse_claim

    ClaimSettings.current().auto_approve_enabled = False
    user = world.users[station]
    claim = ops.create_claim(user, parse_claim(claim_payload(fleet, **overrides)))
    if status is ClaimStatus.DRAFT:
        return claim
    ops.submit_claim(claim, user)
    assert claim.status is ClaimStatus.IN_REVIEW, claim.status
    auditor = world.users["auditor"]
    if status is ClaimStatus.REJECTED:
        decide_claim(claim.id, auditor, Decision("reject", reason="not a warranty fault"))
    elif status is ClaimStatus.PARTIALLY_APPROVED:
        cut = LineDecision(
            claim.lines[0].id, approved_amount=Decimal("95.00"), reason="partial_approval"
        )
        decide_claim(claim.id, auditor, Decision("approve", [cut]))
    elif status in (ClaimStatus.APPROVED, ClaimStatus.SETTLED):
        decide_claim(claim.id, auditor, Decision("approve"))
        if status is ClaimStatus.SETTLED:
            claim.status = ClaimStatus.SETTLED
            db.session.flush()
    assert claim.status is status, claim.status
    return claim
