"""The demo's settlement (演示结算): the step after the old parts.

Finance settles month by month. The two months before the last one or two weeks are settled
and released, each at the start of the month after it (the settlement calendar announced by
the auditor says: by the 5th); the current month is computed as a draft that finance can
inspect and release. Releasing settles every approved claim decided before the run's period
ended, so most of the demo's older approved claims are `settled`; the pre-authorisations
(appraisals, outsourced purchases, emergency parts) never are.

After each release the suppliers review the chargebacks of their statements:

- the older run is reviewed in full: the suppliers accept most lines and dispute a few with a
  reason (one with a PDF and a photo as evidence); the auditor upholds or waives every dispute
  with a reason, so every supplier statement is final; finance has paid most station
  statements and one supplier statement (with the day of payment and a bank reference);
- the newer run is under way: the demo supplier login has accepted some lines, disputed some
  (one with evidence, one with evidence added the day after) and not looked at the rest yet,
  and the auditor has resolved one dispute; the other suppliers accepted everything, disputed
  one line, or have not started.

Everything goes through `portal.settlement.operations` (the runs through `start_run` and
`request_release`, whose jobs run in-process here: the demo needs no worker), each action at
the moment of the story (`portal.demo.clock`); a run's job runs a minute or two after the
request that queued it, as a worker would pick it up. Moments and choices come from the
demo's `random.Random`, all before the demo's today.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask import current_app

from portal.claims.models import Claim
from portal.demo.clock import LOCAL_TZ, Timeline, act, local_moment, quiet_notifications
from portal.demo.context import Demo, DemoError
from portal.demo.files import pdf_document, photo
from portal.extensions import db
from portal.jobs import held_jobs, run_held_jobs
from portal.oldparts import operations as oldparts
from portal.oldparts.models import (
    ChargeKind,
    FindingStatus,
    Inspection,
    OldPart,
    OldPartStatus,
    StationCharge,
)
from portal.settlement import engine
from portal.settlement import operations as settlement
from portal.settlement.models import (
    Chargeback,
    ChargebackStatus,
    RunStatus,
    SettlementRun,
    Statement,
    StatementKind,
    StatementStatus,
)

if TYPE_CHECKING:
    import random

    from portal.auth.models import User

# Last month is settled once this many days of the current month have passed; before that the
# demo's released runs are the two months before it (and the draft holds last month too).
RELEASE_LAG_DAYS = 7
DISPUTE_SHARE = 0.12  # of an older statement's lines, at least one of a statement of three
UPHOLD_WEIGHT = 0.6  # of the disputes after the first two (one upheld, one waived)
DEMO_SUPPLIER = "SU-YF"  # the `supplier` login's organisation
# What the other suppliers have done with the newer run's statement, in turn.
ACCEPT_ALL, DISPUTE_ONE, NOT_STARTED = "accept_all", "dispute_one", "not_started"
NEWER_ROLES = (ACCEPT_ALL, DISPUTE_ONE, NOT_STARTED)

DISPUTE_REASONS = (
    "旧件复检未发现故障，属误判更换。 "
    "Our re-test of the returned part found no fault: it was replaced in error.",
    "故障系用户使用不当所致，非零部件质量问题。 "
    "The failure was caused by misuse, not by a defect of the part.",
    "申报工时超出我司质量协议约定的工时上限。 "
    "The labor charged is above the hours cap of our quality agreement.",
    "该零件出厂已超过我司质保期。 The part was beyond our warranty period by its production date.",
    "我司尚未收到旧件，无法确认责任。 "
    "We have not received the old part, so our liability is not confirmed.",
)
UPHOLD_REASONS = (
    "整车厂旧件检测确认为制造缺陷，维持追偿。 "
    "The OEM's inspection confirmed a manufacturing defect: the chargeback stands.",
    "工时按标准工时申报，未超出协议上限。 "
    "Labor was claimed at the standard hours, within the agreed cap.",
    "旧件已在返件单中签收，责任明确，维持追偿。 "
    "The old part was signed for on its return shipment: the chargeback stands.",
)
WAIVE_REASONS = (
    "复检确认无故障，免除本次追偿。 The re-test confirmed no fault: the chargeback is waived.",
    "旧件在返回途中丢失，无法举证，免于追偿。 "
    "The old part was lost in transit and cannot be shown: the chargeback is waived.",
    "按质量协议第 7 条作商务让步处理。 "
    "Waived as a commercial concession under clause 7 of the quality agreement.",
)
EVIDENCE_NOTES = ("Bench re-test report", "Result: no fault found", "QA laboratory")
# Bank reference prefixes: the OEM pays stations (付款), suppliers pay the OEM (收款).
PAYING_BANKS = ("CMB", "ICBC", "BOC")
RECEIVING_BANKS = ("CCB", "ICBC")


@contextmanager
def jobs_in_process() -> Iterator[None]:
    """Settlement jobs run in-process while the demo loads, whatever `REDIS_URL` says: the
    demo needs no worker, and it is the same data with Redis or without. They are held until
    the demo runs them (`run_held_jobs`) at the moment a worker would have."""
    config = current_app.config
    redis_url = config.get("REDIS_URL")
    config["REDIS_URL"] = None
    try:
        with held_jobs():
            yield
    finally:
        config["REDIS_URL"] = redis_url


def month_before(first: date) -> date:
    return date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)


def period_of(first: date) -> str:
    return f"{first:%Y-%m}"


def released_periods(today: date) -> tuple[date, date]:
    """The first days of the two months the demo has settled and released, older first."""
    last = month_before(today.replace(day=1))
    if today.day <= RELEASE_LAG_DAYS:
        last = month_before(last)
    return month_before(last), last


def add_settlement(demo: Demo) -> None:
    """Two released runs with reviewed, disputed, resolved and paid statements, and a draft."""
    rng, today = demo.rng, demo.today
    end = local_moment(today, 0)
    older, newer = released_periods(today)
    with quiet_notifications(), jobs_in_process():
        run, released = _released_run(demo, older)
        timeline = Timeline(rng, end=local_moment(engine.next_month(newer), 0))
        _plan_complete_review(demo, timeline, run, released)
        timeline.run()
        run, released = _released_run(demo, newer)
        timeline = Timeline(rng, end=end)
        _plan_review_under_way(demo, timeline, run, released)
        timeline.run()
        _late_corrections(demo, local_moment(today - timedelta(days=1), rng.randint(600, 700)))
        started = local_moment(today - timedelta(days=1), rng.randint(17 * 60, 18 * 60))
        _run(demo, started, period_of(today.replace(day=1)))
    db.session.commit()


# -- corrections after a release (adjustments on the draft) ---------------------------------------

LATE_WAIVER = (
    "旧件已在截止日前交寄，快递扫描记录缺失，补充免除。 "
    "The part was handed to the courier in time; the scan was missing, so the charge is waived."
)
LATE_FINDING = "复检未发现故障。 Re-test on the bench found no fault."


def _late_corrections(demo: Demo, moment: datetime) -> None:
    """After the releases, the auditor waives an overdue part whose charge was already deducted
    (the station is credited) and finds no fault in a part whose claim was already charged back
    (the supplier is credited): the draft carries both adjustments."""
    auditor = demo.users["auditor"]
    charge = db.session.scalar(
        sa.select(StationCharge)
        .where(
            StationCharge.kind == ChargeKind.OVERDUE,
            StationCharge.settled_in_run_id.is_not(None),
            StationCharge.waived_at.is_(None),
        )
        .order_by(StationCharge.id)
        .limit(1)
    )
    if charge is not None:
        overdue = db.session.get(OldPart, charge.old_part_id)
        act(moment, lambda: oldparts.waive_overdue(overdue, auditor, LATE_WAIVER))
    _finding_then_waiver(demo, moment + timedelta(minutes=20))
    received = db.session.scalar(
        sa.select(OldPart)
        .join(Chargeback, Chargeback.claim_id == OldPart.claim_id)
        .join(Statement, Statement.id == Chargeback.statement_id)
        .where(
            OldPart.status == OldPartStatus.RECEIVED,
            Chargeback.status != ChargebackStatus.WAIVED,
            Statement.status != StatementStatus.DRAFT,
        )
        .order_by(OldPart.id)
        .limit(1)
    )
    if received is None:
        return
    later = moment + timedelta(minutes=40)
    if received.destination.is_oem:
        act(
            later,
            lambda: oldparts.inspect(received, auditor, Inspection.NO_FAULT_FOUND, LATE_FINDING),
        )
        return
    # At its supplier: the supplier's finding is a proposal; the auditor confirms it.
    supplier_user = demo.org_users[received.destination.code]
    act(
        later,
        lambda: oldparts.inspect(received, supplier_user, Inspection.NO_FAULT_FOUND, LATE_FINDING),
    )
    if received.finding_status is FindingStatus.PROPOSED:
        act(
            later + timedelta(hours=1),
            lambda: oldparts.confirm_finding(received, auditor, LATE_FINDING),
        )


LATE_DISPUTE = "零件复检无故障，申请免除追偿。 The part shows no fault on the bench: please waive."
LATE_DISPUTE_WAIVER = (
    "供应商申诉成立，免除追偿。 The supplier's dispute stands: the chargeback is waived."
)


def _finding_then_waiver(demo: Demo, moment: datetime) -> None:
    """A released chargeback whose returned part shows no fault: the supplier is credited;
    it then disputes the line and the auditor waives it, so the credit is taken back (the
    supplier pays nothing for the claim, never less): the draft carries the credit and its
    debit."""
    auditor = demo.users["auditor"]
    candidates = db.session.scalars(
        sa.select(OldPart)
        .join(Chargeback, Chargeback.claim_id == OldPart.claim_id)
        .join(Statement, Statement.id == Chargeback.statement_id)
        .where(
            OldPart.status == OldPartStatus.RECEIVED,
            Chargeback.status == ChargebackStatus.OPEN,
            Statement.status != StatementStatus.DRAFT,
        )
        .order_by(OldPart.id.desc())
    )
    part = next(iter(candidates), None)
    if part is None:
        return
    cb_id = db.session.scalar(sa.select(Chargeback.id).where(Chargeback.claim_id == part.claim_id))
    if part.destination.is_oem:
        act(
            moment, lambda: oldparts.inspect(part, auditor, Inspection.NO_FAULT_FOUND, LATE_FINDING)
        )
    else:  # at its supplier: a proposal the auditor confirms
        inspector = demo.org_users[part.destination.code]
        act(
            moment,
            lambda: oldparts.inspect(part, inspector, Inspection.NO_FAULT_FOUND, LATE_FINDING),
        )
        if part.finding_status is FindingStatus.PROPOSED:
            act(
                moment + timedelta(minutes=10),
                lambda: oldparts.confirm_finding(part, auditor, LATE_FINDING),
            )
    cb = db.session.get(Chargeback, cb_id)
    if cb.status is not ChargebackStatus.OPEN:
        return
    supplier_user = demo.org_users[cb.statement.org.code]
    act(
        moment + timedelta(minutes=20),
        lambda: settlement.dispute_chargeback(
            db.session.get(Chargeback, cb_id), supplier_user, LATE_DISPUTE
        ),
    )
    act(
        moment + timedelta(minutes=30),
        lambda: settlement.resolve_chargeback(
            db.session.get(Chargeback, cb_id), auditor, "waive", LATE_DISPUTE_WAIVER
        ),
    )


# -- runs ------------------------------------------------------------------------------------------


def _run(demo: Demo, moment: datetime, period: str) -> SettlementRun:
    """Finance starts a run for `period` at `moment`; a worker computes it in a minute or two."""
    finance = demo.users["finance"]
    run = act(moment, lambda: settlement.start_run(finance, period))
    act(moment + timedelta(seconds=demo.rng.randint(30, 120)), run_held_jobs)
    db.session.expire_all()  # the job wrote in a session of its own
    run = db.session.get(SettlementRun, run.id)
    if run.status is not RunStatus.DRAFT:
        raise DemoError(f"settlement run for {period} is {run.status.value}: {run.error}")
    return run


def _released_run(demo: Demo, first: date) -> tuple[SettlementRun, datetime]:
    """The run for the month starting `first`: started on the 2nd of the month after it and
    released on the 3rd or 4th; answers the run and the moment finance asked for its release."""
    rng = demo.rng
    following = engine.next_month(first)
    started = local_moment(following + timedelta(days=1), rng.randint(9 * 60, 10 * 60 + 30))
    run = _run(demo, started, period_of(first))
    released = local_moment(
        following + timedelta(days=rng.randint(2, 3)), rng.randint(14 * 60, 17 * 60)
    )
    act(released, lambda: settlement.request_release(run, demo.users["finance"]))
    act(released + timedelta(seconds=rng.randint(20, 90)), run_held_jobs)
    db.session.expire_all()
    run = db.session.get(SettlementRun, run.id)
    if run.status is not RunStatus.RELEASED:
        raise DemoError(f"settlement run for {run.period} is {run.status.value}: {run.error}")
    return run, released


# -- reviews and payments --------------------------------------------------------------------------


def _supplier_statements(run: SettlementRun) -> list[tuple[Statement, list[int]]]:
    """The run's supplier statements by supplier code, each with its chargeback ids by claim."""
    statements = db.session.scalars(
        sa.select(Statement)
        .where(Statement.run_id == run.id, Statement.kind == StatementKind.SUPPLIER)
        .order_by(Statement.number)
    ).all()
    return [
        (
            statement,
            list(
                db.session.scalars(
                    sa.select(Chargeback.id)
                    .join(Claim, Claim.id == Chargeback.claim_id)
                    .where(Chargeback.statement_id == statement.id)
                    .order_by(Claim.number)
                )
            ),
        )
        for statement in statements
    ]


