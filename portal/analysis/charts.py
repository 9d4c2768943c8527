"""Charts drawn on the server as inline SVG.

Why SVG from the server rather than a JavaScript charting library (ECharts, Chart.js): the page
works offline and without scripts, the quality report's PDF (WeasyPrint renders SVG) shows the
very same charts, every bar and point is a plain link to the claims behind it, and there is no
300 kB library to ship, update and audit. The charts are small (tens of bars or points), so
nothing is lost by drawing them once on the server.

Each function answers `Markup` ready for a template; every text is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import gettext as _
from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 44
COLOUR = "#0d6efd"
BAND = "#9ec5fe"
OBSERVED = "#dc3545"


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    href: str | None = None
    title: str | None = None


def _nice_top(value: float) -> float:
    if value <= 0:
        return 1.0
    exponent = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * exponent >= value:
            return step * exponent
    return 10 * exponent


def _number(value: float) -> str:
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"


def _text_width(text: str) -> float:
    """Roughly how wide `text` is at the charts' 11 px: CJK characters a full em, others ~0.6."""
    return sum(11.0 if ord(ch) > 0x2E7F else 6.6 for ch in text)


def _frame(
    body: list[str], label: str, testid: str, extra_left: float = 0, extra_bottom: float = 0
) -> Markup:
    # Every text in `body` was escaped where it was put in; the numbers are formatted by us.
    # `extra_left`/`extra_bottom` widen the drawing for labels that reach past the margins.
    box = f"{-extra_left:.0f} 0 {WIDTH + extra_left:.0f} {HEIGHT + extra_bottom:.0f}"
    return Markup(  # noqa: S704
        f'<svg class="analysis-chart" viewBox="{box}" role="img" '
        f'aria-label="{escape(label)}" data-testid="{escape(testid)}" '
        f'xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="11">'
        f"<title>{escape(label)}</title>" + "".join(body) + "</svg>"
    )


def _y_axis(top: float, plot_h: float) -> list[str]:
    parts = []
    for i in range(5):
        value = top * i / 4
        y = TOP + plot_h - plot_h * i / 4
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#dee2e6"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#6c757d">'
            f"{escape(_number(value))}</text>"
        )
    return parts


def bar_chart(
    bars: Sequence[Bar], label: str, testid: str = "chart", top: float | None = None
) -> Markup:
    """Vertical bars, each a link to its claims when it has an `href`; the axis runs to `top`
    when given (100 for shares in percent), else to a round number above the highest bar."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    highest = max((b.value for b in bars), default=0)
    top = top if top is not None and top >= highest else _nice_top(highest)
    body = _y_axis(top, plot_h)
    slot = plot_w / max(len(bars), 1)
    every = max(1, math.ceil(len(bars) / 16))
    # The labels are turned 35 degrees: room below the axis (and left of the first bar) for
    # the longest of them, so that none is cut off.
    longest = max((_text_width(str(b.label)[:14]) for b in bars), default=0)
    below = 14 + longest * math.sin(math.radians(35)) + 4
    extra_bottom = max(0.0, below - BOTTOM)
    extra_left = max(0.0, longest * math.cos(math.radians(35)) - (LEFT + slot / 2))
    for i, bar in enumerate(bars):
        h = plot_h * bar.value / top if top else 0
        x = LEFT + i * slot + slot * 0.15
        y = TOP + plot_h - h
        title = escape(bar.title or f"{bar.label}: {_number(bar.value)}")
        rect = (
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" '
            f'fill="{COLOUR}"><title>{title}</title></rect>'
        )
        if bar.href:
            rect = f'<a href="{escape(bar.href)}" data-testid="bar">{rect}</a>'
        body.append(rect)
        if i % every == 0:
            cx = LEFT + i * slot + slot / 2
            body.append(
                f'<text x="{cx:.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="end" '
                f'transform="rotate(-35 {cx:.1f} {HEIGHT - BOTTOM + 14})" fill="#495057">'
                f"{escape(str(bar.label)[:14])}</text>"
            )
    return _frame(body, label, testid, extra_left, extra_bottom)


@dataclass(frozen=True)
class Series:
    """A line (`points` as (x, y)) with an optional band ((x, lower, upper))."""

    name: str
    points: Sequence[tuple[float, float]]
    band: Sequence[tuple[float, float, float]] = ()
    colour: str = COLOUR
    dashed: bool = False


def line_chart(series: Sequence[Series], label: str, x_label: str, testid: str = "chart") -> Markup:
    """Lines with their bands on linear axes (x from its smallest to its largest value)."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    xs = [x for s in series for x, _ in s.points] or [0, 1]
    ys = [y for s in series for _, y in s.points] + [u for s in series for _, _, u in s.band]
    x0, x1 = min(xs), max(xs)
    x1 = x1 if x1 > x0 else x0 + 1
    top = _nice_top(max(ys, default=0))

    def px(x):
        return LEFT + plot_w * (x - x0) / (x1 - x0)

    def py(y):
        return TOP + plot_h - plot_h * y / top

    body = _y_axis(top, plot_h)
    whole = all(float(x).is_integer() for x in xs)
    for i in range(5):
        x = x0 + (x1 - x0) * i / 4
        if whole:
            x = round(x)
        body.append(
            f'<text x="{px(x):.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle" '
            f'fill="#495057">{escape(_number(round(x, 1)))}</text>'
        )
    body.append(
        f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 8}" text-anchor="middle" '
        f'fill="#495057">{escape(x_label)}</text>'
    )
    for n, s in enumerate(series):
        if s.band:
            upper = " ".join(f"{px(x):.1f},{py(u):.1f}" for x, _, u in s.band)
            lower = " ".join(f"{px(x):.1f},{py(lo):.1f}" for x, lo, _ in reversed(s.band))
            body.append(f'<polygon points="{upper} {lower}" fill="{BAND}" opacity="0.5"/>')
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in s.points)
        dash = ' stroke-dasharray="5 4"' if s.dashed else ""
        body.append(
            f'<polyline points="{path}" fill="none" stroke="{s.colour}" stroke-width="2"{dash}/>'
        )
        body.append(
            f'<text x="{LEFT + 8}" y="{TOP + 12 + 14 * n}" fill="{s.colour}">'
            f"{escape(s.name)}</text>"
        )
    return _frame(body, label, testid)


