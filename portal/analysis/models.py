"""Stored analysis results: the early warnings (早期预警) the nightly check raises."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import UTCDateTime, utcnow
from portal.extensions import db
from portal.masterdata.models import Part, Supplier
from portal.messages import define
from portal.money import Hours, Money

# The notification of a new early warning (portal.messages).
EARLY_WARNING = define(
    "analysis.early_warning",
    _l(
        "Early warning: part %(part)s, production month %(cohort)s: %(observed)s claims "
        "where %(expected)s were expected."
    ),
    observed="decimal",
    expected="decimal",
)


class EarlyWarning(db.Model):
    """A production-month cohort whose claims on one causal part run above what the other
    cohorts' claim rates lead to expect (Wu & Meeker's Poisson rule; see `warnings`).

    One row per part and cohort: each nightly check updates its evidence (`observed`,
    `expected`, `p_value` as of `as_of`); `active` says whether the last check still found it
    above the limit. Its people are told once, when it is first raised (`notified_at`).
    """

    __tablename__ = "early_warning"

    id: Mapped[int] = mapped_column(primary_key=True)
    part_id: Mapped[int] = mapped_column(sa.ForeignKey("part.id"))
    supplier_id: Mapped[int] = mapped_column(sa.ForeignKey("supplier.id"), index=True)
    cohort: Mapped[str] = mapped_column(sa.String(7), comment="production month YYYY-MM")
    as_of: Mapped[date]
    vehicles: Mapped[int] = mapped_column(comment="the cohort's vehicles of the part's models")
    observed: Mapped[int] = mapped_column(comment="counted claims of the cohort on the part")
    expected: Mapped[float] = mapped_column(sa.Float, comment="at the other cohorts' rates")
    p_value: Mapped[float] = mapped_column(sa.Float, comment="P(Poisson(expected) >= observed)")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Per month in service k: [k, vehicles of age >= k, claims at MIS k, expected at MIS k].
    evidence: Mapped[list] = mapped_column(sa.JSON, default=list)

    part: Mapped[Part] = relationship()
    supplier: Mapped[Supplier] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("part_id", "cohort", name="uq_early_warning_part_id_cohort"),
        sa.Index("ix_early_warning_active_updated_at", "active", "updated_at"),
        sa.CheckConstraint("observed >= 0 AND vehicles >= 0", name="counts_not_negative"),
    )

    @property
    def ratio(self) -> float | None:
        return self.observed / self.expected if self.expected else None

    def can_view(self, user) -> bool:
        """The OEM's analysts see every warning, a supplier those about its own parts."""
        from portal.auth.models import Role

        if user.role in (Role.AUDITOR, Role.FINANCE, Role.ADMIN):
            return True
        return user.role is Role.SUPPLIER and user.organisation_id == self.supplier_id


class VehicleCohort(db.Model):
    """How many vehicles of a model were produced in a month and sold on a day (车辆批次汇总).

    A summary of `vehicle` the analyses count instead of the vehicles themselves (a few
    thousand rows for millions of vehicles). On PostgreSQL statement triggers on `vehicle`
    (migration 0025) keep it exact in the same transaction as every insert, update and delete,
    so it is never behind; other databases do not keep it and the analyses count `vehicle`.
    """

    __tablename__ = "analysis_vehicle_cohort"

    model_id: Mapped[int] = mapped_column(sa.ForeignKey("vehicle_model.id"), primary_key=True)
    sale_date: Mapped[date] = mapped_column(primary_key=True)
    production_month: Mapped[date] = mapped_column(
        primary_key=True, comment="the first day of the production month"
    )
    vehicles: Mapped[int]


