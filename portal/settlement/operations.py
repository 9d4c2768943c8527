"""What finance, suppliers and auditors do with settlement runs, statements and chargebacks.

Every function checks who acts and in what state, raises a `DomainError` (422), `Conflict`
(409) or `NotFound` when refused, and flushes; the caller commits. The heavy lifting (computing
and releasing a run) is in `engine.py` and runs as jobs.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from portal.auditlog.operations import AuditKind, record
from portal.auth.models import Role, User
from portal.claims import attachments
from portal.db import utcnow
from portal.errors import Conflict, DomainError, ValidationFailed
from portal.extensions import db
from portal.jobs import (
    JobsUnavailable,
    enqueue_after_commit,
    job_status,
    require_jobs,
    uses_redis,
)
from portal.labels import in_sentence
from portal.masterdata.models import OEM_CODE, Organisation
from portal.messages import define, month
from portal.notifications.operations import notify_organisation
from portal.settlement import adjustments, engine
from portal.settlement.models import (
    DEFAULT_VAT_RATE,
    Adjustment,
    Chargeback,
    ChargebackEvent,
    ChargebackEvidence,
    ChargebackStatus,
    RunStatus,
    SettlementRun,
    SettlementSettings,
    Statement,
    StatementKind,
    StatementLine,
    StatementStatus,
)
from portal.settlement.queries import CHARGEBACK_READERS

COMPUTE_JOB = "portal.settlement.engine:compute_run"
RELEASE_JOB = "portal.settlement.engine:release_run"
RENDER_JOB = "portal.settlement.documents:render_statement_pdfs"
MAX_REASON = 2000
MAX_EVIDENCE_PER_CHARGEBACK = 10

# The portal's words in the notifications of settlement (portal.messages).
STATEMENT_PAID = define(
    "settlement.statement_paid",
    _l("Statement %(number)s was paid on %(paid_on)s (reference %(reference)s)."),
    paid_on="date",
)
DISPUTED = define(
    "settlement.chargeback_disputed",
    _l("The chargeback for %(number)s is disputed by %(supplier)s: %(reason)s"),
)
RESOLVED = define(
    "settlement.dispute_resolved",
    _l("The dispute on %(number)s is resolved: %(status)s. %(reason)s"),
    status="word:chargeback_status",
    example={"number": "RP-ST01-2601-0001", "status": "upheld", "reason": "..."},
)


def _require(user: User, role: Role, message: str) -> None:
    if user.role is not role:
        raise DomainError(message)


# -- runs ------------------------------------------------------------------------------------------


def open_run() -> SettlementRun | None:
    return db.session.scalar(sa.select(SettlementRun).where(SettlementRun.open_slot.is_not(None)))


def start_run(user: User, period_text: str) -> SettlementRun:
    """Start a run for `YYYY-MM` and queue its computation. One run is open at a time."""
    _require(user, Role.FINANCE, str(_l("Only finance starts settlement runs.")))
    try:
        first = engine.parse_period(period_text)
    except ValueError:
        raise ValidationFailed(
            str(_l("The period must be a month written YYYY-MM.")),
            {"period": str(_l("not a month (YYYY-MM)"))},
        ) from None
    if engine.period_cutoff(first) > engine.period_cutoff(
        engine.parse_period(engine.current_period())
    ):
        raise ValidationFailed(
            str(
                _l(
                    "%(period)s is in the future: settle the current month or an earlier one.",
                    period=month(period_text),
                )
            ),
            {"period": str(_l("in the future"))},
        )
    existing = open_run()
    if existing is not None:
        raise _open_run_conflict(existing)
    require_jobs()  # before the run is written: a run no worker can pick up would block the next
    run = SettlementRun(
        period=period_text.strip(),
        status=RunStatus.QUEUED,
        open_slot=1,
        vat_rate=_vat_rate(),
        cutoff=engine.period_cutoff(first),
        created_by_id=user.id,
    )
    db.session.add(run)
    try:
        db.session.flush()
    except sa.exc.IntegrityError:  # a concurrent request opened one first: the constraint says no
        db.session.rollback()
        raise _open_run_conflict(open_run()) from None
    record(
        AuditKind.RUN_STARTED,
        user,
        subject=run.period,
        run_id=run.id,
        after={"period": run.period, "vat_rate": run.vat_rate},
    )
    _enqueue_compute(run, user)
    return run


def _vat_rate() -> Decimal:
    """The VAT rate a new run takes. Read only: two first runs started at the same moment must
    not both insert the settings row (the loser would get an IntegrityError, not a Conflict)."""
    settings = db.session.get(SettlementSettings, 1)
    return settings.vat_rate if settings is not None else DEFAULT_VAT_RATE


def _open_run_conflict(existing: SettlementRun | None) -> Conflict:
    if existing is None:
        return Conflict(str(_l("Another settlement run was started at the same moment.")))
    conflict = Conflict(
        str(
            _l(
                "Settlement run #%(id)s for %(period)s is still open (%(status)s): release or "
                "discard it first.",
                id=existing.id,
                period=month(existing.period),
                status=in_sentence(existing.status),
            )
        )
    )
    conflict.run_id = existing.id
    return conflict


def _enqueue_compute(run: SettlementRun, user: User) -> None:
    """The run is computed by a job started once the caller commits."""
    run.job_id = enqueue_after_commit(COMPUTE_JOB, run.id, owner_id=user.id)
    db.session.flush()


def _locked_run(run: SettlementRun) -> SettlementRun:
    return db.session.scalars(
        sa.select(SettlementRun)
        .where(SettlementRun.id == run.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def request_release(run: SettlementRun, user: User) -> SettlementRun:
    """Queue the release of a draft (a job: it settles every claim of the run)."""
    _require(user, Role.FINANCE, str(_l("Only finance releases settlement runs.")))
    run = _locked_run(run)
    if run.status is RunStatus.RELEASED:
        return run  # a double click: already done
    if run.status is not RunStatus.DRAFT:
        raise Conflict(
            str(
                _l(
                    "Only a draft can be released; this run is %(status)s.",
                    status=in_sentence(run.status),
                )
            )
        )
    if run.step == "releasing" and not is_stale(run):
        return run  # already queued
    require_jobs()
    run.step = "releasing"
    run.heartbeat_at = utcnow()
    record(AuditKind.RUN_RELEASE_REQUESTED, user, subject=run.period, run_id=run.id)
    run.job_id = enqueue_after_commit(RELEASE_JOB, run.id, user.id, owner_id=user.id)
    db.session.flush()
    return run


def queue_statement_pdfs(run: SettlementRun, user: User | None) -> str:
    """Render every statement PDF of a released run in a worker (once the caller commits)."""
    return enqueue_after_commit(RENDER_JOB, run.id, owner_id=user.id if user else None)


def discard_run(run: SettlementRun, user: User) -> SettlementRun:
    """Throw a draft (or a failed run) away: its statements go, its claims stay unsettled."""
    _require(user, Role.FINANCE, str(_l("Only finance discards settlement runs.")))
    run = _locked_run(run)
    if run.status is RunStatus.DISCARDED:
        return run
    if run.status not in (RunStatus.DRAFT, RunStatus.FAILED) or run.step == "releasing":
        raise Conflict(
            str(
                _l(
                    "Only a draft or a failed run can be discarded; this run is %(status)s.",
                    status=in_sentence(run.status),
                )
            )
        )
    rendered = db.session.scalars(
        sa.select(Statement.pdf_stored_name).where(
            Statement.run_id == run.id, Statement.pdf_stored_name.is_not(None)
        )
    ).all()
    statements = sa.select(Statement.id).where(Statement.run_id == run.id)
    # Adjustments it carried wait for the next run; those of its own draft statements go.
    db.session.execute(
        sa.update(Adjustment)
        .where(Adjustment.statement_id.in_(statements))
        .values(statement_id=None)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        sa.delete(Adjustment)
        .where(Adjustment.original_statement_id.in_(statements))
        .execution_options(synchronize_session=False)
    )
    record(
        AuditKind.RUN_DISCARDED,
        user,
        subject=run.period,
        run_id=run.id,
        before={
            "status": run.status,
            "station_net": run.station_net,
            "supplier_net": run.supplier_net,
        },
    )
    for model in (Chargeback, StatementLine):
        db.session.execute(sa.delete(model).where(model.statement_id.in_(statements)))
    db.session.execute(sa.delete(Statement).where(Statement.run_id == run.id))
    _remove_pdf_files(rendered)
    run.status = RunStatus.DISCARDED
    run.open_slot = None
    run.step = "discarded"
    run.discarded_at = utcnow()
    run.discarded_by_id = user.id
    db.session.flush()
    return run


def _remove_pdf_files(stored_names: list[str]) -> None:
    """Delete the draft PDFs of a discarded run (a missing file is fine: it is re-rendered)."""
    from portal.settlement.documents import PDF_FOLDER

    folder = attachments.storage_dir() / PDF_FOLDER
    for name in stored_names:
        (folder / Path(name).name).unlink(missing_ok=True)


def retry_run(run: SettlementRun, user: User) -> SettlementRun:
    """Compute a failed run again, or resume one whose worker stopped (stale)."""
    _require(user, Role.FINANCE, str(_l("Only finance retries settlement runs.")))
    require_jobs()
    run = _locked_run(run)
    if run.status is RunStatus.FAILED:
        if open_run() is not None:
            raise _open_run_conflict(open_run())
        run.status = RunStatus.QUEUED
        run.open_slot = 1
    elif run.status in (RunStatus.QUEUED, RunStatus.RUNNING) and is_stale(run):
        run.status = RunStatus.QUEUED
    elif run.status is RunStatus.DRAFT and run.step == "releasing" and is_stale(run):
        run.step = "draft"  # the release died: its transaction rolled back; release again
        db.session.flush()
        return request_release(run, user)
    else:
        raise Conflict(
            str(
                _l(
                    "This run is %(status)s and still working: there is nothing to retry.",
                    status=in_sentence(run.status),
                )
            )
        )
    run.step = "queued"
    run.error = ""
    record(AuditKind.RUN_RETRIED, user, subject=run.period, run_id=run.id)
    try:
        db.session.flush()
    except sa.exc.IntegrityError:
        db.session.rollback()
        raise _open_run_conflict(open_run()) from None
    _enqueue_compute(run, user)
    return run


def is_stale(run: SettlementRun, now: datetime | None = None) -> bool:
    """Whether an open run's worker seems gone: no heartbeat for a while, or its job failed."""
    busy = run.status in (RunStatus.QUEUED, RunStatus.RUNNING) or (
        run.status is RunStatus.DRAFT and run.step == "releasing"
    )
    if not busy:
        return False
    if uses_redis() and run.job_id:
        try:
            found = job_status(run.job_id)
        except JobsUnavailable:  # the job cannot be asked: judge by the run's heartbeat
            return _silent_for(run, now) > engine.stale_after()
        if found is None or found.status in ("failed", "stopped", "canceled"):
            return True
        if found.status == "finished":
            # The job ended but the run did not move: it skipped (another worker) or was lost.
            return _silent_for(run, now) > engine.stale_after() / 10
    return _silent_for(run, now) > engine.stale_after()


