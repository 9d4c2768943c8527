"""The figures behind a campaign page's charts: completion over time (the share of the affected
vehicles done by the end of each week, or month, counted on the repair dates of the approved
claims), completion by region, and the work done by each station that filed the claims; and the
page that draws them (server-side SVG, as the analysis pages)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.campaigns import queries
from portal.campaigns.queries import CompletionPoint, _periods
from portal.claims import operations as ops
from portal.claims.decisions import decide_claim, parse_decision
from portal.claims.models import ClaimStatus
from portal.claims.payload import parse_claim
from portal.db import utcnow
from portal.extensions import db
from portal.masterdata.campaigns import CampaignStatus, CampaignVehicle
from portal.masterdata.models import Vehicle
from tests.factories import CampaignFactory, Fleet
from tests.words_support import shown_day

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
TODAY = date.today()
# A Monday five weeks back: the campaign's first week starts on its first day.
START = TODAY - timedelta(days=TODAY.weekday() + 35)


@pytest.fixture
def fleet(world):
    return Fleet.build(world)


@pytest.fixture
def recall(fleet):
    """Four vehicles: three sold by ST-A (East), one by ST-B (North); 206.00 a claim at ST-A."""
    return CampaignFactory(
        code="RC-T",
        title="Oil pump may leak",
        start_date=START,
        operation=fleet.operation,
        hours=Decimal("1.20"),
        package=[(fleet.part, 1)],
        supplier=fleet.world.suppliers[0],
        recovery_share=Decimal("0.60"),
        vehicles=[
            fleet.vehicle,
            fleet.sibling_vehicle(),
            fleet.sibling_vehicle(),
            fleet.old_vehicle,
        ],
    )


def work(fleet, campaign, vehicle, repaired: date, user="station", lines=None):
    """A campaign claim repaired on `repaired`, submitted (the package: approved at once)."""
    filer = fleet.world.users[user]
    data = {
        "type": "campaign",
        "vin": vehicle.vin,
        "odometer_km": max(vehicle.odometer_km, 20000) + 10,
        "repair_date": repaired.isoformat(),
        "campaign": campaign.code,
    }
    if lines is not None:
        data["lines"] = lines
    claim = ops.create_claim(filer, parse_claim(data))
    ops.submit_claim(claim, filer)
    return claim


def vehicles(campaign):
    """The campaign's vehicles in the order they were listed."""
    return db.session.scalars(
        sa.select(Vehicle)
        .join(CampaignVehicle, CampaignVehicle.vehicle_id == Vehicle.id)
        .where(CampaignVehicle.campaign_id == campaign.id)
        .order_by(CampaignVehicle.id)
    ).all()


# -- completion over time -------------------------------------------------------------------------


def test_completion_grows_week_by_week_on_the_repair_dates_of_approved_claims(fleet, recall):
    first, second, third, _fourth = vehicles(recall)
    work(fleet, recall, first, START + timedelta(days=1))  # week 1
    work(fleet, recall, second, START + timedelta(days=8))  # week 2
    work(fleet, recall, third, START + timedelta(days=9), user="station_b")  # week 2

    points = queries.completion_over_time(recall, TODAY)
    assert points[0] == CompletionPoint(START, START + timedelta(days=6), 1, 4)
    assert points[1].start == START + timedelta(days=7)
    assert [p.done for p in points] == [1, 3, 3, 3, 3, 3]
    assert [p.percent_done for p in points][:2] == [Decimal("25.0"), Decimal("75.0")]
    assert all(p.start.weekday() == 0 for p in points)
    assert points[-1].end == TODAY  # the running week ends today
    assert points[-1].done == queries.completion(recall).done


def test_a_claim_in_review_or_rejected_is_not_done(fleet, recall):
    first, second, _third, _fourth = vehicles(recall)
    lines = [
        {"kind": "labor", "operation_code": "OP-1", "hours": "2.00"},
        {"kind": "part", "part_number": "P-100", "qty": 1},
    ]
    reviewed = work(fleet, recall, first, START + timedelta(days=1), lines=lines)
    assert reviewed.status is ClaimStatus.IN_REVIEW
    rejected = work(fleet, recall, second, START + timedelta(days=2), lines=lines)
    decide_claim(
        rejected.id,
        fleet.world.users["auditor"],
        parse_decision({"action": "reject", "reason": "No photos"}),
    )
    assert rejected.status is ClaimStatus.REJECTED
    assert {p.done for p in queries.completion_over_time(recall, TODAY)} == {0}


def test_another_campaigns_claims_do_not_count(fleet, recall):
    other = CampaignFactory(
        start_date=START,
        operation=fleet.operation,
        package=[(fleet.part, 1)],
        vehicles=[fleet.vehicle],
    )
    work(fleet, other, fleet.vehicle, START + timedelta(days=3))
    assert queries.completion_over_time(recall, TODAY)[-1].done == 0
    assert queries.completion_over_time(other, TODAY)[-1].done == 1


def test_a_closed_campaign_stops_at_its_closing_day(fleet, recall, db_session):
    work(fleet, recall, fleet.vehicle, START + timedelta(days=1))
    recall.status = CampaignStatus.CLOSED
    recall.closed_at = utcnow() - timedelta(days=20)
    db_session.flush()
    points = queries.completion_over_time(recall, TODAY)
    assert points[-1].end == (utcnow() - timedelta(days=20)).date()
    assert points[-1].done == 1


def test_an_ended_campaign_stops_at_its_end_date(fleet, recall, db_session):
    recall.end_date = START + timedelta(days=10)
    db_session.flush()
    points = queries.completion_over_time(recall, TODAY)
    assert [p.start for p in points] == [START, START + timedelta(days=7)]
    assert points[-1].end == START + timedelta(days=10)


