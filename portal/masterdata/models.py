"""Master data (录入基本信息): organisations, vehicles, models, policies, parts, operations."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import UTCDateTime, enum_type, utcnow
from portal.extensions import db
from portal.money import Hours, Money, Rate

OEM_CODE = "OEM"


class OrgKind(enum.StrEnum):
    OEM = "oem"
    STATION = "station"
    SUPPLIER = "supplier"


class Organisation(db.Model):
    """An organisation a user belongs to: the OEM itself (code `OEM`), a station or a supplier."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[OrgKind] = mapped_column(enum_type(OrgKind, "org_kind"))

    users: Mapped[list[User]] = relationship(back_populates="organisation")  # noqa: F821

    __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_identity": OrgKind.OEM}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.code}>"

    @property
    def is_oem(self) -> bool:
        return self.kind is OrgKind.OEM


class Station(Organisation):
    """A dealer service station (服务站 / 经销商) that files claims."""

    __tablename__ = "station"

    id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True
    )
    region: Mapped[str] = mapped_column(sa.String(64), index=True)
    labor_rate: Mapped[Decimal] = mapped_column(Money(), comment="CNY per labor hour, in fen")
    km_rate: Mapped[Decimal] = mapped_column(Money(), comment="CNY per roadside km, in fen")
    parts_handling_rate: Mapped[Decimal] = mapped_column(
        Rate(), comment="配件管理费, fraction of approved parts, in millionths"
    )

    __mapper_args__ = {"polymorphic_identity": OrgKind.STATION}
    __table_args__ = (
        sa.CheckConstraint("labor_rate >= 0", name="labor_rate_nonnegative"),
        sa.CheckConstraint("km_rate >= 0", name="km_rate_nonnegative"),
        sa.CheckConstraint(
            "parts_handling_rate >= 0 AND parts_handling_rate <= 1000000",
            name="parts_handling_rate_fraction",
        ),
    )


class Supplier(Organisation):
    """A parts supplier (供应商) with its recovery agreement (追偿协议)."""

    __tablename__ = "supplier"

    id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True
    )
    recovery_share: Mapped[Decimal] = mapped_column(Rate(), default=Decimal("1"))
    labor_hours_cap: Mapped[Decimal | None] = mapped_column(
        Hours(), comment="labor hours recoverable per claim; NULL: no cap"
    )
    handling_fee_rate: Mapped[Decimal] = mapped_column(Rate(), default=Decimal("0"))

    __mapper_args__ = {"polymorphic_identity": OrgKind.SUPPLIER}
    __table_args__ = (
        sa.CheckConstraint(
            "recovery_share >= 0 AND recovery_share <= 1000000", name="recovery_share_fraction"
        ),
        sa.CheckConstraint(
            "labor_hours_cap IS NULL OR labor_hours_cap >= 0", name="cap_nonnegative"
        ),
        sa.CheckConstraint(
            "handling_fee_rate >= 0 AND handling_fee_rate <= 1000000", name="handling_fee_fraction"
        ),
    )


class VehicleModel(db.Model):
    """A vehicle model with its break-in maintenance window (走合保养) and package price."""

    __tablename__ = "vehicle_model"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    break_in_days: Mapped[int]
    break_in_min_km: Mapped[int]
    break_in_max_km: Mapped[int]
    break_in_price: Mapped[Decimal] = mapped_column(Money())

    policies: Mapped[list[WarrantyPolicy]] = relationship(
        back_populates="model", order_by="WarrantyPolicy.group", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.CheckConstraint("break_in_days >= 0", name="break_in_days_nonnegative"),
        sa.CheckConstraint(
            "break_in_min_km >= 0 AND break_in_max_km >= break_in_min_km", name="break_in_km_range"
        ),
        sa.CheckConstraint("break_in_price >= 0", name="break_in_price_nonnegative"),
    )

    def policy_for(self, group: str) -> WarrantyPolicy | None:
        return next((p for p in self.policies if p.group == group), None)


