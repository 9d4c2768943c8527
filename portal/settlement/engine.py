"""The settlement run (DESIGN 6): set-based SQL, one transaction per run, exactly once.

`compute_run` writes a run's draft: station statements with their lines and supplier statements
with their chargebacks, all from `INSERT ... SELECT` statements over every claim in scope at once
(never a Python loop over claims), inside one transaction. A worker killed mid-run leaves
nothing half-written: the database rolls the transaction back, the run stays `running` with a
heartbeat that stops moving, and a resume or retry computes it again from the start.

`release_run` marks the draft's claims settled and its station charges deducted, again set-based
and in one transaction.

Amounts are integers of fen in the database (`portal.money`), so the SQL below is integer
arithmetic: rates are millionths, hours hundredths. Half-up rounding of a non-negative
`x / d` is `(2x + d) / (2d)` in integer division; every money rule is rounded per line and totals
are sums of rounded lines.

The rules:

- station line, claim: the claim's approved total (parts + handling + labor + other);
- station line, scrap residual / overdue old part: minus the station charge (unless waived);
- station line, emergency credit: a station that drop-shipped an emergency part, once the
  requester confirmed receipt, is credited the approved part value + freight;
- chargeback: parts = approved parts lines not removed by inspection (no_fault_found, misuse;
  a supplier's finding on its own part only once an auditor confirmed it);
  labor = approved labor, or, over the supplier's hours cap, cap x the claim's labor rate;
  recovery = round((parts + labor) x share); handling fee = round(parts x handling fee rate);
  a campaign claim charged to its campaign's supplier uses the campaign's share instead of the
  agreement's, no hours cap (the package's hours were agreed with the campaign), and no
  handling fee when that share is 0;
  amount = recovery + handling fee. A claim with nothing to recover gets no chargeback.
- statement: net = sum of lines (of chargebacks not waived); VAT = round(net x VAT rate);
  gross = net + VAT.
"""

from __future__ import annotations

import logging
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from portal import messages
from portal.auditlog.operations import AuditKind, record
from portal.auth.models import User
from portal.claims.decisions import PRE_AUTHORISATIONS
from portal.db import UTCDateTime, utcnow
from portal.extensions import db
from portal.jobs import enqueue, set_progress, uses_redis
from portal.oldparts.operations import REMOVES_FROM_RECOVERY
from portal.settlement.models import RunStatus, SettlementRun

log = logging.getLogger(__name__)

# pg_advisory_xact_lock(namespace, run id): one worker computes or releases a run at a time.
LOCK_NAMESPACE = 6006


def _pre_auth_list() -> str:
    return ", ".join(f"'{t.value}'" for t in sorted(PRE_AUTHORISATIONS))


def _removed_list() -> str:
    return ", ".join(f"'{i.value}'" for i in sorted(REMOVES_FROM_RECOVERY))


def half_up(numerator: str, denominator: int) -> str:
    """SQL for round(numerator / denominator) half-up, numerator >= 0, in integer arithmetic."""
    return f"((2 * ({numerator}) + {denominator}) / {2 * denominator})"


def signed_half_up(numerator: str, denominator: int) -> str:
    """Half-up (away from zero at .5) for a numerator of either sign."""
    return (
        f"(CASE WHEN ({numerator}) >= 0 THEN {half_up(numerator, denominator)} "
        f"ELSE -{half_up('-(' + numerator + ')', denominator)} END)"
    )


# -- the period ----------------------------------------------------------------------------------


def parse_period(text: str) -> date:
    """The first day of `YYYY-MM`; raises ValueError for anything else."""
    text = (text or "").strip()
    digits = text[:4] + text[5:]
    if len(text) != 7 or text[4] != "-" or not (digits.isascii() and digits.isdigit()):
        raise ValueError(text)
    year, month = int(text[:4]), int(text[5:])
    if not 1 <= month <= 12 or year < 2000:
        raise ValueError(text)
    return date(year, month, 1)


def next_month(first: date) -> date:
    return date(first.year + (first.month == 12), first.month % 12 + 1, 1)


def zone() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai"))


