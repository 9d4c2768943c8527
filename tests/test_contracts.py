"""Extended warranty contracts (延保 / 服务协议): the coverage check's later limit of policy and
contract per group, the claims covered only thanks to a contract, the `contracts` import, the
admin pages, the VIN lookup, the API and the analysis filter."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from portal import create_app
from portal.claims import operations as ops
from portal.claims.models import ClaimStatus
from portal.claims.operations import RuleRefused
from portal.claims.payload import parse_claim
from portal.extensions import db
from portal.masterdata.coverage import coverage_of
from portal.masterdata.importer import ImportRejected, import_csv
from portal.masterdata.models import WarrantyContract, WarrantyPolicy
from tests.builders_masterdata import csv_bytes, master_data_snapshot
from tests.conftest import test_config
from tests.factories import (
    ClaimFactory,
    Fleet,
    WarrantyContractFactory,
    claim_payload,
)
from tests.test_api_auth import api_for, error_of

TODAY = date.today()
SOLD = date(2023, 3, 1)
BASIC = WarrantyPolicy(group="basic", months=36, km=100000)  # ends 2026-02-28


def contract(**kw) -> WarrantyContract:
    """A contract row, not stored: what `coverage_of` reads."""
    values = dict(number="YB-1", group="basic", start_date=SOLD, months=60, km=150000)
    values.update(kw)
    return WarrantyContract(**values)


@pytest.fixture
def fleet(world):
    return Fleet.build(world)


@pytest.fixture(autouse=True)
def uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path / "uploads"))


# -- the rule: the later limit of policy and contract per group (unit) ----------------------------


def test_a_contract_in_force_extends_the_group_to_its_later_end_and_higher_km():
    extended = contract()
    cov = coverage_of(BASIC, SOLD, date(2027, 6, 1), 120000, [extended])
    assert cov.in_coverage and cov.by_contract and cov.contract is extended
    assert (cov.expires_on, cov.months, cov.km) == (date(2028, 2, 29), 60, 150000)


def test_the_policy_alone_covers_inside_its_limits_and_the_claim_is_not_marked():
    cov = coverage_of(BASIC, SOLD, date(2024, 6, 1), 20000, [contract()])
    assert cov.in_coverage and not cov.by_contract


@pytest.mark.parametrize(
    ("day", "km", "covered"),
    [
        (date(2028, 2, 29), 150000, True),  # its last day, at its km limit
        (date(2028, 3, 1), 120000, False),  # the day after
        (date(2027, 1, 1), 150001, False),  # one km over
    ],
)
def test_a_contract_covers_up_to_its_last_day_and_its_km(day, km, covered):
    assert coverage_of(BASIC, SOLD, day, km, [contract()]).in_coverage is covered


def test_the_later_limit_is_taken_per_dimension_from_policy_and_contract():
    # 12 months from the sale, 150,000 km: the policy's time still runs, the km is the contract's.
    short = contract(months=12)
    assert coverage_of(BASIC, SOLD, date(2023, 12, 1), 140000, [short]).by_contract
    cov = coverage_of(BASIC, SOLD, date(2023, 12, 1), 140000, [short])
    assert cov.expires_on == date(2026, 2, 28)  # the policy's end is the later one
    # Once the short contract ended, the policy's own km limit applies again.
    assert not coverage_of(BASIC, SOLD, date(2024, 6, 1), 140000, [short]).in_coverage


def test_a_contract_extends_only_its_own_group():
    powertrain = contract(group="powertrain", km=300000)
    cov = coverage_of(BASIC, SOLD, date(2027, 1, 1), 50000, [powertrain])
    assert not cov.in_coverage and cov.reason == "time" and cov.contract is None


def test_an_expired_contract_does_not_count():
    ended = contract(months=24)  # ended 2025-02-28
    cov = coverage_of(BASIC, SOLD, date(2025, 6, 1), 120000, [ended])
    assert not cov.in_coverage and cov.reason == "km" and cov.contract is None


def test_a_contract_not_started_yet_does_not_count():
    later = contract(start_date=date(2026, 3, 1), months=24)
    assert not coverage_of(BASIC, SOLD, date(2025, 6, 1), 120000, [later]).in_coverage
    assert coverage_of(BASIC, SOLD, date(2026, 3, 1), 120000, [later]).by_contract


def test_of_two_contracts_in_force_the_one_with_the_highest_km_is_named():
    low, high = contract(number="YB-LOW", km=120000), contract(number="YB-HIGH", km=180000)
    cov = coverage_of(BASIC, SOLD, date(2027, 1, 1), 170000, [low, high])
    assert cov.in_coverage and cov.contract is high


# -- the rule on submit: the claim is marked ------------------------------------------------------


def submit(user, fleet, **overrides):
    claim = ops.create_claim(user, parse_claim(claim_payload(fleet, **overrides)))
    return ops.submit_claim(claim, user)


def old_vehicle_claim(fleet, **overrides) -> dict:
    """A repair of the fleet's old vehicle: its basic policy ended 40 days ago."""
    return {"vin": fleet.old_vehicle.vin, "odometer_km": 95000, **overrides}


