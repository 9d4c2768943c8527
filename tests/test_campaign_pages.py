"""The campaign pages: auditors and admins open, edit and close campaigns and choose their
vehicles; the campaign page shows completion, cost and claims and exports the remaining VINs;
a supplier sees only the campaigns charged to it; the VIN lookup shows open campaigns so that
nobody can miss them; a station lists its vehicles with open campaign work. Both languages."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.claims import operations as ops
from portal.claims.payload import parse_claim
from portal.masterdata.campaigns import Campaign, CampaignEvent, CampaignStatus, CampaignVehicle
from portal.masterdata.vin import with_check_digit
from tests.builders_masterdata import csv_bytes
from tests.factories import CampaignFactory, Fleet, VehicleFactory, fleet_recall

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


def _text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def fleet(world):
    return Fleet.build(world)


@pytest.fixture
def recall(fleet):
    """RC-1 on three vehicles: two sold by ST-A (East), one by ST-B (North)."""
    return fleet_recall(fleet, [fleet.vehicle, fleet.new_vehicle, fleet.old_vehicle])


def campaign_claim(fleet, campaign, vehicle, user="station", odometer_km=20000):
    """A campaign claim of exactly the package, submitted (approved automatically: 206.00)."""
    filer = fleet.world.users[user]
    claim = ops.create_claim(
        filer,
        parse_claim(
            {
                "type": "campaign",
                "vin": vehicle.vin,
                "odometer_km": odometer_km,
                "repair_date": (date.today() - timedelta(days=1)).isoformat(),
                "campaign": campaign.code,
            }
        ),
    )
    ops.submit_claim(claim, filer)
    return claim


CAMPAIGN_FORM = {
    "code": "RC-NEW",
    "title": "Brake hose may chafe",
    "kind": "recall",
    "start_date": "2026-01-01",
    "end_date": "",
    "operation_code": "OP-1",
    "hours": "0.80",
    "parts": "P-100:2; P-200:1",
    "supplier_code": "SU-B",
    "recovery_share": "0.5",
}


# -- access ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["auditor", "admin", "finance", "supplier"])
def test_the_campaign_list_and_page_open_for_the_oem_and_the_charged_supplier(
    login_as, recall, role
):
    client = login_as(role)
    assert "RC-1" in _text(client.get("/campaigns/"))
    assert client.get("/campaigns/RC-1").status_code == 200


def test_another_suppliers_campaign_is_not_found(login_as, recall):
    client = login_as("supplier_b")
    assert client.get("/campaigns/RC-1").status_code == 404
    assert "RC-1" not in _text(client.get("/campaigns/"))
    assert client.get("/campaigns/NOPE").status_code == 404


def test_a_station_may_not_read_campaign_pages_nor_open_one(login_as, recall):
    client = login_as("station")
    assert client.get("/campaigns/").status_code == 403
    assert client.get("/campaigns/RC-1").status_code == 403
    assert client.post("/campaigns/new", data=CAMPAIGN_FORM).status_code == 403


@pytest.mark.parametrize("role", ["finance", "supplier"])
def test_only_auditors_and_admins_manage_campaigns(login_as, recall, role):
    client = login_as(role)
    assert client.post("/campaigns/new", data=CAMPAIGN_FORM).status_code == 403
    assert client.post("/campaigns/RC-1/close", data={}).status_code == 403
    assert client.get("/campaigns/RC-1/edit").status_code == 403


def test_a_supplier_sees_completion_and_cost_but_no_claims_and_no_vin_export(
    login_as, fleet, recall
):
    campaign_claim(fleet, recall, fleet.vehicle)
    client = login_as("supplier")
    html = _text(client.get("/campaigns/RC-1"))
    assert 'data-testid="completion"' in html
    assert "206.00" in html
    assert 'data-testid="campaign-claims"' not in html
    assert client.get("/campaigns/RC-1/remaining.csv").status_code == 403


# -- opening, editing, closing ----------------------------------------------------------------


@pytest.mark.parametrize("role", ["auditor", "admin"])
def test_an_auditor_or_admin_opens_a_campaign(login_as, fleet, db_session, role):
    client = login_as(role)
    assert client.get("/campaigns/new").status_code == 200
    response = client.post("/campaigns/new", data=CAMPAIGN_FORM)
    assert response.status_code == 302, _text(response)
    assert response.headers["Location"].endswith("/campaigns/RC-NEW")
    db_session.expire_all()
    campaign = db_session.scalar(sa.select(Campaign).where(Campaign.code == "RC-NEW"))
    assert campaign.status is CampaignStatus.OPEN
    assert [(p.part.number, p.qty) for p in campaign.parts] == [("P-100", 2), ("P-200", 1)]
    assert campaign.supplier.code == "SU-B"
    assert campaign.recovery_share == Decimal("0.5")
    assert [e.action for e in campaign.events] == ["opened"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("code", "RC-1", "RC-1 is taken by another campaign"),
        ("operation_code", "OP-X", "no such record: OP-X"),
        ("parts", "P-100", "is not a part number and a quantity"),
        ("parts", "P-XX:1", "no such part: P-XX"),
        ("supplier_code", "SU-X", "no such supplier"),
        ("hours", "0", "Number must be between 0.01 and 999."),
        ("end_date", "2025-12-01", "is before the start date"),
    ],
)
def test_a_bad_campaign_is_refused_beside_its_field(
    login_as, fleet, recall, db_session, field, value, message
):
    response = login_as("auditor").post("/campaigns/new", data={**CAMPAIGN_FORM, field: value})
    assert response.status_code == 422
    assert message in _text(response)
    assert db_session.scalar(sa.select(Campaign).where(Campaign.code == "RC-NEW")) is None


def test_a_share_without_a_supplier_is_refused(login_as, fleet):
    response = login_as("auditor").post(
        "/campaigns/new", data={**CAMPAIGN_FORM, "supplier_code": ""}
    )
    assert response.status_code == 422
    assert "a share needs a supplier to bear it" in _text(response)


def test_an_admin_edits_a_campaign_and_its_code_stays(login_as, recall, db_session):
    client = login_as("admin")
    assert "Oil pump may leak" in _text(client.get("/campaigns/RC-1/edit"))
    response = client.post(
        "/campaigns/RC-1/edit",
        data={**CAMPAIGN_FORM, "code": "RC-RENAMED", "title": "Oil pump seal", "hours": "1.50"},
    )
    assert response.status_code == 302, _text(response)
    db_session.expire_all()
    assert recall.code == "RC-1"
    assert recall.title == "Oil pump seal"
    assert recall.hours == Decimal("1.50")
    assert [e.action for e in recall.events] == ["edited"]


def test_an_auditor_closes_a_campaign_once(login_as, recall, db_session):
    client = login_as("auditor")
    response = client.post("/campaigns/RC-1/close", data={"note": "All done"})
    assert response.status_code == 302
    db_session.expire_all()
    assert recall.status is CampaignStatus.CLOSED
    assert recall.closed_at is not None
    again = client.post("/campaigns/RC-1/close", data={"note": ""}, follow_redirects=True)
    assert "Campaign RC-1 is closed already." in _text(again)


# -- affected vehicles ------------------------------------------------------------------------


def test_vehicles_are_chosen_by_model_and_production_date_range(login_as, fleet, db_session):
    campaign = CampaignFactory(code="RC-R")
    made = fleet.vehicle.production_date
    VehicleFactory(model=fleet.model, production_date=made - timedelta(days=400))  # too early
    client = login_as("auditor")
    response = client.post(
        "/campaigns/RC-R/vehicles",
        data={
            "model": "HX5",
            "produced_from": (made - timedelta(days=10)).isoformat(),
            "produced_to": date.today().isoformat(),
        },
    )
    assert response.status_code == 302, _text(response)
    listed = set(
        db_session.scalars(
            sa.select(CampaignVehicle.vehicle_id).where(CampaignVehicle.campaign_id == campaign.id)
        )
    )
    assert listed == {fleet.vehicle.id, fleet.new_vehicle.id}
    # Choosing again adds nothing twice.
    client.post(
        "/campaigns/RC-R/vehicles",
        data={
            "model": "HX5",
            "produced_from": (made - timedelta(days=10)).isoformat(),
            "produced_to": date.today().isoformat(),
        },
    )
    assert (
        db_session.scalar(
            sa.select(sa.func.count()).where(CampaignVehicle.campaign_id == campaign.id)
        )
        == 2
    )
    db_session.expire_all()
    assert [e.action for e in campaign.events] == ["vehicles_added", "vehicles_added"]


def test_an_unknown_model_is_refused(login_as, fleet):
    CampaignFactory(code="RC-R")
    response = login_as("auditor").post(
        "/campaigns/RC-R/vehicles",
        data={"model": "NOPE", "produced_from": "2025-01-01", "produced_to": "2025-12-31"},
    )
    assert response.status_code == 422
    assert "no such record: NOPE" in _text(response)


def test_a_vin_file_is_imported_whole_or_refused_with_its_lines(login_as, fleet, db_session):
    campaign = CampaignFactory(code="RC-F")
    client = login_as("auditor")
    bad = csv_bytes("campaign,vin", f"RC-F,{fleet.vehicle.vin}", "RC-F,LNOTAVIN")
    response = client.post(
        "/campaigns/RC-F/vehicles/upload",
        data={"file": (io.BytesIO(bad), "vins.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "line 3, vin" in _text(response)
    assert (
        db_session.scalar(
            sa.select(sa.func.count()).where(CampaignVehicle.campaign_id == campaign.id)
        )
        == 0
    )

    good = csv_bytes("campaign,vin", f"RC-F,{fleet.vehicle.vin}", f"RC-F,{fleet.new_vehicle.vin}")
    response = client.post(
        "/campaigns/RC-F/vehicles/upload",
        data={"file": (io.BytesIO(good), "vins.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert (
        db_session.scalar(
            sa.select(sa.func.count()).where(CampaignVehicle.campaign_id == campaign.id)
        )
        == 2
    )
    event = db_session.scalar(
        sa.select(CampaignEvent).where(CampaignEvent.campaign_id == campaign.id)
    )
    assert (event.message_key, event.params) == ("campaign.vehicles_imported", {"n": 2})


# -- completion ---------------------------------------------------------------------------------


def test_the_campaign_page_shows_completion_by_region_and_station_and_cost(login_as, fleet, recall):
    campaign_claim(fleet, recall, fleet.vehicle)  # 206.00, approved
    html = _text(login_as("auditor").get("/campaigns/RC-1"))
    assert 'data-testid="done-affected">1 / 3<' in html
    assert 'data-testid="remaining">2<' in html
    assert 'data-testid="cost-so-far">206.00<' in html
    assert 'data-testid="cost-to-come">412.00<' in html  # 2 more at 206.00
    region = html.split('data-testid="by-region"', 1)[1].split("</table>", 1)[0]
    assert "East" in region and "North" in region
    station = html.split('data-testid="by-station"', 1)[1].split("</table>", 1)[0]
    assert "ST-A" in station and "ST-B" in station
    claims = html.split('data-testid="campaign-claims"', 1)[1]
    assert fleet.vehicle.vin in claims


def test_the_remaining_vins_export_leaves_out_the_done_ones(login_as, fleet, recall):
    campaign_claim(fleet, recall, fleet.vehicle)
    response = login_as("auditor").get("/campaigns/RC-1/remaining.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows[0] == ["vin", "model", "production_date", "sale_date", "station", "region"]
    assert sorted(r[0] for r in rows[1:]) == sorted([fleet.new_vehicle.vin, fleet.old_vehicle.vin])


def test_the_remaining_vins_export_as_xlsx_too(login_as, fleet, recall):
    from openpyxl import load_workbook

    campaign_claim(fleet, recall, fleet.vehicle)
    client = login_as("finance")
    html = _text(client.get("/campaigns/RC-1"))
    assert "/campaigns/RC-1/remaining.xlsx" in html
    response = client.get("/campaigns/RC-1/remaining.xlsx")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == ["vin", "model", "production_date", "sale_date", "station", "region"]
    assert sorted(r[0] for r in values[1:]) == sorted(
        [fleet.new_vehicle.vin, fleet.old_vehicle.vin]
    )
    assert client.get("/campaigns/RC-1/remaining.pdf").status_code == 404


def test_a_supplier_or_a_station_may_not_export_the_remaining_vins(switching_login, recall):
    assert switching_login("supplier").get("/campaigns/RC-1/remaining.xlsx").status_code == 403
    assert switching_login("station").get("/campaigns/RC-1/remaining.csv").status_code == 403


def test_the_campaign_page_reads_in_chinese(login_as, recall):
    html = _text(login_as("auditor").get("/campaigns/RC-1", headers=ZH))
    assert "召回" in html
    assert "完成" in html


# -- the VIN lookup and the station's open work ------------------------------------------------


def test_the_vin_lookup_shows_an_open_recall_with_a_link_to_file_its_claim(login_as, fleet, recall):
    html = _text(login_as("station").get(f"/campaigns/vin?vin={fleet.vehicle.vin}"))
    banner = html.split('data-testid="open-campaign"', 1)[1]
    assert "OPEN RECALL" in banner and "RC-1" in banner and "Oil pump may leak" in banner
    assert f"/claims/new?type=campaign&amp;vin={fleet.vehicle.vin}&amp;campaign=RC-1" in html


def test_the_vin_lookup_in_chinese(login_as, fleet, recall):
    html = _text(login_as("station").get(f"/campaigns/vin?vin={fleet.vehicle.vin}", headers=ZH))
    assert "未完成召回" in html


def test_a_done_campaign_is_shown_as_done(login_as, fleet, recall):
    campaign_claim(fleet, recall, fleet.vehicle)
    html = _text(login_as("station_b").get(f"/campaigns/vin?vin={fleet.vehicle.vin}"))
    assert 'data-testid="open-campaign"' not in html
    assert "already done" in html


def test_a_bad_vin_is_said_so(login_as, world):
    response = login_as("station").get("/campaigns/vin?vin=LNOTAVIN")
    assert response.status_code == 400
    assert "is not valid" in _text(response)


def test_an_unknown_vin_is_not_found(login_as, fleet):
    vin = with_check_digit("LZZZZ0000AB000001")
    response = login_as("station").get(f"/campaigns/vin?vin={vin}")
    assert response.status_code == 404
    assert f"No vehicle of the brand has VIN {vin}." in _text(response)


def test_the_claim_form_opened_from_the_lookup_is_filled_with_the_package(login_as, fleet, recall):
    html = _text(
        login_as("station").get(f"/claims/new?type=campaign&vin={fleet.vehicle.vin}&campaign=RC-1")
    )
    assert f'value="{fleet.vehicle.vin}"' in html
    assert 'value="RC-1"' in html
    assert 'value="OP-1"' in html and 'value="1.20"' in html
    assert 'value="P-100"' in html


def test_a_station_lists_its_vehicles_with_open_campaign_work_and_exports_them(
    login_as, fleet, recall
):
    client = login_as("station")
    html = _text(client.get("/campaigns/work"))
    table = html.split('data-testid="campaign-work"', 1)[1]
    assert fleet.vehicle.vin in table and fleet.new_vehicle.vin in table
    assert fleet.old_vehicle.vin not in table  # sold by ST-B, never serviced by ST-A

    campaign_claim(fleet, recall, fleet.vehicle)
    response = client.get("/campaigns/work?export=csv")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows[0] == ["VIN", "Model", "Campaign", "Kind", "Title", "Sale date", "Owner", "Phone"]
    assert [r[0] for r in rows[1:]] == [fleet.new_vehicle.vin]
    vehicle = fleet.new_vehicle
    assert rows[1][2:] == [
        "RC-1",
        "Recall",
        "Oil pump may leak",
        vehicle.sale_date.isoformat(),
        vehicle.owner_name,
        vehicle.owner_phone,
    ]
    # The first address of the CSV still answers it.
    old = client.get("/campaigns/work.csv", follow_redirects=True)
    assert old.get_data() == response.get_data()


def test_the_station_work_list_exports_as_xlsx_and_sorts(login_as, fleet, recall):
    from openpyxl import load_workbook

    client = login_as("station")
    response = client.get("/campaigns/work?export=xlsx")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0][:3] == ["VIN", "Model", "Campaign"]
    assert sorted(r[0] for r in values[1:]) == sorted([fleet.vehicle.vin, fleet.new_vehicle.vin])

    descending = _text(client.get("/campaigns/work?sort=vin&dir=desc"))
    vins = sorted([fleet.vehicle.vin, fleet.new_vehicle.vin], reverse=True)
    assert descending.index(vins[0]) < descending.index(vins[1])
    # An unknown sort falls back to the list's own order, never an error.
    assert client.get("/campaigns/work?sort=nope&dir=sideways").status_code == 200


def test_the_station_work_list_in_chinese_names_its_columns_in_chinese(login_as, fleet, recall):
    response = login_as("station").get("/campaigns/work?export=csv", headers=ZH)
    text = response.get_data().decode("utf-8-sig")
    assert text.splitlines()[0].startswith("VIN,车型,活动,")
    assert ",召回," in text


def test_the_station_work_of_one_campaign_shows_its_terms_and_only_its_vehicles(
    login_as, fleet, recall
):
    other = CampaignFactory(
        code="SC-2", service=True, operation=fleet.operation, vehicles=[fleet.vehicle]
    )
    client = login_as("station")
    everything = _text(client.get("/campaigns/work"))
    assert "SC-2" in everything and "RC-1" in everything
    html = _text(client.get("/campaigns/work?campaign=SC-2"))
    assert 'data-testid="work-campaign"' in html
    table = html.split('data-testid="campaign-work"', 1)[1]
    assert fleet.vehicle.vin in table and fleet.new_vehicle.vin not in table
    assert "RC-1" not in table
    assert other.title in html
    assert client.get("/campaigns/work?campaign=NOPE").status_code == 404


def test_another_stations_list_shows_only_its_own_vehicles(login_as, fleet, recall):
    html = _text(login_as("station_b").get("/campaigns/work"))
    assert fleet.old_vehicle.vin in html
    assert fleet.vehicle.vin not in html


def test_one_campaigns_work_shows_a_station_only_its_own_vehicles(login_as, fleet, recall):
    html = _text(login_as("station_b").get("/campaigns/work?campaign=RC-1"))
    table = html.split('data-testid="campaign-work"', 1)[1]
    assert fleet.old_vehicle.vin in table
    assert fleet.vehicle.vin not in table and fleet.new_vehicle.vin not in table
    # The terms stations need, never what the supplier bears.
    terms = html.split('data-testid="work-campaign"', 1)[1].split("</section>", 1)[0]
    assert "OP-1" in terms and "P-100" in terms
    assert "SU-A" not in terms and "60" not in terms


def test_a_closed_campaigns_work_link_says_it_is_closed(switching_login, fleet, recall):
    switching_login("auditor").post("/campaigns/RC-1/close", data={"note": ""})
    html = _text(switching_login("station").get("/campaigns/work?campaign=RC-1"))
    assert "This campaign is closed: no work is open on it." in html
    assert 'data-testid="campaign-work"' not in html


def test_a_supplier_lists_its_campaigns_with_completion_and_cost(login_as, fleet, recall):
    CampaignFactory(code="RC-OTHER", supplier=fleet.world.suppliers[1], operation=fleet.operation)
    campaign_claim(fleet, recall, fleet.vehicle)
    html = _text(login_as("supplier").get("/campaigns/"))
    table = html.split('data-testid="campaigns"', 1)[1]
    assert "RC-1" in table and "RC-OTHER" not in table
    row = table.split("RC-1", 1)[1].split("</tr>", 1)[0]
    assert "206.00" in row and "33.3%" in row


def test_the_station_home_says_how_much_open_campaign_work_it_has(login_as, fleet, recall):
    html = _text(login_as("station").get("/dealer/"))
    alert = html.split('data-testid="campaign-work-alert"', 1)[1].split("</div>", 1)[0]
    assert "2 of your vehicles have open recall or campaign work." in alert
    assert 'href="/campaigns/work"' in alert


def test_the_campaign_page_keeps_its_history(login_as, recall):
    client = login_as("auditor")
    client.post("/campaigns/RC-1/close", data={"note": "All done"})
    history = _text(client.get("/campaigns/RC-1")).split('data-testid="campaign-history"', 1)[1]
    assert "auditor" in history and "Closed" in history and "All done" in history


def test_the_campaigns_claims_sort_filter_and_export(switching_login, fleet, recall):
    from tests.test_lists import csv_rows, row_order, xlsx_rows
    from tests.test_lists_more import BAD_SORTS

    ours = campaign_claim(fleet, recall, fleet.vehicle)  # ST-A
    theirs = campaign_claim(  # ST-B
        fleet, recall, fleet.old_vehicle, user="station_b", odometer_km=95000
    )
    numbers = [ours.number, theirs.number]
    login_as = switching_login
    client = login_as("auditor")

    def order(**args) -> list[str]:
        return row_order(
            _text(client.get("/campaigns/RC-1", query_string=args)), "data-claim", numbers
        )

    assert sorted(order()) == sorted(numbers)
    assert order(sort="station", dir="asc") == numbers
    assert order(sort="station", dir="desc") == numbers[::-1]
    by_vin = sorted(numbers, key=lambda n: {ours.number: ours.vin, theirs.number: theirs.vin}[n])
    assert order(sort="vin", dir="asc") == by_vin
    assert order(sort="vin", dir="desc") == by_vin[::-1]
    assert order(q=theirs.vin.lower()) == [theirs.number]
    assert sorted(order(status=ours.status.value)) == sorted(numbers)
    rejected = _text(client.get("/campaigns/RC-1", query_string={"status": "rejected"}))
    assert "No claim matches these filters." in rejected
    for args in (*BAD_SORTS, {"status": "draft"}, {"status": "lost"}):
        assert client.get("/campaigns/RC-1", query_string=args).status_code == 200
    args = {"sort": "station", "dir": "desc"}
    rows = csv_rows(client.get("/campaigns/RC-1", query_string={**args, "export": "csv"}))
    assert rows[0] == ["Claim", "Station", "VIN", "Submitted", "Repair date", "Status", "Approved"]
    assert [r[0] for r in rows[1:]] == numbers[::-1]
    assert rows[1][1] == "ST-B" and rows[1][6] == "206.00"
    sheet = xlsx_rows(client.get("/campaigns/RC-1", query_string={**args, "export": "xlsx"}))
    assert [r[0] for r in sheet[1:]] == numbers[::-1] and sheet[1][6] == 206
    chinese = csv_rows(
        client.get(
            "/campaigns/RC-1",
            query_string={"export": "csv"},
            headers={"Accept-Language": "zh-CN,zh;q=0.9"},
        )
    )
    assert chinese[0][0] == "索赔单"
    # A supplier sees the campaign, never its claims: no list, no export.
    supplier = _text(login_as("supplier").get("/campaigns/RC-1", query_string={"export": "csv"}))
    assert 'data-testid="campaign-claims"' not in supplier and ours.number not in supplier