def _accept(cb_id: int, user: User) -> None:
    settlement.accept_chargeback(db.session.get(Chargeback, cb_id), user)


def _dispute(cb_id: int, user: User, reason: str, rng: random.Random, evidence: bool) -> None:
    cb = db.session.get(Chargeback, cb_id)
    files = _evidence(cb, rng) if evidence else []
    settlement.dispute_chargeback(cb, user, reason, files)


def _evidence(cb: Chargeback, rng: random.Random) -> list[tuple[str, bytes]]:
    number = cb.claim.number
    report = pdf_document([EVIDENCE_NOTES[0], f"Claim {number}", *EVIDENCE_NOTES[1:]])
    return [(f"retest-{number}.pdf", report), (f"bench-{number}.png", photo(rng))]


def _accept_all(statement_id: int, user: User) -> None:
    settlement.accept_all_open(db.session.get(Statement, statement_id), user)


def _add_evidence(cb_id: int, user: User, rng: random.Random) -> None:
    cb = db.session.get(Chargeback, cb_id)
    settlement.add_evidence(cb, user, f"old-part-{cb.claim.number}.png", photo(rng))


def _resolve(cb_id: int, auditor: User, action: str, reason: str) -> None:
    settlement.resolve_chargeback(db.session.get(Chargeback, cb_id), auditor, action, reason)


