"""Master data: organisations, stations, suppliers, vehicle models with their policies,
vehicles with valid VINs, parts with a price, fault codes, labor operations."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import factory

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
    WarrantyContract,
    WarrantyPolicy,
)
from portal.masterdata.vin import with_check_digit
from tests.factories.base import BaseFactory


class OemFactory(BaseFactory):
    """The one OEM organisation: made on first use, the same row after."""

    class Meta:
        model = Organisation
        sqlalchemy_get_or_create = ("code",)

    code = OEM_CODE
    name = "Test Motors"


class StationFactory(BaseFactory):
    class Meta:
        model = Station

    code = factory.Sequence(lambda n: f"ST{n:03d}")
    name = factory.Sequence(lambda n: f"Station {n}")
    region = "East"
    labor_rate = Decimal("80.00")
    km_rate = Decimal("3.50")
    parts_handling_rate = Decimal("0.10")


class SupplierFactory(BaseFactory):
    class Meta:
        model = Supplier

    code = factory.Sequence(lambda n: f"SU{n:03d}")
    name = factory.Sequence(lambda n: f"Supplier {n}")
    recovery_share = Decimal("1")
    labor_hours_cap = Decimal("4.00")
    handling_fee_rate = Decimal("0.05")


class WarrantyPolicyFactory(BaseFactory):
    class Meta:
        model = WarrantyPolicy

    group = "basic"
    months = 36
    km = 100000


def _standard_policies(model) -> list[WarrantyPolicy]:
    return [
        WarrantyPolicyFactory.build(group="basic", months=36, km=100000),
        WarrantyPolicyFactory.build(group="powertrain", months=60, km=200000),
        WarrantyPolicyFactory.build(group="wear", months=6, km=5000),
    ]


class VehicleModelFactory(BaseFactory):
    """A model with the three standard policies: basic 36 months / 100,000 km, powertrain
    60 / 200,000, wear 6 / 5,000."""

    class Meta:
        model = VehicleModel

    code = factory.Sequence(lambda n: f"M{n:03d}")
    name = factory.Sequence(lambda n: f"Model {n}")
    break_in_days = 90
    break_in_min_km = 1500
    break_in_max_km = 5000
    break_in_price = Decimal("300.00")
    policies = factory.LazyAttribute(_standard_policies)


class VehicleFactory(BaseFactory):
    """A vehicle with a VIN whose check digit is right, sold 2025-03-01 unless told."""

    class Meta:
        model = Vehicle

    vin = factory.Sequence(lambda n: with_check_digit(f"LTEST{n % 10000:04d}0A{n:06d}"))
    model = factory.SubFactory(VehicleModelFactory)
    engine_no = factory.Sequence(lambda n: f"E{n:08d}")
    production_date = date(2025, 1, 10)
    sale_date = date(2025, 3, 1)
    selling_station = None
    owner_name = "张三"
    owner_phone = "13812345678"
    odometer_km = 1000


class PartPriceFactory(BaseFactory):
    class Meta:
        model = PartPrice

    unit_price = Decimal("100.00")
    valid_from = None
    valid_to = None


class PartFactory(BaseFactory):
    """A part of the basic group, returned to the OEM, with one open-ended price (`price`)."""

    class Meta:
        model = Part

    class Params:
        price = "100.00"

    number = factory.Sequence(lambda n: f"P{n:05d}")
    name = factory.Sequence(lambda n: f"Part {n}")
    group = "basic"
    supplier = factory.SubFactory(SupplierFactory)
    is_major_assembly = False
    disposition = Disposition.RETURN_TO_OEM
    scrap_rate = Decimal("0")
    prices = factory.LazyAttribute(
        lambda o: [PartPriceFactory.build(unit_price=Decimal(str(o.price)))]
    )


class LaborOperationFactory(BaseFactory):
    class Meta:
        model = LaborOperation

    code = factory.Sequence(lambda n: f"OP{n:04d}")
    description = "Replace part"
    standard_hours = Decimal("1.50")


class FaultCodeFactory(BaseFactory):
    class Meta:
        model = FaultCode

    code = factory.Sequence(lambda n: f"FC{n:04d}")
    description = "Misfire"
    system = "engine"


class WarrantyContractFactory(BaseFactory):
    """An extended warranty contract (延保) extending `basic` of a vehicle for 60 months from its
    sale date, up to 150,000 km (a vehicle of its own unless `vehicle` is given)."""

    class Meta:
        model = WarrantyContract

    number = factory.Sequence(lambda n: f"YB{n:06d}")
    vehicle = factory.SubFactory(VehicleFactory)
    group = "basic"
    start_date = factory.LazyAttribute(lambda o: o.vehicle.sale_date)
    months = 60
    km = 150000
