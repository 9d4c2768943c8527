"""The analysis lists sort by their columns through HTTP, like every other list of the portal:
the claims behind the figures, the early warnings and the outlier stations. Each sorts both ways
by its headings (links in English and Chinese), its CSV and XLSX exports follow the order shown,
and a sort it does not know answers its default order (never an error page)."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest

from tests.test_analysis_pages import AS_OF, an1, claims, fleet, station_claims  # noqa: F401
from tests.test_lists import row_order, xlsx_rows
from tests.test_lists_more import BAD_SORTS

CHINESE = {"Accept-Language": "zh-CN,zh;q=0.9"}


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def sort_links(html: str) -> dict[str, str]:
    """The sortable headings of a page: their sort key and the link's href."""
    found = re.findall(
        r'<th[^>]*data-sort-key="([^"]+)"[^>]*><a class="sort-link[^"]*" href="([^"]+)"', html
    )
    return dict(found)


def assert_sortable_headings(html: str, keys: list[str], chinese_label: str) -> None:
    links = sort_links(html)
    for key in keys:
        assert key in links, key
        assert f"sort={key}" in links[key]
    assert chinese_label in html


# -- the claims behind the figures -----------------------------------------------------------------

CLAIMS_URL = "/analysis/claims"
CLAIMS_BASE = {"model": "AN1", "as_of": AS_OF}
CLAIM_KEYS = [
    "claim",
    "type",
    "status",
    "station",
    "vin",
    "repair",
    "mis",
    "part",
    "fault",
    "supplier",
    "amount",
]


@pytest.fixture
def claim_numbers(claims):  # noqa: F811
    """The counted claims: two of station A (P-100, MIS 2 and 4), the newest of station B."""
    return {k: claims[k].number for k in ("p100_mis2", "p100_mis4", "p200")}


def claim_order(client, numbers, **args) -> list[str]:
    response = client.get(CLAIMS_URL, query_string={**CLAIMS_BASE, **args})
    assert response.status_code == 200
    return row_order(response.get_data(as_text=True), "data-claim", list(numbers.values()))


@pytest.mark.parametrize(
    ("sort", "ascending"),
    [
        ("claim", lambda n: sorted(n.values())),
        ("repair", lambda n: [n["p100_mis2"], n["p100_mis4"], n["p200"]]),
        # station A's two claims (by number) before station B's; the other way all mirrored
        ("station", lambda n: [*sorted([n["p100_mis2"], n["p100_mis4"]]), n["p200"]]),
    ],
)
def test_the_claims_behind_the_figures_sort_by_a_column_both_ways(
    login_as, claim_numbers, sort, ascending
):
    client = login_as("auditor")
    expected = ascending(claim_numbers)
    assert claim_order(client, claim_numbers, sort=sort, dir="asc") == expected
    assert claim_order(client, claim_numbers, sort=sort, dir="desc") == expected[::-1]


def test_the_claims_export_follows_the_order_chosen(login_as, claim_numbers):
    client = login_as("auditor")
    a2, a4, b = claim_numbers["p100_mis2"], claim_numbers["p100_mis4"], claim_numbers["p200"]
    station_a = sorted([a2, a4])
    for sort, direction, shown in (
        ("repair", "asc", [a2, a4, b]),
        ("station", "asc", [*station_a, b]),
        ("station", "desc", [b, *station_a[::-1]]),
    ):
        args = {**CLAIMS_BASE, "sort": sort, "dir": direction}
        assert claim_order(client, claim_numbers, sort=sort, dir=direction) == shown
        rows = csv_rows(client.get(CLAIMS_URL, query_string={**args, "format": "csv"}))
        assert [r[0] for r in rows[1:]] == shown
        sheet = xlsx_rows(client.get(CLAIMS_URL, query_string={**args, "format": "xlsx"}))
        assert [r[0] for r in sheet[1:]] == shown


def test_the_claims_page_links_its_export_and_pager_with_the_sort(login_as, claim_numbers):
    client = login_as("auditor")
    html = client.get(
        CLAIMS_URL, query_string={**CLAIMS_BASE, "sort": "claim", "dir": "desc"}
    ).get_data(as_text=True)
    exports = html.split('data-testid="exports"')[1][:600]
    assert "sort=claim" in exports and "dir=desc" in exports
    assert re.search(r'data-sort-key="claim" aria-sort="descending"', html)


def test_a_bad_sort_of_the_claims_answers_the_newest_repair_first(login_as, claim_numbers):
    client = login_as("auditor")
    newest_first = [claim_numbers["p200"], claim_numbers["p100_mis4"], claim_numbers["p100_mis2"]]
    assert claim_order(client, claim_numbers, sort="repair", dir="asc") != newest_first
    for args in (*BAD_SORTS, {"sort": "mis", "dir": "sideways"}):
        assert claim_order(client, claim_numbers, **args) == newest_first
    html = client.get(CLAIMS_URL, query_string={**CLAIMS_BASE, "sort": "id;--"})
    assert 'data-sort-key="repair" aria-sort="descending"' in html.get_data(as_text=True)
    rows = csv_rows(
        client.get(CLAIMS_URL, query_string={**CLAIMS_BASE, "sort": "id;--", "format": "csv"})
    )
    assert [r[0] for r in rows[1:]] == newest_first


