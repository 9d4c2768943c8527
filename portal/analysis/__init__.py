"""Analysis (统计分析): the statistics core behind the fault, reliability and warranty pages.

`conventions` holds DESIGN section 7's fixed conventions as pure functions, `queries` the
set-based SQL that aggregates claims and vehicles for a selection, `reliability` the Weibull life
fit, expected failures and forecast on the aggregated data.
"""