class WarrantyPolicy(db.Model):
    """One coverage group of a model's warranty: months and km, whichever comes first."""

    __tablename__ = "warranty_policy"

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(sa.ForeignKey("vehicle_model.id", ondelete="CASCADE"))
    group: Mapped[str] = mapped_column(sa.String(32))
    months: Mapped[int]
    km: Mapped[int]

    model: Mapped[VehicleModel] = relationship(back_populates="policies")

    __table_args__ = (
        sa.UniqueConstraint("model_id", "group", name="uq_warranty_policy_model_group"),
        sa.CheckConstraint("months > 0 AND km > 0", name="limits_positive"),
    )


class Disposition(enum.StrEnum):
    """What happens to a failed part once its claim is approved (旧件处理)."""

    RETURN_TO_OEM = "return_to_oem"
    RETURN_TO_SUPPLIER = "return_to_supplier"
    SCRAP_AT_STATION = "scrap_at_station"


class Part(db.Model):
    """A spare part with its coverage group, responsible supplier and old-part disposition."""

    __tablename__ = "part"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    group: Mapped[str] = mapped_column(sa.String(32), comment="coverage group of the policies")
    supplier_id: Mapped[int] = mapped_column(sa.ForeignKey("supplier.id"), index=True)
    is_major_assembly: Mapped[bool] = mapped_column(default=False)
    disposition: Mapped[Disposition] = mapped_column(enum_type(Disposition, "disposition"))
    scrap_rate: Mapped[Decimal] = mapped_column(Rate(), default=Decimal("0"))

    supplier: Mapped[Supplier] = relationship()
    prices: Mapped[list[PartPrice]] = relationship(
        back_populates="part", order_by="PartPrice.valid_from", cascade="all, delete-orphan"
    )
    fits: Mapped[list[PartModel]] = relationship(
        back_populates="part", order_by="PartModel.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.CheckConstraint("scrap_rate >= 0 AND scrap_rate <= 1000000", name="scrap_rate_fraction"),
        sa.Index("ix_part_name", "name"),
    )

    def price_on(self, day: date) -> Decimal | None:
        """The unit price valid on `day` (the repair date of a claim), or None."""
        for price in self.prices:
            if price.covers(day):
                return price.unit_price
        return None

    @property
    def current_price(self) -> Decimal | None:
        return self.price_on(date.today())


class PartModel(db.Model):
    """A vehicle model a part fits (适用车型). A part with no model listed fits every model."""

    __tablename__ = "part_model"

    id: Mapped[int] = mapped_column(primary_key=True)
    part_id: Mapped[int] = mapped_column(sa.ForeignKey("part.id", ondelete="CASCADE"))
    model_id: Mapped[int] = mapped_column(
        sa.ForeignKey("vehicle_model.id", ondelete="CASCADE"), index=True
    )

    part: Mapped[Part] = relationship(back_populates="fits")
    model: Mapped[VehicleModel] = relationship()

    __table_args__ = (sa.UniqueConstraint("part_id", "model_id"),)


class PartPrice(db.Model):
    """A part's OEM price to stations for a validity period; `valid_from` NULL means "always"."""

    __tablename__ = "part_price"

    id: Mapped[int] = mapped_column(primary_key=True)
    part_id: Mapped[int] = mapped_column(sa.ForeignKey("part.id", ondelete="CASCADE"))
    unit_price: Mapped[Decimal] = mapped_column(Money())
    valid_from: Mapped[date | None]
    valid_to: Mapped[date | None]

    part: Mapped[Part] = relationship(back_populates="prices")

    __table_args__ = (
        sa.CheckConstraint("unit_price >= 0", name="unit_price_nonnegative"),
        sa.CheckConstraint(
            "valid_from IS NULL OR valid_to IS NULL OR valid_to >= valid_from",
            name="validity_order",
        ),
        sa.Index("ix_part_price_part_id_valid_from", "part_id", "valid_from"),
    )

    def covers(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )


class LaborOperation(db.Model):
    """A labor operation with its flat-rate standard hours (工时)."""

    __tablename__ = "labor_operation"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    description: Mapped[str] = mapped_column(sa.String(300))
    standard_hours: Mapped[Decimal] = mapped_column(Hours())

    __table_args__ = (sa.CheckConstraint("standard_hours >= 0", name="standard_hours_nonnegative"),)