def period_cutoff(first: date) -> datetime:
    """The end of the period: midnight at the start of the next month, local time, as UTC."""
    end = next_month(first)
    return datetime(end.year, end.month, end.day, tzinfo=zone()).astimezone(ZoneInfo("UTC"))


def current_period(now: datetime | None = None) -> str:
    local = (now or utcnow()).astimezone(zone())
    return f"{local.year:04d}-{local.month:02d}"


# -- progress and heartbeat ------------------------------------------------------------------------


def _is_postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


def _report(run_id: int, progress: int, step: str) -> None:
    """Publish progress to the job (progress bar) and, on PostgreSQL, to the run row through its
    own short transaction, so that the page and a stale-run check see it while the big
    transaction is still open. (SQLite has one writer; there the run is in-process anyway.)"""
    set_progress(progress, step=step)
    if _is_postgres():
        with db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "UPDATE settlement_run SET progress = :p, step = :s, heartbeat_at = :now "
                    "WHERE id = :id AND status = 'running'"
                ),
                {"p": progress, "s": step, "now": utcnow(), "id": run_id},
            )
    pause = current_app.config.get("SETTLEMENT_STEP_PAUSE") or 0
    if pause:  # crash-safety tests give themselves time to kill the worker mid-run
        time.sleep(float(pause))


def _tune_for_sets(conn: sa.Connection) -> None:
    """PostgreSQL, for this transaction: hash joins and aggregates over a million claims stay in
    memory, and no JIT compilation (it costs more than it saves on these inserts)."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SET LOCAL work_mem = '256MB'"))
        conn.execute(sa.text("SET LOCAL jit = off"))


def _runner(conn: sa.Connection, params: dict):
    """`sql(statement)`: execute a set-based statement with those of `params` it names (the
    moments typed as UTC), returning the row count."""
    typed = [sa.bindparam(k, type_=UTCDateTime()) for k in ("cutoff", "now") if k in params]

    def sql(statement: str) -> int:
        query = sa.text(statement)
        binds = [b for b in typed if f":{b.key}" in statement]
        if binds:
            query = query.bindparams(*binds)
        return conn.execute(
            query, {k: v for k, v in params.items() if f":{k}" in statement}
        ).rowcount

    return sql


def _take_lock(conn: sa.Connection, run_id: int) -> bool:
    if conn.dialect.name != "postgresql":
        return True
    return bool(
        conn.execute(
            sa.text("SELECT pg_try_advisory_xact_lock(:ns, :id)"),
            {"ns": LOCK_NAMESPACE, "id": run_id},
        ).scalar()
    )


# -- compute -------------------------------------------------------------------------------------


def compute_run(run_id: int) -> str:
    """The job: write the run's draft. Safe to call again (retry, resume, a second worker)."""
    session = db.session
    started = session.execute(
        sa.update(SettlementRun)
        .where(
            SettlementRun.id == run_id,
            SettlementRun.status.in_([RunStatus.QUEUED, RunStatus.RUNNING]),
        )
        .values(
            status=RunStatus.RUNNING,
            started_at=utcnow(),
            heartbeat_at=utcnow(),
            attempts=SettlementRun.attempts + 1,
            progress=0,
            step="starting",
            error="",
        )
    ).rowcount
    session.commit()
    if not started:
        log.info("settlement run %s is not queued or running: nothing to compute", run_id)
        return "skipped"
    try:
        return _compute(run_id)
    except Exception as exc:
        # The transaction rolled back, so nothing is half-written. Record why, then let the job
        # fail so the queue records it: RQ retries it while it has retries left (the run waits
        # queued for that), after which the run is failed and finance can retry it.
        session.rollback()
        reason = f"{type(exc).__name__}: {exc}"
        if _retries_left():
            _requeue_after_failure(run_id, reason)
        else:
            mark_failed(run_id, reason)
        raise


def _retries_left() -> int:
    from portal.jobs import uses_redis

    if not uses_redis():
        return 0
    from rq import get_current_job

    job = get_current_job()
    return int(getattr(job, "retries_left", 0) or 0) if job is not None else 0