class CountedClaim(db.Model):
    """A counted claim (DESIGN 7: approved, partially approved or settled, of a counted type)
    with what the analyses read of it and of its vehicle, in one narrow row (统计索赔).

    The analyses aggregate these instead of joining the wide claims to every vehicle. On
    PostgreSQL statement triggers on `claim` and `vehicle` (migration 0026) keep it exact in the
    transaction of every change; other databases do not keep it and the analyses read `claim`.
    """

    __tablename__ = "analysis_counted_claim"

    claim_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    vehicle_id: Mapped[int] = mapped_column(index=True)
    model_id: Mapped[int]
    sale_date: Mapped[date]
    production_date: Mapped[date]
    station_id: Mapped[int]
    causal_part_id: Mapped[int | None] = mapped_column(index=True)
    fault_code_id: Mapped[int | None] = mapped_column(index=True)
    responsible_supplier_id: Mapped[int | None] = mapped_column(index=True)
    contract_id: Mapped[int | None]
    repair_date: Mapped[date | None]
    approved_total_amount: Mapped[Decimal | None] = mapped_column(Money())
    # Migration 0028: what the summaries below group, kept by the same triggers (the flags by
    # the vehicle's other counted claims, the hours by a trigger on `claim_line`).
    mis: Mapped[int | None]  # months in service at the repair (None: no repair date)
    labor_hours: Mapped[Decimal] = mapped_column(Hours(), server_default="0")  # labor lines'
    first_failure: Mapped[bool] = mapped_column(server_default=sa.false())  # vehicle's first
    # within 90 days of the previous claim on the vehicle and causal part (`outliers`)
    repeat_repair: Mapped[bool] = mapped_column(server_default=sa.false())
    first_at_station: Mapped[bool] = mapped_column(server_default=sa.false())  # distinct vehicles

    __table_args__ = (
        sa.Index(
            "ix_analysis_counted_claim_repair_date",
            "repair_date",
            postgresql_include=["causal_part_id", "sale_date", "model_id"],
        ),
        sa.Index(  # the recently sold vehicles' claims, read from the index alone (0030)
            "ix_analysis_counted_claim_sale_date",
            "sale_date",
            postgresql_include=[
                "model_id",
                "station_id",
                "causal_part_id",
                "responsible_supplier_id",
                "repair_date",
                "approved_total_amount",
                "labor_hours",
                "first_at_station",
                "repeat_repair",
            ],
        ),
    )


class ClaimCell(db.Model):
    """Counted claims with a repair date by model, sale day, production month and MIS, with
    their cost and how many are their vehicle's first (索赔汇总: 单元). Migration 0028's triggers
    keep it exact on PostgreSQL, from `analysis_counted_claim`."""

    __tablename__ = "analysis_claim_cell"

    model_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    sale_date: Mapped[date] = mapped_column(primary_key=True)
    production_month: Mapped[date] = mapped_column(primary_key=True)
    mis: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    claims: Mapped[int]
    cost: Mapped[Decimal] = mapped_column(Money())
    failures: Mapped[int]


class ClaimPart(db.Model):
    """Counted claims with a repair date by model, causal part and responsible supplier (0:
    none), with their cost (索赔汇总: 零件). Kept as `ClaimCell`."""

    __tablename__ = "analysis_claim_part"

    model_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    causal_part_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    supplier_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    claims: Mapped[int]
    cost: Mapped[Decimal] = mapped_column(Money())


class ClaimStation(db.Model):
    """Counted claims with a repair date by model and repairing station: cost, approved labor
    hours, repeat repairs and distinct vehicles (索赔汇总: 服务站). Kept as `ClaimCell`."""

    __tablename__ = "analysis_claim_station"

    model_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    station_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    claims: Mapped[int]
    cost: Mapped[Decimal] = mapped_column(Money())
    labor_hours: Mapped[Decimal] = mapped_column(Hours())
    repeats: Mapped[int]
    vehicles: Mapped[int]


class StationVehicle(db.Model):
    """Vehicles by selling station (0: none) and model (车辆汇总: 销售服务站), kept by a trigger on
    `vehicle` (migration 0028)."""

    __tablename__ = "analysis_station_vehicle"

    station_id: Mapped[int] = mapped_column(
        primary_key=True, autoincrement=False, comment="the selling station, 0: none"
    )
    model_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    vehicles: Mapped[int]


class Snapshot(db.Model):
    """A report too costly to compute per request (统计快照), stored by a job with the time it was
    computed: the compensation analysis over every counted claim (`compensation.snapshot`), one
    per as-of date (migration 0029)."""

    __tablename__ = "analysis_snapshot"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(40))
    as_of: Mapped[date]
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    payload: Mapped[dict] = mapped_column(sa.JSON)

    __table_args__ = (sa.UniqueConstraint("kind", "as_of", name="uq_analysis_snapshot_kind_as_of"),)


class ClaimPartMonth(db.Model):
    """Counted claims with a repair date by repair month, model and causal part (0: none)
    (索赔汇总: 零件 x 维修月): the rising parts' whole months. Kept as `ClaimCell` (migration
    0031)."""

    __tablename__ = "analysis_claim_part_month"

    repair_month: Mapped[date] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    causal_part_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    claims: Mapped[int]
