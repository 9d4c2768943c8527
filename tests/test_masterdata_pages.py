"""The admin master-data pages: lists with search and paging, details, CSV upload, access."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.masterdata.importer import KINDS, columns
from portal.masterdata.models import FaultCode, LaborOperation, Part, PartModel, PartPrice
from tests import factories
from tests.builders_masterdata import csv_bytes, example, master_data_snapshot
from tests.words_support import shown_day

PARTS_HEADER = "number,name,group,supplier,unit_price,major_assembly,disposition,scrap_rate"


def _text(response) -> str:
    return response.get_data(as_text=True)


def _fault_codes(count: int) -> None:
    db.session.add_all(
        FaultCode(code=f"FC{n:03d}", description=f"Fault {n}", system="engine")
        for n in range(1, count + 1)
    )
    db.session.flush()


def _upload(client, kind: str, data: bytes, filename: str = "upload.csv"):
    return client.post(
        "/admin/masterdata/import",
        data={"kind": kind, "file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def _error_rows(html: str) -> list[tuple[str, str]]:
    """(line, column) of each row of the error table."""
    table = html.split('data-testid="import-errors"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<tr><td class="num">(\d+)</td><td class="mono">([^<]*)</td>', table)


@pytest.fixture
def catalogue(world):
    """A model, two parts (the pump's price changed a month ago) and a vehicle with an extended
    warranty contract to look at."""
    model = factories.VehicleModelFactory(code="M-VIEW", name="Viewer SUV")
    pump = factories.PartFactory(
        supplier=world.suppliers[0], number="P-PUMP", name="Water pump", price="420.00"
    )
    changed = date.today() - timedelta(days=30)
    pump.prices[0].valid_to = changed - timedelta(days=1)
    pump.prices.append(PartPrice(unit_price=Decimal("450.00"), valid_from=changed))
    factories.PartFactory(
        supplier=world.suppliers[1],
        number="P-LAMP",
        name="Headlamp",
        price="1260.50",
        is_major_assembly=True,
    )
    vehicle = factories.VehicleFactory(
        model=model, selling_station=world.stations[0], owner_name="王芳"
    )
    db.session.add(PartModel(part=pump, model=model))  # the pump fits this model only
    # An extended warranty contract that extends nothing the policy does not give already.
    factories.WarrantyContractFactory(vehicle=vehicle, group="powertrain", months=12, km=1000)
    factories.CampaignFactory(code="CP-VIEW", vehicles=[vehicle])
    db.session.add(LaborOperation(code="OP-1", description="Replace pump", standard_hours=1))
    _fault_codes(1)
    return {"model": model, "pump": pump, "vehicle": vehicle}


# --- browsing --------------------------------------------------------------------------------


def test_the_index_shows_every_kind_with_its_count(world, login_as):
    client = login_as("admin")
    html = _text(client.get("/admin/masterdata/"))
    for kind in KINDS:
        assert f'href="/admin/masterdata/{kind}"' in html
        assert f'href="/admin/masterdata/{kind}/template.csv"' in html
    assert re.search(r'data-testid="count-stations">\s*2\s*<', html)
    assert re.search(r'data-testid="count-suppliers">\s*2\s*<', html)


@pytest.mark.parametrize("kind", KINDS)
def test_every_list_page_shows_its_records(catalogue, login_as, kind):
    client = login_as("admin")
    response = client.get(f"/admin/masterdata/{kind}")
    assert response.status_code == 200
    assert 'data-testid="records"' in _text(response)


def test_the_parts_list_shows_money_and_links_to_the_part(catalogue, login_as):
    html = _text(login_as("admin").get("/admin/masterdata/parts"))
    assert "1,260.50" in html  # the money filter
    assert f'href="/admin/masterdata/parts/{catalogue["pump"].id}"' in html


def test_the_stations_list_shows_rates_as_percent(world, login_as):
    html = _text(login_as("admin").get("/admin/masterdata/stations"))
    assert "10%" in html
    assert "80.00" in html


def test_a_list_is_searched_by_key_and_name(catalogue, login_as):
    client = login_as("admin")
    by_name = _text(client.get("/admin/masterdata/parts?q=headLAMP"))
    assert "P-LAMP" in by_name
    assert "P-PUMP" not in by_name
    by_key = _text(client.get("/admin/masterdata/parts?q=p-pump"))
    assert "P-PUMP" in by_key
    assert "P-LAMP" not in by_key
    nothing = _text(client.get("/admin/masterdata/parts?q=100%25"))  # % is not a wildcard
    assert "P-PUMP" not in nothing
    assert "Nothing matches" in nothing


def test_a_list_pages_by_25(world, login_as):
    _fault_codes(30)
    client = login_as("admin")
    first = _text(client.get("/admin/masterdata/fault_codes"))
    assert "FC001" in first
    assert "FC025" in first
    assert "FC026" not in first
    assert 'href="/admin/masterdata/fault_codes?page=2"' in first
    second = _text(client.get("/admin/masterdata/fault_codes?page=2"))
    assert "FC026" in second
    assert "FC030" in second
    assert "FC025" not in second


def test_paging_keeps_the_search(world, login_as):
    _fault_codes(60)
    html = _text(login_as("admin").get("/admin/masterdata/fault_codes?q=fault"))
    assert 'href="/admin/masterdata/fault_codes?q=fault&amp;page=2"' in html


def test_an_unknown_kind_is_404(world, login_as):
    assert login_as("admin").get("/admin/masterdata/colours").status_code == 404


def test_the_part_page_shows_its_price_history(catalogue, login_as):
    pump = catalogue["pump"]
    html = _text(login_as("admin").get(f"/admin/masterdata/parts/{pump.id}"))
    history = html.split('data-testid="price-history"', 1)[1]
    assert "420.00" in history
    assert "450.00" in history
    assert "since always" in history
    assert "Water pump" in html


def test_the_vehicle_page_shows_the_vehicle_and_its_warranty(catalogue, login_as):
    vehicle = catalogue["vehicle"]
    html = _text(login_as("admin").get(f"/admin/masterdata/vehicles/{vehicle.vin}"))
    assert vehicle.vin in html
    assert "M-VIEW" in html
    assert "王芳" in html
    coverage = html.split('data-testid="coverage"', 1)[1]
    assert shown_day(date(2028, 2, 29)) in coverage  # basic: 36 months from the sale on 2025-03-01
    assert shown_day(date(2025, 8, 31)) in coverage  # wear: 6 months
    assert "expired" in coverage


def test_a_missing_part_or_vehicle_is_404(world, login_as):
    client = login_as("admin")
    assert client.get("/admin/masterdata/parts/999999").status_code == 404
    assert client.get("/admin/masterdata/vehicles/LNOSUCHVIN0000000").status_code == 404


@pytest.mark.parametrize("kind", KINDS)
def test_the_template_csv_is_the_header_row(world, login_as, kind):
    response = login_as("admin").get(f"/admin/masterdata/{kind}/template.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.get_data().decode("utf-8-sig").strip() == ",".join(columns(kind))


# --- uploading -------------------------------------------------------------------------------


def test_an_upload_imports_and_says_how_many(world, login_as):
    client = login_as("admin")
    data = csv_bytes(
        PARTS_HEADER,
        "P-N1,Oil pump,basic,SU-A,88.00,false,return_to_oem,",
        "P-N2,Wiper,wear,SU-B,35.00,false,scrap_at_station,0",
    )
    response = _upload(client, "parts", data)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/masterdata/parts")
    page = _text(client.get(response.headers["Location"]))
    assert "2 created, 0 updated" in page
    assert db.session.scalar(sa.select(Part.name).where(Part.number == "P-N1")) == "Oil pump"

    again = _upload(client, "parts", data)
    assert "0 created, 2 updated" in _text(client.get(again.headers["Location"]))


def test_the_sample_files_upload_cleanly(world, login_as):
    client = login_as("admin")
    for kind in ("suppliers", "stations", "models", "policies", "parts"):
        response = _upload(client, kind, example(kind), f"{kind}.csv")
        assert response.status_code == 302, _text(response)


def test_a_refused_upload_lists_every_error_by_line_and_imports_nothing(world, login_as):
    client = login_as("admin")
    before = master_data_snapshot()
    data = csv_bytes(
        PARTS_HEADER,
        "P-N1,Oil pump,basic,SU-A,88.00,false,return_to_oem,",
        "P-N2,Wiper,wear,SU-B,12.345,false,scrap_at_station,0",
        "P-N3,Lamp,basic,SU-X,10.00,maybe,return_to_oem,",
    )
    response = _upload(client, "parts", data)
    assert response.status_code == 200
    html = _text(response)
    assert "Nothing was imported" in html
    assert _error_rows(html) == [("3", "unit_price"), ("4", "major_assembly"), ("4", "supplier")]
    assert "&#34;12.345&#34; has more than two decimals" in html
    assert master_data_snapshot() == before


def test_a_file_that_is_not_csv_is_refused(world, login_as):
    client = login_as("admin")
    before = master_data_snapshot()
    response = _upload(client, "fault_codes", b"code,description,system\nF1,x,y\n", "faults.xlsx")
    assert response.status_code == 200
    assert "Only .csv files can be imported." in _text(response)
    assert master_data_snapshot() == before


def test_a_csv_that_is_not_utf8_text_is_refused(world, login_as):
    client = login_as("admin")
    before = master_data_snapshot()
    data = csv_bytes("code,description,system", "F1,发动机异响,engine", encoding="gbk")
    html = _text(_upload(client, "fault_codes", data, "faults.csv"))
    assert _error_rows(html) == [("2", "")]
    assert "not UTF-8" in html
    spreadsheet = b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\xb5U0#\xf4\x00"
    binary = _text(_upload(client, "fault_codes", spreadsheet, "faults.csv"))
    assert _error_rows(binary) == [("1", "")]
    assert "not CSV text" in binary
    assert master_data_snapshot() == before


def test_an_upload_without_a_file_is_refused(world, login_as):
    response = login_as("admin").post(
        "/admin/masterdata/import", data={"kind": "parts"}, content_type="multipart/form-data"
    )
    assert response.status_code == 200
    assert "Choose a file to upload." in _text(response)


def test_the_import_page_preselects_the_kind(world, login_as):
    html = _text(login_as("admin").get("/admin/masterdata/import?kind=vehicles"))
    assert re.search(r'<option selected value="vehicles">|<option value="vehicles" selected', html)


# --- who may ---------------------------------------------------------------------------------

PAGES = [
    ("get", "/admin/masterdata/"),
    ("get", "/admin/masterdata/parts"),
    ("get", "/admin/masterdata/parts/1"),
    ("get", "/admin/masterdata/vehicles/LTEST00010A000001"),
    ("get", "/admin/masterdata/stations/template.csv"),
    ("get", "/admin/masterdata/import"),
    ("post", "/admin/masterdata/import"),
]


@pytest.mark.parametrize("role", ["station", "auditor", "supplier", "finance"])
@pytest.mark.parametrize(("method", "path"), PAGES)
def test_other_roles_are_forbidden(world, login_as, role, method, path):
    client = login_as(role)
    before = master_data_snapshot()
    response = getattr(client, method)(path)
    assert response.status_code == 403
    assert master_data_snapshot() == before


def test_another_role_cannot_upload(world, login_as):
    client = login_as("auditor")
    response = _upload(client, "fault_codes", csv_bytes("code,description,system", "F1,x,body"))
    assert response.status_code == 403
    assert db.session.scalar(sa.select(FaultCode).where(FaultCode.code == "F1")) is None


@pytest.mark.parametrize(("method", "path"), PAGES)
def test_a_signed_out_visitor_is_sent_to_login(client, world, method, path):
    response = getattr(client, method)(path)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
