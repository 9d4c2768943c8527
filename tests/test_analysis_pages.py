"""The analysis pages through HTTP: every figure checked against claims made in the test, its
drill-down listing exactly those claims, the roles (a station 403, a supplier its own parts only,
another supplier's part 404), filters that cannot be read (400 with a message), exports.

The analysed vehicles are of model AN1, so the fleet's own HX5 vehicles (sold relative to today)
stay out of the selections.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal

import pytest

from tests.factories import (
    ClaimFactory,
    Fleet,
    SettlementRunFactory,
    StationFactory,
    UserFactory,
    VehicleFactory,
    VehicleModelFactory,
)

AS_OF = "2025-09-30"
CLAIMED = Decimal("230.00")  # the payload's claim: 1 x 100.00 + 10% handling + 1.50 h x 80.00


@pytest.fixture
def fleet(world):
    return Fleet.build(world)


@pytest.fixture
def an1(fleet):
    return VehicleModelFactory(code="AN1")


def sold(model, day, station=None):
    return VehicleFactory(
        model=model, selling_station=station, sale_date=day, production_date=date(2024, 12, 5)
    )


def repaired(fleet, vehicle, day, state="approved", **kw):
    """A claim for `vehicle` repaired on `day`, taken to `state` (a `ClaimFactory` trait)."""
    return ClaimFactory(
        fleet=fleet,
        **{state: True},
        vin=vehicle.vin,
        repair_date=day.isoformat(),
        fault_date=day.isoformat(),
        **kw,
    )


@pytest.fixture
def claims(world, fleet, an1):
    """Four AN1 vehicles sold in January 2025 (one more in February); claims: two on P-100
    (supplier A) at MIS 2 and 4, one on P-200 (supplier B) at MIS 4 repaired at station B, one
    rejected (never counted), one repaired after the as-of date (not counted)."""
    vehicles = [sold(an1, date(2025, 1, 10), world.stations[0]) for _ in range(4)]
    sold(an1, date(2025, 2, 10), world.stations[1])
    made = {
        "p100_mis2": repaired(fleet, vehicles[0], date(2025, 2, 20)),
        "p100_mis4": repaired(fleet, vehicles[1], date(2025, 4, 15)),
        "p200": repaired(
            fleet, vehicles[2], date(2025, 4, 20), station="station_b", causal_part="P-200"
        ),
        "rejected": repaired(fleet, vehicles[3], date(2025, 3, 1), "rejected"),
        "later": repaired(fleet, vehicles[3], date(2025, 10, 2)),
    }
    return made


def numbers_in(html: str, testid: str) -> str:
    found = re.search(rf'data-testid="{testid}"[^>]*>\s*(?:<a [^>]*>)?([^<]+)', html)
    assert found, testid
    return found.group(1).strip()


def listed_claims(html: str) -> set[str]:
    return set(re.findall(r'<tr data-claim="([^"]+)"', html))


def drill_links(html: str) -> list[str]:
    return [
        link.replace("&amp;", "&") for link in re.findall(r'href="(/analysis/claims\?[^"]+)"', html)
    ]


def test_fault_analysis_counts_cost_and_c_per_1000_by_part_with_drill_down(login_as, claims, an1):
    client = login_as("auditor")
    page = client.get(f"/analysis/faults?model=AN1&as_of={AS_OF}&group_by=part")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert numbers_in(html, "total-vehicles") == "5"
    assert numbers_in(html, "total-claims") == "3"
    assert numbers_in(html, "total-per_1000") == "600.00"
    assert numbers_in(html, "total-cost") == "690.00"
    assert numbers_in(html, "total-per_vehicle") == "138.00"
    row = re.search(r'<tr data-key="P-100">(.*?)</tr>', html, re.S).group(1)
    assert [c.strip() for c in re.findall(r">([^<>]+)<", row) if c.strip()] == [
        "P-100",
        "5",
        "2",
        "400.00",
        "460.00",
        "92.00",
    ]

    link = next(u for u in drill_links(html) if "part=P-100" in u)
    listed = client.get(link).get_data(as_text=True)
    assert listed_claims(listed) == {claims["p100_mis2"].number, claims["p100_mis4"].number}
    assert numbers_in(listed, "claim-count") == "2"


def test_months_in_service_rows_and_the_nevada_cell_drill_down(login_as, claims, an1):
    client = login_as("finance")
    html = client.get(
        f"/analysis/faults?model=AN1&as_of={AS_OF}&group_by=months_in_service"
    ).get_data(as_text=True)
    # MIS 4: two claims (P-100, P-200) over the vehicles of age >= 4 (all five).
    row = re.search(r'<tr data-key="4">(.*?)</tr>', html, re.S).group(1)
    assert [c.strip() for c in re.findall(r">([^<>]+)<", row) if c.strip()][:4] == [
        "4",
        "5",
        "2",
        "400.00",
    ]
    cell = next(u for u in drill_links(html) if "sold_from=2025-01" in u and "mis_from=4" in u)
    listed = client.get(cell).get_data(as_text=True)
    assert listed_claims(listed) == {claims["p100_mis4"].number, claims["p200"].number}


def test_station_filter_counts_the_claims_repaired_there(login_as, claims, an1):
    client = login_as("admin")
    html = client.get(f"/analysis/claims?model=AN1&as_of={AS_OF}&station=ST-B").get_data(
        as_text=True
    )
    assert listed_claims(html) == {claims["p200"].number}


@pytest.mark.parametrize("role", ["auditor", "finance", "admin", "supplier"])
@pytest.mark.parametrize(
    "path", ["/analysis/", "/analysis/faults", "/analysis/claims", "/analysis/reliability"]
)
def test_the_analysis_pages_open_for_the_oem_and_suppliers(login_as, world, role, path):
    page = login_as(role).get(path)
    assert page.status_code == 200
    assert "统计分析" in page.get_data(as_text=True) or "Analysis" in page.get_data(as_text=True)


@pytest.mark.parametrize(
    "path", ["/analysis/faults", "/analysis/claims", "/analysis/reliability", "/analysis/stations"]
)
def test_a_station_may_not_open_the_analysis(login_as, world, path):
    assert login_as("station").get(path).status_code == 403


def test_a_supplier_sees_its_own_parts_only(login_as, claims, an1):
    client = login_as("supplier")  # supplier A: P-100
    html = client.get(f"/analysis/faults?model=AN1&as_of={AS_OF}&group_by=part").get_data(
        as_text=True
    )
    assert 'data-key="P-100"' in html
    assert 'data-key="P-200"' not in html
    assert numbers_in(html, "total-claims") == "2"
    listed = client.get(f"/analysis/claims?model=AN1&as_of={AS_OF}").get_data(as_text=True)
    assert listed_claims(listed) == {claims["p100_mis2"].number, claims["p100_mis4"].number}


@pytest.mark.parametrize("query", ["part=P-200", "supplier=SU-B", "part=NOPE", "supplier=NOPE"])
@pytest.mark.parametrize("path", ["/analysis/faults", "/analysis/claims", "/analysis/reliability"])
def test_another_suppliers_part_or_supplier_is_a_404_for_a_supplier(login_as, claims, path, query):
    assert login_as("supplier").get(f"{path}?{query}").status_code == 404


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("as_of=yesterday", "is not a date"),
        ("sold_from=2025-13", "is not a month"),
        ("mis_from=0", "is not a number of months in service"),
        ("model=NOPE", "There is no vehicle model NOPE"),
        ("group_by=colour", "is not a way to group the claims"),
        ("repaired_from=2025-10-01&as_of=2025-09-30", "starts after its end"),
    ],
)
def test_filters_that_cannot_be_read_are_answered_with_a_message(login_as, world, query, message):
    page = login_as("auditor").get(f"/analysis/faults?{query}")
    assert page.status_code == 400
    assert message in page.get_data(as_text=True)


def test_the_reliability_page_refuses_too_few_failures_with_its_reason(login_as, claims, an1):
    page = login_as("auditor").get(f"/analysis/reliability?model=AN1&as_of={AS_OF}&part=P-200")
    assert page.status_code == 200
    assert 'data-testid="fit-refused"' in page.get_data(as_text=True)


@pytest.mark.parametrize(
    "query",
    [
        "horizon=0",
        "horizon=x",
        "future_sales=-3",
        "warranty_months=0",
        "horizon=nan",
        "future_sales=1e400",
        "future_sales=99999999999999999999999",
        "horizon=%D9%A3",  # an Arabic-Indic three: str.isdigit() says yes
        "horizon=%C2%B2",  # a superscript two: str.isdigit() says yes, int() refuses
        "warranty_months=%EF%BC%91%EF%BC%92",  # full-width 12
        "mis_from=-1",
        "mis_to=%C2%B2",
        "sold_from=2025-%C2%B2",
        "produced_to=%EF%BC%92%EF%BC%90%EF%BC%92%EF%BC%95-01",
        "as_of=99999-01-01",
    ],
)
def test_bad_forecast_options_are_answered_with_a_message(login_as, world, query):
    page = login_as("auditor").get(f"/analysis/reliability?{query}")
    assert page.status_code == 400
    assert 'data-testid="filter-errors"' in page.get_data(as_text=True)


@pytest.mark.parametrize("query", ["warranty_months=1%002", "as_of=2025-09-30%00", "model=A%00"])
def test_a_nul_character_in_a_filter_is_refused_before_the_page(login_as, world, query):
    page = login_as("auditor").get(f"/analysis/reliability?{query}")
    assert page.status_code == 400
    assert "must not hold control characters" in page.get_data(as_text=True)


@pytest.mark.parametrize("page", ["%C2%B2", "%D9%A3", "-1", "99999999999999999999999", "x"])
def test_a_claim_list_page_that_is_not_a_whole_number_is_refused(login_as, world, page):
    answer = login_as("auditor").get(f"/analysis/claims?page={page}")
    assert answer.status_code == 400
    assert "must be a whole number" in answer.get_data(as_text=True)


def test_the_rate_table_and_the_claim_list_export_as_csv_and_xlsx(login_as, claims, an1):
    from openpyxl import load_workbook

    client = login_as("auditor")
    response = client.get(f"/analysis/faults?model=AN1&as_of={AS_OF}&group_by=part&format=csv")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][0] == "Causal part"
    assert ["P-100", "5", "2", "400", "460.00", "92.00"] in rows

    response = client.get(f"/analysis/claims?model=AN1&as_of={AS_OF}&part=P-100&format=xlsx")
    sheet = load_workbook(io.BytesIO(response.data)).active
    numbers = {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert numbers == {claims["p100_mis2"].number, claims["p100_mis4"].number}


# -- compensation analysis -------------------------------------------------------------------------


@pytest.fixture
def settled(world, claims):
    """The claims settled in a released run; supplier A accepts the MIS-2 claim's chargeback and
    disputes the MIS-4 one; the station statement of station A is paid."""
    import sqlalchemy as sa

    from portal.extensions import db
    from portal.settlement import operations as settle
    from portal.settlement.models import Chargeback, Statement, StatementKind

    SettlementRunFactory(world=world, released=True)
    chargebacks = {cb.claim_id: cb for cb in db.session.scalars(sa.select(Chargeback))}
    settle.accept_chargeback(chargebacks[claims["p100_mis2"].id], world.users["supplier"])
    settle.dispute_chargeback(
        chargebacks[claims["p100_mis4"].id], world.users["supplier"], "not our pump"
    )
    station_a = db.session.scalar(
        sa.select(Statement).where(
            Statement.kind == StatementKind.STATION, Statement.org_id == world.stations[0].id
        )
    )
    settle.mark_paid(station_a, world.users["finance"], date.today(), "BANK-1")
    db.session.flush()
    return chargebacks


def test_compensation_paid_recovered_and_disputed_follow_the_settlement(
    login_as, claims, settled, an1
):
    client = login_as("finance")
    html = client.get(f"/analysis/compensation?model=AN1&as_of={AS_OF}").get_data(as_text=True)
    counted = [claims["p100_mis2"], claims["p100_mis4"], claims["p200"]]
    assert numbers_in(html, "money-claims") == "3"
    assert (
        numbers_in(html, "money-settled") == f"{sum(c.approved_total_amount for c in counted):,.2f}"
    )
    paid = sum(c.approved_total_amount for c in counted[:2])  # station A's claims
    assert numbers_in(html, "money-paid") == f"{paid:,.2f}"
    accepted = settled[claims["p100_mis2"].id].amount
    assert numbers_in(html, "money-recovered") == f"{accepted:,.2f}"
    row = re.search(r'data-testid="recovery-supplier".*?<tr data-key="SU-A">(.*?)</tr>', html, re.S)
    cells = [c.strip() for c in re.findall(r">([^<>]+)<", row.group(1)) if c.strip()]
    disputed = settled[claims["p100_mis4"].id].amount
    assert cells[0:2] == ["SU-A", "2"]
    assert cells[4] == f"{accepted:,.2f}"
    assert cells[7] == f"{disputed:,.2f}"
    assert 'data-step="submit_paid"' in html


def test_a_supplier_reads_its_own_recovery_only(login_as, claims, settled, an1):
    html = login_as("supplier").get(f"/analysis/compensation?as_of={AS_OF}").get_data(as_text=True)
    assert 'data-key="P-100"' in html
    assert 'data-key="P-200"' not in html
    assert 'data-testid="audit-queue"' not in html
    assert login_as("supplier").get("/analysis/compensation?supplier=SU-B").status_code == 404


# -- early warnings --------------------------------------------------------------------------------


@pytest.fixture
def rising_cohort(world, fleet, an1):
    """P-100 on AN1: 20 vehicles produced in each of four months (all sold 2025-01-10); the
    three older months have one claim each at MIS 3, the newest (2025-01) six claims at MIS 2-4:
    at the others' rate it should have had 20 x 3/60 = 1."""
    cohorts = {}
    for month in ("2024-10", "2024-11", "2024-12", "2025-01"):
        produced = date.fromisoformat(f"{month}-05")
        cohorts[month] = [
            VehicleFactory(
                model=an1,
                selling_station=world.stations[0],
                sale_date=date(2025, 1, 10),
                production_date=produced,
            )
            for _ in range(20)
        ]
    made = []
    for month in ("2024-10", "2024-11", "2024-12"):
        made.append(repaired(fleet, cohorts[month][0], date(2025, 3, 20)))
    newest = []
    for i, day in enumerate(
        ["2025-02-20", "2025-02-25", "2025-03-15", "2025-03-20", "2025-04-15", "2025-04-20"]
    ):
        newest.append(repaired(fleet, cohorts["2025-01"][i], date.fromisoformat(day)))
    return newest