def test_a_claim_outside_the_policy_is_covered_thanks_to_the_vehicles_contract(world, fleet):
    extended = WarrantyContractFactory(vehicle=fleet.old_vehicle)
    claim = submit(world.users["station"], fleet, **old_vehicle_claim(fleet))
    assert claim.status is not ClaimStatus.DRAFT
    assert {f.rule for f in claim.current_flags} == set()
    assert claim.contract is extended


def test_a_claim_the_policy_covers_is_not_marked_even_with_a_contract(world, fleet):
    WarrantyContractFactory(vehicle=fleet.vehicle)
    assert submit(world.users["station"], fleet).contract is None


def test_another_vehicles_contract_does_not_count(world, fleet):
    WarrantyContractFactory(vehicle=fleet.vehicle, start_date=fleet.old_vehicle.sale_date)
    user = world.users["station"]
    claim = ops.create_claim(user, parse_claim(claim_payload(fleet, **old_vehicle_claim(fleet))))
    with pytest.raises(RuleRefused) as refused:
        ops.submit_claim(claim, user)
    assert {f.rule: f.field for f in refused.value.findings} == {"coverage": "repair_date"}
    assert claim.status is ClaimStatus.DRAFT and claim.contract is None


def test_an_expired_contract_leaves_the_claim_outside_coverage(world, fleet):
    WarrantyContractFactory(vehicle=fleet.old_vehicle, months=36)  # ended with the policy
    claim = submit(
        world.users["station"], fleet, **old_vehicle_claim(fleet, goodwill_reason="Loyal owner")
    )
    assert {f.rule for f in claim.current_flags} == {"outside_coverage"}
    assert claim.contract is None


def test_above_the_contracts_km_the_claim_is_refused_by_km(world, fleet):
    WarrantyContractFactory(vehicle=fleet.old_vehicle)  # up to 150,000 km
    user = world.users["station"]
    payload = claim_payload(fleet, **old_vehicle_claim(fleet, odometer_km=150001))
    claim = ops.create_claim(user, parse_claim(payload))
    with pytest.raises(RuleRefused) as refused:
        ops.submit_claim(claim, user)
    (finding,) = refused.value.findings
    assert finding.field == "odometer_km" and "150,000 km limit" in finding.message


def test_a_contracts_time_and_the_policys_higher_km_together_cover(world, fleet):
    # The contract runs longer but only to 94,999 km: the policy's 100,000 km is the later limit.
    extended = WarrantyContractFactory(vehicle=fleet.old_vehicle, km=94999)
    claim = submit(world.users["station"], fleet, **old_vehicle_claim(fleet))
    assert claim.contract is extended


# -- the import ------------------------------------------------------------------------------------

HEADER = "number,vin,group,start_date,months,km"


def test_a_contract_of_two_groups_imports_as_two_rows_and_reimports_as_updates(fleet):
    vin = fleet.old_vehicle.vin
    sold = fleet.old_vehicle.sale_date.isoformat()
    data = csv_bytes(
        HEADER, f"YB-9,{vin},basic,{sold},60,150000", f"YB-9,{vin},powertrain,{sold},84,250000"
    )
    assert (import_csv("contracts", data).created, import_csv("contracts", data).updated) == (2, 2)
    rows = db.session.scalars(sa.select(WarrantyContract).order_by(WarrantyContract.group)).all()
    assert [(r.number, r.group, r.vehicle, r.km) for r in rows] == [
        ("YB-9", "basic", fleet.old_vehicle, 150000),
        ("YB-9", "powertrain", fleet.old_vehicle, 250000),
    ]


