"""The small complete world most tests start from, built with the factories."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from portal.auth.models import User
from portal.masterdata.models import (
    Disposition,
    FaultCode,
    LaborOperation,
    Organisation,
    Part,
    Station,
    Supplier,
    Vehicle,
    VehicleModel,
)
from tests.factories.masterdata import (
    FaultCodeFactory,
    LaborOperationFactory,
    OemFactory,
    PartFactory,
    StationFactory,
    SupplierFactory,
    VehicleFactory,
    VehicleModelFactory,
)
from tests.factories.users import UserFactory


@dataclass
class World:
    """The OEM, stations ST-A (East) and ST-B (North), suppliers SU-A and SU-B, and a user per
    role: station (of ST-A), station_b, auditor, finance, supplier (of SU-A), supplier_b, admin."""

    oem: Organisation
    stations: list[Station]
    suppliers: list[Supplier]
    users: dict[str, User] = field(default_factory=dict)

    @property
    def usernames(self) -> dict[str, str]:
        return {key: u.username for key, u in self.users.items()}

    @classmethod
    def build(cls) -> World:
        oem = OemFactory()
        stations = [
            StationFactory(code="ST-A", name="Station A"),
            StationFactory(code="ST-B", name="Station B", region="North"),
        ]
        suppliers = [
            SupplierFactory(code="SU-A", name="Supplier A"),
            SupplierFactory(code="SU-B", name="Supplier B"),
        ]
        world = cls(oem, stations, suppliers)
        world.users = {
            "station": UserFactory(station=True, organisation=stations[0], username="station_a"),
            "station_b": UserFactory(station=True, organisation=stations[1], username="station_b"),
            "auditor": UserFactory(auditor=True, organisation=oem, username="auditor"),
            "finance": UserFactory(finance=True, organisation=oem, username="finance"),
            "supplier": UserFactory(
                supplier=True, organisation=suppliers[0], username="supplier_a"
            ),
            "supplier_b": UserFactory(
                supplier=True, organisation=suppliers[1], username="supplier_b"
            ),
            "admin": UserFactory(admin=True, organisation=oem, username="admin"),
        }
        return world


@dataclass
class Fleet:
    """What claims need: a model, vehicles, parts with prices, an operation, a fault code; and
    the world it was built in (the claim factory files and decides with the world's users)."""

    model: VehicleModel
    vehicle: Vehicle  # sold 400 days ago, 1000 km, in coverage
    new_vehicle: Vehicle  # sold 30 days ago at 100 km: break-in window
    old_vehicle: Vehicle  # sold more than 3 years ago: outside basic coverage
    part: Part  # P-100, basic group, 100.00, supplier A, return to OEM
    part_b: Part  # P-200, basic group, 45.50, supplier B
    engine: Part  # ENG-1, major assembly, powertrain, 12000.00, return to supplier A
    filter: Part  # FLT-1, wear group, 20.00, scrap at station
    operation: LaborOperation  # OP-1, 1.50 standard hours
    fault: FaultCode  # P0301
    world: World

    @classmethod
    def build(cls, world: World) -> Fleet:
        model = VehicleModelFactory(code="HX5", name="Huaxing HX5")
        today = date.today()
        su_a, su_b = world.suppliers
        station_a, station_b = world.stations
        return cls(
            model=model,
            vehicle=VehicleFactory(
                model=model,
                selling_station=station_a,
                sale_date=today - timedelta(days=400),
                production_date=today - timedelta(days=430),
            ),
            new_vehicle=VehicleFactory(
                model=model,
                selling_station=station_a,
                sale_date=today - timedelta(days=30),
                production_date=today - timedelta(days=60),
                odometer_km=100,
            ),
            old_vehicle=VehicleFactory(
                model=model,
                selling_station=station_b,
                sale_date=today - timedelta(days=3 * 365 + 40),
                production_date=today - timedelta(days=3 * 365 + 60),
                odometer_km=90000,
            ),
            part=PartFactory(supplier=su_a, number="P-100", price="100.00", name="机油泵 Oil pump"),
            part_b=PartFactory(supplier=su_b, number="P-200", price="45.50", name="传感器 Sensor"),
            engine=PartFactory(
                supplier=su_a,
                number="ENG-1",
                price="12000.00",
                group="powertrain",
                is_major_assembly=True,
                disposition=Disposition.RETURN_TO_SUPPLIER,
                name="发动机总成 Engine",
            ),
            filter=PartFactory(
                supplier=su_b,
                number="FLT-1",
                price="20.00",
                group="wear",
                disposition=Disposition.SCRAP_AT_STATION,
                scrap_rate=Decimal("0.1"),
            ),
            operation=LaborOperationFactory(code="OP-1", standard_hours=Decimal("1.50")),
            fault=FaultCodeFactory(code="P0301"),
            world=world,
        )

    def sibling_vehicle(self, station: Station | None = None) -> Vehicle:
        """Another vehicle sold with `vehicle` (in coverage): a claim of its own for the same
        part does not flag a duplicate."""
        return VehicleFactory(
            model=self.model,
            selling_station=station or self.world.stations[0],
            sale_date=self.vehicle.sale_date,
            production_date=self.vehicle.production_date,
        )


def claim_payload(fleet: Fleet, **overrides) -> dict:
    """A complete repair claim as the API takes it: 1 x P-100 and 1.50 h of OP-1 (230.00)."""
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
