"""The reliability report of a selection (DESIGN 8's `GET /api/v1/analysis/reliability`)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from portal.analysis import queries
from portal.analysis.queries import LifeData, NevadaRow, Selection
from portal.analysis.reliability import (
    Estimate,
    ForecastMonth,
    WeibullFit,
    expected_failures,
    fit_weibull,
    forecast,
)
from portal.money import round_money

DEFAULT_HORIZON = 12
SALES_MONTHS = 3  # future sales default: the selection's average over the last 3 full months


@dataclass(frozen=True)
class ReliabilityReport:
    selection: Selection
    vehicles: int
    failures: int
    survivors: int
    fit: WeibullFit
    expected_failures: Estimate
    future_sales: float
    average_cost: Decimal | None
    forecast: list[ForecastMonth]
    nevada: list[NevadaRow]
    life: LifeData | None = None
    warranty_months: int | None = None

    def to_dict(self) -> dict:
        """DESIGN 8's JSON shape (statistics as numbers, money as strings), plus the fit's bounds,
        log-likelihood and B10 life."""
        return {
            "as_of": self.selection.as_of.isoformat(),
            "vehicles": self.vehicles,
            "failures": self.failures,
            "survivors": self.survivors,
            "distribution": "weibull",
            "shape": self.fit.shape.value,
            "scale": self.fit.scale.value,
            "shape_bounds": [self.fit.shape.lower, self.fit.shape.upper],
            "scale_bounds": [self.fit.scale.lower, self.fit.scale.upper],
            "log_likelihood": self.fit.log_likelihood,
            "b10": self.fit.b10,
            "expected_failures": self.expected_failures.to_dict(),
            "future_sales": self.future_sales,
            "average_cost": None if self.average_cost is None else str(self.average_cost),
            "forecast": [month.to_dict() for month in self.forecast],
            "nevada": [
                {"sale_month": row.sale_month, "vehicles": row.vehicles, "claims": row.claims}
                for row in self.nevada
            ],
        }


def reliability_report(
    selection: Selection,
    horizon: int = DEFAULT_HORIZON,
    future_sales: float | None = None,
    warranty_months: int | None = None,
) -> ReliabilityReport:
    """Fit, expected failures so far, forecast and Nevada chart of a selection.

    Raises `TooFewFailures` (422) when the selection has too few failures to fit. The forecast's
    cost is the predicted claims x the average approved cost of the selection's counted claims.
    """
    life = queries.life_data(selection)
    failures, survivors = life.failures, life.survivors
    fit = fit_weibull(failures, survivors)
    if future_sales is None:
        future_sales = queries.average_monthly_sales(selection, SALES_MONTHS)
    nevada = queries.nevada(selection, life)
    # every counted claim is in one cell of the Nevada chart: its totals are the claims'
    claims = sum(sum(row.claims) for row in nevada)
    cost = sum((row.cost for row in nevada), Decimal("0.00"))
    average_cost = cost / claims if claims else None  # rounded once, on each forecast's cost
    return ReliabilityReport(
        selection=selection,
        vehicles=life.vehicles,
        failures=sum(failures.values()),
        survivors=sum(survivors.values()),
        fit=fit,
        expected_failures=expected_failures(fit, failures, survivors),
        future_sales=future_sales,
        average_cost=None if average_cost is None else round_money(average_cost),
        forecast=forecast(fit, survivors, horizon, future_sales, warranty_months, average_cost),
        nevada=nevada,
        life=life,
        warranty_months=warranty_months,
    )