def test_one_contract_on_two_vins_in_a_file_is_refused_naming_the_first_line(fleet):
    sold = fleet.old_vehicle.sale_date.isoformat()
    data = csv_bytes(
        HEADER,
        f"YB-9,{fleet.old_vehicle.vin},basic,{sold},60,150000",
        f"YB-9,{fleet.vehicle.vin},powertrain,{fleet.vehicle.sale_date},60,250000",
    )
    before = master_data_snapshot()
    with pytest.raises(ImportRejected) as refused:
        import_csv("contracts", data)
    assert [(e.line, e.column) for e in refused.value.errors] == [(3, "vin")]
    assert "on another VIN on line 2" in refused.value.errors[0].message
    assert master_data_snapshot() == before


def test_a_contract_number_already_on_another_vehicle_is_refused(fleet):
    WarrantyContractFactory(number="YB-7", vehicle=fleet.vehicle)
    sold = fleet.old_vehicle.sale_date.isoformat()
    data = csv_bytes(
        HEADER,
        f"YB-8,{fleet.old_vehicle.vin},basic,{sold},60,150000",
        f"YB-7,{fleet.old_vehicle.vin},powertrain,{sold},60,250000",
    )
    with pytest.raises(ImportRejected) as refused:
        import_csv("contracts", data)
    assert [(e.line, e.column) for e in refused.value.errors] == [(3, "vin")]
    assert fleet.vehicle.vin in refused.value.errors[0].message
    assert db.session.scalar(sa.select(sa.func.count(WarrantyContract.id))) == 1


def test_every_bad_line_of_a_contracts_file_is_reported(fleet):
    vin, sold = fleet.old_vehicle.vin, fleet.old_vehicle.sale_date
    data = csv_bytes(
        HEADER,
        f"YB-1,{vin},basic,{sold},60,150000",
        f"YB-2,{vin},paint,{sold},60,150000",
        f"YB-3,{vin},basic,{sold - timedelta(days=1)},60,150000",
        f"YB-4,{vin},basic,{sold},-1,150000",
        f"YB-1,{vin},basic,{sold},24,150000",
    )
    with pytest.raises(ImportRejected) as refused:
        import_csv("contracts", data)
    assert [(e.line, e.column) for e in refused.value.errors] == [
        (3, "group"),
        (4, "start_date"),
        (5, "months"),
        (6, None),
    ]
    assert db.session.scalar(sa.select(sa.func.count(WarrantyContract.id))) == 0


def test_the_import_page_takes_a_contracts_file(login_as, fleet):
    vin, sold = fleet.old_vehicle.vin, fleet.old_vehicle.sale_date
    client = login_as("admin")
    bad = csv_bytes(HEADER, f"YB-1,{vin},paint,{sold},60,150000")
    page = client.post(
        "/admin/masterdata/import",
        data={"kind": "contracts", "file": (io.BytesIO(bad), "contracts.csv")},
        content_type="multipart/form-data",
    )
    assert 'data-testid="import-errors"' in page.get_data(as_text=True)
    assert "coverage group" in page.get_data(as_text=True)
    good = csv_bytes(HEADER, f"YB-1,{vin},basic,{sold},60,150000")
    page = client.post(
        "/admin/masterdata/import",
        data={"kind": "contracts", "file": (io.BytesIO(good), "contracts.csv")},
        content_type="multipart/form-data",
    )
    assert page.status_code == 302
    assert db.session.scalar(sa.select(WarrantyContract.number)) == "YB-1"


# -- the admin pages ------------------------------------------------------------------------------

PAGES = "/admin/masterdata"


def form_of(fleet, **overrides) -> dict:
    data = {
        "number": "YB-100",
        "vin": fleet.old_vehicle.vin,
        "group": "basic",
        "start_date": fleet.old_vehicle.sale_date.isoformat(),
        "months": "60",
        "km": "150000",
    }
    data.update(overrides)
    return data


