"""The life-data statistics against published worked examples (shared/reference/
warranty-examples.md). Each test names the convention it uses: "exact" (a failure at a given
time, the textbooks' convention) or "interval" (DESIGN 7: a failure at MIS k lies in (k-1, k]).
Tolerances are half a unit of the last published digit unless a test says otherwise.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from portal.analysis.reliability import (
    TooFewFailures,
    conditional_failures,
    expected_failures,
    expected_returns,
    fit_weibull,
    fit_weibull_exact,
    forecast,
    poisson_interval,
)

# ReliaWiki Nevada chart: shipped June 100, July 140, August 150; returns per calendar month.
NEVADA_COHORTS = {"June": (100, [3, 3, 5]), "July": (140, [2, 4]), "August": (150, [4])}
# Exact-month convention: June's returns at 1, 2, 3 months, and so on; survivors at their age.
NEVADA_FAILURES = {1: 3 + 2 + 4, 2: 3 + 4, 3: 5}
NEVADA_SURVIVORS = {3: 89, 2: 134, 1: 146}

NIST_FAILURES = dict.fromkeys((54, 187, 216, 240, 244, 335, 361, 373, 375, 386), 1)
NIST_SURVIVORS = {500: 10}

BEARING_FAILURES = dict.fromkeys((230, 334, 423, 990, 1009, 1510), 1)
BEARING_SURVIVORS = {
    50: 288, 150: 148, 250: 124, 350: 111, 450: 106, 550: 99, 650: 110, 750: 114, 850: 119,
    950: 127, 1050: 123, 1150: 93, 1250: 47, 1350: 41, 1450: 27, 1550: 11, 1650: 6, 1850: 1,
    2050: 2,
}  # fmt: skip


def test_nist_right_censored_weibull():
    """NIST e-Handbook 8.4.1.3, exact failure hours and 10 units removed at 500 h:
    eta 606.5280, beta 1.7208, log-likelihood -75.135 (P). lifelines gives eta 606.5275: the
    published optimum differs in the 7th digit, so eta is held to 0.001."""
    fit = fit_weibull_exact(NIST_FAILURES, NIST_SURVIVORS)
    assert fit.scale.value == pytest.approx(606.5280, abs=1e-3)
    assert fit.shape.value == pytest.approx(1.7208, abs=5e-5)
    assert fit.log_likelihood == pytest.approx(-75.135, abs=5e-4)
    assert (fit.failures, fit.survivors) == (10, 10)
    assert fit.shape.lower < fit.shape.value < fit.shape.upper
    assert fit.scale.lower < fit.scale.value < fit.scale.upper


def test_reliawiki_nevada_exact_month_fit():
    """ReliaSoft's exact-month convention: beta 2.4928, eta 6.6951 to 4 decimals (C)."""
    fit = fit_weibull_exact(NEVADA_FAILURES, NEVADA_SURVIVORS)
    assert fit.shape.value == pytest.approx(2.4928, abs=5e-5)
    assert fit.scale.value == pytest.approx(6.6951, abs=5e-5)


def test_reliawiki_nevada_with_designs_interval_convention():
    """The same returns as failures in (k-1, k] months (DESIGN 7): beta 1.3937, eta 15.351 (C)."""
    fit = fit_weibull(NEVADA_FAILURES, NEVADA_SURVIVORS)
    assert fit.shape.value == pytest.approx(1.3937, abs=5e-5)
    assert fit.scale.value == pytest.approx(15.351, abs=5e-4)
    assert (fit.failures, fit.survivors) == (21, 369)
    # B10: the age by which 10% have failed, eta x (-ln 0.9)^(1/beta).
    assert fit.b10 == pytest.approx(15.351 * 0.1053605 ** (1 / 1.3937), rel=1e-4)
    assert fit.cdf(fit.b10) == pytest.approx(0.10)