def _silent_for(run: SettlementRun, now: datetime | None):
    last = run.heartbeat_at or run.started_at or run.created_at
    return (now or utcnow()) - last


def run_progress(run: SettlementRun) -> int:
    """The live progress: the job's while it works, the run's otherwise."""
    if run.status in (RunStatus.QUEUED, RunStatus.RUNNING) or run.step == "releasing":
        if run.job_id:
            try:
                found = job_status(run.job_id)
            except JobsUnavailable:  # the run's own progress, as its worker last wrote it
                found = None
            if found is not None and found.status != "finished":
                return max(found.progress, run.progress if run.step != "releasing" else 0)
        return run.progress if run.step != "releasing" else 0
    return 100 if run.status in (RunStatus.DRAFT, RunStatus.RELEASED) else run.progress


# -- statements ------------------------------------------------------------------------------------


def mark_paid(statement: Statement, user: User, paid_on: date | None, reference: str) -> Statement:
    """Finance records the payment of a released (station) or final (supplier) statement."""
    _require(user, Role.FINANCE, str(_l("Only finance marks statements paid.")))
    statement = _locked(Statement, statement.id)
    errors = {}
    reference = (reference or "").strip()
    if paid_on is None:
        errors["paid_on"] = str(_l("is required"))
    elif paid_on > engine.local_today():
        errors["paid_on"] = str(_l("is in the future"))
    if not reference:
        errors["reference"] = str(_l("is required"))
    elif len(reference) > 80:
        errors["reference"] = str(_l("is longer than %(n)d characters", n=80))
    if errors:
        raise ValidationFailed(
            str(_l("Say when the statement was paid and give a reference.")), errors
        )
    if statement.status is StatementStatus.PAID:
        raise Conflict(str(_l("Statement %(number)s is already paid.", number=statement.number)))
    if statement.status is StatementStatus.DRAFT:
        raise Conflict(str(_l("A draft statement cannot be paid: release the run first.")))
    if statement.kind is StatementKind.SUPPLIER and statement.status is not StatementStatus.FINAL:
        raise Conflict(
            str(
                _l(
                    "Statement %(number)s still has open or disputed chargebacks.",
                    number=statement.number,
                )
            )
        )
    record(
        AuditKind.STATEMENT_PAID,
        user,
        subject=statement.number,
        run_id=statement.run_id,
        statement_id=statement.id,
        amount_after=statement.gross,
        before={"status": statement.status},
        after={"status": StatementStatus.PAID, "paid_on": paid_on, "reference": reference},
    )
    statement.status = StatementStatus.PAID
    statement.paid_on = paid_on
    statement.paid_reference = reference
    statement.paid_by_id = user.id
    statement.paid_at = utcnow()
    statement.pdf_rendered_at = None
    db.session.flush()
    notify_organisation(
        statement.org_id,
        STATEMENT_PAID,
        {"number": statement.number, "paid_on": paid_on, "reference": reference},
        f"/settlement/statements/{statement.id}",
    )
    return statement


