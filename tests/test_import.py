"""The master-data CSV import: every kind, every refusal with its line, price history, the CLI."""

from __future__ import annotations

import contextvars
import time
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.masterdata.campaigns import Campaign, CampaignVehicle
from portal.masterdata.importer import (
    IMPORT_ORDER,
    KINDS,
    ImportRejected,
    RowError,
    columns,
    import_csv,
)
from portal.masterdata.models import (
    FaultCode,
    LaborOperation,
    Part,
    PartModel,
    PartPrice,
    Station,
    Supplier,
    Vehicle,
    VehicleModel,
    WarrantyContract,
    WarrantyPolicy,
)
from portal.masterdata.vin import with_check_digit
from tests import factories
from tests.builders_masterdata import EXAMPLES, csv_bytes, example, master_data_snapshot

VIN_1 = with_check_digit("LTEST9990AB000001")
VIN_2 = with_check_digit("LTEST9990AB000002")
VIN_3 = with_check_digit(
    "LTEST9990AB000003"
)  # refs' vehicle: model M-T, sold 2025-03-01, no campaign

# Per kind: the header, a good row, the same key with changed values, and a second key.
GOOD = {
    "stations": (
        "code,name,region,labor_rate,km_rate,parts_handling_rate",
        "ST-N1,New Station,West,90.00,3.00,0.10",
        "ST-N1,Renamed Station,West,95.50,3.20,0.125",
        {"code": "ST-N2"},
    ),
    "suppliers": (
        "code,name,recovery_share,labor_hours_cap,handling_fee_rate",
        "SU-N1,New Supplier,1,4.00,0.05",
        "SU-N1,New Supplier,0.75,,0.05",
        {"code": "SU-N2"},
    ),
    "models": (
        "code,name,break_in_days,break_in_min_km,break_in_max_km,break_in_price",
        "M-N1,New Model,90,1500,5000,300.00",
        "M-N1,New Model,60,1000,4000,280.50",
        {"code": "M-N2"},
    ),
    "policies": (
        "model,group,months,km",
        "M-T,extended,48,150000",
        "M-T,extended,60,180000",
        {"group": "other"},
    ),
    "parts": (
        "number,name,group,supplier,unit_price,major_assembly,disposition,scrap_rate",
        "P-N1,Oil pump,basic,SU-A,88.00,false,return_to_oem,",
        "P-N1,Oil pump,powertrain,SU-B,88.00,TRUE,scrap_at_station,0.2",
        {"number": "P-N2"},
    ),
    "part_models": (
        "part,model",
        "P-T,M-T",
        "P-T,M-T",
        {"model": "M-T2"},
    ),
    "labor_operations": (
        "code,description,standard_hours",
        "OP-N1,Replace pump,1.50",
        "OP-N1,Replace oil pump,1.75",
        {"code": "OP-N2"},
    ),
    "fault_codes": (
        "code,description,system",
        "F-N1,Noise,body",
        "F-N1,Rattle noise,chassis",
        {"code": "F-N2"},
    ),
    "vehicles": (
        "vin,model,engine_no,production_date,sale_date,station,owner_name,owner_phone,odometer_km",
        f"{VIN_1},M-T,E0001,2025-01-10,2025-03-01,ST-A,张三,13812345678,1200",
        f"{VIN_1},M-T,E0001,2025-01-10,2025-03-02,,李四,,5400",
        {"vin": VIN_2},
    ),
    "contracts": (
        "number,vin,group,start_date,months,km",
        f"YB-1,{VIN_3},basic,2028-03-01,24,150000",
        f"YB-1,{VIN_3},basic,2028-03-01,36,180000",
        {"group": "powertrain"},
    ),
    "campaigns": (
        "code,title,kind,start_date,end_date,operation,hours,parts,supplier,recovery_share",
        "CP-N1,Brake hose recall,recall,2026-01-01,,OP-T,0.80,P-T:2,SU-A,0.60",
        "CP-N1,Brake hose recall 2,service,2026-01-01,2026-12-31,OP-T,1.25,P-T:1,,",
        {"code": "CP-N2"},
    ),
    "campaign_vehicles": (
        "campaign,vin",
        f"CP-T,{VIN_3}",
        f"CP-T,{VIN_3}",
        {"campaign": "CP-T2"},
    ),
}

