"""Reliability (DESIGN 7): a 2-parameter Weibull fitted to aggregated life data, the failures it
expects so far and its forecast of future claims.

Life data arrive aggregated: `failures` maps an interval's end k to the vehicles that failed in
it, `survivors` maps an age to the vehicles right-censored there. Each distinct interval is one
weighted observation, so a fit costs the same for a hundred vehicles as for a million.

DESIGN's convention puts a failure at MIS k anywhere in (k-1, k] months (`fit_weibull`). Published
examples often treat k as an exact failure time instead (`fit_weibull_exact`); the tests use it to
reproduce their figures.

The maximum-likelihood fit is lifelines' `WeibullFitter` (interval and right censoring with
weights). Confidence bounds are Wald bounds on the log of each parameter (always positive, the
usual choice for shape and scale), from lifelines' variance matrix. Every expected count c has
the 95% Poisson interval [chi2(0.025; 2c) / 2, chi2(0.975; 2c + 2) / 2].
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from flask_babel import gettext as _

from portal.errors import DomainError
from portal.money import round_money

MIN_FAILURES = 3
MIN_FAILURE_INTERVALS = 2
CONFIDENCE = 0.95


class TooFewFailures(DomainError):
    """The selection has too few failures to fit a life distribution."""

    code = "too_few_failures"


@dataclass(frozen=True)
class Estimate:
    """A value with its 95% bounds."""

    value: float
    lower: float
    upper: float

    def to_dict(self) -> dict:
        return {"value": self.value, "lower": self.lower, "upper": self.upper}


@dataclass(frozen=True)
class WeibullFit:
    """F(t) = 1 - exp(-(t / scale) ** shape); shape is beta, scale is eta in months."""

    shape: Estimate
    scale: Estimate
    log_likelihood: float
    failures: int
    survivors: int

    def cdf(self, t) -> np.ndarray:
        t = np.maximum(np.asarray(t, dtype=float), 0.0)
        return -np.expm1(-((t / self.scale.value) ** self.shape.value))

    def reliability(self, t) -> np.ndarray:
        return 1.0 - self.cdf(t)

    def b_life(self, fraction: float) -> float:
        """The age by which `fraction` of the vehicles have failed (B10 for 0.10)."""
        return self.scale.value * (-math.log1p(-fraction)) ** (1 / self.shape.value)

    @property
    def b10(self) -> float:
        return self.b_life(0.10)


@dataclass(frozen=True)
class ForecastMonth:
    """Expected claims in the next `month` months (cumulative), with bounds and cost."""

    month: int
    predicted: float
    lower: float
    upper: float
    cost: Decimal | None

    def to_dict(self) -> dict:
        return {
            "month": self.month,
            "predicted": self.predicted,
            "lower": self.lower,
            "upper": self.upper,
            "cost": None if self.cost is None else str(self.cost),
        }


def poisson_interval(count: float, confidence: float = CONFIDENCE) -> Estimate:
    """An expected count with its Poisson interval (Minitab's warranty prediction; c = 0 has
    lower bound 0)."""
    from scipy.stats import chi2  # imported on first use: it is slow to import

    tail = (1 - confidence) / 2
    lower = float(chi2.ppf(tail, 2 * count) / 2) if count > 0 else 0.0
    return Estimate(float(count), lower, float(chi2.ppf(1 - tail, 2 * count + 2) / 2))


# -- fitting ---------------------------------------------------------------------------------------


def _arrays(counts: Mapping[float, int]) -> tuple[np.ndarray, np.ndarray]:
    kept = {t: n for t, n in counts.items() if n}
    return np.fromiter(kept, dtype=float, count=len(kept)), np.fromiter(
        kept.values(), dtype=float, count=len(kept)
    )


def _require_enough(failures: Mapping[float, int]) -> None:
    total = sum(failures.values())
    intervals = sum(1 for n in failures.values() if n)
    if total < MIN_FAILURES or intervals < MIN_FAILURE_INTERVALS:
        raise TooFewFailures(
            _(
                "Too few failures to fit a life distribution: %(failures)s failures in "
                "%(intervals)s different months; at least %(min_failures)s failures in "
                "%(min_intervals)s different months are needed.",
                failures=total,
                intervals=intervals,
                min_failures=MIN_FAILURES,
                min_intervals=MIN_FAILURE_INTERVALS,
            )
        )


def _log_bounds(value: float, se: float) -> Estimate:
    from scipy.stats import norm

    spread = math.exp(norm.ppf(0.5 + CONFIDENCE / 2) * se / value)
    return Estimate(value, value / spread, value * spread)


def _result(fitter, failures: np.ndarray, survivors: np.ndarray) -> WeibullFit:
    se = np.sqrt(np.diag(fitter.variance_matrix_.loc[["rho_", "lambda_"], ["rho_", "lambda_"]]))
    return WeibullFit(
        shape=_log_bounds(float(fitter.rho_), float(se[0])),
        scale=_log_bounds(float(fitter.lambda_), float(se[1])),
        log_likelihood=float(fitter.log_likelihood_),
        failures=int(failures.sum()),
        survivors=int(survivors.sum()),
    )


def fit_weibull(failures: Mapping[int, int], survivors: Mapping[float, int]) -> WeibullFit:
    """Maximum likelihood under DESIGN's convention: `failures[k]` vehicles failed somewhere in
    (k-1, k] months, `survivors[age]` vehicles are right-censored at that age."""
    from lifelines import WeibullFitter  # imported on first use: it is slow to import

    _require_enough(failures)
    ends, failed = _arrays(failures)
    ages, censored = _arrays(survivors)
    lower = np.concatenate([ends - 1, ages])
    upper = np.concatenate([ends, np.full(len(ages), np.inf)])
    # lifelines calls a row with lower < upper "censored" (event_observed 0), a failure interval
    # included: it is an interval-censored failure.
    fitter = WeibullFitter().fit_interval_censoring(
        lower,
        upper,
        event_observed=np.zeros(len(lower), dtype=bool),
        weights=np.concatenate([failed, censored]),
    )
    return _result(fitter, failed, censored)


def fit_weibull_exact(failures: Mapping[float, int], survivors: Mapping[float, int]) -> WeibullFit:
    """Maximum likelihood with exact failure times (`failures[t]` vehicles failed at t) and
    right-censored survivors: the convention of the published textbook examples."""
    from lifelines import WeibullFitter

    _require_enough(failures)
    times, failed = _arrays(failures)
    ages, censored = _arrays(survivors)
    fitter = WeibullFitter().fit(
        np.concatenate([times, ages]),
        event_observed=np.concatenate([np.ones(len(times)), np.zeros(len(ages))]),
        weights=np.concatenate([failed, censored]),
    )
    return _result(fitter, failed, censored)


# -- what the fit expects --------------------------------------------------------------------------


def expected_failures(
    fit: WeibullFit, failures: Mapping[int, int], survivors: Mapping[float, int]
) -> Estimate:
    """Failures expected so far: sum over survivors of F(age) + sum over failures of
    F(k) - F(k-1), with its Poisson interval."""
    ends, failed = _arrays(failures)
    ages, censored = _arrays(survivors)
    value = float((censored * fit.cdf(ages)).sum() + (failed * (fit.cdf(ends) - fit.cdf(ends - 1))).sum())
    return poisson_interval(value)


def conditional_failures(
    fit: WeibullFit, survivors: Mapping[float, int], step: float, limit: float | None = None
) -> float:
    """Failures expected among survivors in the next `step`: sum of (F(age + step) - F(age)) /
    (1 - F(age)). With a warranty `limit`, failures after it are no claims: a survivor counts
    only up to the limit, and not at all once past it."""
    ages, counts = _arrays(survivors)
    end = ages + step if limit is None else np.minimum(ages + step, limit)
    reached = fit.cdf(ages)
    inside = end > ages
    share = (fit.cdf(end[inside]) - reached[inside]) / (1.0 - reached[inside])
    return float((counts[inside] * share).sum())


def forecast(
    fit: WeibullFit,
    survivors: Mapping[float, int],
    horizon: int,
    future_sales: float,
    limit: float | None = None,
    average_cost: Decimal | None = None,
) -> list[ForecastMonth]:
    """Claims expected in the next m = 1..horizon months (cumulative), DESIGN 7's formula:
    sum over survivors of (F(age + m) - F(age)) / (1 - F(age)) + sum over j = 1..m of
    S x F(m - j + 1), S = `future_sales` vehicles sold per future month; each with its Poisson
    interval and, given the average cost per counted claim, its cost rounded half-up."""
    months = np.arange(1, horizon + 1, dtype=float)
    new_sales = fit.cdf(months if limit is None else np.minimum(months, limit))
    sold_later = future_sales * np.cumsum(new_sales)  # sum over j of F(m - j + 1) = sum of F(1..m)
    result = []
    for m in range(1, horizon + 1):
        predicted = conditional_failures(fit, survivors, m, limit) + float(sold_later[m - 1])
        bounds = poisson_interval(predicted)
        cost = None if average_cost is None else round_money(Decimal(predicted) * average_cost)
        result.append(ForecastMonth(m, predicted, bounds.lower, bounds.upper, cost))
    return result


def expected_returns(fit: WeibullFit, cohort_size: int, returns: Sequence[int]) -> list[float]:
    """Return monitoring: the returns expected in each month j = 1, 2, ... of a cohort,
    (cohort size - returns before month j) x (1 - R(j) / R(j-1)); `returns` are the actual
    returns per month, and as many months are given as there are actual counts."""
    if not returns:
        return []
    months = np.arange(1, len(returns) + 1, dtype=float)
    conditional = 1.0 - fit.reliability(months) / fit.reliability(months - 1)
    at_risk = cohort_size - np.concatenate([[0], np.cumsum(returns)[:-1]])
    return [float(x) for x in at_risk * conditional]