def _requeue_after_failure(run_id: int, reason: str) -> None:
    db.session.execute(
        sa.update(SettlementRun)
        .where(SettlementRun.id == run_id, SettlementRun.status == RunStatus.RUNNING)
        .values(status=RunStatus.QUEUED, error=reason[:2000], step="retrying")
    )
    db.session.commit()


def mark_failed(run_id: int, reason: str) -> None:
    db.session.execute(
        sa.update(SettlementRun)
        .where(
            SettlementRun.id == run_id,
            SettlementRun.status.in_([RunStatus.QUEUED, RunStatus.RUNNING]),
        )
        .values(status=RunStatus.FAILED, open_slot=None, error=reason[:2000], step="failed")
    )
    db.session.commit()


def _compute(run_id: int) -> str:
    session = db.session
    conn = session.connection()
    if not _take_lock(conn, run_id):
        log.info("settlement run %s is being computed by another worker", run_id)
        session.rollback()
        return "busy"
    run = session.get(SettlementRun, run_id, populate_existing=True)
    if run is None or run.status is not RunStatus.RUNNING:
        session.rollback()
        return "skipped"
    params = {
        "run": run_id,
        "cutoff": run.cutoff,
        "period": run.period,
        "vat": int(run.vat_rate * 1_000_000),
        "now": utcnow(),
        # Statement numbers: S-202611-12-ST-SH01 (station), C-202611-12-SP-BOSCH (supplier).
        "station_prefix": f"S-{run.period.replace('-', '')}-{run_id}-",
        "supplier_prefix": f"C-{run.period.replace('-', '')}-{run_id}-",
    }
    sql = _runner(conn, params)

    _tune_for_sets(conn)
    # A resumed run starts again from nothing (a crashed transaction left nothing anyway).
    _forget_run_adjustments(sql)
    for table in ("chargeback", "statement_line"):
        sql(
            f"DELETE FROM {table} "
            "WHERE statement_id IN (SELECT id FROM statement WHERE run_id = :run)"
        )
    sql("DELETE FROM statement WHERE run_id = :run")
    _report(run_id, 5, "scope")

    in_scope = (
        "c.status IN ('approved', 'partially_approved') AND c.decided_at < :cutoff "
        f"AND c.type NOT IN ({_pre_auth_list()})"
    )
    charges_in_scope = (
        "ch.settled_in_run_id IS NULL AND ch.waived_at IS NULL AND ch.created_at < :cutoff"
    )
    adjustments_in_scope = (
        "a.settled_in_run_id IS NULL AND a.statement_id IS NULL AND a.created_at < :cutoff"
    )
    credits_in_scope = (
        "e.type = 'emergency_part' AND e.status IN ('approved', 'partially_approved', 'settled') "
        "AND e.fulfilment = 'drop_ship' AND e.received_at IS NOT NULL "
        "AND e.received_at < :cutoff"
    )

    # Station statements: every station with a claim, a charge or a credit in scope.
    sql(
        f"""
        INSERT INTO statement (run_id, kind, org_id, period, number, status, line_count,
                               net, vat, gross, created_at, paid_reference)
        SELECT :run, 'station', s.org_id, :period, :station_prefix || o.code,
               'draft', 0, 0, 0, 0, :now, ''
        FROM (
            SELECT c.station_id AS org_id FROM claim c WHERE {in_scope}
            UNION
            SELECT ch.station_id FROM station_charge ch WHERE {charges_in_scope}
            UNION
            SELECT e.shipper_org_id FROM claim e JOIN station st ON st.id = e.shipper_org_id
            WHERE {credits_in_scope}
              AND NOT EXISTS (SELECT 1 FROM statement_line x
                              WHERE x.kind = 'emergency_credit' AND x.source_id = e.id)
            UNION
            SELECT a.org_id FROM settlement_adjustment a
            WHERE a.kind = 'station_credit' AND {adjustments_in_scope}
        ) s JOIN organisation o ON o.id = s.org_id
        """
    )
    if _is_postgres():
        # With the new statements counted, claims are hash-joined to them in the order they lie
        # on disk, so the lines (and the release, which follows them) visit claims in that order.
        sql("ANALYZE statement")
    _report(run_id, 15, "station_claims")

    sql(
        f"""
        INSERT INTO statement_line (statement_id, run_id, kind, source_id, claim_id, amount)
        SELECT st.id, :run, 'claim', c.id, c.id, c.approved_total_amount
        FROM claim c
        JOIN statement st ON st.run_id = :run AND st.kind = 'station' AND st.org_id = c.station_id
        WHERE {in_scope}
        """
    )
    _report(run_id, 35, "station_charges")

    sql(
        f"""
        INSERT INTO statement_line (statement_id, run_id, kind, source_id, claim_id, amount)
        SELECT st.id, :run, ch.kind, ch.id, ch.claim_id, -ch.amount
        FROM station_charge ch
        JOIN statement st ON st.run_id = :run AND st.kind = 'station' AND st.org_id = ch.station_id
        WHERE {charges_in_scope}
        """
    )
    _report(run_id, 42, "emergency_credits")

    sql(
        f"""
        INSERT INTO statement_line (statement_id, run_id, kind, source_id, claim_id, amount)
        SELECT st.id, :run, 'emergency_credit', e.id, e.id,
               COALESCE(e.approved_parts_amount, 0) + COALESCE(e.freight_amount, 0)
        FROM claim e
        JOIN statement st
          ON st.run_id = :run AND st.kind = 'station' AND st.org_id = e.shipper_org_id
        WHERE {credits_in_scope}
          AND NOT EXISTS (SELECT 1 FROM statement_line x
                          WHERE x.kind = 'emergency_credit' AND x.source_id = e.id)
        """
    )
    _carry_adjustments(sql, "station_credit", "station", adjustments_in_scope)
    _report(run_id, 48, "station_totals")
    _update_totals(sql, "statement_line", "amount", "1 = 1", "station")
    _report(run_id, 55, "chargebacks")

    # Supplier statements: every responsible supplier of a claim in scope with something to
    # recover (a statement left without a line is removed below).
    sql(
        f"""
        INSERT INTO statement (run_id, kind, org_id, period, number, status, line_count,
                               net, vat, gross, created_at, paid_reference)
        SELECT :run, 'supplier', o.id, :period, :supplier_prefix || o.code,
               'draft', 0, 0, 0, 0, :now, ''
        FROM organisation o
        WHERE o.id IN (SELECT c.responsible_supplier_id FROM claim c
                       WHERE {in_scope} AND c.responsible_supplier_id IS NOT NULL)
           OR o.id IN (SELECT a.org_id FROM settlement_adjustment a
                       WHERE a.kind IN ('supplier_credit', 'supplier_debit')
                         AND {adjustments_in_scope})
        """
    )
    if _is_postgres():
        sql("ANALYZE statement")  # the supplier statements counted too (plans of the join)
    _report(run_id, 60, "chargebacks")

    labor_capped = half_up("b.cap_hours * b.labor_rate", 100)
    sql(
        f"""
        INSERT INTO chargeback (statement_id, run_id, supplier_id, claim_id, status,
            parts_amount, removed_parts_amount, labor_hours, labor_hours_charged, labor_amount,
            recovery_share, recovery_amount, handling_fee_rate, handling_fee, amount,
            dispute_reason, resolution_reason)
        SELECT m.statement_id, :run, m.supplier_id, m.claim_id, 'open',
               m.parts, m.removed, m.hours, m.hours_charged, m.labor,
               m.share, {half_up("(m.parts + m.labor) * m.share", 1_000_000)},
               m.fee_rate, {half_up("m.parts * m.fee_rate", 1_000_000)},
               {half_up("(m.parts + m.labor) * m.share", 1_000_000)}
                 + {half_up("m.parts * m.fee_rate", 1_000_000)},
               '', ''
        FROM (
            SELECT b.statement_id, b.supplier_id, b.claim_id, b.parts, b.removed, b.hours,
                   b.share, b.fee_rate,
                   CASE WHEN b.cap_hours IS NULL OR b.hours <= b.cap_hours THEN b.hours
                        ELSE b.cap_hours END AS hours_charged,
                   CASE WHEN b.cap_hours IS NULL OR b.hours <= b.cap_hours THEN b.labor
                        WHEN {labor_capped} < b.labor THEN {labor_capped}
                        ELSE b.labor END AS labor
            FROM (
                SELECT st.id AS statement_id, c.responsible_supplier_id AS supplier_id,
                       c.id AS claim_id, c.labor_rate,
                       COALESCE(cp.recovery_share, sp.recovery_share) AS share,
                       CASE WHEN cp.recovery_share = 0 THEN 0
                            ELSE sp.handling_fee_rate END AS fee_rate,
                       CASE WHEN cp.id IS NULL THEN sp.labor_hours_cap END AS cap_hours,
                       COALESCE(l.parts, 0) AS parts, COALESCE(l.removed, 0) AS removed,
                       COALESCE(l.hours, 0) AS hours, COALESCE(l.labor, 0) AS labor
                FROM claim c
                JOIN supplier sp ON sp.id = c.responsible_supplier_id
                LEFT JOIN campaign cp ON cp.id = c.campaign_id
                                     AND cp.supplier_id = c.responsible_supplier_id
                JOIN statement st ON st.run_id = :run AND st.kind = 'supplier'
                                 AND st.org_id = c.responsible_supplier_id
                JOIN (
                    SELECT ln.claim_id,
                           CAST(SUM(CASE WHEN ln.kind = 'part' AND r.claim_line_id IS NULL
                                    THEN COALESCE(ln.approved_amount, 0) ELSE 0 END)
                                AS BIGINT) AS parts,
                           CAST(SUM(CASE WHEN ln.kind = 'part' AND r.claim_line_id IS NOT NULL
                                    THEN COALESCE(ln.approved_amount, 0) ELSE 0 END)
                                AS BIGINT) AS removed,
                           CAST(SUM(CASE WHEN ln.kind = 'labor'
                                    THEN COALESCE(ln.approved_hours, 0) ELSE 0 END)
                                AS BIGINT) AS hours,
                           CAST(SUM(CASE WHEN ln.kind = 'labor'
                                    THEN COALESCE(ln.approved_amount, 0) ELSE 0 END)
                                AS BIGINT) AS labor
                    FROM claim_line ln
                    JOIN claim c2 ON c2.id = ln.claim_id
                    LEFT JOIN (SELECT DISTINCT op.claim_line_id FROM old_part op
                               WHERE op.inspection IN ({_removed_list()})
                                 AND (op.finding_status IS NULL
                                      OR op.finding_status <> 'proposed')) r
                           ON r.claim_line_id = ln.id
                    WHERE ln.kind IN ('part', 'labor')
                      AND c2.status IN ('approved', 'partially_approved')
                      AND c2.decided_at < :cutoff
                      AND c2.responsible_supplier_id IS NOT NULL
                    GROUP BY ln.claim_id
                ) l ON l.claim_id = c.id
                WHERE {in_scope}
            ) b
        ) m
        WHERE {half_up("(m.parts + m.labor) * m.share", 1_000_000)}
              + {half_up("m.parts * m.fee_rate", 1_000_000)} > 0
        ORDER BY m.claim_id
        """
    )
    _carry_adjustments(sql, "supplier_credit", "supplier", adjustments_in_scope)
    _carry_adjustments(sql, "supplier_debit", "supplier", adjustments_in_scope)
    _report(run_id, 85, "supplier_totals")
    _update_totals(sql, "chargeback", "amount", "src.status <> 'waived'", "supplier")
    sql("DELETE FROM statement WHERE run_id = :run AND line_count = 0 AND kind = 'supplier'")
    _report(run_id, 95, "totals")

    sql(
        """
        UPDATE settlement_run SET
          status = 'draft', progress = 100, step = 'draft', computed_at = :now, heartbeat_at = :now,
          claim_count = (SELECT COUNT(*) FROM statement_line
                         WHERE run_id = :run AND kind = 'claim'),
          station_statement_count = (SELECT COUNT(*) FROM statement
                                     WHERE run_id = :run AND kind = 'station'),
          supplier_statement_count = (SELECT COUNT(*) FROM statement
                                      WHERE run_id = :run AND kind = 'supplier'),
          station_net = CAST(COALESCE((SELECT SUM(net) FROM statement
                                  WHERE run_id = :run AND kind = 'station'), 0) AS BIGINT),
          supplier_net = CAST(COALESCE((SELECT SUM(net) FROM statement
                                   WHERE run_id = :run AND kind = 'supplier'), 0) AS BIGINT)
        WHERE id = :run AND status = 'running'
        """
    )
    run = session.get(SettlementRun, run_id, populate_existing=True)
    record(
        AuditKind.RUN_COMPUTED,
        None,
        subject=run.period,
        run_id=run_id,
        after={
            "claims": run.claim_count,
            "station_net": run.station_net,
            "supplier_net": run.supplier_net,
            "attempt": run.attempts,
        },
    )
    session.commit()
    set_progress(100, step="draft")
    return "draft"


