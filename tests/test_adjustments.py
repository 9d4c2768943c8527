"""Late findings become adjustments, exactly once (DESIGN 5, 6): a finding in force after the
claim was charged back credits the supplier on its next statement; a waiver of an overdue
charge already deducted credits the station. Each names the claim and the statement it
corrects; both parties are told; the database refuses a second one for the same source.

Money as in tests/test_settlement_engine.py: claim of 1 x P-100 (100.00) + 1.50 h at 80.00
(120.00) is charged back to SU-A at (100.00 + 120.00) x 1 + 5% of 100.00 = 225.00; without the
part, 120.00: a credit of 105.00. An overdue P-200 part is deducted from ST-A at 45.50.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from portal.auditlog.models import AuditEntry
from portal.claims.models import ClaimEvent, ClaimSettings
from portal.errors import Conflict
from portal.extensions import db
from portal.notifications.models import Notification
from portal.oldparts import operations as oldparts
from portal.settlement import adjustments, engine
from portal.settlement import operations as settle
from portal.settlement.models import (
    Adjustment,
    AdjustmentKind,
    RunStatus,
    SettlementRun,
    StatementKind,
    StatementStatus,
)
from tests.factories import ClaimFactory, Fleet, SettlementRunFactory
from tests.test_api_auth import api_for
from tests.test_settlement_engine import inspect_part, overdue_claim, part, statement_of, totals


@pytest.fixture
def fleet(world):
    ClaimSettings.current().auto_approve_enabled = False
    return Fleet.build(world)


def adjustments_of(claim) -> list[Adjustment]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Adjustment).where(Adjustment.claim_id == claim.id)))


def told(user) -> list[str]:
    return list(
        db.session.scalars(sa.select(Notification.message).where(Notification.user_id == user.id))
    )


def settled_and_charged(world, fleet):
    """A claim paid and charged back in a released run, its old part not inspected yet."""
    claim = ClaimFactory(fleet=fleet, approved=True)
    first = SettlementRunFactory(world=world, released=True)
    original = statement_of(first, StatementKind.SUPPLIER, world.suppliers[0])
    assert original.net == Decimal("225.00")
    return claim, first, original


def test_a_no_fault_found_after_settlement_credits_the_supplier_once_on_its_next_statement(
    client, world, fleet
):
    claim, _first, original = settled_and_charged(world, fleet)
    inspect_part(world, claim, "no_fault_found")

    (credit,) = adjustments_of(claim)
    assert (credit.kind, credit.amount) == (AdjustmentKind.SUPPLIER_CREDIT, Decimal("-105.00"))
    assert credit.original_statement_id == original.id and credit.org_id == world.suppliers[0].id
    assert credit.statement_id is None and credit.settled_in_run_id is None
    # Both parties hear of it; the claim's and the old part's timelines show it.
    assert any(claim.number in m and "105.00" in m for m in told(world.users["supplier"]))
    assert any(claim.number in m for m in told(world.users["finance"]))
    (old,) = oldparts.parts_of_claim(claim)
    assert old.events[-1].action == "adjustment_supplier_credit"
    events = db.session.scalars(sa.select(ClaimEvent.action).where(ClaimEvent.claim_id == claim.id))
    assert "adjustment_supplier_credit" in list(events)
    # ... the OEM's timeline: the station does not read the supplier's money on its claim.
    station_view = api_for(client, world, "station").get(f"/claims/{claim.number}").get_json()
    assert "adjustment_supplier_credit" not in {e["action"] for e in station_view["events"]}
    auditor_view = api_for(client, world, "auditor").get(f"/claims/{claim.number}").get_json()
    assert "adjustment_supplier_credit" in {e["action"] for e in auditor_view["events"]}
    # Called again (a retried request, a second signal): still one.
    assert adjustments.credit_supplier_for_finding(old, world.users["auditor"]).id == credit.id
    assert len(adjustments_of(claim)) == 1

    second = SettlementRunFactory(world=world)
    statement = statement_of(second, StatementKind.SUPPLIER, world.suppliers[0])
    # Only the credit: net -105.00; VAT -13.65; gross -118.65
    assert totals(statement) == (Decimal("-105.00"), Decimal("-13.65"), Decimal("-118.65"))
    assert statement.line_count == 1 and second.supplier_net == Decimal("-105.00")
    assert second.claim_count == 0
    # On the statement's pages and API, naming the claim and the statement it corrects.
    finance = api_for(client, world, "finance")
    (line,) = finance.get(f"/statements/{statement.id}").get_json()["lines"]
    assert (line["kind"], line["claim_number"], line["amount"]) == (
        "adjustment",
        claim.number,
        "-105.00",
    )
    assert original.number in line["description"]

    settle.request_release(second, world.users["finance"])
    db.session.commit()
    db.session.refresh(second)
    assert second.status is RunStatus.RELEASED
    (credit,) = adjustments_of(claim)
    assert credit.settled_in_run_id == second.id
    db.session.refresh(statement)
    assert statement.status is StatementStatus.FINAL  # nothing for the supplier to review
    # The supplier reads it on its released statement; the other supplier gets a 404.
    page = api_for(client, world, "supplier").get(f"/statements/{statement.id}")
    assert page.status_code == 200 and page.get_json()["lines"][0]["kind"] == "adjustment"
    assert (
        api_for(client, world, "supplier_b").get(f"/statements/{statement.id}").status_code == 404
    )
    # Credited once: the run after has nothing for the supplier.
    third = SettlementRunFactory(world=world)
    assert statement_of(third, StatementKind.SUPPLIER, world.suppliers[0]) is None
    # The audit log holds the adjustment with its amounts.
    entry = db.session.scalar(
        sa.select(AuditEntry).where(
            AuditEntry.kind == "adjustment.created", AuditEntry.claim_number == claim.number
        )
    )
    assert (entry.amount_before, entry.amount_after) == (Decimal("0.00"), Decimal("-105.00"))
    assert entry.actor_name == "auditor" and entry.statement_id == original.id


def test_the_database_refuses_a_second_adjustment_for_one_source(world, fleet):
    claim, _first, original = settled_and_charged(world, fleet)
    inspect_part(world, claim, "misuse")
    (credit,) = adjustments_of(claim)
    twin = Adjustment(
        kind=credit.kind,
        source_id=credit.source_id,
        org_id=credit.org_id,
        claim_id=claim.id,
        original_statement_id=original.id,
        amount=Decimal("-1.00"),
    )
    savepoint = db.session.begin_nested()
    db.session.add(twin)
    with pytest.raises(IntegrityError):
        db.session.flush()
    savepoint.rollback()
    assert len(adjustments_of(claim)) == 1


def test_a_finding_before_the_chargeback_needs_no_adjustment(world, fleet):
    claim = ClaimFactory(fleet=fleet, approved=True)
    inspect_part(world, claim, "no_fault_found")
    assert adjustments_of(claim) == []  # the run computes with the finding: 120.00
    run = SettlementRunFactory(world=world)
    assert statement_of(run, StatementKind.SUPPLIER, world.suppliers[0]).net == Decimal("120.00")


@pytest.mark.parametrize("result", ["confirmed_defect", "wrong_part"])
def test_a_finding_that_leaves_the_recovery_whole_needs_no_adjustment(world, fleet, result):
    claim, _first, _original = settled_and_charged(world, fleet)
    inspect_part(world, claim, result)
    assert adjustments_of(claim) == []


def test_a_finding_while_the_draft_waits_is_credited_once_and_a_recomputed_draft_drops_it(
    world, fleet
):
    claim = ClaimFactory(fleet=fleet, approved=True)
    run = SettlementRunFactory(world=world)  # the draft charges 225.00
    inspect_part(world, claim, "no_fault_found")
    (credit,) = adjustments_of(claim)
    assert credit.amount == Decimal("-105.00")
    # The draft is computed again (a resumed run): it reads the finding, the credit goes.
    db.session.execute(
        sa.update(SettlementRun).where(SettlementRun.id == run.id).values(status=RunStatus.RUNNING)
    )
    db.session.commit()
    assert engine.compute_run(run.id) == "draft"
    assert adjustments_of(claim) == []
    assert statement_of(run, StatementKind.SUPPLIER, world.suppliers[0]).net == Decimal("120.00")


def test_a_waiver_after_the_overdue_charge_was_deducted_credits_the_station_once(
    world, fleet, switching_login
):
    claim = overdue_claim(world, fleet)
    first = SettlementRunFactory(world=world, released=True)
    original = statement_of(first, StatementKind.STATION, world.stations[0])
    assert original.net == Decimal("4.55")  # 50.05 - 45.50
    (old,) = oldparts.parts_of_claim(claim)
    oldparts.waive_overdue(old, world.users["auditor"], "Courier lost the box")
    db.session.commit()

    (credit,) = adjustments_of(claim)
    assert (credit.kind, credit.amount) == (AdjustmentKind.STATION_CREDIT, Decimal("45.50"))
    assert credit.original_statement_id == original.id
    assert any("45.50" in m for m in told(world.users["station"]))
    assert old.events[-1].action == "adjustment_station_credit"
    # A second waiver is refused and adds nothing.
    with pytest.raises(Conflict, match="not overdue"), db.session.begin_nested():
        oldparts.waive_overdue(old, world.users["auditor"], "again")
    assert len(adjustments_of(claim)) == 1

    second = SettlementRunFactory(world=world, released=True)
    statement = statement_of(second, StatementKind.STATION, world.stations[0])
    # 45.50; VAT 5.915 -> 5.92
    assert totals(statement) == (Decimal("45.50"), Decimal("5.92"), Decimal("51.42"))
    page = switching_login("station").get(f"/settlement/statements/{statement.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-kind="adjustment"' in html and original.number in html
    third = SettlementRunFactory(world=world)
    assert statement_of(third, StatementKind.STATION, world.stations[0]) is None


def test_a_waiver_before_the_charge_was_deducted_needs_no_adjustment(world, fleet):
    claim = overdue_claim(world, fleet)
    (old,) = oldparts.parts_of_claim(claim)
    oldparts.waive_overdue(old, world.users["auditor"], "Found in the warehouse")
    db.session.commit()
    assert adjustments_of(claim) == []


def test_a_discarded_draft_leaves_the_credit_for_the_next_run(world, fleet):
    claim, _first, _original = settled_and_charged(world, fleet)
    inspect_part(world, claim, "no_fault_found")
    draft = SettlementRunFactory(world=world)
    (credit,) = adjustments_of(claim)
    assert credit.statement_id is not None
    settle.discard_run(draft, world.users["finance"])
    db.session.commit()
    (credit,) = adjustments_of(claim)
    assert credit.statement_id is None and credit.settled_in_run_id is None
    again = SettlementRunFactory(world=world)
    assert statement_of(again, StatementKind.SUPPLIER, world.suppliers[0]).net == Decimal("-105.00")


@pytest.mark.postgres
def test_two_findings_on_one_claim_at_once_credit_the_difference_once(committing_app):
    """Two auditors find no fault in the two units of one settled line at the same moment:
    the line leaves the recovery once, so the supplier is credited once (-210.00: parts 200.00
    and their fee 10.00 of a 330.00 chargeback), not twice."""
    import threading

    from tests.factories import World
    from tests.test_settlement_engine import labor

    with committing_app.app_context():
        world = World.build()
        fleet = Fleet.build(world)
        ClaimSettings.current().auto_approve_enabled = False
        claim = ClaimFactory(fleet=fleet, approved=True, lines=[part(qty=2), labor()])
        SettlementRunFactory(world=world, released=True)
        tags = [old.tag for old in oldparts.parts_of_claim(claim)]
        shipment = oldparts.create_return_shipment(world.users["station"], tags)
        oldparts.ship(shipment, world.users["station"], "ZTO", "ZT1")
        for tag in tags:
            oldparts.receive(shipment, world.users["auditor"], tag)
        claim_id, auditor_id = claim.id, world.users["auditor"].id
        db.session.commit()

    barrier = threading.Barrier(2)
    failures: list[BaseException] = []

    def inspect_at_once(tag: str) -> None:
        try:
            with committing_app.app_context():
                from portal.auth.models import User
                from portal.oldparts.models import OldPart

                old = db.session.scalar(sa.select(OldPart).where(OldPart.tag == tag))
                auditor = db.session.get(User, auditor_id)
                barrier.wait()
                oldparts.inspect(old, auditor, "no_fault_found")
                db.session.commit()
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=inspect_at_once, args=(tag,)) for tag in tags]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures
    with committing_app.app_context():
        amounts = list(
            db.session.scalars(sa.select(Adjustment.amount).where(Adjustment.claim_id == claim_id))
        )
        assert amounts == [Decimal("-210.00")]


# -- never credited twice: a waiver and a late finding on one chargeback ------------------------


def assert_every_total_is_the_sum_of_its_lines() -> None:
    """Each statement's net is the sum of its lines (chargebacks not waived, or station lines)
    and of the adjustments it carries; each run's nets are the sums of its statements'."""
    from portal.settlement.models import Chargeback, ChargebackStatus, Statement, StatementLine

    db.session.expire_all()
    for statement in db.session.scalars(sa.select(Statement)):
        if statement.kind is StatementKind.SUPPLIER:
            lines = sa.select(sa.func.coalesce(sa.func.sum(Chargeback.amount), 0)).where(
                Chargeback.statement_id == statement.id,
                Chargeback.status != ChargebackStatus.WAIVED,
            )
        else:
            lines = sa.select(sa.func.coalesce(sa.func.sum(StatementLine.amount), 0)).where(
                StatementLine.statement_id == statement.id
            )
        carried = sa.select(sa.func.coalesce(sa.func.sum(Adjustment.amount), 0)).where(
            Adjustment.statement_id == statement.id
        )
        assert statement.net == db.session.scalar(lines) + db.session.scalar(carried), (
            statement.number
        )
    for run in db.session.scalars(sa.select(SettlementRun)):
        for kind, total in (
            (StatementKind.STATION, run.station_net),
            (StatementKind.SUPPLIER, run.supplier_net),
        ):
            nets = db.session.scalar(
                sa.select(sa.func.coalesce(sa.func.sum(Statement.net), 0)).where(
                    Statement.run_id == run.id, Statement.kind == kind
                )
            )
            assert total == nets, (run.period, kind)


def supplier_paid_in_all(world) -> Decimal:
    """What the supplier pays over every released statement so far."""
    from portal.settlement.models import Statement

    db.session.expire_all()
    return db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Statement.net), 0)).where(
            Statement.org_id == world.suppliers[0].id,
            Statement.kind == StatementKind.SUPPLIER,
            Statement.status != StatementStatus.DRAFT,
        )
    )


def disputed_after_settlement(world, fleet):
    from tests.test_settlement_engine import chargeback_of

    claim, _first, original = settled_and_charged(world, fleet)
    cb = chargeback_of(claim)
    settle.dispute_chargeback(cb, world.users["supplier"], "The pump was never faulty")
    db.session.commit()
    return claim, cb, original


def test_a_chargeback_waived_after_the_credit_was_paid_takes_the_credit_back_once(world, fleet):
    """225.00 charged; a late no_fault_found credits 105.00 on the next statement; then the
    dispute is waived: the supplier owes nothing for the claim, so the 105.00 already paid is
    taken back once; in all the supplier pays 0.00, not -105.00."""
    claim, cb, original = disputed_after_settlement(world, fleet)
    inspect_part(world, claim, "no_fault_found")
    SettlementRunFactory(world=world, released=True)  # pays the credit: -105.00
    assert supplier_paid_in_all(world) == Decimal("120.00")
    settle.resolve_chargeback(cb, world.users["auditor"], "waive", "Bench test: no fault")
    db.session.commit()
    assert totals(original)[0] == Decimal("0.00")
    assert_every_total_is_the_sum_of_its_lines()
    debit = next(a for a in adjustments_of(claim) if a.kind is AdjustmentKind.SUPPLIER_DEBIT)
    assert debit.amount == Decimal("105.00") and debit.original_statement_id == original.id
    assert any("105.00" in m and claim.number in m for m in told(world.users["supplier"]))
    assert db.session.scalar(
        sa.select(AuditEntry).where(
            AuditEntry.kind == "adjustment.created",
            AuditEntry.subject == f"supplier_debit #{debit.id}",
        )
    )

    taken_back = SettlementRunFactory(world=world, released=True)
    assert supplier_paid_in_all(world) == Decimal("0.00")
    assert_every_total_is_the_sum_of_its_lines()
    from portal.settlement import documents

    statement = statement_of(taken_back, StatementKind.SUPPLIER, world.suppliers[0])
    text = "".join(documents.statement_csv(statement))
    assert "105.00" in text and claim.number in text and original.number in text
    pdf_lines = documents.statement_document(statement).lines  # the PDF's, in both languages
    assert len(pdf_lines) == 1 and "收回" in str(pdf_lines[0])
    # A retried waiver call changes nothing; nothing more for the supplier afterwards.
    adjustments.take_back_credits(cb, world.users["auditor"])
    db.session.commit()
    again = SettlementRunFactory(world=world)
    assert statement_of(again, StatementKind.SUPPLIER, world.suppliers[0]) is None
    assert sum(a.amount for a in adjustments_of(claim)) == Decimal("0.00")


def test_a_chargeback_waived_while_the_credit_waits_is_never_paid_twice(world, fleet):
    claim, cb, _original = disputed_after_settlement(world, fleet)
    inspect_part(world, claim, "no_fault_found")  # the credit of -105.00 waits for a run
    settle.resolve_chargeback(cb, world.users["auditor"], "waive", "Bench test: no fault")
    db.session.commit()
    SettlementRunFactory(world=world, released=True)
    assert supplier_paid_in_all(world) == Decimal("0.00")
    assert_every_total_is_the_sum_of_its_lines()
    again = SettlementRunFactory(world=world)
    assert statement_of(again, StatementKind.SUPPLIER, world.suppliers[0]) is None


def test_a_late_finding_after_a_waiver_credits_nothing(world, fleet):
    claim, cb, _original = disputed_after_settlement(world, fleet)
    settle.resolve_chargeback(cb, world.users["auditor"], "waive", "Goodwill")
    db.session.commit()
    inspect_part(world, claim, "no_fault_found")
    assert adjustments_of(claim) == []
    run = SettlementRunFactory(world=world, released=True)
    assert statement_of(run, StatementKind.SUPPLIER, world.suppliers[0]) is None
    assert supplier_paid_in_all(world) == Decimal("0.00")
    assert_every_total_is_the_sum_of_its_lines()


def test_a_waived_overdue_charge_is_credited_once_and_every_total_adds_up(world, fleet):
    claim = overdue_claim(world, fleet)
    SettlementRunFactory(world=world, released=True)  # deducts 45.50
    (old,) = oldparts.parts_of_claim(claim)
    oldparts.waive_overdue(old, world.users["auditor"], "Courier lost the box")
    db.session.commit()
    adjustments.credit_station_for_waiver(old, world.users["auditor"], None)
    SettlementRunFactory(world=world, released=True)
    SettlementRunFactory(world=world, released=True)
    (credit,) = adjustments_of(claim)
    assert credit.amount == Decimal("45.50") and credit.settled_in_run_id is not None
    assert_every_total_is_the_sum_of_its_lines()


def test_a_credit_is_carried_once_by_a_failed_and_retried_run_released_twice(
    world, fleet, monkeypatch
):
    from tests.test_settlement_engine import release, run_now

    claim, _first, _original = settled_and_charged(world, fleet)
    inspect_part(world, claim, "no_fault_found")
    real = engine._update_totals

    def broken(sql, table, *args):
        if table == "chargeback":  # after the adjustments were carried
            raise RuntimeError("disk full")
        return real(sql, table, *args)

    monkeypatch.setattr(engine, "_update_totals", broken)
    run = run_now(world)
    assert run.status is RunStatus.FAILED
    (credit,) = adjustments_of(claim)
    assert credit.statement_id is None  # the failed attempt kept nothing
    monkeypatch.setattr(engine, "_update_totals", real)
    settle.retry_run(run, world.users["finance"])
    db.session.commit()
    db.session.refresh(run)
    assert run.status is RunStatus.DRAFT and run.supplier_net == Decimal("-105.00")
    release(world, run)
    assert engine.release_run(run.id, world.users["finance"].id) == "skipped"  # again: no-op
    db.session.expire_all()
    (credit,) = adjustments_of(claim)
    assert credit.settled_in_run_id == run.id
    assert supplier_paid_in_all(world) == Decimal("120.00")  # 225.00 - 105.00, once
    assert_every_total_is_the_sum_of_its_lines()
    later = SettlementRunFactory(world=world)
    assert statement_of(later, StatementKind.SUPPLIER, world.suppliers[0]) is None
    assert (
        "settlement_run.retried"
        in db.session.scalars(sa.select(AuditEntry.kind).where(AuditEntry.run_id == run.id)).all()
    )


@pytest.mark.postgres
def test_a_waiver_and_a_late_finding_at_once_never_credit_the_supplier_twice(committing_app):
    """The auditor waives the disputed chargeback while another finds no fault in its part:
    whichever commits first, the supplier ends up paying nothing for the claim, never less."""
    import threading

    from portal.auth.models import User
    from portal.oldparts.models import OldPart
    from portal.settlement.models import Chargeback
    from tests.factories import World

    with committing_app.app_context():
        world = World.build()
        fleet = Fleet.build(world)
        ClaimSettings.current().auto_approve_enabled = False
        claim = ClaimFactory(fleet=fleet, approved=True)
        SettlementRunFactory(world=world, released=True)
        cb = db.session.scalar(sa.select(Chargeback).where(Chargeback.claim_id == claim.id))
        settle.dispute_chargeback(cb, world.users["supplier"], "Never faulty")
        (old,) = oldparts.parts_of_claim(claim)
        shipment = oldparts.create_return_shipment(world.users["station"], [old.tag])
        oldparts.ship(shipment, world.users["station"], "ZTO", "ZT1")
        oldparts.receive(shipment, world.users["auditor"], old.tag)
        ids = {"claim": claim.id, "cb": cb.id, "tag": old.tag, "auditor": world.users["auditor"].id}
        db.session.commit()

    barrier = threading.Barrier(2)
    failures: list[BaseException] = []

    def waive() -> None:
        try:
            with committing_app.app_context():
                chargeback = db.session.get(Chargeback, ids["cb"])
                auditor = db.session.get(User, ids["auditor"])
                barrier.wait()
                settle.resolve_chargeback(chargeback, auditor, "waive", "Goodwill")
                db.session.commit()
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    def find() -> None:
        try:
            with committing_app.app_context():
                part_ = db.session.scalar(sa.select(OldPart).where(OldPart.tag == ids["tag"]))
                auditor = db.session.get(User, ids["auditor"])
                barrier.wait()
                oldparts.inspect(part_, auditor, "no_fault_found")
                db.session.commit()
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=waive), threading.Thread(target=find)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures
    with committing_app.app_context():
        amounts = list(
            db.session.scalars(
                sa.select(Adjustment.amount).where(Adjustment.claim_id == ids["claim"])
            )
        )
        # None (the waiver first), or the credit and its taking back (the finding first).
        assert sum(amounts, Decimal("0.00")) == Decimal("0.00"), amounts
        assert len(amounts) in (0, 2)


def test_the_stations_claim_page_does_not_show_the_suppliers_credit(world, fleet, switching_login):
    claim, _first, _original = settled_and_charged(world, fleet)
    inspect_part(world, claim, "no_fault_found")
    marker = 'data-action="adjustment_supplier_credit"'
    station_page = switching_login("station").get(f"/claims/{claim.number}")
    assert station_page.status_code == 200 and marker not in station_page.get_data(as_text=True)
    finance_page = switching_login("finance").get(f"/claims/{claim.number}")
    assert finance_page.status_code == 200 and marker in finance_page.get_data(as_text=True)


def test_another_supplier_never_sees_the_credit_on_the_chargeback_page(
    world, fleet, switching_login
):
    from tests.test_settlement_engine import chargeback_of

    claim, _first, _original = settled_and_charged(world, fleet)
    inspect_part(world, claim, "no_fault_found")
    cb = chargeback_of(claim)
    own = switching_login("supplier").get(f"/settlement/chargebacks/{cb.id}")
    assert own.status_code == 200 and 'data-testid="adjustment"' in own.get_data(as_text=True)
    assert switching_login("supplier_b").get(f"/settlement/chargebacks/{cb.id}").status_code == 404