def _pay(statement_id: int, finance: User, moment: datetime, reference: str) -> None:
    statement = db.session.get(Statement, statement_id)
    settlement.mark_paid(statement, finance, moment.astimezone(LOCAL_TZ).date(), reference)


def _reference(rng: random.Random, banks: tuple[str, ...], moment: datetime, kind: str) -> str:
    day = moment.astimezone(LOCAL_TZ).date()
    return f"{rng.choice(banks)}-{kind}{day:%Y%m%d}-{rng.randint(1, 9999):04d}"


def _plan_complete_review(
    demo: Demo, timeline: Timeline, run: SettlementRun, released: datetime
) -> None:
    """Every line reviewed, every dispute resolved; most station statements and one supplier
    statement paid."""
    rng, auditor, finance = demo.rng, demo.users["auditor"], demo.users["finance"]
    disputes: list[tuple[datetime, int]] = []
    supplier_statements = _supplier_statements(run)
    last_moment: dict[int, datetime] = {}
    for statement, ids in supplier_statements:
        user = demo.org_users[statement.org.code]
        k = max(1, round(len(ids) * DISPUTE_SHARE)) if len(ids) >= 3 else 0
        disputed = set(rng.sample(ids, k))
        for cb_id in ids:
            moment = timeline.after(released, 1, 8)
            if cb_id in disputed:
                reason = rng.choice(DISPUTE_REASONS)
                evidence = not disputes  # the first dispute of the run comes with evidence
                timeline.add(moment, partial(_dispute, cb_id, user, reason, rng, evidence))
                disputes.append((moment, cb_id))
            else:
                timeline.add(moment, partial(_accept, cb_id, user))
            last_moment[statement.id] = max(moment, last_moment.get(statement.id, moment))
    by_statement = {cb_id: statement.id for statement, ids in supplier_statements for cb_id in ids}
    outcomes = ["uphold", "waive"][: len(disputes)] + [
        "uphold" if rng.random() < UPHOLD_WEIGHT else "waive" for _ in disputes[2:]
    ]
    for (disputed_at, cb_id), action in zip(sorted(disputes), outcomes, strict=True):
        moment = timeline.after(disputed_at, 1, 5)
        reason = rng.choice(UPHOLD_REASONS if action == "uphold" else WAIVE_REASONS)
        timeline.add(moment, partial(_resolve, cb_id, auditor, action, reason))
        statement_id = by_statement[cb_id]
        last_moment[statement_id] = max(moment, last_moment[statement_id])
    paid_supplier = next(
        (s for s, ids in supplier_statements if s.org.code == DEMO_SUPPLIER and ids),
        next((s for s, ids in supplier_statements if ids), None),
    )
    if paid_supplier is not None:
        moment = timeline.after(last_moment[paid_supplier.id], 2, 8)
        reference = _reference(rng, RECEIVING_BANKS, moment, "SK")
        timeline.add(moment, partial(_pay, paid_supplier.id, finance, moment, reference))
    stations = db.session.scalars(
        sa.select(Statement.id)
        .where(Statement.run_id == run.id, Statement.kind == StatementKind.STATION)
        .order_by(Statement.number)
    ).all()
    unpaid = rng.choice(stations) if len(stations) > 1 else None
    for statement_id in stations:
        if statement_id == unpaid:
            continue
        moment = timeline.after(released, 8, 20)
        reference = _reference(rng, PAYING_BANKS, moment, "FK")
        timeline.add(moment, partial(_pay, statement_id, finance, moment, reference))


