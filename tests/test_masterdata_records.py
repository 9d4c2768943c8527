"""Master data one record at a time (DESIGN 2): an admin views, creates and edits a single
record of every import kind on a page, checked exactly as a row of the CSV import, with the
problems named by field; each change is in the audit log."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.auditlog.models import AuditEntry
from portal.extensions import db
from portal.masterdata import importer
from portal.masterdata.models import (
    FaultCode,
    LaborOperation,
    Part,
    PartModel,
    Station,
    Supplier,
    Vehicle,
    VehicleModel,
    WarrantyPolicy,
)
from portal.masterdata.views import RECORD_KINDS
from tests import words_support
from tests.factories import Fleet

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


@pytest.fixture
def fleet(world):
    return Fleet.build(world)


@pytest.fixture
def admin(world, fleet, login_as):
    db.session.commit()
    return login_as("admin")


def entries(kind: str) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.kind == kind).order_by(AuditEntry.id)
        )
    )


VALID = {
    "stations": {
        "code": "ST-N",
        "name": "New station",
        "region": "West",
        "labor_rate": "88.00",
        "km_rate": "3.00",
        "parts_handling_rate": "0.10",
    },
    "suppliers": {
        "code": "SU-N",
        "name": "New supplier",
        "recovery_share": "0.8",
        "labor_hours_cap": "",
        "handling_fee_rate": "",
    },
    "models": {
        "code": "HX9",
        "name": "Huaxing HX9",
        "break_in_days": "90",
        "break_in_min_km": "1500",
        "break_in_max_km": "5000",
        "break_in_price": "480.00",
    },
    "policies": {"model": "HX5", "group": "body", "months": "36", "km": "100000"},
    "parts": {
        "number": "P-900",
        "name": "Pump",
        "group": "basic",
        "supplier": "SU-A",
        "unit_price": "12.50",
        "major_assembly": "false",
        "disposition": "return_to_oem",
        "scrap_rate": "",
    },
    "part_models": {"part": "P-100", "model": "HX5"},
    "labor_operations": {"code": "OP-9", "description": "Replace pump", "standard_hours": "1.25"},
    "fault_codes": {"code": "P0999", "description": "Pump", "system": "engine"},
    "vehicles": {
        "vin": "LHXT5B2D0RH000017",
        "model": "HX5",
        "engine_no": "E1",
        "production_date": "2025-01-02",
        "sale_date": "2025-02-03",
        "station": "ST-A",
        "owner_name": "王伟",
        "owner_phone": "13800000000",
        "odometer_km": "1200",
    },
}
MODELS = {
    "stations": Station, "suppliers": Supplier, "models": VehicleModel,
    "policies": WarrantyPolicy, "parts": Part, "part_models": PartModel,
    "labor_operations": LaborOperation, "fault_codes": FaultCode, "vehicles": Vehicle,
}  # fmt: skip
assert set(VALID) == set(RECORD_KINDS)


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.mark.parametrize("kind", RECORD_KINDS)
def test_an_admin_creates_a_record_of_every_kind_on_a_page(admin, kind):
    cells = dict(VALID[kind])
    if kind == "vehicles":
        from portal.masterdata.vin import with_check_digit

        cells["vin"] = with_check_digit("LHXT5B2D0RH000017")
    for headers in ({}, ZH):
        assert admin.get(f"/admin/masterdata/{kind}/new", headers=headers).status_code == 200
    before = count(MODELS[kind])
    response = admin.post(f"/admin/masterdata/{kind}/new", data=cells)
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    assert count(MODELS[kind]) == before + 1
    (entry,) = entries("masterdata.created")[-1:]
    assert entry.actor_name == "admin" and entry.subject.startswith(kind)
    if kind == "vehicles":  # personal data stays out of the log
        assert entry.after["owner_name"] == "***"


@pytest.mark.parametrize(
    ("kind", "field", "value", "message"),
    [
        ("stations", "labor_rate", "abc", "is not a number"),
        ("stations", "parts_handling_rate", "10%", "fractions"),
        ("stations", "code", "SU-A", "already the code of a supplier"),
        ("suppliers", "recovery_share", "1.5", "not a fraction"),
        ("models", "break_in_max_km", "100", "below the break-in start"),
        ("policies", "model", "NOPE", "no vehicle model"),
        ("parts", "scrap_rate", "0.2", "only a part scrapped at the station"),
        ("parts", "unit_price", "1.234", "two decimals"),
        ("part_models", "part", "P-404", "no part with the number"),
        ("labor_operations", "standard_hours", "-1", "must not be negative"),
        ("fault_codes", "description", "", "a value is required"),
        ("vehicles", "vin", "LHX123", "not a valid VIN"),
    ],
)
def test_a_refused_record_names_its_field_and_saves_nothing(admin, kind, field, value, message):
    cells = {**VALID[kind], field: value}
    before = count(MODELS[kind])
    response = admin.post(f"/admin/masterdata/{kind}/new", data=cells)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'data-testid="error-{field}"' in html or 'data-testid="record-message"' in html
    assert message in html
    db.session.expire_all()
    assert count(MODELS[kind]) == before
    assert entries("masterdata.created") == []


def test_creating_a_record_whose_key_exists_is_refused(admin):
    response = admin.post(
        "/admin/masterdata/fault_codes/new", data={**VALID["fault_codes"], "code": "P0301"}
    )
    assert response.status_code == 422
    assert "exists already" in response.get_data(as_text=True)


def test_an_admin_edits_a_record_and_its_key_stays(admin, world):
    station = world.stations[0]
    url = f"/admin/masterdata/stations/{station.id}/edit"
    page = admin.get(url)
    assert page.status_code == 200 and "ST-A" in page.get_data(as_text=True)
    cells = importer.record_cells("stations", station)
    response = admin.post(url, data={**cells, "code": "ST-Z", "labor_rate": "99.00"})
    assert response.status_code == 302
    db.session.expire_all()
    assert (station.code, station.labor_rate) == ("ST-A", Decimal("99.00"))
    (entry,) = entries("masterdata.updated")
    assert entry.before == {"labor_rate": cells["labor_rate"]}
    assert entry.after == {"labor_rate": "99.00"}


@pytest.mark.parametrize("headers", [{}, ZH], ids=["en", "zh"])
def test_a_record_form_names_its_fields_and_choices_by_their_labels(admin, fleet, headers):
    """The form of a record says "Standard hours" and "Return to the supplier", never the
    import's column names or codes (`standard_hours`, `return_to_supplier`)."""
    part = db.session.scalar(sa.select(Part).order_by(Part.id))
    for kind, record_id in (
        ("parts", part.id),
        ("labor_operations", db.session.scalar(sa.select(LaborOperation.id))),
        ("models", db.session.scalar(sa.select(VehicleModel.id))),
        ("suppliers", part.supplier_id),
    ):
        html = admin.get(f"/admin/masterdata/{kind}/{record_id}/edit", headers=headers)
        assert html.status_code == 200, kind
        text = words_support.visible_text(html.get_data(as_text=True))
        codes = [c for chunk in text for c in words_support.SNAKE_CASE.findall(chunk)]
        assert not codes, (kind, codes)
    html = admin.get(f"/admin/masterdata/parts/{part.id}/edit", headers=headers)
    html = html.get_data(as_text=True)
    assert 'value="scrap_at_station"' in html  # the value the import reads is what is posted
    assert ("服务站折价处理" if headers else "Scrap at the station") in html