def test_the_claims_headings_in_chinese_are_sort_links(login_as, claim_numbers):
    client = login_as("auditor")
    html = client.get(CLAIMS_URL, query_string=CLAIMS_BASE, headers=CHINESE).get_data(as_text=True)
    assert_sortable_headings(html, CLAIM_KEYS, "维修日期")


# -- early warnings --------------------------------------------------------------------------------

WARNINGS_URL = "/analysis/warnings"
WARNING_KEYS = [
    "part",
    "supplier",
    "cohort",
    "vehicles",
    "observed",
    "expected",
    "ratio",
    "p",
    "as_of",
    "state",
]


@pytest.fixture
def warnings(fleet):  # noqa: F811
    """Three warnings: two active (p 1e-4 and 1e-3), one cleared (the least likely, 1e-5)."""
    from portal.analysis.models import EarlyWarning
    from portal.extensions import db

    def warning(part, cohort, vehicles, observed, expected, p_value, as_of, active=True):
        return EarlyWarning(
            part=part,
            supplier=part.supplier,
            cohort=cohort,
            as_of=as_of,
            vehicles=vehicles,
            observed=observed,
            expected=expected,
            p_value=p_value,
            active=active,
        )

    made = [
        warning(fleet.part, "2024-11", 300, 9, 2.0, 1e-4, date(2025, 9, 30)),
        warning(fleet.part_b, "2024-12", 120, 6, 1.0, 1e-3, date(2025, 8, 31)),
        warning(fleet.part, "2025-01", 800, 5, 0.5, 1e-5, date(2025, 10, 31), active=False),
    ]
    db.session.add_all(made)
    db.session.commit()
    return [f"{w.part.number} {w.cohort}" for w in made]


def warning_order(client, keys, **args) -> list[str]:
    response = client.get(WARNINGS_URL, query_string={"show": "all", **args})
    assert response.status_code == 200
    return row_order(response.get_data(as_text=True), "data-warning", keys)


@pytest.mark.parametrize(
    ("sort", "ascending"),
    [
        ("observed", [2, 1, 0]),  # 5, 6, 9 claims
        ("as_of", [1, 0, 2]),  # August, September, October
        ("p", [2, 0, 1]),  # 1e-5, 1e-4, 1e-3 (the cleared one too)
    ],
)
def test_early_warnings_sort_by_a_column_both_ways(login_as, warnings, sort, ascending):
    client = login_as("auditor")
    expected = [warnings[i] for i in ascending]
    assert warning_order(client, warnings, sort=sort, dir="asc") == expected
    assert warning_order(client, warnings, sort=sort, dir="desc") == expected[::-1]


def test_the_early_warnings_export_follows_the_order_chosen(login_as, warnings):
    client = login_as("auditor")
    for sort, direction, positions in (
        ("observed", "asc", [2, 1, 0]),
        ("as_of", "desc", [2, 0, 1]),
    ):
        args = {"show": "all", "sort": sort, "dir": direction}
        shown = [warnings[i] for i in positions]
        assert warning_order(client, warnings, sort=sort, dir=direction) == shown
        rows = csv_rows(client.get(WARNINGS_URL, query_string={**args, "format": "csv"}))
        assert [f"{r[0]} {r[2]}" for r in rows[1:]] == shown
        sheet = xlsx_rows(client.get(WARNINGS_URL, query_string={**args, "format": "xlsx"}))
        assert [f"{r[0]} {r[2]}" for r in sheet[1:]] == shown


def test_a_bad_sort_of_the_early_warnings_answers_the_active_and_least_likely_first(
    login_as, warnings
):
    client = login_as("auditor")
    default = [warnings[0], warnings[1], warnings[2]]
    assert warning_order(client, warnings, sort="observed", dir="asc") != default
    for args in (*BAD_SORTS, {"sort": "observed", "dir": "sideways"}):
        assert warning_order(client, warnings, **args) == default
    rows = csv_rows(
        client.get(WARNINGS_URL, query_string={"show": "all", "sort": "id;--", "format": "csv"})
    )
    assert [f"{r[0]} {r[2]}" for r in rows[1:]] == default


def test_the_early_warnings_headings_in_chinese_are_sort_links(login_as, warnings):
    client = login_as("auditor")
    html = client.get(WARNINGS_URL, headers=CHINESE).get_data(as_text=True)
    assert_sortable_headings(html, WARNING_KEYS, "生产月份")