def test_the_nightly_check_raises_a_warning_with_its_evidence_and_tells_auditors_and_supplier(
    switching_login, world, rising_cohort
):
    import sqlalchemy as sa

    from portal.analysis.models import EarlyWarning
    from portal.extensions import db
    from portal.notifications.models import Notification

    client = switching_login("auditor")
    response = client.post("/analysis/warnings/check", data={"csrf_token": ""})
    assert response.status_code == 302
    warnings = db.session.scalars(sa.select(EarlyWarning)).all()
    assert [(w.part.number, w.cohort, w.observed) for w in warnings] == [("P-100", "2025-01", 6)]
    warning = warnings[0]
    assert warning.expected == pytest.approx(1.0)
    assert warning.p_value == pytest.approx(0.000594, rel=1e-2)  # P(Poisson(1) >= 6)

    def told(who):
        return db.session.scalar(
            sa.select(sa.func.count(Notification.id)).where(
                Notification.user_id == world.users[who].id,
                Notification.link == f"/analysis/warnings/{warning.id}",
            )
        )

    assert (told("auditor"), told("supplier"), told("supplier_b"), told("finance")) == (1, 1, 0, 0)

    client.post("/analysis/warnings/check", data={"csrf_token": ""})  # safe to run twice
    assert db.session.scalar(sa.select(sa.func.count(EarlyWarning.id))) == 1
    assert told("auditor") == 1

    page = client.get(f"/analysis/warnings/{warning.id}").get_data(as_text=True)
    link = next(u for u in drill_links(page) if "mis_from" not in u)
    assert listed_claims(client.get(link).get_data(as_text=True)) == {
        c.number for c in rising_cohort
    }

    client = switching_login("supplier")
    assert client.get(f"/analysis/warnings/{warning.id}").status_code == 200
    assert "P-100" in client.get("/analysis/warnings").get_data(as_text=True)
    client = switching_login("supplier_b")
    assert client.get(f"/analysis/warnings/{warning.id}").status_code == 404
    assert "P-100" not in client.get("/analysis/warnings").get_data(as_text=True)