def test_a_campaign_not_started_has_no_figures_yet(fleet):
    future = CampaignFactory(future=True, operation=fleet.operation, vehicles=[fleet.vehicle])
    assert queries.completion_over_time(future, TODAY) == []


def test_a_campaign_of_no_vehicle_is_zero_percent_not_an_error(fleet):
    empty = CampaignFactory(start_date=START, operation=fleet.operation)
    points = queries.completion_over_time(empty, TODAY)
    assert points and all(p.affected == 0 and p.percent_done == 0 for p in points)


def test_a_long_campaign_is_counted_by_month():
    periods = _periods(date(2024, 1, 15), date(2026, 3, 10))
    assert periods[0] == (date(2024, 1, 1), date(2024, 1, 31))
    assert periods[1] == (date(2024, 2, 1), date(2024, 2, 29))
    assert periods[-1] == (date(2026, 3, 1), date(2026, 3, 10))
    assert len(periods) == 27


def test_weeks_run_monday_to_sunday():
    periods = _periods(date(2026, 3, 4), date(2026, 3, 18))  # a Wednesday to a Wednesday
    assert periods == [
        (date(2026, 3, 2), date(2026, 3, 8)),
        (date(2026, 3, 9), date(2026, 3, 15)),
        (date(2026, 3, 16), date(2026, 3, 18)),
    ]


# -- by region and by station ---------------------------------------------------------------------


def test_completion_by_region_counts_the_selling_stations_regions(fleet, recall):
    first, _second, _third, north = vehicles(recall)
    work(fleet, recall, first, START + timedelta(days=1))
    work(fleet, recall, north, START + timedelta(days=2), user="station_b")
    rows = {r.key: r.completion for r in queries.completion_by(recall, "region")}
    assert (rows["East"].affected, rows["East"].done) == (3, 1)
    assert (rows["North"].affected, rows["North"].done) == (1, 1)
    assert rows["North"].percent_done == Decimal("100.0")


def test_the_work_by_station_names_who_filed_the_claims_and_what_they_cost(fleet, recall):
    first, second, third, _north = vehicles(recall)
    work(fleet, recall, first, START + timedelta(days=1))
    work(fleet, recall, second, START + timedelta(days=2))
    # ST-B works on a vehicle sold by ST-A: it counts for ST-B here.
    work(fleet, recall, third, START + timedelta(days=3), user="station_b")
    rows = queries.work_by_station(recall)
    assert [(r.code, r.done, r.in_work) for r in rows] == [("ST-A", 2, 0), ("ST-B", 1, 0)]
    assert rows[0].cost == Decimal("412.00")  # 2 x 206.00
    assert rows[0].region == "East"
    assert sum(r.cost for r in rows) == queries.completion(recall).cost_so_far


# -- the page -------------------------------------------------------------------------------------


def test_the_campaign_page_draws_completion_over_time_and_by_region(login_as, fleet, recall):
    first, second, _third, _north = vehicles(recall)
    work(fleet, recall, first, START + timedelta(days=1))
    work(fleet, recall, second, START + timedelta(days=8))
    html = login_as("auditor").get("/campaigns/RC-T").get_data(as_text=True)
    chart = html.split('data-testid="completion-over-time"', 1)[1].split("</svg>", 1)[0]
    assert chart.count("<rect") == 6
    assert f"By {shown_day(START + timedelta(days=6))}: 1 of 4 vehicles done (25.0%)" in chart
    assert "2 of 4 vehicles done (50.0%)" in chart
    assert ">100</text>" in chart  # a share's axis runs to 100%, however little is done
    figures = html.split('data-testid="over-time"', 1)[1].split("</table>", 1)[0]
    assert shown_day(START) in figures and "25.0%" in figures
    region = html.split('data-testid="completion-by-region"', 1)[1].split("</svg>", 1)[0]
    assert "East: 2 of 3 vehicles done (66.7%)" in region
    assert "North: 0 of 1 vehicles done (0.0%)" in region
    assert "/static/analysis.css" in html
    assert "<script" not in chart  # drawn on the server; nothing loaded from elsewhere
    stations = html.split('data-testid="work-by-station"', 1)[1].split("</table>", 1)[0]
    assert "ST-A" in stations and "412.00" in stations


def test_a_supplier_sees_the_charts_but_not_the_stations_work(login_as, fleet, recall):
    work(fleet, recall, fleet.vehicle, START + timedelta(days=1))
    html = login_as("supplier").get("/campaigns/RC-T").get_data(as_text=True)
    assert 'data-testid="completion-over-time"' in html
    assert 'data-testid="work-by-station"' not in html


def test_a_campaign_not_started_says_so_instead_of_a_chart(login_as, fleet):
    CampaignFactory(code="RC-F", future=True, operation=fleet.operation)
    html = login_as("auditor").get("/campaigns/RC-F").get_data(as_text=True)
    assert 'data-testid="completion-over-time"' not in html
    assert "The campaign has not started yet." in html


def test_the_charts_read_in_chinese(login_as, fleet, recall):
    work(fleet, recall, fleet.vehicle, START + timedelta(days=1))
    html = login_as("auditor").get("/campaigns/RC-T", headers=ZH).get_data(as_text=True)
    chart = html.split('data-testid="completion-over-time"', 1)[1].split("</svg>", 1)[0]
    assert "vehicles done" not in chart
    assert "完成" in chart
    assert "各服务站完成的作业" in html