def test_the_active_and_all_switch_keeps_the_sort(login_as, warnings):
    client = login_as("auditor")
    html = client.get(WARNINGS_URL, query_string={"sort": "observed", "dir": "asc"})
    switch = html.get_data(as_text=True).split('class="btn-group btn-group-sm"')[1]
    switch = switch.split("</div>")[0]
    assert switch.count("sort=observed") == 2


# -- outlier stations ------------------------------------------------------------------------------

STATIONS_URL = "/analysis/stations"
STATIONS_BASE = {"model": "AN1", "as_of": "2025-12-31"}
CODES = ["ST-A", "ST-B", "ST-C", "ST-D", "ST-E"]
STATION_KEYS = [
    "station",
    "region",
    "claims",
    "vehicles",
    "per_vehicle",
    "per_vehicle_p",
    "cost",
    "cost_z",
    "hours",
    "hours_z",
    "repeats",
    "repeats_p",
]


def station_order(client, **args) -> list[str]:
    response = client.get(STATIONS_URL, query_string={**STATIONS_BASE, **args})
    assert response.status_code == 200
    return row_order(response.get_data(as_text=True), "data-station", CODES)


@pytest.mark.parametrize(
    ("sort", "ascending", "descending"),
    [
        ("station", CODES, CODES[::-1]),
        # ST-E has ten claims, the others five each (equal values: by station code)
        (
            "claims",
            ["ST-A", "ST-B", "ST-C", "ST-D", "ST-E"],
            ["ST-E", "ST-A", "ST-B", "ST-C", "ST-D"],
        ),
        # ST-D's claims take 6.00 labor hours, the others' 1.50
        (
            "hours",
            ["ST-A", "ST-B", "ST-C", "ST-E", "ST-D"],
            ["ST-D", "ST-A", "ST-B", "ST-C", "ST-E"],
        ),
    ],
)
@pytest.mark.usefixtures("station_claims")
def test_outlier_stations_sort_by_a_column_both_ways(
    login_as,
    sort,
    ascending,
    descending,
):
    client = login_as("auditor")
    assert station_order(client, sort=sort, dir="asc") == ascending
    assert station_order(client, sort=sort, dir="desc") == descending


@pytest.mark.usefixtures("station_claims")
def test_the_outlier_stations_export_follows_the_order_chosen(login_as):
    client = login_as("auditor")
    for sort, direction, shown in (
        ("station", "desc", CODES[::-1]),
        ("hours", "desc", ["ST-D", "ST-A", "ST-B", "ST-C", "ST-E"]),
        ("claims", "asc", CODES),
    ):
        args = {**STATIONS_BASE, "sort": sort, "dir": direction}
        assert station_order(client, sort=sort, dir=direction) == shown
        rows = csv_rows(client.get(STATIONS_URL, query_string={**args, "format": "csv"}))
        assert [r[0] for r in rows[1:]] == shown
        sheet = xlsx_rows(client.get(STATIONS_URL, query_string={**args, "format": "xlsx"}))
        assert [r[0] for r in sheet[1:]] == shown


@pytest.mark.usefixtures("station_claims")
def test_a_bad_sort_of_the_outlier_stations_answers_flagged_first(login_as):
    client = login_as("auditor")
    default = station_order(client)
    assert default[:2] == ["ST-E", "ST-D"]  # flagged first, then by claims
    assert station_order(client, sort="station", dir="asc") != default
    for args in (*BAD_SORTS, {"sort": "claims", "dir": "sideways"}):
        assert station_order(client, **args) == default
    rows = csv_rows(
        client.get(STATIONS_URL, query_string={**STATIONS_BASE, "sort": "id;--", "format": "csv"})
    )
    assert [r[0] for r in rows[1:]] == default


@pytest.mark.usefixtures("station_claims")
def test_the_outlier_stations_headings_in_chinese_are_sort_links(login_as):
    client = login_as("auditor")
    html = client.get(STATIONS_URL, query_string=STATIONS_BASE, headers=CHINESE).get_data(
        as_text=True
    )
    assert_sortable_headings(html, STATION_KEYS, "单车索赔数")


@pytest.mark.usefixtures("station_claims")
def test_the_outlier_stations_filter_form_keeps_the_sort(login_as):
    client = login_as("auditor")
    html = client.get(
        STATIONS_URL, query_string={**STATIONS_BASE, "sort": "hours", "dir": "desc"}
    ).get_data(as_text=True)
    form = html.split('data-testid="analysis-filters"')[1].split("</form>")[0]
    assert '<input type="hidden" name="sort" value="hours">' in form
    assert '<input type="hidden" name="dir" value="desc">' in form
    plain = client.get(STATIONS_URL, query_string={**STATIONS_BASE, "sort": "nonsense"})
    form = plain.get_data(as_text=True).split('data-testid="analysis-filters"')[1]
    assert 'name="sort"' not in form.split("</form>")[0]