# Per kind: how to find the record of GOOD's key, and what the changed row makes of it.
UPDATED = {
    "stations": (
        lambda: _one(Station, code="ST-N1"),
        {
            "name": "Renamed Station",
            "labor_rate": Decimal("95.50"),
            "km_rate": Decimal("3.20"),
            "parts_handling_rate": Decimal("0.125"),
        },
    ),
    "suppliers": (
        lambda: _one(Supplier, code="SU-N1"),
        {"recovery_share": Decimal("0.75"), "labor_hours_cap": None},
    ),
    "models": (
        lambda: _one(VehicleModel, code="M-N1"),
        {
            "break_in_days": 60,
            "break_in_min_km": 1000,
            "break_in_max_km": 4000,
            "break_in_price": Decimal("280.50"),
        },
    ),
    "policies": (
        lambda: _one(WarrantyPolicy, group="extended"),
        {"model.code": "M-T", "months": 60, "km": 180000},
    ),
    "parts": (
        lambda: _one(Part, number="P-N1"),
        {
            "group": "powertrain",
            "supplier.code": "SU-B",
            "is_major_assembly": True,
            "disposition.value": "scrap_at_station",
            "scrap_rate": Decimal("0.2"),
            "current_price": Decimal("88.00"),
        },
    ),
    "part_models": (
        lambda: _one(PartModel),
        {"part.number": "P-T", "model.code": "M-T"},
    ),
    "labor_operations": (
        lambda: _one(LaborOperation, code="OP-N1"),
        {"description": "Replace oil pump", "standard_hours": Decimal("1.75")},
    ),
    "fault_codes": (
        lambda: _one(FaultCode, code="F-N1"),
        {"description": "Rattle noise", "system": "chassis"},
    ),
    "vehicles": (
        lambda: _one(Vehicle, vin=VIN_1),
        {
            "model.code": "M-T",
            "sale_date": date(2025, 3, 2),
            "selling_station": None,
            "owner_name": "李四",
            "owner_phone": "",
            "odometer_km": 5400,
        },
    ),
    "contracts": (
        lambda: _one(WarrantyContract, number="YB-1", group="basic"),
        {"vehicle.vin": VIN_3, "start_date": date(2028, 3, 1), "months": 36, "km": 180000},
    ),
    "campaigns": (
        lambda: _one(Campaign, code="CP-N1"),
        {
            "title": "Brake hose recall 2",
            "kind.value": "service",
            "status.value": "open",
            "end_date": date(2026, 12, 31),
            "operation.code": "OP-T",
            "hours": Decimal("1.25"),
            "supplier": None,
            "recovery_share": Decimal("0"),
            "package": [("P-T", 1)],
        },
    ),
    "campaign_vehicles": (
        lambda: _one(CampaignVehicle),
        {"campaign.code": "CP-T", "vehicle.vin": VIN_3},
    ),
}


def _one(model, **where):
    return db.session.scalars(sa.select(model).filter_by(**where)).one()


def _attr(obj, path: str):
    if path == "package":
        return [(item.part.number, item.qty) for item in obj.parts]
    for name in path.split("."):
        obj = getattr(obj, name)
    return obj


def _row(kind: str, row: str, **cells: str) -> str:
    """`row` of `kind` with some cells replaced, by column name."""
    values = row.split(",")
    for name, value in cells.items():
        values[columns(kind).index(name)] = value
    return ",".join(values)


def _good_file(kind: str) -> bytes:
    header, good, _changed, _other = GOOD[kind]
    return csv_bytes(header, good)