def _forget_run_adjustments(sql) -> None:
    """Before a run's statements are (re)written: adjustments it carried wait for a run again,
    and adjustments of its own draft statements go (the new draft computes from the facts)."""
    statements = "SELECT id FROM statement WHERE run_id = :run"
    sql(
        f"UPDATE settlement_adjustment SET statement_id = NULL WHERE statement_id IN ({statements})"
    )
    sql(f"DELETE FROM settlement_adjustment WHERE original_statement_id IN ({statements})")


def _carry_adjustments(sql, kind: str, statement_kind: str, in_scope: str) -> None:
    """Put the adjustments waiting for a run on their party's statement of this run."""
    sql(
        f"""
        UPDATE settlement_adjustment SET statement_id = (
            SELECT st.id FROM statement st
            WHERE st.run_id = :run AND st.kind = '{statement_kind}'
              AND st.org_id = settlement_adjustment.org_id)
        WHERE id IN (SELECT a.id FROM settlement_adjustment a
                     WHERE a.kind = '{kind}' AND {in_scope})
        """
    )


def _update_totals(sql, table: str, column: str, counted: str, kind: str) -> None:
    """Set line_count, net, VAT and gross of the run's statements of `kind` from their lines
    and the adjustments they carry."""
    vat = signed_half_up("t.net * :vat", 1_000_000)
    of_kind = f"SELECT id FROM statement WHERE run_id = :run AND kind = '{kind}'"
    sql(
        f"""
        UPDATE statement SET line_count = t.n, net = t.net, vat = {vat}, gross = t.net + {vat}
        FROM (SELECT u.statement_id, COUNT(*) AS n, CAST(SUM(u.amount) AS BIGINT) AS net
              FROM (SELECT src.statement_id,
                           CASE WHEN {counted} THEN src.{column} ELSE 0 END AS amount
                    FROM {table} src WHERE src.statement_id IN ({of_kind})
                    UNION ALL
                    SELECT a.statement_id, a.amount FROM settlement_adjustment a
                    WHERE a.statement_id IN ({of_kind})) u
              GROUP BY u.statement_id) t
        WHERE statement.id = t.statement_id AND statement.run_id = :run
          AND statement.kind = '{kind}'
        """
    )