def test_reliawiki_october_forecast_for_the_june_cohort():
    """ReliaSoft's convention (exact fit): the 89 June survivors at 3 months give
    Q = 1 - R(4)/R(3) = 1 - 0.7582/0.8735 = 0.132 and 89 x 0.132 = 11.748 (P). The source rounds
    Q to 3 decimals, so the count is held to 89 x 0.0005 = 0.0445. Its R values come from the
    parameters rounded to 2.49 and 6.70 (R(4) = 0.75820 there, 0.75810 at the optimum): held to
    0.00015."""
    fit = fit_weibull_exact(NEVADA_FAILURES, NEVADA_SURVIVORS)
    assert fit.reliability(4) == pytest.approx(0.7582, abs=1.5e-4)
    assert fit.reliability(3) == pytest.approx(0.8735, abs=1.5e-4)
    june = conditional_failures(fit, {3: 89}, 1)
    assert round(june / 89, 3) == 0.132
    assert june == pytest.approx(11.748, abs=0.0445)
    # The forecast's survivor term is this sum; with no new sales it is the whole forecast.
    (first,) = forecast(fit, {3: 89}, horizon=1, future_sales=0)
    assert first.predicted == pytest.approx(june)


@pytest.mark.parametrize(
    ("cohort", "published"),
    [("June", [-2.1297, 0.8462, 2.7447]), ("July", [-0.7816, 1.4719]), ("August", [-2.6946])],
)
def test_reliawiki_return_monitoring_expected_minus_actual(cohort, published):
    """ReliaSoft's return monitoring on the exact fit: expected = (cohort size - earlier
    returns) x (1 - R(j)/R(j-1)). Published to 4 decimals from rounded parameters: held to
    0.0005."""
    fit = fit_weibull_exact(NEVADA_FAILURES, NEVADA_SURVIVORS)
    size, returns = NEVADA_COHORTS[cohort]
    expected = expected_returns(fit, size, returns)
    assert [e - a for e, a in zip(expected, returns, strict=True)] == pytest.approx(
        published, abs=5e-4
    )


def test_meeker_escobar_bearing_cage():
    """Meeker & Escobar Table 12.1 (exact failures, right-censored survivors): beta 2.035,
    eta 11,792 (P); failures expected in the next 300 hours among all survivors, the sum of
    1 - R(t + 300)/R(t), 5.058212 (P): the forecast's survivor term, held to 1e-5."""
    fit = fit_weibull_exact(BEARING_FAILURES, BEARING_SURVIVORS)
    assert fit.shape.value == pytest.approx(2.035, abs=5e-4)
    assert fit.scale.value == pytest.approx(11792, abs=0.5)
    assert conditional_failures(fit, BEARING_SURVIVORS, 300) == pytest.approx(5.058212, abs=1e-5)


def test_poisson_interval_of_an_expected_count():
    """[chi2(0.025; 2c) / 2, chi2(0.975; 2c + 2) / 2]: c = 5 gives [1.6235, 11.6683]; c = 0 has
    lower bound 0 and upper -ln(0.025) = 3.6889."""
    five = poisson_interval(5)
    assert (five.lower, five.value, five.upper) == pytest.approx((1.6235, 5, 11.6683), abs=5e-5)
    zero = poisson_interval(0)
    assert (zero.lower, zero.value) == (0, 0)
    assert zero.upper == pytest.approx(-np.log(0.025), abs=1e-9)


def test_expected_failures_so_far_adds_survivors_and_failure_intervals():
    """Interval convention: sum over survivors of F(age) + sum over failures of F(k) - F(k-1),
    checked against the fitted F by hand."""
    fit = fit_weibull(NEVADA_FAILURES, NEVADA_SURVIVORS)
    f = fit.cdf
    by_hand = 89 * f(3) + 134 * f(2) + 146 * f(1) + 9 * f(1) + 7 * (f(2) - f(1)) + 5 * (f(3) - f(2))
    got = expected_failures(fit, NEVADA_FAILURES, NEVADA_SURVIVORS)
    assert got.value == pytest.approx(by_hand)
    assert got.lower < got.value < got.upper