def rejected(kind: str, data: bytes) -> list[RowError]:
    with pytest.raises(ImportRejected) as refused:
        import_csv(kind, data)
    return refused.value.errors


@pytest.fixture
def refs(world):
    """What the GOOD rows refer to: world's stations and suppliers, models M-T and M-T2, part
    P-T, labor operation OP-T, campaigns CP-T and CP-T2, and the vehicle VIN_3 of model M-T
    (sold 2025-03-01)."""
    factories.VehicleModelFactory(code="M-T2")
    factories.PartFactory(supplier=world.suppliers[0], number="P-T")
    model = factories.VehicleModelFactory(code="M-T")
    factories.VehicleFactory(model=model, vin=VIN_3)
    factories.CampaignFactory(code="CP-T")
    factories.CampaignFactory(code="CP-T2")
    factories.LaborOperationFactory(code="OP-T")
    return model


# --- every kind: create, then update ---------------------------------------------------------


def test_kinds_are_those_of_the_public_contract():
    assert KINDS == (
        "stations",
        "suppliers",
        "models",
        "policies",
        "parts",
        "part_models",
        "labor_operations",
        "fault_codes",
        "vehicles",
        "contracts",
        "campaigns",
        "campaign_vehicles",
    )
    assert sorted(IMPORT_ORDER) == sorted(KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_a_good_file_creates_and_its_reimport_updates(refs, kind):
    header, good, changed, _other = GOOD[kind]
    assert columns(kind) == tuple(header.split(","))

    created = import_csv(kind, csv_bytes(header, good))
    assert (created.created, created.updated) == (1, 0)

    updated = import_csv(kind, csv_bytes(header, changed))
    assert (updated.created, updated.updated) == (0, 1)

    db.session.expire_all()
    find, expected = UPDATED[kind]
    record = find()
    assert {path: _attr(record, path) for path in expected} == expected


def test_an_existing_station_of_the_database_is_updated(world):
    result = import_csv(
        "stations", csv_bytes(GOOD["stations"][0], "ST-A,Station A renamed,East,80.00,3.50,0.10")
    )
    assert (result.created, result.updated) == (0, 1)
    assert _one(Station, code="ST-A").name == "Station A renamed"


def test_a_new_station_is_an_organisation_that_users_can_belong_to(world):
    import_csv("stations", _good_file("stations"))
    station = _one(Station, code="ST-N1")
    assert station.kind.value == "station"
    assert factories.UserFactory(station=True, organisation=station).organisation is station


def test_optional_supplier_columns_take_their_defaults(world):
    import_csv("suppliers", csv_bytes(GOOD["suppliers"][0], "SU-N9,Defaults Ltd,,,"))
    supplier = _one(Supplier, code="SU-N9")
    assert supplier.recovery_share == Decimal("1")
    assert supplier.labor_hours_cap is None
    assert supplier.handling_fee_rate == Decimal("0")


def test_a_lower_case_vin_is_accepted_in_capitals(refs):
    header, good, _changed, _other = GOOD["vehicles"]
    import_csv("vehicles", csv_bytes(header, _row("vehicles", good, vin=VIN_1.lower())))
    assert _one(Vehicle, vin=VIN_1).engine_no == "E0001"


# --- refusals: every bad value with its line, nothing imported -------------------------------

BAD_VALUES = [
    ("stations", "labor_rate", "12.345", "has more than two decimals"),
    ("stations", "km_rate", "-1.00", "must not be negative"),
    ("stations", "parts_handling_rate", "10%", "write rates as fractions"),
    ("stations", "parts_handling_rate", "1.5", "not a fraction from 0 to 1"),
    ("stations", "parts_handling_rate", "0.1234567", "more than 6 decimals"),
    ("stations", "name", "", "a value is required"),
    ("stations", "code", "X" * 33, "longer than 32 characters"),
    ("suppliers", "recovery_share", "abc", "is not a number"),
    ("suppliers", "labor_hours_cap", "1.234", "has more than two decimals"),
    ("models", "break_in_days", "-3", "must not be negative"),
    ("models", "break_in_min_km", "1.5", "is not a whole number"),
    ("models", "break_in_max_km", "1000", "below the break-in start of 1500 km"),
    ("models", "break_in_price", "1e3", "is not a number"),
    ("policies", "months", "0", "must be at least 1"),
    ("policies", "km", "", "a value is required"),
    ("policies", "model", "M-X", 'there is no vehicle model with the code "M-X"'),
    ("parts", "unit_price", "12.345", "has more than two decimals"),
    ("parts", "unit_price", "-5.00", "must not be negative"),
    ("parts", "major_assembly", "yes", "neither true nor false"),
    ("parts", "disposition", "bin", "is not one of: return_to_oem"),
    ("parts", "supplier", "SU-X", 'there is no supplier with the code "SU-X"'),
    ("parts", "supplier", "ST-A", 'there is no supplier with the code "ST-A"'),
    ("parts", "scrap_rate", "0.2", "only a part scrapped at the station has a scrap rate"),
    ("labor_operations", "standard_hours", '"1,5"', "is not a number"),
    ("fault_codes", "description", "", "a value is required"),
    ("vehicles", "vin", "LTEST9990AB00000", "must be 17 characters"),
    ("vehicles", "vin", VIN_2[:8] + ("0" if VIN_2[8] != "0" else "1") + VIN_2[9:], "check digit"),
    ("vehicles", "production_date", "2025/01/10", "is not a date in the form YYYY-MM-DD"),
    ("vehicles", "sale_date", "2025-02-30", "is not a date in the form YYYY-MM-DD"),
    ("vehicles", "sale_date", "2024-12-31", "before the production date 2025-01-10"),
    ("vehicles", "station", "ST-X", 'there is no station with the code "ST-X"'),
    ("vehicles", "station", "SU-A", 'there is no station with the code "SU-A"'),
    ("vehicles", "model", "M-X", 'there is no vehicle model with the code "M-X"'),
    ("vehicles", "odometer_km", "-5", "must not be negative"),
    ("part_models", "part", "P-X", 'there is no part with the number "P-X"'),
    ("part_models", "model", "M-X", 'there is no vehicle model with the code "M-X"'),
    ("contracts", "vin", VIN_2, f'there is no vehicle with the VIN "{VIN_2}"'),
    ("contracts", "vin", "LTEST9990AB00000", "must be 17 characters"),
    ("contracts", "group", "paint", 'model M-T has no warranty policy for coverage group "paint"'),
    ("contracts", "start_date", "2025-02-28", "before the vehicle's sale date 2025-03-01"),
    ("contracts", "start_date", "2028-02-30", "is not a date in the form YYYY-MM-DD"),
    ("contracts", "months", "0", "must be at least 1"),
    ("contracts", "km", "", "a value is required"),
    ("contracts", "km", "1.5", "is not a whole number"),
    ("campaigns", "start_date", "2026-13-01", "is not a date in the form YYYY-MM-DD"),
    ("campaigns", "end_date", "2025-12-31", "before the start date 2026-01-01"),
    ("campaigns", "operation", "OP-X", 'there is no labor operation with the code "OP-X"'),
    ("campaigns", "hours", "0", "needs some labor hours"),
    ("campaigns", "hours", "1.234", "has more than two decimals"),
    ("campaigns", "parts", "P-T", "is not a part number and a quantity"),
    ("campaigns", "parts", "P-T:0", "is not a part number and a quantity"),
    ("campaigns", "parts", "P-T:1;P-T:2", 'part "P-T" is listed twice'),
    ("campaigns", "parts", "P-X:1", 'there is no part with the number "P-X"'),
    ("campaigns", "supplier", "SU-X", 'there is no supplier with the code "SU-X"'),
    ("campaigns", "recovery_share", "", "is required with a supplier"),
    ("campaigns", "recovery_share", "1.5", "not a fraction from 0 to 1"),
    ("campaign_vehicles", "campaign", "CP-X", 'there is no campaign with the code "CP-X"'),
    ("campaign_vehicles", "vin", VIN_2, f'there is no vehicle with the VIN "{VIN_2}"'),
    ("campaign_vehicles", "vin", "LTEST", "must be 17 characters"),
]


@pytest.mark.parametrize(("kind", "column", "value", "message"), BAD_VALUES)
def test_a_bad_value_is_refused_with_its_line_and_nothing_is_imported(
    refs, kind, column, value, message
):
    header, good, _changed, other_key = GOOD[kind]
    bad = _row(kind, good, **{**other_key, column: value})
    before = master_data_snapshot()

    errors = rejected(kind, csv_bytes(header, good, bad))

    assert [(e.line, e.column) for e in errors] == [(3, column)]
    assert message in errors[0].message
    assert master_data_snapshot() == before


def test_a_campaign_is_a_recall_or_a_service_campaign(refs):
    header, good, _changed, _other = GOOD["campaigns"]
    errors = rejected("campaigns", csv_bytes(header, good.replace(",recall,", ",callback,")))
    assert [(e.line, e.column) for e in errors] == [(2, "kind")]
    assert "is not one of: recall, service" in errors[0].message


def test_a_campaign_without_parts_is_labor_only_and_reimporting_replaces_its_parts(refs):
    header, good, _changed, _other = GOOD["campaigns"]
    import_csv("campaigns", csv_bytes(header, good))
    import_csv("campaigns", csv_bytes(header, _row("campaigns", good, parts="")))
    assert _one(Campaign, code="CP-N1").parts == []


def test_a_scrap_at_station_part_needs_a_scrap_rate(refs):
    header, good, _changed, _other = GOOD["parts"]
    bad = _row("parts", good, disposition="scrap_at_station", scrap_rate="")
    errors = rejected("parts", csv_bytes(header, bad))
    assert [(e.line, e.column) for e in errors] == [(2, "scrap_rate")]
    assert "required for a part scrapped at the station" in errors[0].message


def test_a_scrap_at_station_part_may_have_no_residual_value(refs):
    header, good, _changed, _other = GOOD["parts"]
    import_csv(
        "parts",
        csv_bytes(header, _row("parts", good, disposition="scrap_at_station", scrap_rate="0")),
    )
    assert _one(Part, number="P-N1").scrap_rate == Decimal("0")


def test_an_error_reads_as_line_column_and_message(refs):
    header, good, _changed, _other = GOOD["parts"]
    errors = rejected(
        "parts",
        csv_bytes(header, good, "", _row("parts", good, number="P-N7", unit_price="12.345")),
    )
    assert [str(e) for e in errors] == ['line 4, unit_price: "12.345" has more than two decimals']


def test_every_bad_row_and_every_bad_cell_is_reported(refs):
    header, good, _changed, _other = GOOD["parts"]
    before = master_data_snapshot()
    errors = rejected(
        "parts",
        csv_bytes(
            header,
            good,
            _row("parts", good, number="P-N3", unit_price="abc"),
            _row("parts", good, number="P-N4", supplier="SU-X", major_assembly="maybe"),
            _row("parts", good, number="P-N5"),
            _row("parts", good, number="P-N6", disposition="lost"),
        ),
    )
    assert [(e.line, e.column) for e in errors] == [
        (3, "unit_price"),
        (4, "major_assembly"),
        (4, "supplier"),
        (6, "disposition"),
    ]
    assert master_data_snapshot() == before


def test_a_key_twice_in_a_file_is_refused_on_its_second_line_naming_the_first(refs):
    header, good, changed, _other = GOOD["parts"]
    other = _row("parts", good, number="P-N2")
    errors = rejected("parts", csv_bytes(header, good, other, changed))
    assert [(e.line, e.column) for e in errors] == [(4, "number")]
    assert errors[0].message == '"P-N1" is already on line 2'


def test_a_policy_key_is_its_model_and_group(refs):
    header, good, changed, _other = GOOD["policies"]
    errors = rejected("policies", csv_bytes(header, good, "M-T,other,12,10000", changed))
    assert [(e.line, e.column) for e in errors] == [(4, None)]
    assert "line 2" in errors[0].message


def test_vins_differing_only_in_case_are_the_same_key(refs):
    header, good, _changed, _other = GOOD["vehicles"]
    errors = rejected(
        "vehicles", csv_bytes(header, good, _row("vehicles", good, vin=VIN_1.lower()))
    )
    assert [(e.line, e.column) for e in errors] == [(3, "vin")]


@pytest.mark.parametrize(
    ("kind", "code", "message"),
    [
        ("stations", "SU-A", '"SU-A" is already the code of a supplier'),
        ("stations", "OEM", '"OEM" is the code of the OEM itself'),
        ("suppliers", "ST-A", '"ST-A" is already the code of a station'),
        ("suppliers", "OEM", '"OEM" is the code of the OEM itself'),
    ],
)
def test_stations_and_suppliers_share_the_organisation_codes(world, kind, code, message):
    header, good, _changed, _other = GOOD[kind]
    before = master_data_snapshot()
    errors = rejected(kind, csv_bytes(header, good, _row(kind, good, code=code)))
    assert [(e.line, e.column, e.message) for e in errors] == [(3, "code", message)]
    assert master_data_snapshot() == before


# --- the file itself: header, encoding, CSV shape --------------------------------------------


def test_a_missing_column_is_an_error_on_line_1(refs):
    errors = rejected("fault_codes", csv_bytes("code,description", "F-N1,Noise"))
    assert [(e.line, e.column) for e in errors] == [(1, "system")]
    assert "missing column" in errors[0].message


def test_an_unknown_column_is_an_error_on_line_1(refs):
    errors = rejected("fault_codes", csv_bytes("code,description,system,colour", "F,N,body,red"))
    assert [(e.line, e.column) for e in errors] == [(1, "colour")]
    assert "unknown column" in errors[0].message


def test_a_column_given_twice_is_an_error_on_line_1(refs):
    errors = rejected("fault_codes", csv_bytes("code,description,system,code", "F,N,body,F"))
    assert [(e.line, e.column) for e in errors] == [(1, "code")]


def test_a_file_without_header_is_refused_on_line_1(refs):
    errors = rejected("fault_codes", csv_bytes("F-N1,Noise,body"))
    assert {e.line for e in errors} == {1}
    assert {e.column for e in errors} >= {"code", "description", "system"}


def test_columns_may_come_in_any_order_and_with_spaces(refs):
    result = import_csv("fault_codes", csv_bytes(" system , code,description", "body,F-N1,Noise"))
    assert result.created == 1
    assert _one(FaultCode, code="F-N1").system == "body"


def test_an_empty_file_is_refused():
    errors = rejected("fault_codes", b"")
    assert [(e.line, e.column) for e in errors] == [(1, None)]
    assert "empty" in errors[0].message


def test_a_header_without_rows_is_refused():
    errors = rejected("fault_codes", csv_bytes("code,description,system"))
    assert [(e.line, e.column) for e in errors] == [(2, None)]


def test_a_row_with_too_few_or_too_many_fields_is_refused(refs):
    errors = rejected(
        "fault_codes", csv_bytes("code,description,system", "F1,Noise", "F2,Noise,body,extra")
    )
    assert [(e.line, e.column) for e in errors] == [(2, None), (3, None)]
    assert "has 2 fields where the header has 3" in errors[0].message


def test_a_file_that_is_not_utf8_is_refused_at_the_line_of_its_first_bad_byte(refs):
    data = csv_bytes(
        "code,description,system", "F1,Noise,body", "F2,发动机异响,engine", encoding="gbk"
    )
    before = master_data_snapshot()
    errors = rejected("fault_codes", data)
    assert [(e.line, e.column) for e in errors] == [(3, None)]
    assert "not UTF-8" in errors[0].message
    assert master_data_snapshot() == before


@pytest.mark.parametrize(
    "data",
    [
        "code,description,system\nF1,Noise,body\n".encode("utf-16"),
        b"code,description,system\nPK\x03\x04\x00\x00,x,y\n",
    ],
    ids=["utf-16", "binary"],
)
def test_a_file_that_is_not_text_is_refused(refs, data):
    errors = rejected("fault_codes", data)
    assert len(errors) == 1
    assert "not CSV text" in errors[0].message or "not UTF-8" in errors[0].message


def test_a_utf8_byte_order_mark_is_accepted(refs):
    result = import_csv(
        "fault_codes", csv_bytes("code,description,system", "F1,发动机异响,engine", bom=True)
    )
    assert result.created == 1
    assert _one(FaultCode, code="F1").description == "发动机异响"


def test_windows_line_endings_and_quoted_commas_are_read(refs):
    result = import_csv(
        "fault_codes",
        csv_bytes("code,description,system", 'F1,"Noise, rattle",body', newline="\r\n"),
    )
    assert result.created == 1
    assert _one(FaultCode, code="F1").description == "Noise, rattle"


def test_line_numbers_are_physical_lines_past_blank_lines_and_multiline_cells(refs):
    errors = rejected(
        "fault_codes",
        csv_bytes(
            "code,description,system",
            "",
            'F1,"Noise\nand rattle",body',
            "F2,Noise,",
        ),
    )
    assert [(e.line, e.column) for e in errors] == [(5, "system")]


def test_broken_csv_quoting_is_refused_with_its_line(refs):
    errors = rejected(
        "fault_codes", csv_bytes("code,description,system", "F1,Noise,body", 'F2,"Noise"x,body')
    )
    assert [e.line for e in errors] == [3]
    assert "cannot be read as CSV" in errors[0].message


def test_an_unknown_kind_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown kind"):
        import_csv("colours", b"code\nred\n")


# --- part prices -----------------------------------------------------------------------------

MARCH_10 = date(2026, 3, 10)


def _import_price(price: str, today: date) -> None:
    header, good, _changed, _other = GOOD["parts"]
    import_csv("parts", csv_bytes(header, _row("parts", good, unit_price=price)), today=today)


def _prices() -> list[tuple]:
    db.session.expire_all()
    part = _one(Part, number="P-N1")
    return [
        (p.valid_from, p.valid_to, p.unit_price)
        for p in db.session.scalars(
            sa.select(PartPrice).where(PartPrice.part_id == part.id).order_by(PartPrice.id)
        )
    ]


def test_a_new_part_gets_one_open_price_valid_since_always(refs):
    _import_price("88.00", MARCH_10)
    assert _prices() == [(None, None, Decimal("88.00"))]


def test_reimporting_the_same_price_changes_nothing(refs):
    _import_price("88.00", MARCH_10)
    _import_price("88.0", date(2026, 4, 1))
    assert _prices() == [(None, None, Decimal("88.00"))]


def test_a_new_price_closes_the_open_one_yesterday_and_opens_one_today(refs):
    _import_price("88.00", date(2026, 1, 5))
    _import_price("92.50", MARCH_10)
    assert _prices() == [
        (None, date(2026, 3, 9), Decimal("88.00")),
        (MARCH_10, None, Decimal("92.50")),
    ]
    part = _one(Part, number="P-N1")
    assert part.price_on(date(2026, 3, 9)) == Decimal("88.00")
    assert part.price_on(MARCH_10) == Decimal("92.50")


def test_a_second_change_on_the_same_day_replaces_that_days_price(refs):
    _import_price("88.00", date(2026, 1, 5))
    _import_price("92.50", MARCH_10)
    _import_price("91.00", MARCH_10)
    assert _prices() == [
        (None, date(2026, 3, 9), Decimal("88.00")),
        (MARCH_10, None, Decimal("91.00")),
    ]


def test_each_later_change_adds_a_period(refs):
    _import_price("88.00", date(2026, 1, 5))
    _import_price("92.50", MARCH_10)
    _import_price("95.00", date(2026, 6, 1))
    assert _prices() == [
        (None, date(2026, 3, 9), Decimal("88.00")),
        (MARCH_10, date(2026, 5, 31), Decimal("92.50")),
        (date(2026, 6, 1), None, Decimal("95.00")),
    ]


def test_a_refused_file_leaves_prices_alone(refs):
    _import_price("88.00", date(2026, 1, 5))
    header, good, _changed, _other = GOOD["parts"]
    rejected(
        "parts",
        csv_bytes(
            header,
            _row("parts", good, unit_price="99.00"),
            _row("parts", good, number="P-N2", unit_price="x"),
        ),
    )
    assert _prices() == [(None, None, Decimal("88.00"))]


# --- the sample files, volume, the CLI -------------------------------------------------------


def _data_lines(kind: str) -> int:
    return len([line for line in example(kind).decode("utf-8-sig").splitlines()[1:] if line])


def test_the_sample_files_import_cleanly_in_dependency_order():
    assert sorted(p.stem for p in EXAMPLES.glob("*.csv")) == sorted(KINDS)
    for kind in IMPORT_ORDER:
        result = import_csv(kind, example(kind))
        assert (result.created, result.updated) == (_data_lines(kind), 0), kind
        assert 3 <= result.created <= 10, kind
    for kind in IMPORT_ORDER:
        result = import_csv(kind, example(kind))
        assert (result.created, result.updated) == (0, _data_lines(kind)), kind


def test_twenty_thousand_parts_import_in_bulk(refs, app):
    header = GOOD["parts"][0]
    rows = [
        f"PX-{n:05d},Part {n},basic,SU-{'AB'[n % 2]},{n % 997}.{n % 100:02d},false,return_to_oem,"
        for n in range(20_000)
    ]
    statements = []

    def count(*_args):
        statements.append(1)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        started = time.perf_counter()
        result = import_csv("parts", csv_bytes(header, *rows))
        elapsed = time.perf_counter() - started
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert result.created == 20_000
    assert len(statements) < 200  # lookups and inserts in batches, never one query per row
    assert elapsed < 30  # a few seconds in practice; generous for slow CI machines
    assert _one(Part, number="PX-01234").current_price == Decimal("237.34")


def run_cli(app, *args: str):
    """`flask ARGS` as a shell runs it: in its own app context and database session (on the
    test's connection), so that its commit or rollback never touches the test's own data."""

    def invoke():
        with app.app_context():
            return app.test_cli_runner().invoke(args=list(args))

    return contextvars.Context().run(invoke)


def test_cli_import_exits_non_zero_with_line_numbered_errors(app, refs, tmp_path):
    header, good, _changed, _other = GOOD["parts"]
    path = tmp_path / "parts.csv"
    path.write_bytes(
        csv_bytes(header, good, _row("parts", good, number="P-N2", unit_price="12.345"))
    )
    before = master_data_snapshot()

    result = run_cli(app, "import", "parts", str(path))

    assert result.exit_code == 1
    assert 'line 3, unit_price: "12.345" has more than two decimals' in result.output
    assert master_data_snapshot() == before


def test_cli_import_of_a_good_file_exits_0(app, refs, tmp_path):
    path = tmp_path / "parts.csv"
    path.write_bytes(_good_file("parts"))

    result = run_cli(app, "import", "parts", str(path))

    assert result.exit_code == 0, result.output
    assert "1 created, 0 updated" in result.output
    assert _one(Part, number="P-N1").name == "Oil pump"


def test_cli_import_of_an_unknown_kind_exits_2(app, tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(b"code\n")
    result = run_cli(app, "import", "colours", str(path))
    assert result.exit_code == 2