def test_an_admin_creates_views_lists_and_edits_a_contract(login_as, fleet):
    client = login_as("admin")
    assert client.get(f"{PAGES}/contracts/new").status_code == 200
    created = client.post(f"{PAGES}/contracts/new", data=form_of(fleet))
    assert created.status_code == 302
    row = db.session.scalar(sa.select(WarrantyContract))
    assert created.headers["Location"].endswith(f"/contracts/{row.id}")
    page = client.get(f"{PAGES}/contracts/{row.id}").get_data(as_text=True)
    assert "YB-100" in page and fleet.old_vehicle.vin in page and "in force" in page
    listing = client.get(f"{PAGES}/contracts?q=YB-100").get_data(as_text=True)
    assert f"/contracts/{row.id}" in listing

    another = client.post(
        f"{PAGES}/contracts/new", data=form_of(fleet, group="powertrain", km="250000")
    )
    assert another.status_code == 302
    page = client.get(f"{PAGES}/contracts/{row.id}").get_data(as_text=True)
    assert 'data-group="powertrain"' in page

    assert client.get(f"{PAGES}/contracts/{row.id}/edit").status_code == 200
    edited = client.post(
        f"{PAGES}/contracts/{row.id}/edit",
        data={
            "group": "basic",
            "start_date": row.start_date.isoformat(),
            "months": "72",
            "km": "160000",
        },
    )
    assert edited.status_code == 302
    db.session.expire_all()
    assert (row.months, row.km, row.number) == (72, 160000, "YB-100")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"vin": "LTEST9990AB00000"}, "not valid"),
        ({"group": "paint"}, "no warranty policy for coverage group"),
        ({"months": "0"}, "at least 1"),
        ({"km": ""}, "A value is required"),
        ({"start_date": "2000-01-01"}, "before the vehicle&#39;s sale date"),
    ],
)
def test_a_refused_contract_form_says_why_and_saves_nothing(login_as, fleet, overrides, message):
    page = login_as("admin").post(f"{PAGES}/contracts/new", data=form_of(fleet, **overrides))
    assert page.status_code == 422
    assert message in page.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(WarrantyContract.id))) == 0


def test_a_contract_stays_on_its_vehicle_and_extends_a_group_once(login_as, fleet):
    WarrantyContractFactory(number="YB-100", vehicle=fleet.vehicle)
    client = login_as("admin")
    moved = client.post(f"{PAGES}/contracts/new", data=form_of(fleet))
    assert moved.status_code == 422
    assert f"is on VIN {fleet.vehicle.vin}" in moved.get_data(as_text=True)
    twice = client.post(
        f"{PAGES}/contracts/new",
        data=form_of(fleet, vin=fleet.vehicle.vin, start_date=fleet.vehicle.sale_date.isoformat()),
    )
    assert twice.status_code == 422
    assert "already extends basic" in twice.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(WarrantyContract.id))) == 1


def test_an_edit_that_breaks_a_rule_is_refused(login_as, fleet):
    row = WarrantyContractFactory(vehicle=fleet.vehicle)
    page = login_as("admin").post(
        f"{PAGES}/contracts/{row.id}/edit",
        data={"group": "paint", "start_date": row.start_date.isoformat(), "months": "1", "km": "1"},
    )
    assert page.status_code == 422
    db.session.expire_all()
    assert (row.group, row.months) == ("basic", 60)


def test_a_missing_contract_is_a_404(login_as, world):
    client = login_as("admin")
    assert client.get(f"{PAGES}/contracts/999999").status_code == 404
    assert client.post(f"{PAGES}/contracts/999999/edit", data={}).status_code == 404


@pytest.mark.parametrize("role", ["station", "auditor", "finance", "supplier"])
def test_only_admins_keep_the_contracts(login_as, fleet, role):
    row = WarrantyContractFactory(vehicle=fleet.vehicle)
    client = login_as(role)
    assert client.get(f"{PAGES}/contracts").status_code == 403
    assert client.get(f"{PAGES}/contracts/{row.id}").status_code == 403
    assert client.post(f"{PAGES}/contracts/new", data=form_of(fleet)).status_code == 403
    edit = client.post(f"{PAGES}/contracts/{row.id}/edit", data={"months": "1"})
    assert edit.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count(WarrantyContract.id))) == 1