def test_the_forecast_adds_future_sales_by_designs_formula():
    """m = 1..3 with S = 100 a month: survivors' conditional failures + sum over j = 1..m of
    S x F(m - j + 1); each with its Poisson interval and cost = predicted x average, half-up."""
    fit = fit_weibull(NEVADA_FAILURES, NEVADA_SURVIVORS)
    f = fit.cdf
    months = forecast(fit, NEVADA_SURVIVORS, 3, 100, average_cost=Decimal("230.00"))
    for m, month in enumerate(months, start=1):
        survivors = sum(
            n * (f(age + m) - f(age)) / (1 - f(age)) for age, n in NEVADA_SURVIVORS.items()
        )
        sold = sum(100 * f(m - j + 1) for j in range(1, m + 1))
        assert month.month == m
        assert month.predicted == pytest.approx(survivors + sold)
        bounds = poisson_interval(month.predicted)
        assert (month.lower, month.upper) == (bounds.lower, bounds.upper)
        assert month.cost == (Decimal(month.predicted) * Decimal("230.00")).quantize(
            Decimal("0.01")
        )
    assert months[0].predicted < months[1].predicted < months[2].predicted


def test_a_warranty_limit_stops_claims_at_the_limit():
    """Limit 3 months: survivors aged 3 have no claims left; aged 2 and 1 count only up to 3;
    a new vehicle's F stops at F(3)."""
    fit = fit_weibull(NEVADA_FAILURES, NEVADA_SURVIVORS)
    f = fit.cdf
    (_, _, third, fourth) = forecast(fit, NEVADA_SURVIVORS, 4, 10, limit=3)
    survivors = 134 * (f(3) - f(2)) / (1 - f(2)) + 146 * (f(3) - f(1)) / (1 - f(1))
    assert third.predicted == pytest.approx(survivors + 10 * (f(1) + f(2) + f(3)))
    assert fourth.predicted == pytest.approx(survivors + 10 * (f(1) + f(2) + 2 * f(3)))
    assert conditional_failures(fit, {3: 89, 5: 10}, 12, limit=3) == 0


@pytest.mark.parametrize(
    "failures",
    [{}, {1: 2}, {1: 1, 2: 1}, {4: 50}],
    ids=["none", "two failures", "two months but two failures", "one month"],
)
def test_too_few_failures_to_fit_is_refused(failures):
    with pytest.raises(TooFewFailures, match="Too few failures") as caught:
        fit_weibull(failures, NEVADA_SURVIVORS)
    assert caught.value.status == 422


@pytest.mark.parametrize(
    ("convention", "failures", "survivors"),
    [
        ("interval", NEVADA_FAILURES, NEVADA_SURVIVORS),
        ("exact", NEVADA_FAILURES, NEVADA_SURVIVORS),
        ("exact", BEARING_FAILURES, BEARING_SURVIVORS),
    ],
)
def test_the_fit_agrees_with_lifelines(convention, failures, survivors):
    """lifelines' WeibullFitter on the same weighted data: the same shape, scale and
    log-likelihood, and the same log-scale Wald bounds from its variance matrix."""
    from lifelines import WeibullFitter

    ends, failed = np.array(list(failures), float), np.array(list(failures.values()), float)
    ages, censored = np.array(list(survivors), float), np.array(list(survivors.values()), float)
    weights = np.r_[failed, censored]
    if convention == "interval":
        ours = fit_weibull(failures, survivors)
        theirs = WeibullFitter().fit_interval_censoring(
            np.r_[ends - 1, ages],
            np.r_[ends, np.full(len(ages), np.inf)],
            event_observed=np.zeros(len(weights), dtype=bool),
            weights=weights,
        )
    else:
        ours = fit_weibull_exact(failures, survivors)
        theirs = WeibullFitter().fit(
            np.r_[ends, ages], np.r_[np.ones(len(ends)), np.zeros(len(ages))], weights=weights
        )
    assert ours.shape.value == pytest.approx(theirs.rho_, rel=1e-5)
    assert ours.scale.value == pytest.approx(theirs.lambda_, rel=1e-5)
    assert ours.log_likelihood == pytest.approx(theirs.log_likelihood_, rel=1e-7)
    se = np.sqrt(np.diag(theirs.variance_matrix_.loc[["rho_", "lambda_"], ["rho_", "lambda_"]]))
    for estimate, value, error in zip(
        (ours.shape, ours.scale), (theirs.rho_, theirs.lambda_), se, strict=True
    ):
        spread = np.exp(1.959964 * error / value)
        assert (estimate.lower, estimate.upper) == pytest.approx(
            (value / spread, value * spread), rel=1e-3
        )