def _locked(model, ident: int):
    return db.session.scalars(
        sa.select(model)
        .where(model.id == ident)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def previous_statement(statement: Statement) -> Statement | None:
    """The same organisation's statement of the latest earlier released run (for differences)."""
    return db.session.scalar(
        sa.select(Statement)
        .join(SettlementRun, SettlementRun.id == Statement.run_id)
        .where(
            Statement.org_id == statement.org_id,
            Statement.kind == statement.kind,
            SettlementRun.status == RunStatus.RELEASED,
            Statement.run_id != statement.run_id,
            Statement.period <= statement.period,
        )
        .order_by(Statement.period.desc(), Statement.id.desc())
        .limit(1)
    )


def previous_run(run: SettlementRun) -> SettlementRun | None:
    return db.session.scalar(
        sa.select(SettlementRun)
        .where(
            SettlementRun.status == RunStatus.RELEASED,
            SettlementRun.id != run.id,
            SettlementRun.period <= run.period,
        )
        .order_by(SettlementRun.period.desc(), SettlementRun.id.desc())
        .limit(1)
    )


# -- chargebacks -----------------------------------------------------------------------------------


def can_review(chargeback: Chargeback, user: User) -> bool:
    return (
        user.role is Role.SUPPLIER
        and user.organisation_id == chargeback.supplier_id
        and chargeback.statement.is_released
    )


def _event(
    cb: Chargeback, user: User | None, action: str, before: ChargebackStatus | None, note: str = ""
) -> None:
    db.session.add(
        ChargebackEvent(
            chargeback=cb,
            user_id=user.id if user else None,
            action=action,
            from_status=before.value if before else None,
            to_status=cb.status.value,
            note=note,
        )
    )


def _audit_chargeback(
    kind: AuditKind, cb: Chargeback, user: User, before: ChargebackStatus, note: str = ""
) -> None:
    """A chargeback's review in the audit log: what the supplier pays before and after."""
    counted = cb.status is not ChargebackStatus.WAIVED
    record(
        kind,
        user,
        subject=f"chargeback #{cb.id}",
        claim_number=cb.claim.number,
        run_id=cb.run_id,
        statement_id=cb.statement_id,
        amount_before=cb.amount,
        amount_after=cb.amount if counted else Decimal("0.00"),
        before={"status": before},
        after={"status": cb.status},
        note=note,
    )


def _supplier_action(cb: Chargeback, user: User) -> Chargeback:
    if user.role is not Role.SUPPLIER:
        raise DomainError(str(_l("Only the supplier reviews its chargebacks.")))
    cb = _locked(Chargeback, cb.id)
    if not can_review(cb, user):
        raise DomainError(str(_l("Only the supplier reviews its chargebacks.")))
    if cb.status is not ChargebackStatus.OPEN:
        raise Conflict(
            str(
                _l(
                    "Chargeback for %(claim)s is already %(status)s.",
                    claim=cb.claim.number,
                    status=in_sentence(cb.status),
                )
            )
        )
    return cb


def accept_chargeback(cb: Chargeback, user: User) -> Chargeback:
    cb = _supplier_action(cb, user)
    cb.status = ChargebackStatus.ACCEPTED
    cb.accepted_at = utcnow()
    cb.accepted_by_id = user.id
    _event(cb, user, "accepted", ChargebackStatus.OPEN)
    _audit_chargeback(AuditKind.CHARGEBACK_ACCEPTED, cb, user, ChargebackStatus.OPEN)
    db.session.flush()
    _maybe_final(cb.statement_id)
    return cb


def accept_all_open(statement: Statement, user: User) -> int:
    """Accept every open chargeback of the supplier's statement; answers how many."""
    if not (
        user.role is Role.SUPPLIER
        and user.organisation_id == statement.org_id
        and statement.is_released
    ):
        raise DomainError(str(_l("Only the supplier reviews its chargebacks.")))
    ids = db.session.scalars(
        sa.select(Chargeback.id).where(
            Chargeback.statement_id == statement.id, Chargeback.status == ChargebackStatus.OPEN
        )
    ).all()
    for cb_id in ids:
        accept_chargeback(db.session.get(Chargeback, cb_id), user)
    return len(ids)


def _clean_reason(reason: str | None, message: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(message, {"reason": str(_l("is required"))})
    if len(reason) > MAX_REASON:
        raise ValidationFailed(
            message, {"reason": str(_l("is longer than %(n)d characters", n=MAX_REASON))}
        )
    return reason


def dispute_chargeback(
    cb: Chargeback, user: User, reason: str, files: list[tuple[str, bytes]] | None = None
) -> Chargeback:
    """The supplier disputes a line with a reason and, optionally, evidence files."""
    reason = _clean_reason(reason, str(_l("Say why the chargeback is disputed.")))
    cb = _supplier_action(cb, user)
    cb.status = ChargebackStatus.DISPUTED
    cb.dispute_reason = reason
    cb.disputed_at = utcnow()
    cb.disputed_by_id = user.id
    for filename, data in files or []:
        add_evidence(cb, user, filename, data, _checked=True)
    _event(cb, user, "disputed", ChargebackStatus.OPEN, reason)
    _audit_chargeback(AuditKind.CHARGEBACK_DISPUTED, cb, user, ChargebackStatus.OPEN, reason)
    db.session.flush()
    oem = db.session.scalar(sa.select(Organisation).where(Organisation.code == OEM_CODE))
    if oem is not None:
        notify_organisation(
            oem.id,
            DISPUTED,
            {"number": cb.claim.number, "supplier": cb.statement.org.code, "reason": reason},
            f"/settlement/chargebacks/{cb.id}",
            roles=[role for role in CHARGEBACK_READERS if role is not Role.SUPPLIER],
        )
    return cb


def add_evidence(
    cb: Chargeback, user: User, filename: str, data: bytes, *, _checked: bool = False
) -> ChargebackEvidence:
    """A photo or PDF for a dispute, checked by content and size like claim attachments."""
    if not _checked and not can_review(cb, user):
        raise DomainError(str(_l("Only the supplier of a chargeback adds evidence to it.")))
    if not _checked and cb.status is not ChargebackStatus.DISPUTED:
        raise Conflict(
            str(
                _l(
                    "Evidence can be added to a disputed chargeback only; this one is %(status)s.",
                    status=cb.status.value,
                )
            )
        )
    if len(cb.evidence) >= MAX_EVIDENCE_PER_CHARGEBACK:
        raise ValidationFailed(
            str(_l("A dispute holds at most %(n)d files.", n=MAX_EVIDENCE_PER_CHARGEBACK)),
            {"file": str(_l("too many files"))},
        )
    content_type, ext = attachments.check_file(data)
    evidence = ChargebackEvidence(
        chargeback=cb,
        filename=attachments.clean_filename(filename),
        stored_name=attachments.store_file(data, ext),
        content_type=content_type,
        size=len(data),
        uploaded_by_id=user.id,
    )
    db.session.add(evidence)
    if not _checked:
        _event(cb, user, "evidence_added", cb.status, evidence.filename)
    db.session.flush()
    return evidence


def evidence_path(evidence: ChargebackEvidence) -> Path:
    return attachments.storage_dir() / evidence.stored_name


RESOLUTIONS = {"uphold": ChargebackStatus.UPHELD, "waive": ChargebackStatus.WAIVED}


def resolve_chargeback(cb: Chargeback, user: User, action: str, reason: str) -> Chargeback:
    """An auditor settles a dispute: uphold (the supplier pays) or waive (the line drops out of
    the statement's totals), always with a reason."""
    _require(user, Role.AUDITOR, str(_l("Only auditors resolve disputes.")))
    if action not in RESOLUTIONS:
        raise ValidationFailed(
            str(_l("Choose uphold or waive.")), {"action": str(_l("must be uphold or waive"))}
        )
    reason = _clean_reason(reason, str(_l("Say why the dispute is resolved this way.")))
    cb = _locked(Chargeback, cb.id)
    if cb.status is not ChargebackStatus.DISPUTED:
        raise Conflict(
            str(
                _l(
                    "Chargeback for %(claim)s is %(status)s, not disputed.",
                    claim=cb.claim.number,
                    status=in_sentence(cb.status),
                )
            )
        )
    cb.status = RESOLUTIONS[action]
    cb.resolution_reason = reason
    cb.resolved_at = utcnow()
    cb.resolved_by_id = user.id
    _event(cb, user, cb.status.value, ChargebackStatus.DISPUTED, reason)
    _audit_chargeback(
        AuditKind.CHARGEBACK_WAIVED
        if cb.status is ChargebackStatus.WAIVED
        else AuditKind.CHARGEBACK_UPHELD,
        cb,
        user,
        ChargebackStatus.DISPUTED,
        reason,
    )
    db.session.flush()
    _locked(Statement, cb.statement_id)
    if cb.status is ChargebackStatus.WAIVED:
        engine.recompute_statement_totals(cb.statement_id)
        # Credits of late findings on it are taken back: the supplier now owes nothing for
        # the claim, not less than nothing.
        adjustments.take_back_credits(cb, user)
    _maybe_final(cb.statement_id)
    notify_organisation(
        cb.supplier_id,
        RESOLVED,
        {"number": cb.claim.number, "status": cb.status, "reason": reason},
        f"/settlement/chargebacks/{cb.id}",
    )
    return cb


def invalidate_pdf(statement_id: int) -> None:
    """The statement changed (a line reviewed, waived, paid): its PDF is rendered again when
    next asked for."""
    db.session.execute(
        sa.update(Statement).where(Statement.id == statement_id).values(pdf_rendered_at=None)
    )


def _maybe_final(statement_id: int) -> None:
    """A supplier statement is final once none of its lines is open or disputed."""
    invalidate_pdf(statement_id)
    open_lines = db.session.scalar(
        sa.select(sa.func.count(Chargeback.id)).where(
            Chargeback.statement_id == statement_id,
            Chargeback.status.in_([ChargebackStatus.OPEN, ChargebackStatus.DISPUTED]),
        )
    )
    statement = db.session.get(Statement, statement_id)
    if open_lines == 0 and statement.status is StatementStatus.RELEASED:
        statement.status = StatementStatus.FINAL
        statement.final_at = utcnow()
        record(
            AuditKind.STATEMENT_FINAL,
            None,
            subject=statement.number,
            run_id=statement.run_id,
            statement_id=statement.id,
            amount_after=statement.net,
        )
        db.session.flush()


def queue_statement_pdf(statement: Statement, user: User | None) -> str:
    """(Re-)render one statement's PDF in a worker once the caller commits; answers the job id."""
    require_jobs()
    job_id = enqueue_after_commit(
        "portal.settlement.documents:render_statement_pdf",
        statement.id,
        owner_id=user.id if user else None,
    )
    db.session.execute(
        sa.update(Statement).where(Statement.id == statement.id).values(pdf_job_id=job_id)
    )
    return job_id


def upload_limit() -> int:
    return int(current_app.config.get("MAX_CONTENT_LENGTH") or attachments.MAX_ATTACHMENT_BYTES)