def test_a_contract_form_without_its_csrf_token_is_refused(database_url):
    guarded = create_app(test_config(database_url, WTF_CSRF_ENABLED=True))
    response = guarded.test_client().post(f"{PAGES}/contracts/new", data={"number": "YB-1"})
    assert response.status_code == 400


def test_the_pages_speak_chinese(login_as, fleet):
    row = WarrantyContractFactory(vehicle=fleet.vehicle)
    client = login_as("admin")
    client.post("/lang/zh_CN")
    page = client.get(f"{PAGES}/contracts/{row.id}").get_data(as_text=True)
    assert '<html lang="zh-CN">' in page and "延保" in page


# -- the VIN lookup (page and API) and the claim ------------------------------------------------


def test_the_vin_lookup_shows_the_contracts_and_the_coverage_they_give(login_as, fleet):
    row = WarrantyContractFactory(vehicle=fleet.old_vehicle)
    data = login_as("station").get(f"/claims/lookup/vehicle?vin={fleet.old_vehicle.vin}").get_json()
    assert data["contracts"] == [
        {
            "number": row.number,
            "group": "basic",
            "group_label": "Basic",  # the page writes the group by its label
            "start_date": row.start_date.isoformat(),
            "ends_on": row.ends_on.isoformat(),
            "km": 150000,
            "in_force": True,
        }
    ]
    basic = next(c for c in data["coverage"] if c["group"] == "basic")
    assert basic["group_label"] == "Basic"
    assert (basic["contract"], basic["by_contract"], basic["in_coverage"]) == (
        row.number,
        True,
        True,
    )
    assert basic["expires_on"] == row.ends_on.isoformat()


def test_the_admin_vehicle_page_lists_its_contracts(login_as, fleet):
    row = WarrantyContractFactory(vehicle=fleet.old_vehicle)
    page = login_as("admin").get(f"{PAGES}/vehicles/{fleet.old_vehicle.vin}").get_data(as_text=True)
    assert f'data-contract="{row.number}"' in page
    assert f"extended by contract {row.number}" in page


def test_the_vehicle_api_lists_the_contracts_and_includes_them_in_coverage(client, world, fleet):
    row = WarrantyContractFactory(vehicle=fleet.old_vehicle)
    WarrantyContractFactory(vehicle=fleet.vehicle, number="YB-OTHER")
    body = api_for(client, world, "station").get(f"/vehicles/{fleet.old_vehicle.vin}").get_json()
    assert body["contracts"] == [
        {
            "number": row.number,
            "group": "basic",
            "start_date": row.start_date.isoformat(),
            "ends_on": row.ends_on.isoformat(),
            "months": 60,
            "km": 150000,
            "in_force": True,
        }
    ]
    basic = next(c for c in body["coverage"] if c["group"] == "basic")
    assert (basic["in_coverage"], basic["contract"], basic["km"]) == (True, row.number, 150000)
    wear = next(c for c in body["coverage"] if c["group"] == "wear")
    assert (wear["in_coverage"], wear["contract"]) == (False, None)


def test_a_claim_covered_thanks_to_a_contract_says_so_on_its_page_and_in_the_api(
    client, login_as, world, fleet
):
    row = WarrantyContractFactory(vehicle=fleet.old_vehicle)
    claim = ClaimFactory(fleet=fleet, submitted=True, **old_vehicle_claim(fleet))
    assert claim.contract is row
    api = api_for(client, world, "station")
    assert api.get(f"/claims/{claim.number}").get_json()["contract"] == row.number
    page = login_as("station").get(f"/claims/{claim.number}").get_data(as_text=True)
    assert f"Covered only thanks to contract {row.number}" in page
    other = ClaimFactory(fleet=fleet, submitted=True, own_vehicle=True)
    assert api.get(f"/claims/{other.number}").get_json()["contract"] is None