def _plan_review_under_way(
    demo: Demo, timeline: Timeline, run: SettlementRun, released: datetime
) -> None:
    """The demo supplier has reviewed part of its statement; the others are in different
    places; the auditor has resolved one dispute."""
    rng = demo.rng
    roles = iter(NEWER_ROLES * 2)
    for statement, ids in _supplier_statements(run):
        user = demo.org_users[statement.org.code]
        if statement.org.code == DEMO_SUPPLIER:
            _plan_demo_supplier(demo, timeline, ids, user, released)
            continue
        role = next(roles)
        if role == ACCEPT_ALL:
            timeline.add(timeline.after(released, 1, 4), partial(_accept_all, statement.id, user))
        elif role == DISPUTE_ONE and ids:
            reason = rng.choice(DISPUTE_REASONS)
            timeline.add(
                timeline.after(released, 1, 4), partial(_dispute, ids[0], user, reason, rng, False)
            )


def _plan_demo_supplier(
    demo: Demo, timeline: Timeline, ids: list[int], user: User, released: datetime
) -> None:
    """Three disputes (one with evidence, one with evidence the day after, one resolved by
    the auditor), about half of the other lines accepted, the rest still open."""
    rng, auditor = demo.rng, demo.users["auditor"]
    disputed = ids[:3] if len(ids) >= 6 else ids[:1]
    reasons = rng.sample(DISPUTE_REASONS, len(disputed))
    first = timeline.after(released, 0, 1)
    moments = sorted(timeline.after(first, 0, 2) for _ in disputed[1:])
    for n, (cb_id, reason, moment) in enumerate(
        zip(disputed, reasons, [first, *moments], strict=True)
    ):
        if not timeline.add(moment, partial(_dispute, cb_id, user, reason, rng, n == 0)):
            continue
        if n == 1:
            timeline.add(timeline.after(moment, 1, 1), partial(_add_evidence, cb_id, user, rng))
        if n == 2:
            waived = rng.choice(WAIVE_REASONS)
            timeline.add(
                timeline.after(moment, 1, 2), partial(_resolve, cb_id, auditor, "waive", waived)
            )
    for cb_id in ids[len(disputed) :]:
        if rng.random() < 0.5:
            timeline.add(timeline.after(released, 0, 3), partial(_accept, cb_id, user))