def test_only_auditors_and_admins_run_the_check(login_as, world):
    assert login_as("finance").post("/analysis/warnings/check").status_code == 403


def test_a_cohort_at_the_others_rate_raises_nothing(world, fleet, an1):
    from portal.analysis.early_warnings import check

    for month in ("2024-11", "2024-12"):
        vehicles = [
            VehicleFactory(
                model=an1,
                selling_station=world.stations[0],
                sale_date=date(2025, 1, 10),
                production_date=date.fromisoformat(f"{month}-05"),
            )
            for _ in range(10)
        ]
        for vehicle in vehicles[:3]:
            repaired(fleet, vehicle, date(2025, 3, 20))
    assert check(date(2025, 9, 30)) == []


# -- outlier stations ------------------------------------------------------------------------------


@pytest.fixture
def station_claims(world, fleet, an1):
    """Five stations. ST-A, ST-B, ST-C: five claims each, one per vehicle, as claimed (1.50 h).
    ST-D: five claims of 6.00 labor hours. ST-E: ten claims on two vehicles, a month apart."""
    for code in ("ST-C", "ST-D", "ST-E"):
        station = StationFactory(code=code, name=f"Station {code[-1]}")
        world.users[code] = UserFactory(station=True, organisation=station, username=code.lower())
    for key in ("station", "station_b", "ST-C"):
        for i in range(5):
            vehicle = sold(an1, date(2025, 1, 10))
            repaired(fleet, vehicle, date(2025, 3, 1 + i), station=key)
    long_labor = [
        {"kind": "part", "part_number": "P-100", "qty": 1},
        {"kind": "labor", "operation_code": "OP-1", "hours": "6.00", "description": "seized"},
    ]
    for i in range(5):
        vehicle = sold(an1, date(2025, 1, 10))
        repaired(fleet, vehicle, date(2025, 3, 1 + i), station="ST-D", lines=long_labor)
    repeated = [sold(an1, date(2025, 1, 10)) for _ in range(2)]
    for i in range(10):
        day = date(2025, 2 + i // 2, 10 + i % 2)
        repaired(fleet, repeated[i % 2], day, station="ST-E")


def test_outlier_stations_are_flagged_by_their_tests_with_the_claims_behind_them(
    login_as, station_claims
):
    client = login_as("auditor")
    html = client.get("/analysis/stations?model=AN1&as_of=2025-12-31").get_data(as_text=True)
    flagged = set(re.findall(r'<tr data-station="([^"]+)" data-flagged="1"', html))
    assert flagged == {"ST-D", "ST-E"}
    row = re.search(r'<tr data-station="ST-D".*?</tr>', html, re.S).group(0)
    assert re.search(r'data-metric="hours_per_claim" data-flagged="1">6.00<', row)
    row = re.search(r'<tr data-station="ST-E".*?</tr>', html, re.S).group(0)
    assert re.search(r'data-metric="claims_per_vehicle" data-flagged="1">5.00<', row)
    assert re.search(r'data-metric="repeats" data-flagged="1">8<', row)
    link = next(u for u in drill_links(row))
    assert numbers_in(client.get(link).get_data(as_text=True), "claim-count") == "10"


def test_outlier_stations_sort_by_their_columns_and_export_in_that_order(login_as, station_claims):
    from tests.test_lists import row_order, xlsx_rows

    codes = ["ST-A", "ST-B", "ST-C", "ST-D", "ST-E"]
    client = login_as("auditor")
    base = {"model": "AN1", "as_of": "2025-12-31"}

    def order(**args) -> list[str]:
        html = client.get("/analysis/stations", query_string={**base, **args})
        return row_order(html.get_data(as_text=True), "data-station", codes)

    assert order()[:2] == ["ST-E", "ST-D"]  # flagged first, then by claims
    assert order(sort="station", dir="asc") == codes
    assert order(sort="station", dir="desc") == codes[::-1]
    assert order(sort="hours", dir="desc")[0] == "ST-D"  # 6.00 hours a claim
    assert order(sort="claims", dir="desc")[0] == "ST-E"  # ten claims
    assert order(sort="repeats", dir="asc")[-1] == "ST-E"
    assert order(sort="nonsense") == order()
    sheet = xlsx_rows(
        client.get(
            "/analysis/stations",
            query_string={**base, "sort": "station", "dir": "desc", "format": "xlsx"},
        )
    )
    assert [r[0] for r in sheet[1:]] == codes[::-1]
    html = client.get("/analysis/stations", query_string={**base, "sort": "hours", "dir": "asc"})
    assert "sort=hours" in html.get_data(as_text=True).split('data-testid="exports"')[1][:400]


@pytest.mark.parametrize("role", ["supplier", "station"])
def test_only_the_oem_sees_outlier_stations(login_as, world, role):
    assert login_as(role).get("/analysis/stations").status_code == 403


# -- quality reports -------------------------------------------------------------------------------


def test_a_supplier_downloads_its_quality_report_rendered_by_a_job(login_as, claims, tmp_path, app):
    original = app.config.get("UPLOAD_FOLDER")
    app.config["UPLOAD_FOLDER"] = str(tmp_path)
    try:
        client = login_as("supplier")
        listing = client.get("/analysis/reports").get_data(as_text=True)
        assert "/analysis/reports/SU-A/" in listing
        first = client.get("/analysis/reports/SU-A/2025-09.pdf")
        assert first.status_code == 202  # the job ran in-process; the page offers the file
        assert 'data-testid="pdf-pending"' in first.get_data(as_text=True)
        second = client.get("/analysis/reports/SU-A/2025-09.pdf")
        assert second.status_code == 200
        assert second.mimetype == "application/pdf"
        assert second.data.startswith(b"%PDF")
        second.close()
        assert client.get("/analysis/reports/SU-B/2025-09.pdf").status_code == 404
        for period in ("2025-%C2%B2", "%EF%BC%92%EF%BC%90%EF%BC%92%EF%BC%95-01"):
            odd = client.get(f"/analysis/reports/SU-A/{period}.pdf", follow_redirects=True)
            assert odd.status_code == 200
            assert "is not a past or current month" in odd.get_data(as_text=True)
        bad = client.get("/analysis/reports/SU-A/2025-13.pdf", follow_redirects=True)
        assert "is not a past or current month" in bad.get_data(as_text=True)
    finally:
        app.config["UPLOAD_FOLDER"] = original


def test_the_quality_report_holds_the_suppliers_own_figures(world, claims, an1):
    from portal.analysis.documents import report_context

    context = report_context(world.suppliers[0], "2025-09", date(2025, 9, 30))
    assert context["claims"] == 2  # P-100's two counted claims; P-200 is supplier B's
    assert [r.key for r in context["parts"]] == ["P-100"]
    months = {m.month: m.claims for m in context["months"]}
    assert (months["2025-02"], months["2025-04"], months["2025-09"]) == (1, 1, 0)


def test_a_station_may_not_read_quality_reports(login_as, world):
    assert login_as("station").get("/analysis/reports/SU-A/2025-09.pdf").status_code == 403


def test_cycle_times_in_sql_equal_those_computed_in_python(claims, settled, an1, monkeypatch):
    from portal.analysis import compensation
    from portal.analysis.queries import Selection, counted_claims
    from portal.extensions import db

    counted = counted_claims(Selection(date.fromisoformat(AS_OF), model="AN1"))
    in_sql = compensation._cycle_times(counted)
    monkeypatch.setattr(compensation, "_cycle_times_in_sql", None)  # the other path
    dialect = db.session.get_bind().dialect
    monkeypatch.setattr(dialect, "name", "sqlite")
    in_python = compensation._cycle_times(counted)
    assert [(c.name, c.claims) for c in in_sql] == [(c.name, c.claims) for c in in_python]
    assert any(c.claims for c in in_sql)
    for ours, theirs in zip(in_sql, in_python, strict=True):
        for a, b in ((ours.median, theirs.median), (ours.p90, theirs.p90)):
            assert a == b or abs(a - b) < 1e-6


def test_the_claims_behind_the_figures_sort_by_their_columns_and_export_in_that_order(
    login_as, claims
):
    from tests.test_lists import row_order, xlsx_rows
    from tests.test_lists_more import BAD_SORTS

    mis2, mis4, p200 = claims["p100_mis2"], claims["p100_mis4"], claims["p200"]
    numbers = [mis2.number, mis4.number, p200.number]
    client = login_as("auditor")
    url = "/analysis/claims"
    base = {"model": "AN1", "as_of": AS_OF}

    def order(**args) -> list[str]:
        html = client.get(url, query_string={**base, **args}).get_data(as_text=True)
        return row_order(html, "data-claim", numbers)

    assert order() == [p200.number, mis4.number, mis2.number]  # the newest repair first
    assert order(sort="repair", dir="asc") == [mis2.number, mis4.number, p200.number]
    assert order(sort="mis", dir="asc")[0] == mis2.number
    assert order(sort="mis", dir="desc")[-1] == mis2.number
    assert order(sort="part", dir="desc")[0] == p200.number  # P-200 before P-100
    assert order(sort="part", dir="asc")[-1] == p200.number
    assert order(sort="station", dir="desc")[0] == p200.number  # ST-B
    for args in BAD_SORTS:
        assert order(**args) == [p200.number, mis4.number, mis2.number]
    html = client.get(url, query_string={**base, "sort": "mis", "dir": "asc"}).get_data(
        as_text=True
    )
    assert 'aria-sort="ascending"' in html
    assert "format=csv" in html and "sort=mis" in html.split('data-testid="exports"')[1][:400]
    response = client.get(
        url, query_string={**base, "sort": "repair", "dir": "asc", "format": "csv"}
    )
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert [r[0] for r in rows[1:]] == [mis2.number, mis4.number, p200.number]
    sheet = xlsx_rows(
        client.get(url, query_string={**base, "sort": "part", "dir": "desc", "format": "xlsx"})
    )
    assert sheet[1][0] == p200.number
    chinese = client.get(
        url, query_string=base, headers={"Accept-Language": "zh-CN,zh;q=0.9"}
    ).get_data(as_text=True)
    assert 'data-sort-key="repair"' in chinese and "维修日期" in chinese


def test_the_early_warnings_sort_by_their_columns_and_export_in_that_order(login_as, fleet):
    from portal.analysis.models import EarlyWarning
    from portal.extensions import db
    from tests.test_lists import row_order, xlsx_rows

    def warning(part, cohort, vehicles, observed, expected, p_value, active=True):
        return EarlyWarning(
            part=part,
            supplier=part.supplier,
            cohort=cohort,
            as_of=date(2025, 9, 30),
            vehicles=vehicles,
            observed=observed,
            expected=expected,
            p_value=p_value,
            active=active,
        )

    made = [
        warning(fleet.part, "2024-11", 300, 9, 2.0, 1e-4),
        warning(fleet.part_b, "2024-12", 120, 6, 1.0, 1e-3),
        warning(fleet.part, "2025-01", 800, 5, 0.5, 1e-5, active=False),
    ]
    db.session.add_all(made)
    db.session.commit()
    keys = [f"{w.part.number} {w.cohort}" for w in made]
    first, second, cleared = keys
    client = login_as("auditor")

    def order(**args) -> list[str]:
        html = client.get("/analysis/warnings", query_string={"show": "all", **args})
        return row_order(html.get_data(as_text=True), "data-warning", keys)

    assert order() == [first, second, cleared]  # active first, the least likely first
    assert order(sort="vehicles", dir="desc") == [cleared, first, second]
    assert order(sort="vehicles", dir="asc") == [second, first, cleared]
    assert order(sort="ratio", dir="desc") == [cleared, second, first]  # 10, 6, 4.5 times
    assert order(sort="cohort", dir="asc") == [first, second, cleared]
    assert order(sort="nonsense") == [first, second, cleared]
    sheet = xlsx_rows(
        client.get(
            "/analysis/warnings",
            query_string={"show": "all", "sort": "vehicles", "dir": "desc", "format": "xlsx"},
        )
    )
    assert [r[3] for r in sheet[1:]] == [800, 300, 120]
    assert sheet[0][6] == "Ratio" and [r[6] for r in sheet[1:]] == [10, 4.5, 6]
    html = client.get("/analysis/warnings", query_string={"sort": "p", "dir": "asc"})
    assert 'aria-sort="ascending"' in html.get_data(as_text=True)
    assert "Nov 2024" in html.get_data(as_text=True)  # a production month in words