class FaultCode(db.Model):
    """A fault code (故障代码) and the vehicle system it belongs to."""

    __tablename__ = "fault_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    description: Mapped[str] = mapped_column(sa.String(300))
    system: Mapped[str] = mapped_column(sa.String(64))


class Vehicle(db.Model):
    """A sold vehicle; its sale (delivery) date starts the warranty."""

    __tablename__ = "vehicle"

    id: Mapped[int] = mapped_column(primary_key=True)
    vin: Mapped[str] = mapped_column(sa.String(17), unique=True)
    model_id: Mapped[int] = mapped_column(sa.ForeignKey("vehicle_model.id"), index=True)
    engine_no: Mapped[str] = mapped_column(sa.String(40))
    production_date: Mapped[date]
    sale_date: Mapped[date]
    selling_station_id: Mapped[int | None] = mapped_column(sa.ForeignKey("station.id"), index=True)
    owner_name: Mapped[str] = mapped_column(sa.String(120))
    owner_phone: Mapped[str] = mapped_column(sa.String(40))
    odometer_km: Mapped[int] = mapped_column(default=0)

    model: Mapped[VehicleModel] = relationship()
    selling_station: Mapped[Station | None] = relationship()
    contracts: Mapped[list[WarrantyContract]] = relationship(
        back_populates="vehicle", order_by="(WarrantyContract.number, WarrantyContract.group)"
    )

    __table_args__ = (
        # the analyses' months of sales; the recently sold by station read it alone (0030)
        sa.Index(
            "ix_vehicle_sale_date",
            "sale_date",
            postgresql_include=["selling_station_id", "model_id"],
        ),
        sa.CheckConstraint("length(vin) = 17", name="vin_length"),
        sa.CheckConstraint("sale_date >= production_date", name="sold_after_production"),
        sa.CheckConstraint("odometer_km >= 0", name="odometer_nonnegative"),
    )

    @property
    def masked_owner_name(self) -> str:
        return mask_name(self.owner_name)

    @property
    def masked_owner_phone(self) -> str:
        return mask_phone(self.owner_phone)


def mask_name(name: str) -> str:
    """张三丰 -> 张**; John Smith -> J*********: personal data as suppliers see it."""
    if not name:
        return ""
    return name[0] + "*" * (len(name) - 1)


def mask_phone(phone: str) -> str:
    """13812345678 -> 138****5678."""
    if len(phone) <= 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


class WarrantyContract(db.Model):
    """One coverage group an extended warranty contract (延保 / 服务协议) extends on one vehicle.

    A contract, known by its `number`, is on one vehicle and may extend several of its coverage
    groups: one row per group, as the `contracts` import has them. From `start_date` on it
    covers the group for `months` months, up to an odometer reading of `km` (as a policy's km:
    the vehicle's reading, not the km driven since the start). While it is in force, the
    coverage check uses the later of the policy's and the contract's limits
    (`portal.masterdata.coverage`).
    """

    __tablename__ = "warranty_contract"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(40))
    group: Mapped[str] = mapped_column(sa.String(32), comment="coverage group of the policies")
    vehicle_id: Mapped[int] = mapped_column(sa.ForeignKey("vehicle.id"), index=True)
    start_date: Mapped[date]
    months: Mapped[int]
    km: Mapped[int] = mapped_column(comment="odometer reading up to which it covers")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    vehicle: Mapped[Vehicle] = relationship(back_populates="contracts")

    __table_args__ = (
        sa.UniqueConstraint("number", "group"),
        sa.CheckConstraint("months > 0 AND km > 0", name="limits_positive"),
    )

    def __repr__(self) -> str:
        return f"<WarrantyContract {self.number} {self.group}>"

    @property
    def ends_on(self) -> date:
        """The last day it covers (a 24-month contract from 2027-03-01 ends on 2029-02-28)."""
        from portal.masterdata.coverage import months_end

        return months_end(self.start_date, self.months)

    def in_force_on(self, day: date) -> bool:
        return self.start_date <= day <= self.ends_on