def recompute_statement_totals(statement_id: int) -> None:
    """Net, VAT and gross of one statement from its lines (after a chargeback is waived), and
    the run's net of the statement's kind from its statements."""
    from portal.settlement.models import Statement, StatementKind

    statement = db.session.get(Statement, statement_id)
    conn = db.session.connection()
    table, counted = (
        ("chargeback", "status <> 'waived'")
        if statement.kind is StatementKind.SUPPLIER
        else ("statement_line", "1 = 1")
    )
    vat = signed_half_up("t.net * :vat", 1_000_000)
    db.session.flush()
    conn.execute(
        sa.text(
            f"""
            UPDATE statement SET line_count = t.n, net = t.net, vat = {vat},
                   gross = t.net + {vat}
            FROM (SELECT COUNT(*) AS n, CAST(COALESCE(SUM(u.amount), 0) AS BIGINT) AS net
                  FROM (SELECT CASE WHEN {counted} THEN amount ELSE 0 END AS amount
                        FROM {table} WHERE statement_id = :id
                        UNION ALL
                        SELECT amount FROM settlement_adjustment WHERE statement_id = :id) u) t
            WHERE statement.id = :id
            """
        ),
        {"id": statement_id, "vat": int(statement.run.vat_rate * 1_000_000)},
    )
    # The run's total of this kind is the sum of its statements' nets, always.
    total = f"{statement.kind.value}_net"
    conn.execute(
        sa.text(
            f"""
            UPDATE settlement_run SET {total} = CAST(COALESCE(
                (SELECT SUM(net) FROM statement WHERE run_id = :run AND kind = :kind), 0)
                AS BIGINT)
            WHERE id = :run
            """
        ),
        {"run": statement.run_id, "kind": statement.kind.value},
    )
    db.session.expire(statement)
    db.session.expire(statement.run)


