"""The server-drawn SVG charts: a bar chart leaves room for its turned labels, so that none is
cut off at the bottom or left edge (the campaign page's regions, the analysis pages' parts)."""

from __future__ import annotations

import math
import re

from portal.analysis import charts


def _view_box(svg: str) -> tuple[float, float, float, float]:
    found = re.search(r'viewBox="([-\d.]+) ([-\d.]+) ([-\d.]+) ([-\d.]+)"', svg)
    assert found, svg[:200]
    return tuple(float(v) for v in found.groups())


def _lowest_label_point(label: str) -> float:
    """How far below the axis a label turned 35 degrees reaches (its baseline offset included)."""
    return (
        charts.HEIGHT - charts.BOTTOM + 14 + charts._text_width(label) * math.sin(math.radians(35))
    )


def test_short_labels_keep_the_standard_drawing():
    svg = str(charts.bar_chart([charts.Bar("M01", 3), charts.Bar("M02", 5)], "Claims"))
    assert _view_box(svg) == (0, 0, charts.WIDTH, charts.HEIGHT)


def test_long_labels_make_the_drawing_tall_enough_to_show_them_whole():
    labels = ["East China region", "华东地区华东地区华东地区华东", "South"]
    svg = str(charts.bar_chart([charts.Bar(label, 10 * i) for i, label in enumerate(labels)], "x"))
    x, _, width, height = _view_box(svg)
    for label in labels:
        assert _lowest_label_point(label[:14]) <= height
    # The first bar's label ends at its bar's middle and runs left: the drawing starts far
    # enough left to hold it.
    first = charts._text_width(labels[0][:14]) * math.cos(math.radians(35))
    slot = (charts.WIDTH - charts.LEFT - charts.RIGHT) / len(labels)
    assert charts.LEFT + slot / 2 - first >= x
    assert width == charts.WIDTH - x


def test_chinese_characters_count_wider_than_latin_ones():
    assert charts._text_width("华东") > charts._text_width("EC")