def test_another_stations_contract_covered_claim_is_a_404(client, login_as, world, fleet):
    WarrantyContractFactory(vehicle=fleet.old_vehicle)
    claim = ClaimFactory(fleet=fleet, submitted=True, **old_vehicle_claim(fleet))
    api = api_for(client, world, "station_b")
    error_of(api.get(f"/claims/{claim.number}"), 404)
    assert login_as("station_b").get(f"/claims/{claim.number}").status_code == 404


# -- the analysis: contract-covered claims apart ------------------------------------------------


@pytest.fixture
def analysed(world, fleet):
    """Two approved claims: one covered only thanks to a contract, one by the policy."""
    WarrantyContractFactory(vehicle=fleet.old_vehicle)
    by_contract = ClaimFactory(fleet=fleet, approved=True, **old_vehicle_claim(fleet))
    by_policy = ClaimFactory(fleet=fleet, approved=True, own_vehicle=True)
    assert by_contract.contract is not None and by_policy.contract is None
    return by_contract, by_policy


@pytest.mark.parametrize(
    ("contract", "claims"), [("", 2), ("contract_covered", 1), ("policy_only", 1)]
)
def test_the_claim_rates_api_filters_by_contract(client, world, analysed, contract, claims):
    api = api_for(client, world, "auditor")
    body = api.get(f"/analysis/claim-rates?group_by=model&contract={contract}").get_json()
    assert sum(row["claims"] for row in body["rows"]) == claims


def test_a_bad_contract_filter_is_a_400_naming_it(client, world):
    error = error_of(
        api_for(client, world, "auditor").get("/analysis/claim-rates?group_by=model&contract=x"),
        400,
    )
    assert "contract" in error["fields"]


def test_a_station_may_not_read_the_contract_analysis(client, world):
    error_of(
        api_for(client, world, "station").get(
            "/analysis/claim-rates?group_by=model&contract=policy_only"
        ),
        403,
    )


def test_a_supplier_naming_another_supplier_under_the_contract_filter_gets_a_404(client, world):
    api = api_for(client, world, "supplier")
    error_of(
        api.get("/analysis/claim-rates?group_by=model&contract=contract_covered&supplier=SU-B"), 404
    )


def test_the_reliability_api_takes_the_contract_filter(client, world, analysed):
    api = api_for(client, world, "auditor")
    response = api.get("/analysis/reliability?contract=contract_covered")
    # One failure is too few to fit: the filter was read and the rule refused it.
    assert error_of(response, 422)["code"] == "rule_refused"
    assert error_of(api.get("/analysis/reliability?contract=nope"), 400)["fields"]["contract"]


@pytest.mark.parametrize(
    "path", ["/analysis/faults", "/analysis/compensation", "/analysis/reliability"]
)
def test_the_analysis_pages_offer_the_contract_filter(login_as, analysed, path):
    client = login_as("auditor")
    page = client.get(f"{path}?contract=contract_covered")
    assert page.status_code == 200
    assert 'name="contract"' in page.get_data(as_text=True)
    refused = client.get(f"{path}?contract=bogus")
    assert refused.status_code == 400
    assert "bogus is not one of" in refused.get_data(as_text=True)


def test_the_drill_down_lists_only_the_contract_covered_claims(login_as, analysed):
    by_contract, by_policy = analysed
    html = (
        login_as("auditor").get("/analysis/claims?contract=contract_covered").get_data(as_text=True)
    )
    assert by_contract.number in html and by_policy.number not in html
    html = login_as("auditor").get("/analysis/claims?contract=policy_only").get_data(as_text=True)
    assert by_policy.number in html and by_contract.number not in html


def test_only_an_admin_may_create_or_change_a_contract_through_the_operations(world, fleet):
    from portal.errors import DomainError
    from portal.masterdata import contracts

    terms = contracts.Terms("basic", fleet.old_vehicle.sale_date, 60, 150000)
    with pytest.raises(DomainError, match="Only administrators"):
        contracts.create_contract(world.users["auditor"], "YB-1", fleet.old_vehicle.vin, terms)
    row = WarrantyContractFactory(vehicle=fleet.old_vehicle)
    with pytest.raises(DomainError, match="Only administrators"):
        contracts.update_contract(world.users["station"], row, terms)