def test_a_new_part_price_starts_on_its_date_and_keeps_the_history(admin, fleet):
    part = fleet.part
    url = f"/admin/masterdata/parts/{part.id}/edit"
    cells = importer.record_cells("parts", part)
    starts = date.today() - timedelta(days=10)
    response = admin.post(
        url, data={**cells, "unit_price": "110.00", "price_from": starts.isoformat()}
    )
    assert response.status_code == 302
    db.session.expire_all()
    prices = sorted((p.valid_from or date.min, p.valid_to, p.unit_price) for p in part.prices)
    assert prices[-1] == (starts, None, Decimal("110.00"))
    assert prices[-2][1] == starts - timedelta(days=1) and prices[-2][2] == Decimal("100.00")
    assert part.price_on(starts - timedelta(days=1)) == Decimal("100.00")
    page = admin.get(url).get_data(as_text=True)
    assert 'data-testid="price-history"' in page
    bad = admin.post(url, data={**cells, "unit_price": "120.00", "price_from": "someday"})
    assert bad.status_code == 422 and 'data-testid="error-price_from"' in bad.get_data(as_text=True)


def test_a_pair_of_part_and_model_has_nothing_to_edit(admin, fleet):
    fit = PartModel(part=fleet.part, model=fleet.model)
    db.session.add(fit)
    db.session.commit()
    assert admin.get(f"/admin/masterdata/part_models/{fit.id}/edit").status_code == 404


@pytest.mark.parametrize("kind", ["stations", "parts", "vehicles"])
def test_a_record_that_does_not_exist_is_a_404(admin, kind):
    assert admin.get(f"/admin/masterdata/{kind}/999999/edit").status_code == 404
    assert admin.post(f"/admin/masterdata/{kind}/999999/edit", data={}).status_code == 404


@pytest.mark.parametrize("role", ["station", "auditor", "finance", "supplier"])
def test_only_admins_edit_master_data(world, fleet, login_as, role):
    db.session.commit()
    client = login_as(role)
    assert client.get("/admin/masterdata/stations/new").status_code == 403
    response = client.post("/admin/masterdata/fault_codes/new", data=VALID["fault_codes"])
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.scalar(sa.select(FaultCode).where(FaultCode.code == "P0999")) is None


def test_the_record_form_needs_its_csrf_token(app, world, fleet, login_as):
    db.session.commit()
    client = login_as("admin")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post("/admin/masterdata/fault_codes/new", data=VALID["fault_codes"])
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.scalar(sa.select(FaultCode).where(FaultCode.code == "P0999")) is None


def test_an_import_is_in_the_audit_log(admin):
    from io import BytesIO

    data = b"code,description,system\nP0777,Misfire,engine\n"
    response = admin.post(
        "/admin/masterdata/import",
        data={"kind": "fault_codes", "file": (BytesIO(data), "f.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    (entry,) = entries("masterdata.imported")
    assert entry.after == {"rows": 1, "created": 1, "updated": 0}
