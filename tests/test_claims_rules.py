"""Each named submit check: the passing case, the refusal (nothing saved) and the flag."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from portal.claims import operations as ops
from portal.claims.attachments import add_attachment
from portal.claims.decisions import Decision, decide_claim
from portal.claims.models import ClaimSettings, ClaimStatus
from portal.claims.operations import RuleRefused
from tests.factories import ClaimFactory, Fleet

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
DAY = timedelta(days=1)


@pytest.fixture
def fleet(world):
    return Fleet.build(world)


@pytest.fixture
def user(world):
    return world.users["station"]


@pytest.fixture(autouse=True)
def uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path / "uploads"))


def days_ago(n: int) -> str:
    return (date.today() - timedelta(days=n)).isoformat()


def submit(user, fleet, **overrides):
    return ClaimFactory(fleet=fleet, filer=user, submitted=True, **overrides)


def refused(user, fleet, **overrides) -> dict[str, str]:
    claim = ClaimFactory(fleet=fleet, filer=user, **overrides)
    with pytest.raises(RuleRefused) as caught:
        ops.submit_claim(claim, user)
    assert claim.status is ClaimStatus.DRAFT
    assert claim.versions == [] and claim.flags == []
    return {f.rule: f.field for f in caught.value.findings}


def flags(claim) -> set[str]:
    return {f.rule for f in claim.current_flags}


# -- header checks -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "missing", ["vin", "odometer_km", "repair_date", "fault_code", "causal_part"]
)
def test_a_repair_needs_its_header_fields(user, fleet, missing):
    assert refused(user, fleet, **{missing: None}) == {"required": missing}


def test_a_repair_needs_lines(user, fleet):
    assert refused(user, fleet, lines=[]) == {"required": "lines"}


def test_an_invalid_check_digit_is_refused(user, fleet):
    vin = fleet.vehicle.vin
    wrong = vin[:8] + ("1" if vin[8] != "1" else "2") + vin[9:]
    assert refused(user, fleet, vin=wrong) == {"vin": "vin"}


def test_an_unknown_vin_is_refused(user, fleet):
    from portal.masterdata.vin import with_check_digit

    assert refused(user, fleet, vin=with_check_digit("LZZZZ000000000001")) == {"vin": "vin"}


def test_repair_date_in_the_future_or_before_the_fault_is_refused(user, fleet):
    assert (
        refused(user, fleet, repair_date=(date.today() + DAY).isoformat())["dates"] == "repair_date"
    )
    assert refused(user, fleet, fault_date=days_ago(1), repair_date=days_ago(2)) == {
        "dates": "fault_date"
    }


def test_odometer_below_the_imported_reading_is_refused(user, fleet):
    fleet.vehicle.odometer_km = 20000
    assert refused(user, fleet, odometer_km=19999) == {"odometer": "odometer_km"}
    assert submit(user, fleet, odometer_km=20000).status is ClaimStatus.APPROVED


def test_odometer_below_a_submitted_claims_reading_is_refused_but_drafts_do_not_count(user, fleet):
    ClaimFactory(fleet=fleet, filer=user, odometer_km=50000)  # a draft
    submit(
        user,
        fleet,
        odometer_km=30000,
        causal_part="P-200",
        lines=[{"kind": "part", "part_number": "P-200", "qty": 1}],
    )
    assert refused(user, fleet, odometer_km=29000) == {"odometer": "odometer_km"}


# -- coverage ------------------------------------------------------------------------------------


def test_inside_coverage_passes(user, fleet):
    assert flags(submit(user, fleet)) == set()


def test_outside_coverage_by_time_is_refused_without_goodwill(user, fleet):
    assert refused(user, fleet, vin=fleet.old_vehicle.vin, odometer_km=95000) == {
        "coverage": "repair_date"
    }


def test_outside_coverage_by_km_is_refused_without_goodwill(user, fleet):
    assert refused(user, fleet, odometer_km=100001) == {"coverage": "odometer_km"}


def test_exactly_at_the_km_limit_is_still_covered(user, fleet):
    assert flags(submit(user, fleet, odometer_km=100000)) == set()


def test_outside_coverage_with_goodwill_is_accepted_flagged_and_never_auto_paid(user, fleet):
    claim = submit(
        user,
        fleet,
        vin=fleet.old_vehicle.vin,
        odometer_km=95000,
        goodwill_reason="Loyal fleet customer",
    )
    assert flags(claim) == {"outside_coverage"}
    assert claim.status is ClaimStatus.IN_REVIEW
    assert "Loyal fleet customer" in claim.current_flags[0].message


def test_coverage_follows_the_causal_parts_group(user, fleet):
    # 400 days after sale the 6-month wear group has ended while basic still runs.
    assert refused(
        user, fleet, causal_part="FLT-1", lines=[{"kind": "part", "part_number": "FLT-1", "qty": 1}]
    ) == {"coverage": "repair_date"}


# -- duplicates and labor --------------------------------------------------------------------------


def test_same_vin_and_causal_part_within_30_days_is_flagged(user, fleet):
    first = submit(user, fleet, repair_date=days_ago(40), fault_date=days_ago(41))
    second = submit(user, fleet, repair_date=days_ago(11), fault_date=days_ago(12))
    assert flags(second) == {"duplicate"}
    assert first.number in second.current_flags[0].message
    assert second.status is ClaimStatus.IN_REVIEW


def test_same_part_31_days_apart_is_not_a_duplicate(user, fleet):
    submit(user, fleet, repair_date=days_ago(42), fault_date=days_ago(43))
    assert flags(submit(user, fleet, repair_date=days_ago(11), fault_date=days_ago(12))) == set()


def test_hours_above_standard_need_a_reason_and_are_flagged(user, fleet):
    lines = [{"kind": "labor", "operation_code": "OP-1", "hours": "2.00"}]
    assert refused(user, fleet, lines=lines) == {"labor_hours": "lines[0].description"}
    lines[0]["description"] = "Seized bolts"
    claim = submit(user, fleet, lines=lines)
    assert flags(claim) == {"labor_hours"}
    assert "Seized bolts" in claim.current_flags[0].message


def test_a_labor_line_needs_an_operation_except_on_roadside(user, fleet):
    assert refused(user, fleet, lines=[{"kind": "labor", "hours": "1"}]) == {
        "labor_hours": "lines[0].operation_code"
    }


# -- break-in ------------------------------------------------------------------------------------


def break_in(fleet, **overrides):
    data = dict(
        type="break_in",
        vin=fleet.new_vehicle.vin,
        odometer_km=2000,
        repair_date=days_ago(0),
        fault_code=None,
        causal_part=None,
        lines=[],
    )
    data.update(overrides)
    return data


def test_break_in_inside_the_window_pays_the_models_package(user, fleet):
    claim = submit(user, fleet, **break_in(fleet))
    assert claim.total_amount == fleet.model.break_in_price
    assert claim.status is ClaimStatus.APPROVED


@pytest.mark.parametrize("km", [1499, 5001])
def test_break_in_outside_the_km_window_is_refused(user, fleet, km):
    assert refused(user, fleet, **break_in(fleet, odometer_km=km)) == {
        "break_in_window": "odometer_km"
    }


def test_break_in_after_the_days_window_is_refused(user, fleet):
    fleet.new_vehicle.sale_date = date.today() - timedelta(days=91)
    fleet.new_vehicle.production_date = fleet.new_vehicle.sale_date
    assert refused(user, fleet, **break_in(fleet)) == {"break_in_window": "repair_date"}


def test_break_in_only_once_per_vehicle(user, fleet):
    submit(user, fleet, **break_in(fleet))
    assert refused(user, fleet, **break_in(fleet, odometer_km=2500)) == {"break_in_once": "vin"}


# -- major assembly and appraisal ------------------------------------------------------------------


def major(fleet, **overrides):
    data = dict(
        type="major_assembly",
        causal_part="ENG-1",
        lines=[{"kind": "part", "part_number": "ENG-1", "qty": 1}],
    )
    data.update(overrides)
    return data


def test_major_assembly_without_an_approved_appraisal_is_refused(user, fleet):
    assert refused(user, fleet, **major(fleet)) == {"appraisal_required": "causal_part"}


def test_a_pending_appraisal_is_not_enough(user, fleet):
    submit(user, fleet, type="appraisal", causal_part="ENG-1", lines=[])
    assert refused(user, fleet, **major(fleet)) == {"appraisal_required": "causal_part"}


def test_major_assembly_with_a_valid_approved_appraisal_is_accepted(world, user, fleet):
    appraisal = submit(user, fleet, type="appraisal", causal_part="ENG-1", lines=[])
    assert appraisal.status is ClaimStatus.IN_REVIEW  # appraisals always go to an auditor
    decide_claim(appraisal.id, world.users["auditor"], Decision("approve"))
    claim = submit(user, fleet, **major(fleet))
    assert claim.status is ClaimStatus.IN_REVIEW  # 12 000 is above the threshold


def test_an_appraisal_expires_after_30_days(user, fleet):
    appraisal = ClaimFactory(
        fleet=fleet, approved=True, type="appraisal", causal_part="ENG-1", lines=[]
    )
    appraisal.valid_until = date.today() - DAY
    assert refused(user, fleet, **major(fleet)) == {"appraisal_required": "causal_part"}


def test_an_appraisal_for_another_part_does_not_count(user, fleet):
    ClaimFactory(fleet=fleet, approved=True, type="appraisal", causal_part="P-100", lines=[])
    assert refused(user, fleet, **major(fleet)) == {"appraisal_required": "causal_part"}


def test_a_major_assembly_claim_needs_a_major_assembly_part(user, fleet):
    assert refused(user, fleet, **major(fleet, causal_part="P-100")) == {
        "major_assembly": "causal_part"
    }


def test_a_repair_cannot_replace_a_major_assembly(user, fleet):
    assert refused(user, fleet, lines=[{"kind": "part", "part_number": "ENG-1", "qty": 1}]) == {
        "major_assembly": "lines[0].part_number"
    }


# -- roadside, outsourced purchase, emergency part -------------------------------------------------


def roadside(fleet, **overrides):
    data = dict(
        type="roadside",
        fault_code=None,
        causal_part=None,
        lines=[
            {"kind": "trip", "qty": 64},
            {"kind": "labor", "hours": "2.00", "description": "Roadside diagnosis"},
            {"kind": "other", "amount": "35.00", "description": "Tolls"},
        ],
    )
    data.update(overrides)
    return data


def test_roadside_needs_a_trip_and_receipts(user, fleet):
    assert refused(user, fleet, **roadside(fleet)) == {"roadside": "attachments"}
    claim = ClaimFactory(
        fleet=fleet,
        filer=user,
        **roadside(fleet, lines=[{"kind": "other", "amount": "35.00", "description": "Tolls"}]),
    )
    with pytest.raises(RuleRefused) as caught:
        ops.submit_claim(claim, user)
    assert {(f.rule, f.field) for f in caught.value.findings} == {
        ("roadside", "trip_km"),
        ("roadside", "attachments"),
    }


def test_roadside_with_receipts_pays_km_labor_and_tolls(user, fleet):
    claim = ClaimFactory(fleet=fleet, filer=user, **roadside(fleet))
    add_attachment(claim, user, "receipt.png", PNG)
    ops.submit_claim(claim, user)
    # 64 km x 3.50 = 224.00; 2 h x 80.00 = 160.00; tolls 35.00
    assert claim.total_amount.__str__() == "419.00"
    assert claim.status is ClaimStatus.APPROVED


def test_an_outsourced_invoice_is_paid_up_to_the_approved_cap(world, user, fleet):
    request = submit(
        user,
        fleet,
        type="outsourced_purchase",
        lines=[
            {"kind": "other", "amount": "800.00", "description": "Local glass shop: windscreen"}
        ],
    )
    assert request.status is ClaimStatus.IN_REVIEW
    decide_claim(request.id, world.users["auditor"], Decision("approve"))
    invoice = [{"kind": "other", "amount": "800.01", "description": "Invoice 4411"}]
    today = date.today().isoformat()
    claim = submit(user, fleet, outsourced_request=request.number, lines=invoice, repair_date=today)
    assert claim.status is ClaimStatus.PARTIALLY_APPROVED  # never refused for the cap
    assert (claim.lines[0].approved_amount, claim.lines[0].reason_code) == (
        Decimal("800.00"),
        "outsourced_cap",
    )


def test_an_unapproved_outsourced_request_cannot_be_drawn_on(user, fleet):
    request = submit(
        user,
        fleet,
        type="outsourced_purchase",
        lines=[{"kind": "other", "amount": "800.00", "description": "Windscreen"}],
    )
    assert refused(
        user,
        fleet,
        outsourced_request=request.number,
        lines=[{"kind": "other", "amount": "100.00", "description": "Invoice"}],
    ) == {"outsourced_request": "outsourced_request"}


def test_an_emergency_drop_shipment_needs_a_shipper(world, user, fleet):
    data = dict(
        type="emergency_part",
        odometer_km=None,
        fault_code=None,
        causal_part=None,
        fulfilment="drop_ship",
        lines=[{"kind": "part", "part_number": "P-100", "qty": 1}],
    )
    assert refused(user, fleet, **data) == {"emergency_part": "shipper_code"}
    claim = submit(user, fleet, **{**data, "shipper_code": "ST-B"})
    assert claim.status is ClaimStatus.IN_REVIEW  # requests always go to an auditor
    assert claim.shipper_org == world.stations[1]


def test_auto_approval_threshold_is_read_from_the_settings(user, fleet):
    ClaimSettings.current().auto_approve_threshold = 100
    assert submit(user, fleet).status is ClaimStatus.IN_REVIEW


def test_a_flag_the_settings_do_not_block_on_still_allows_auto_approval(user, fleet):
    ClaimSettings.current().blocking_rules = ["duplicate"]
    lines = [{"kind": "labor", "operation_code": "OP-1", "hours": "2.00", "description": "Seized"}]
    claim = submit(user, fleet, lines=lines)
    assert flags(claim) == {"labor_hours"}  # still flagged and shown
    assert claim.status is ClaimStatus.APPROVED


def test_outside_coverage_blocks_auto_approval_whatever_the_settings(user, fleet):
    ClaimSettings.current().blocking_rules = []
    claim = submit(user, fleet, vin=fleet.old_vehicle.vin, odometer_km=95000, goodwill_reason="VIP")
    assert claim.status is ClaimStatus.IN_REVIEW