def stale_after() -> timedelta:
    return timedelta(seconds=int(current_app.config.get("SETTLEMENT_STALE_SECONDS", 300)))


# -- release ---------------------------------------------------------------------------------------


def release_run(run_id: int, user_id: int) -> str:
    """The job: release a draft. Its claims become settled and its station charges deducted, in
    one transaction; calling it again after it succeeded does nothing. If it fails, nothing of
    it stays, the run is a draft again with the reason, and the job fails."""
    try:
        return _release(run_id, user_id)
    except Exception as exc:
        db.session.rollback()
        db.session.execute(
            sa.update(SettlementRun)
            .where(SettlementRun.id == run_id, SettlementRun.status == RunStatus.DRAFT)
            .values(step="draft", error=f"{type(exc).__name__}: {exc}"[:2000])
        )
        db.session.commit()
        raise


def _release(run_id: int, user_id: int) -> str:
    session = db.session
    conn = session.connection()
    if not _take_lock(conn, run_id):
        session.rollback()
        return "busy"
    run = session.scalar(
        sa.select(SettlementRun).where(SettlementRun.id == run_id).with_for_update()
    )
    if run is None or run.status is not RunStatus.DRAFT:
        session.rollback()
        return "skipped"
    _tune_for_sets(conn)
    if conn.dialect.name == "postgresql":
        # With the draft's lines counted, claims are hash-joined to them in one pass over claim
        # instead of a million index lookups.
        conn.execute(sa.text("ANALYZE statement_line"))
    now = utcnow()
    params = {
        "run": run_id,
        "now": now,
        "user": user_id,
        "vat": int(run.vat_rate * 1_000_000),
    }
    sql = _runner(conn, params)

    # An overdue part waived after the draft was computed is no longer deducted.
    dropped = sql(
        """
        DELETE FROM statement_line WHERE run_id = :run AND kind = 'overdue'
          AND source_id IN (SELECT id FROM station_charge WHERE waived_at IS NOT NULL)
        """
    )
    if dropped:
        _update_totals(sql, "statement_line", "amount", "1 = 1", "station")
        # A statement left without a line goes (as an empty supplier statement does), and the
        # run's station totals follow its statements.
        sql(
            """
            DELETE FROM statement WHERE run_id = :run AND kind = 'station'
              AND NOT EXISTS (SELECT 1 FROM statement_line l WHERE l.statement_id = statement.id)
              AND NOT EXISTS (SELECT 1 FROM settlement_adjustment a
                              WHERE a.statement_id = statement.id)
            """
        )
        sql(
            """
            UPDATE settlement_run SET
              station_statement_count = (SELECT COUNT(*) FROM statement
                                         WHERE run_id = :run AND kind = 'station'),
              station_net = CAST(COALESCE((SELECT SUM(net) FROM statement
                                      WHERE run_id = :run AND kind = 'station'), 0) AS BIGINT)
            WHERE id = :run
            """
        )
    _report_release(run_id, 20)

    # Every claim of the draft must still be approved: anything else means it changed under us.
    expected = conn.execute(
        sa.text("SELECT COUNT(*) FROM statement_line WHERE run_id = :run AND kind = 'claim'"),
        {"run": run_id},
    ).scalar()
    sql(
        """
        INSERT INTO claim_event (claim_id, at, user_id, action, from_status, to_status, reason,
                                 version)
        SELECT c.id, :now, :user, 'settled', c.status, 'settled', '', c.version
        FROM claim c JOIN statement_line l ON l.source_id = c.id AND l.kind = 'claim'
        WHERE l.run_id = :run AND c.status IN ('approved', 'partially_approved')
        """
    )
    _report_release(run_id, 50)
    settled = sql(
        """
        UPDATE claim SET status = 'settled', updated_at = :now, revision = revision + 1
        WHERE id IN (SELECT source_id FROM statement_line WHERE run_id = :run AND kind = 'claim')
          AND status IN ('approved', 'partially_approved')
        """
    )
    if settled != expected:
        raise RuntimeError(
            f"run {run_id}: {expected} claims in the draft but {settled} still approved"
        )
    _report_release(run_id, 80)
    sql(
        """
        UPDATE station_charge SET settled_in_run_id = :run
        WHERE id IN (SELECT source_id FROM statement_line
                     WHERE run_id = :run AND kind IN ('scrap_residual', 'overdue'))
          AND settled_in_run_id IS NULL
        """
    )
    sql(
        """
        UPDATE settlement_adjustment SET settled_in_run_id = :run
        WHERE statement_id IN (SELECT id FROM statement WHERE run_id = :run)
          AND settled_in_run_id IS NULL
        """
    )
    sql("UPDATE statement SET status = 'released', released_at = :now WHERE run_id = :run")
    # A supplier statement of adjustments only has no line to review: it is final at once.
    sql(
        """
        UPDATE statement SET status = 'final', final_at = :now
        WHERE run_id = :run AND kind = 'supplier'
          AND NOT EXISTS (SELECT 1 FROM chargeback cb WHERE cb.statement_id = statement.id
                          AND cb.status IN ('open', 'disputed'))
        """
    )
    run.status = RunStatus.RELEASED
    run.open_slot = None
    run.released_at = now
    run.released_by_id = user_id
    run.step = "released"
    run.error = ""
    run.progress = 100
    session.flush()
    record(
        AuditKind.RUN_RELEASED,
        session.get(User, user_id),
        subject=run.period,
        run_id=run.id,
        amount_after=run.station_net,
        after={
            "claims": run.claim_count,
            "station_net": run.station_net,
            "supplier_net": run.supplier_net,
            "settled": settled,
        },
    )
    _notify_released(run)
    session.commit()
    set_progress(100, step="released")
    if uses_redis():  # workers render every statement's PDF; embedded mode renders on demand
        enqueue("portal.settlement.documents:render_statement_pdfs", run_id, owner_id=user_id)
    return "released"


def _report_release(run_id: int, progress: int) -> None:
    set_progress(progress, step="releasing")


RELEASED = messages.define(
    "settlement.released", _l("Settlement statement for %(period)s released."), period="month"
)


def _notify_released(run: SettlementRun) -> None:
    """One notification per user of every organisation with a statement in the run."""
    from portal.notifications.models import Notification  # noqa: F401 - table for the insert

    params = {"period": run.period}
    db.session.execute(
        sa.text(
            """
            INSERT INTO notification (user_id, message, message_key, params, link, created_at)
            SELECT u.id, :message, :key, :params, '/settlement/statements/' || s.id, :now
            FROM statement s JOIN user_account u ON u.organisation_id = s.org_id
            WHERE s.run_id = :run AND u.active
            """
        ).bindparams(
            sa.bindparam("now", type_=UTCDateTime()), sa.bindparam("params", type_=sa.JSON)
        ),
        {
            "message": messages.render_in("en", RELEASED, params),
            "key": RELEASED,
            "params": params,
            "run": run.id,
            "now": utcnow(),
        },
    )


def local_today() -> date:
    return utcnow().astimezone(zone()).date()
