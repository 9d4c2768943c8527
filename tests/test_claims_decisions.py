"""The auditor's decision: approve as claimed, cut with reason codes, reject, return; the
responsible supplier; conflicts between auditors; who may decide."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest

from portal.claims.decisions import Decision, LineDecision, decide_claim, parse_decision
from portal.claims.models import ClaimSettings, ClaimStatus
from portal.claims.payload import Malformed
from portal.errors import Conflict, DomainError, ValidationFailed
from portal.notifications.models import Notification
from tests import factories
from tests.factories import ClaimFactory, Fleet, World


@pytest.fixture
def fleet(world):
    ClaimSettings.current().auto_approve_enabled = False
    return Fleet.build(world)


@pytest.fixture
def auditor(world):
    return world.users["auditor"]


def test_approve_as_claimed(world, fleet, auditor):
    claim = ClaimFactory(fleet=fleet, in_review=True)
    decide_claim(claim.id, auditor, Decision("approve"))
    assert claim.status is ClaimStatus.APPROVED
    assert claim.approved_total_amount == claim.total_amount == Decimal("230.00")
    assert claim.responsible_supplier == fleet.part.supplier  # the causal part's supplier
    assert claim.decided_by == auditor
    assert claim.events[-1].action == "approved"


def test_cutting_hours_with_a_reason_code_partially_approves(world, fleet, auditor):
    claim = ClaimFactory(fleet=fleet, in_review=True)
    labor = claim.lines[1]
    decide_claim(
        claim.id,
        auditor,
        Decision(
            "approve",
            [
                LineDecision(
                    labor.id,
                    approved_hours=Decimal("1.00"),
                    reason="excessive_labor",
                    note="Standard is 1.0 h for this job",
                )
            ],
        ),
    )
    assert claim.status is ClaimStatus.PARTIALLY_APPROVED
    assert labor.approved_amount == Decimal("80.00")  # 1.00 h x 80.00
    assert (labor.reason_code, labor.decision_note) == (
        "excessive_labor",
        "Standard is 1.0 h for this job",
    )
    # parts 100.00 + handling 10.00 + labor 80.00
    assert claim.approved_total_amount == Decimal("190.00")


def test_cutting_a_part_quantity_recomputes_parts_and_handling(world, fleet, auditor):
    claim = ClaimFactory(
        fleet=fleet, in_review=True, lines=[{"kind": "part", "part_number": "P-200", "qty": 3}]
    )
    decide_claim(
        claim.id,
        auditor,
        Decision(
            "approve", [LineDecision(claim.lines[0].id, approved_qty=1, reason="duplicate_charge")]
        ),
    )
    # 1 x 45.50 = 45.50; handling 10% = 4.55
    assert claim.approved_parts_amount == Decimal("45.50")
    assert claim.approved_handling_amount == Decimal("4.55")
    assert claim.approved_total_amount == Decimal("50.05")


def test_cutting_an_amount_directly(world, fleet, auditor):
    claim = ClaimFactory(fleet=fleet, in_review=True)
    decide_claim(
        claim.id,
        auditor,
        Decision(
            "approve",
            [
                LineDecision(
                    claim.lines[0].id, approved_amount=Decimal("60.00"), reason="partial_approval"
                )
            ],
        ),
    )
    assert claim.lines[0].approved_amount == Decimal("60.00")
    assert claim.approved_handling_amount == Decimal("6.00")


@pytest.mark.parametrize(
    ("line_decision", "field"),
    [
        ({"approved_qty": 2}, "approved_qty"),  # above the 1 claimed
        ({"approved_amount": Decimal("100.01")}, "approved_amount"),
        ({"approved_qty": 0}, "reason"),  # a cut without a reason code
        ({"approved_qty": 0, "reason": "because"}, "reason"),  # not a reason code
    ],
)
def test_invalid_cuts_are_refused_and_nothing_changes(world, fleet, auditor, line_decision, field):
    claim = ClaimFactory(fleet=fleet, in_review=True)
    with pytest.raises(ValidationFailed) as refused:
        decide_claim(
            claim.id,
            auditor,
            Decision("approve", [LineDecision(claim.lines[0].id, **line_decision)]),
        )
    assert f"lines[0].{field}" in refused.value.fields


def test_a_line_of_another_claim_is_refused(world, fleet, auditor):
    claim = ClaimFactory(fleet=fleet, in_review=True)
    with pytest.raises(ValidationFailed) as refused:
        decide_claim(claim.id, auditor, Decision("approve", [LineDecision(999999)]))
    assert "lines[0].id" in refused.value.fields


def test_cutting_everything_must_be_a_rejection(world, fleet, auditor):
    claim = ClaimFactory(fleet=fleet, in_review=True)
    with pytest.raises(ValidationFailed, match="reject the claim instead"):
        decide_claim(
            claim.id,
            auditor,
            Decision(
                "approve",
                [
                    LineDecision(ln.id, approved_amount=Decimal("0"), reason="not_covered")
                    for ln in claim.lines
                ],
            ),
        )


def test_reject_needs_a_reason_and_approves_nothing(world, fleet, auditor):
    claim = ClaimFactory(fleet=fleet, in_review=True)
    with pytest.raises(ValidationFailed):
        decide_claim(claim.id, auditor, Decision("reject"))
    decide_claim(claim.id, auditor, Decision("reject", reason="Damage from an accident"))
    assert claim.status is ClaimStatus.REJECTED
    assert claim.approved_total_amount == Decimal("0.00")
    supplier = fleet.part.supplier
    assert claim.events[-1].reason == "Damage from an accident"
    assert claim.events[-1].params == {"supplier": f"{supplier.code} {supplier.name}"}


def test_return_needs_a_reason_and_lets_the_station_edit(world, fleet, auditor):
    claim = ClaimFactory(fleet=fleet, in_review=True)
    with pytest.raises(ValidationFailed):
        decide_claim(claim.id, auditor, Decision("return"))
    decide_claim(claim.id, auditor, Decision("return", reason="Add the photo of the pump"))
    assert claim.status is ClaimStatus.RETURNED
    assert claim.can_edit(world.users["station"])


def test_the_auditor_can_assign_another_supplier(world, fleet, auditor):
    claim = ClaimFactory(fleet=fleet, in_review=True)
    decide_claim(claim.id, auditor, Decision("approve", supplier_code="SU-B"))
    assert claim.responsible_supplier == world.suppliers[1]
    with pytest.raises(ValidationFailed):
        decide_claim(
            ClaimFactory(
                fleet=fleet,
                in_review=True,
                causal_part="P-200",
                lines=[{"kind": "part", "part_number": "P-200", "qty": 1}],
            ).id,
            auditor,
            Decision("approve", supplier_code="NOPE"),
        )


def test_a_decided_claim_cannot_be_decided_again(world, fleet, auditor):
    claim = ClaimFactory(fleet=fleet, in_review=True)
    decide_claim(claim.id, auditor, Decision("approve"))
    with pytest.raises(Conflict):
        decide_claim(claim.id, auditor, Decision("reject", reason="second thoughts"))


def test_a_stale_version_is_a_conflict(world, fleet, auditor):
    claim = ClaimFactory(fleet=fleet, in_review=True)
    with pytest.raises(Conflict):
        decide_claim(claim.id, auditor, Decision("approve", expected_version=2))


@pytest.mark.parametrize("role", ["station", "supplier", "finance", "admin"])
def test_only_auditors_decide(world, fleet, role):
    claim = ClaimFactory(fleet=fleet, in_review=True)
    with pytest.raises(DomainError, match="Only auditors"):
        decide_claim(claim.id, world.users[role], Decision("approve"))
    assert claim.status is ClaimStatus.IN_REVIEW


def test_approving_an_appraisal_makes_it_valid_for_30_days(world, fleet, auditor):
    appraisal = ClaimFactory(
        fleet=fleet, in_review=True, type="appraisal", causal_part="ENG-1", lines=[]
    )
    decide_claim(appraisal.id, auditor, Decision("approve"))
    assert appraisal.status is ClaimStatus.APPROVED
    assert appraisal.valid_until == date.today() + timedelta(days=30)


def test_the_station_is_notified_of_decisions_and_returns(world, fleet, auditor, db_session):
    claim = ClaimFactory(fleet=fleet, in_review=True)
    decide_claim(claim.id, auditor, Decision("return", reason="Need photos"))
    notes = db_session.query(Notification).filter_by(user_id=world.users["station"].id).all()
    assert [n.link for n in notes] == [f"/claims/{claim.number}"]
    assert "returned: Need photos" in notes[0].message
    assert (
        db_session.query(Notification).filter_by(user_id=world.users["station_b"].id).count() == 0
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "delete"}, "action"),
        ({"action": "approve", "lines": [{"approved_qty": 1}]}, "lines[0].id"),
        (
            {"action": "approve", "lines": [{"id": 1, "approved_hours": "x"}]},
            "lines[0].approved_hours",
        ),
    ],
)
def test_malformed_decisions(body, field):
    with pytest.raises(Malformed) as refused:
        parse_decision(body)
    assert field in refused.value.fields


@pytest.mark.postgres
def test_two_auditors_deciding_at_once_one_wins_the_other_gets_a_conflict(committing_app):
    from portal.extensions import db

    with committing_app.app_context():
        world = World.build()
        ClaimSettings.current().auto_approve_enabled = False
        fleet = Fleet.build(world)
        second_auditor = factories.UserFactory(
            auditor=True, organisation=world.oem, username="auditor2"
        )
        claim = ClaimFactory(fleet=fleet, in_review=True)
        db.session.commit()
        ids = (claim.id, world.users["auditor"].id, second_auditor.id)

    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def decide(name: str, auditor_id: int, decision: Decision) -> None:
        from portal.auth.models import User

        with committing_app.app_context():
            user = db.session.get(User, auditor_id)
            barrier.wait()
            try:
                decide_claim(ids[0], user, decision)
                db.session.commit()
                outcomes[name] = "decided"
            except Conflict:
                db.session.rollback()
                outcomes[name] = "conflict"

    threads = [
        threading.Thread(target=decide, args=("a", ids[1], Decision("approve"))),
        threading.Thread(target=decide, args=("b", ids[2], Decision("reject", reason="no"))),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes.values()) == ["conflict", "decided"]
    with committing_app.app_context():
        from portal.claims.models import Claim

        final = db.session.get(Claim, ids[0])
        winner = "a" if outcomes["a"] == "decided" else "b"
        expected = ClaimStatus.APPROVED if winner == "a" else ClaimStatus.REJECTED
        assert final.status is expected
        decisions = [e for e in final.events if e.action in ("approved", "rejected")]
        assert len(decisions) == 1
