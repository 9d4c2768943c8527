"""Stored analysis results: the early warnings (早期预警) the nightly check raises."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import UTCDateTime, utcnow
from portal.extensions import db
from portal.masterdata.models import Part, Supplier
from portal.messages import define

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
