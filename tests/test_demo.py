"""The demo data set (`flask --app wsgi demo`): complete, realistic, exact and loaded only once."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask import url_for

from portal import create_app
from portal.auth.models import Role, User
from portal.auth.operations import password_problem
from portal.auth.views import HOME_ENDPOINTS
from portal.demo import DEMO_PASSWORD, DEMO_USERS, load_demo
from portal.extensions import db
from portal.masterdata.models import (
    OEM_CODE,
    Disposition,
    FaultCode,
    LaborOperation,
    Organisation,
    Part,
    PartPrice,
    Station,
    Supplier,
    Vehicle,
    VehicleModel,
    WarrantyPolicy,
)
from portal.masterdata.vin import is_valid_vin
from portal.money import money_sum
from tests.conftest import login, migrate_to_head, test_config

CHINESE = re.compile(r"[\u4e00-\u9fff]")
ENGLISH = re.compile(r"[A-Za-z]{3,}")
TABLES = (
    Organisation, Station, Supplier, VehicleModel, WarrantyPolicy, Part, PartPrice,
    LaborOperation, FaultCode, Vehicle, User,
)  # fmt: skip


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def all_of(model) -> list:
    return list(db.session.scalars(sa.select(model)))


def row_counts() -> dict[str, int]:
    return {model.__name__: count(model) for model in TABLES}


def bilingual(text: str) -> bool:
    return bool(CHINESE.search(text) and ENGLISH.search(text))


@pytest.fixture
def logins():
    result = load_demo()
    db.session.expire_all()  # what follows reads the rows back from the database
    return result


def test_the_demo_password_is_one_the_portal_accepts():
    assert password_problem(DEMO_PASSWORD) is None


def test_the_demo_loads_the_oem_with_stations_across_the_regions_and_four_suppliers(logins):
    oem = db.session.scalar(sa.select(Organisation).where(Organisation.code == OEM_CODE))
    assert oem.is_oem and bilingual(oem.name)
    stations = all_of(Station)
    assert len(stations) >= 6
    assert len({station.region for station in stations}) >= 5
    for station in stations:
        assert re.fullmatch(r"ST-[A-Z]{2}\d{2}", station.code)
        assert bilingual(station.name)
        assert Decimal("60") <= station.labor_rate <= Decimal("120")
        assert Decimal("2.50") <= station.km_rate <= Decimal("4.00")
        assert Decimal("0.05") <= station.parts_handling_rate <= Decimal("0.15")
    suppliers = all_of(Supplier)
    assert len(suppliers) == 4
    assert len({supplier.recovery_share for supplier in suppliers}) > 1
    assert any(supplier.labor_hours_cap is None for supplier in suppliers)
    assert any(supplier.labor_hours_cap is not None for supplier in suppliers)


def test_each_of_the_three_models_has_a_policy_for_every_coverage_group_of_the_parts(logins):
    models = all_of(VehicleModel)
    assert len(models) == 3
    part_groups = set(db.session.scalars(sa.select(Part.group).distinct()))
    assert {"basic", "powertrain", "wear"} <= part_groups
    for model in models:
        assert {policy.group for policy in model.policies} == part_groups
        assert all(policy.months > 0 and policy.km > 0 for policy in model.policies)
        assert model.break_in_days > 0
        assert 0 < model.break_in_min_km < model.break_in_max_km
        assert model.break_in_price > 0


def test_the_parts_are_bilingual_and_cover_every_group_supplier_and_disposition(logins):
    parts = all_of(Part)
    assert len(parts) == 200
    assert all(bilingual(part.name) for part in parts)
    assert len({part.number for part in parts}) == 200
    assert {part.supplier.code for part in parts} == {s.code for s in all_of(Supplier)}
    assert {part.disposition for part in parts} == set(Disposition)
    majors = [part for part in parts if part.is_major_assembly]
    assert {"Engine assembly", "Gearbox assembly", "Rear axle assembly"} <= {
        part.name.split(" (")[0].split(" ", 1)[1] for part in majors
    }
    assert all(part.disposition is Disposition.RETURN_TO_SUPPLIER for part in majors)
    for part in parts:
        if part.disposition is Disposition.SCRAP_AT_STATION:
            assert Decimal("0.05") <= part.scrap_rate <= Decimal("0.30"), part.number
        else:
            assert part.scrap_rate == 0, part.number
        assert part.current_price is not None and part.current_price > 0, part.number


def test_some_parts_have_an_older_price_so_a_claim_is_priced_by_its_repair_date(logins):
    with_history = [part for part in all_of(Part) if len(part.prices) > 1]
    assert len(with_history) >= 10
    for part in with_history:
        assert len(part.prices) == 2
        current = next(price for price in part.prices if price.valid_to is None)
        older = next(price for price in part.prices if price.valid_to is not None)
        assert older.valid_from is None
        assert current.valid_from == older.valid_to + timedelta(days=1) <= date.today()
        assert current.unit_price != older.unit_price
        assert part.price_on(older.valid_to) == older.unit_price
        assert part.price_on(current.valid_from) == part.current_price == current.unit_price


def test_the_labor_operations_and_fault_codes_are_bilingual(logins):
    operations = all_of(LaborOperation)
    assert len(operations) == 50
    assert all(bilingual(op.description) and op.standard_hours > 0 for op in operations)
    fault_codes = all_of(FaultCode)
    assert len(fault_codes) == 30
    for fault in fault_codes:
        assert re.fullmatch(r"[PBCU][0-9A-F]{4}", fault.code)
        assert bilingual(fault.description)
    assert {"engine", "transmission", "electrical", "body", "chassis", "brakes"} <= {
        fault.system for fault in fault_codes
    }
    assert {fault.code[0] for fault in fault_codes} == set("PBCU")


def test_the_vehicles_have_valid_vins_plausible_dates_odometers_and_owners(logins):
    today = date.today()
    vehicles = all_of(Vehicle)
    assert len(vehicles) == 300
    assert len({vehicle.model_id for vehicle in vehicles}) == 3
    assert len({vehicle.selling_station_id for vehicle in vehicles}) == count(Station)
    for vehicle in vehicles:
        assert is_valid_vin(vehicle.vin), vehicle.vin
        assert vehicle.production_date <= vehicle.sale_date <= today
        assert vehicle.production_date.year >= today.year - 4
        days = (today - vehicle.sale_date).days
        assert 25 * days <= vehicle.odometer_km <= 450 * days + 60, vehicle.vin
        assert CHINESE.search(vehicle.owner_name)
        assert re.fullmatch(r"1[3-9]\d{9}", vehicle.owner_phone)
        assert vehicle.engine_no
    assert len({vehicle.vin for vehicle in vehicles}) == 300


def test_some_vehicles_are_due_for_break_in_and_some_are_out_of_basic_coverage(logins):
    today = date.today()
    vehicles = all_of(Vehicle)
    due_for_break_in = [
        v
        for v in vehicles
        if (today - v.sale_date).days <= v.model.break_in_days
        and v.model.break_in_min_km <= v.odometer_km <= v.model.break_in_max_km
    ]
    assert len(due_for_break_in) >= 5
    assert any((today - v.sale_date).days <= 90 for v in vehicles)
    assert all(v.model.policy_for("basic").months <= 36 for v in vehicles)
    over_three_years = [v for v in vehicles if (today - v.sale_date).days > 3 * 366]
    assert len(over_three_years) >= 20


def test_amounts_are_exact_decimals_with_two_places(logins):
    amounts = [
        *(price.unit_price for price in all_of(PartPrice)),
        *(station.labor_rate for station in all_of(Station)),
        *(station.km_rate for station in all_of(Station)),
        *(model.break_in_price for model in all_of(VehicleModel)),
        *(op.standard_hours for op in all_of(LaborOperation)),
    ]
    for amount in amounts:
        assert isinstance(amount, Decimal)
        assert amount.as_tuple().exponent == -2, amount
    prices = [price.unit_price for price in all_of(PartPrice)]
    assert db.session.scalar(sa.select(sa.func.sum(PartPrice.unit_price))) == money_sum(prices)
    rates = [station.parts_handling_rate for station in all_of(Station)]
    assert all(isinstance(rate, Decimal) for rate in rates)
    assert Decimal("0.10") in rates


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data():
    def load(seed: int):
        savepoint = db.session.begin_nested()
        load_demo(seed=seed)
        vehicles = db.session.execute(
            sa.select(
                Vehicle.vin, Vehicle.sale_date, Vehicle.odometer_km, Vehicle.owner_name
            ).order_by(Vehicle.vin)
        ).all()
        prices = db.session.execute(
            sa.select(Part.number, PartPrice.unit_price, PartPrice.valid_to)
            .join(Part.prices)
            .order_by(Part.number, PartPrice.id)
        ).all()
        savepoint.rollback()
        return vehicles, prices

    first = load(7)
    assert load(7) == first
    assert load(8) != first


def test_loading_the_demo_again_creates_nothing_and_answers_the_same_logins(logins):
    before = row_counts()
    assert load_demo() == logins
    assert load_demo(seed=1) == logins
    assert row_counts() == before


def test_the_logins_are_one_per_role_in_order(logins):
    assert logins == [
        ("station", "station", "ST-SH01"),
        ("station2", "station", "ST-BJ01"),
        ("auditor", "auditor", "OEM"),
        ("finance", "finance", "OEM"),
        ("supplier", "supplier", "SU-YF"),
        ("admin", "admin", "OEM"),
    ]
    assert {Role(role) for _, role, _ in logins} == set(Role)
    for username, role, org_code in logins:
        user = db.session.scalar(sa.select(User).where(User.username == username))
        assert user.role is Role(role) and user.organisation.code == org_code
        assert user.active and user.full_name


@pytest.mark.parametrize(
    ("username", "role"), [(username, role) for username, role, *_ in DEMO_USERS]
)
def test_each_demo_login_signs_in_and_lands_on_its_home_page(app, client, logins, username, role):
    with app.test_request_context():
        home = url_for(HOME_ENDPOINTS[role])
    response = login(client, username, DEMO_PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == home
    assert client.get(home).status_code == 200


def test_the_demo_command_commits_the_data_and_prints_every_login(tmp_path, monkeypatch):
    demo_app = create_app(test_config("sqlite:///" + str(tmp_path / "demo.db")))
    migrate_to_head(demo_app)
    # The test's session is bound to the suite's database and its app context is pushed; the
    # command must run in the demo app's context with a session of its own.
    monkeypatch.setattr(db, "session", db._make_scoped_session({}))
    runner = demo_app.test_cli_runner()
    try:
        with demo_app.app_context():
            first = runner.invoke(args=["demo"])
            second = runner.invoke(args=["demo"])
            vehicles, users = count(Vehicle), count(User)
    finally:
        with demo_app.app_context():
            db.engine.dispose()
    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert DEMO_PASSWORD in first.output
    for username, role, org_code, _ in DEMO_USERS:
        assert re.search(rf"\b{role.value}\s+{username}\s+{org_code}\b", first.output), username
        assert username in second.output
    assert (vehicles, users) == (300, len(DEMO_USERS))
