"""Drafts, pricing, submit checks, flags, auto-approval, return and resubmit (operations)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from portal.claims import operations as ops
from portal.claims.models import ClaimSettings, ClaimStatus, ClaimType
from portal.claims.payload import Malformed, parse_claim
from portal.errors import Conflict, ValidationFailed
from tests import factories
from tests.factories import ClaimFactory, Fleet, claim_payload


@pytest.fixture
def fleet(world):
    return Fleet.build(world)


@pytest.fixture
def station_user(world):
    return world.users["station"]


def test_a_draft_is_numbered_by_type_station_and_month(station_user, fleet):
    claim = ClaimFactory(fleet=fleet)
    period = date.today().strftime("%y%m")
    assert claim.number == f"RP-ST-A-{period}-0001"
    assert ClaimFactory(fleet=fleet).number == f"RP-ST-A-{period}-0002"
    appraisal = ClaimFactory(fleet=fleet, type="appraisal", lines=[])
    assert appraisal.number == f"AP-ST-A-{period}-0001"
    assert claim.status is ClaimStatus.DRAFT
    assert [e.action for e in claim.events] == ["created"]


def test_amounts_use_the_price_list_and_station_rates(station_user, fleet):
    claim = ClaimFactory(fleet=fleet)
    # part 1 x 100.00; handling 10% = 10.00; labor 1.5 h x 80.00 = 120.00
    assert (claim.parts_amount, claim.handling_amount, claim.labor_amount) == (
        Decimal("100.00"),
        Decimal("10.00"),
        Decimal("120.00"),
    )
    assert claim.total_amount == Decimal("230.00")


def test_each_line_is_rounded_half_up_and_totals_sum_rounded_lines(world, station_user, fleet):
    world.stations[0].labor_rate = Decimal("33.33")
    world.stations[0].parts_handling_rate = Decimal("0.125")
    claim = ClaimFactory(
        fleet=fleet,
        lines=[
            {"kind": "part", "part_number": "P-200", "qty": 1},  # 45.50 -> handling 5.6875 -> 5.69
            {"kind": "labor", "operation_code": "OP-1", "hours": "0.15"},  # 4.9995 -> 5.00
            {
                "kind": "labor",
                "operation_code": "OP-1",
                "hours": "0.15",
            },  # 5.00 again, not 9.999 -> 10.00 once
        ],
    )
    assert claim.handling_amount == Decimal("5.69")
    assert [ln.amount for ln in claim.lines][1:] == [Decimal("5.00"), Decimal("5.00")]
    assert claim.labor_amount == Decimal("10.00")
    assert claim.total_amount == Decimal("45.50") + Decimal("5.69") + Decimal("10.00")


def test_the_price_valid_on_the_repair_date_is_used(station_user, fleet):
    from portal.masterdata.models import PartPrice

    old = fleet.part.prices[0]
    old.valid_to = date.today() - timedelta(days=10)
    fleet.part.prices.append(
        PartPrice(unit_price=Decimal("120.00"), valid_from=date.today() - timedelta(days=9))
    )
    before = ClaimFactory(fleet=fleet, repair_date=(date.today() - timedelta(days=20)).isoformat())
    after = ClaimFactory(fleet=fleet)
    assert before.lines[0].unit_price == Decimal("100.00")
    assert after.lines[0].unit_price == Decimal("120.00")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"type": "warranty"}, "type"),
        ({"repair_date": "24/11/2026"}, "repair_date"),
        ({"odometer_km": -5}, "odometer_km"),
        ({"odometer_km": "many"}, "odometer_km"),
        ({"lines": [{"kind": "part", "part_number": "P-100", "qty": 0}]}, "lines[0].qty"),
        ({"lines": [{"kind": "labor", "hours": "1.234"}]}, "lines[0].hours"),
        ({"lines": [{"kind": "bonus"}]}, "lines[0].kind"),
        ({"lines": "nope"}, "lines"),
    ],
)
def test_malformed_fields_are_refused_at_once(fleet, payload, field):
    with pytest.raises(Malformed) as refused:
        parse_claim(claim_payload(fleet, **payload))
    assert field in refused.value.fields


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"fault_code": "NOPE"}, "fault_code"),
        ({"causal_part": "NOPE"}, "causal_part"),
        ({"lines": [{"kind": "part", "part_number": "NOPE"}]}, "lines[0].part_number"),
        (
            {"lines": [{"kind": "labor", "operation_code": "NOPE", "hours": "1"}]},
            "lines[0].operation_code",
        ),
        ({"type": "appraisal", "lines": [{"kind": "other", "amount": "5"}]}, "lines[0].kind"),
    ],
)
def test_unknown_references_are_refused_when_saving(station_user, fleet, payload, field):
    with pytest.raises(ValidationFailed) as refused:
        ClaimFactory(fleet=fleet, **payload)
    assert field in refused.value.fields


def test_an_incomplete_draft_is_saved(station_user, fleet):
    claim = ops.create_claim(station_user, parse_claim({"type": "repair"}))
    assert claim.status is ClaimStatus.DRAFT
    assert claim.total_amount == Decimal("0.00")


def test_a_clean_claim_under_the_threshold_is_approved_at_submit(station_user, fleet):
    claim = ops.submit_claim(ClaimFactory(fleet=fleet), station_user)
    assert claim.status is ClaimStatus.APPROVED
    assert claim.auto_decision_rule == "auto_approve_under_2000.00"
    assert claim.approved_total_amount == claim.total_amount
    assert claim.responsible_supplier == fleet.part.supplier
    assert [e.action for e in claim.events] == ["created", "submitted", "auto_approved"]
    assert claim.versions[0].snapshot["total_amount"] == "230.00"


def test_a_claim_at_or_over_the_threshold_waits_for_an_auditor(station_user, fleet):
    ClaimSettings.current().auto_approve_threshold = Decimal("230.00")
    claim = ops.submit_claim(ClaimFactory(fleet=fleet), station_user)
    assert claim.status is ClaimStatus.IN_REVIEW
    assert claim.events[-1].message_key == "claim.queued_over_threshold"
    assert "is not under the auto-approval limit" in claim.events[-1].display_reason


def test_auto_approval_can_be_switched_off(station_user, fleet):
    ClaimSettings.current().auto_approve_enabled = False
    assert ops.submit_claim(ClaimFactory(fleet=fleet), station_user).status is ClaimStatus.IN_REVIEW


def test_submitting_twice_is_a_conflict(station_user, fleet):
    claim = ops.submit_claim(ClaimFactory(fleet=fleet), station_user)
    with pytest.raises(Conflict):
        ops.submit_claim(claim, station_user)


def test_another_station_cannot_submit_or_edit(world, fleet, station_user):
    claim = ClaimFactory(fleet=fleet)
    other = world.users["station_b"]
    assert not claim.can_edit(other) and not claim.can_view(other)
    with pytest.raises(Exception, match="Only the claim's station"):
        ops.submit_claim(claim, other)


def test_return_edit_and_resubmit_keeps_every_version(world, station_user, fleet):
    ClaimSettings.current().auto_approve_enabled = False
    claim = ops.submit_claim(ClaimFactory(fleet=fleet), station_user)
    ops.return_claim(claim, world.users["auditor"], "Photo of the pump missing")
    assert claim.status is ClaimStatus.RETURNED
    ops.update_claim(
        claim,
        station_user,
        parse_claim(
            claim_payload(
                fleet,
                lines=[
                    {"kind": "part", "part_number": "P-100", "qty": 2},
                ],
            )
        ),
    )
    ops.submit_claim(claim, station_user)
    assert claim.version == 2
    assert [v.version for v in claim.versions] == [1, 2]
    changes = ops.diff_snapshots(claim.versions[0].snapshot, claim.versions[1].snapshot)
    assert {"what": "line P-100 qty", "old": 1, "new": 2} in changes
    assert {"what": "line OP-1", "old": "120.00", "new": None} in changes
    assert [e.action for e in claim.events][-3:] == ["edited", "resubmitted", "queued"]


def test_returning_needs_a_reason_and_a_claim_in_review(world, station_user, fleet):
    auditor = world.users["auditor"]
    claim = ClaimFactory(fleet=fleet)
    with pytest.raises(Conflict):
        ops.return_claim(claim, auditor, "why")
    ClaimSettings.current().auto_approve_enabled = False
    ops.submit_claim(claim, station_user)
    with pytest.raises(ValidationFailed):
        ops.return_claim(claim, auditor, "  ")


def test_a_submitted_claim_cannot_be_edited(station_user, fleet):
    claim = ops.submit_claim(ClaimFactory(fleet=fleet), station_user)
    with pytest.raises(Conflict):
        ops.update_claim(claim, station_user, parse_claim(claim_payload(fleet)))


def test_comments_need_a_submitted_claim_and_text(world, station_user, fleet):
    claim = ClaimFactory(fleet=fleet)
    with pytest.raises(Exception, match="cannot comment"):
        ops.add_comment(claim, station_user, "hello")
    ops.submit_claim(claim, station_user)
    ops.add_comment(claim, station_user, "Photos follow")
    ops.add_comment(claim, world.users["auditor"], "Thanks")
    with pytest.raises(ValidationFailed):
        ops.add_comment(claim, station_user, "   ")
    with pytest.raises(Exception, match="cannot comment"):
        ops.add_comment(claim, world.users["station_b"], "me too")
    assert [c.body for c in claim.comments] == ["Photos follow", "Thanks"]


def test_types_are_the_eight_of_the_design():
    assert {t.value for t in ClaimType} == {
        "repair",
        "major_assembly",
        "appraisal",
        "break_in",
        "roadside",
        "outsourced_purchase",
        "emergency_part",
        "campaign",
    }
    assert factories.PASSWORD