def weibull_plot(
    points: Sequence[tuple[float, float]],
    line: Sequence[tuple[float, float]],
    bounds: Sequence[tuple[float, float, float]],
    label: str,
    x_label: str,
    names: tuple[str, str],
    testid: str = "probability-plot",
) -> Markup:
    """A Weibull probability plot: log time against log(-log(1 - F)), the unreliability axis
    labelled in percent; `points` are nonparametric estimates (t, F), `line` the fitted F and
    `bounds` its pointwise confidence band (t, lower F, upper F)."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def q(f):
        f = min(max(f, 1e-6), 1 - 1e-9)
        return math.log(-math.log1p(-f))

    ts = [t for t, _ in [*points, *line] if t > 0] or [1, 10]
    fs = [f for _, f in [*points, *line] if f > 0] or [0.001, 0.5]
    tx0, tx1 = math.log10(min(ts)), math.log10(max(ts))
    tx1 = tx1 if tx1 > tx0 else tx0 + 1
    candidates = [0.0001, 0.001, 0.01, 0.05, 0.1, 0.2, 0.5, 0.9, 0.99]
    f_low = max(c for c in candidates if c <= max(min(fs), 0.0001))
    f_high = min([c for c in candidates if c >= max(fs)] or [0.99])
    qy0, qy1 = q(f_low), q(f_high)

    def px(t):
        return LEFT + plot_w * (math.log10(t) - tx0) / (tx1 - tx0)

    def py(f):
        return TOP + plot_h - plot_h * (q(f) - qy0) / (qy1 - qy0)

    body = []
    for f in candidates:
        if f_low <= f <= f_high:
            y = py(f)
            body.append(
                f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
                f'stroke="#dee2e6"/><text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" '
                f'fill="#6c757d">{f * 100:g}%</text>'
            )
    decade = math.floor(tx0)
    while decade <= math.ceil(tx1):
        for m in (1, 2, 5):
            t = m * 10**decade
            if tx0 <= math.log10(t) <= tx1:
                x = px(t)
                body.append(
                    f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{TOP + plot_h}" '
                    f'stroke="#dee2e6"/><text x="{x:.1f}" y="{HEIGHT - BOTTOM + 14}" '
                    f'text-anchor="middle" fill="#495057">{t:g}</text>'
                )
        decade += 1
    body.append(
        f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 8}" text-anchor="middle" '
        f'fill="#495057">{escape(x_label)}</text>'
    )

    def inside(t, f):
        return t > 0 and f_low <= f <= f_high

    if bounds:
        kept = [(t, lo, hi) for t, lo, hi in bounds if t > 0]
        upper = " ".join(f"{px(t):.1f},{py(min(hi, f_high)):.1f}" for t, _, hi in kept)
        lower = " ".join(f"{px(t):.1f},{py(max(lo, f_low)):.1f}" for t, lo, _ in reversed(kept))
        body.append(f'<polygon points="{upper} {lower}" fill="{BAND}" opacity="0.5"/>')
    kept_line = [(t, f) for t, f in line if inside(t, f)]
    if kept_line:
        path = " ".join(f"{px(t):.1f},{py(f):.1f}" for t, f in kept_line)
        body.append(f'<polyline points="{path}" fill="none" stroke="{COLOUR}" stroke-width="2"/>')
    for t, f in points:
        if inside(t, f):
            body.append(
                f'<circle cx="{px(t):.1f}" cy="{py(f):.1f}" r="3.5" fill="{OBSERVED}">'
                f"<title>{t:g}: {f * 100:.3g}%</title></circle>"
            )
    body.append(
        f'<text x="{LEFT + 8}" y="{TOP + 12}" fill="{COLOUR}">{escape(names[0])}</text>'
        f'<text x="{LEFT + 8}" y="{TOP + 26}" fill="{OBSERVED}">{escape(names[1])}</text>'
    )
    return _frame(body, label, testid)


def reliability_charts(report) -> dict:
    """The reliability page's (and quality report's) probability plot and forecast chart."""
    import numpy as np

    from portal.analysis.reliability import life_table

    fit = report.fit
    points = life_table(report.life.failures, report.life.survivors) if report.life else []
    top = max([k for k, _ in points] + [fit.b10 * 1.5, 12])
    grid = np.geomspace(0.5, top * 1.5, 60)
    lower, upper = fit.cdf_bounds(grid)
    plot = weibull_plot(
        points,
        list(zip(grid.tolist(), fit.cdf(grid).tolist(), strict=True)),
        list(zip(grid.tolist(), lower.tolist(), upper.tolist(), strict=True)),
        _("Weibull probability plot"),
        _("Months in service"),
        (_("Weibull fit with 95% bounds"), _("Observed (Kaplan-Meier)")),
    )
    forecast_chart = line_chart(
        [
            Series(
                _("Predicted claims (cumulative) with 95% bounds"),
                [(m.month, m.predicted) for m in report.forecast],
                [(m.month, m.lower, m.upper) for m in report.forecast],
            )
        ],
        _("Forecast of claims"),
        _("Months ahead"),
        testid="forecast-chart",
    )
    return {"plot": plot, "forecast_chart": forecast_chart, "points": points}
