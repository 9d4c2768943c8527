"""Reading settlement: who sees which statement, and statement lines in one shape for the pages,
the API, the CSV and the PDF.

A line is `{id, claim_number, description, amount, status}` (DESIGN 8): on a station statement
the id is the statement line's and the status the statement's; on a supplier statement the line
is a chargeback, its id the chargeback's and its status the chargeback's.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from flask import abort
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal import labels
from portal.auth.models import Role, User
from portal.claims.models import Claim
from portal.extensions import db
from portal.lists import contains
from portal.masterdata.models import Organisation, Part
from portal.oldparts.models import OldPart, StationCharge
from portal.settlement.models import (
    Adjustment,
    AdjustmentKind,
    Chargeback,
    ChargebackStatus,
    LineKind,
    RunStatus,
    SettlementRun,
    Statement,
    StatementKind,
    StatementLine,
    StatementStatus,
)

# Who may read statements and chargebacks at all (pages and API); which ones is decided per
# record by `statement_or_404` / `chargeback_or_404`.
STATEMENT_READERS = (Role.FINANCE, Role.AUDITOR, Role.STATION, Role.SUPPLIER)
CHARGEBACK_READERS = (Role.FINANCE, Role.AUDITOR, Role.SUPPLIER)

RUN_STATUS_LABELS = {
    RunStatus.QUEUED: _l("Queued"),
    RunStatus.RUNNING: _l("Running"),
    RunStatus.DRAFT: _l("Draft"),
    RunStatus.RELEASED: _l("Released"),
    RunStatus.FAILED: _l("Failed"),
    RunStatus.DISCARDED: _l("Discarded"),
}
STATEMENT_KIND_LABELS = {
    StatementKind.STATION: _l("Station statement"),
    StatementKind.SUPPLIER: _l("Supplier chargeback statement"),
}
STATEMENT_STATUS_LABELS = {
    StatementStatus.DRAFT: _l("Draft"),
    StatementStatus.RELEASED: _l("Released"),
    StatementStatus.FINAL: _l("Final"),
    StatementStatus.PAID: _l("Paid"),
}
CHARGEBACK_STATUS_LABELS = {
    ChargebackStatus.OPEN: _l("Open"),
    ChargebackStatus.ACCEPTED: _l("Accepted"),
    ChargebackStatus.DISPUTED: _l("Disputed"),
    ChargebackStatus.UPHELD: _l("Upheld"),
    ChargebackStatus.WAIVED: _l("Waived"),
}
LINE_KIND_LABELS = {
    LineKind.CLAIM: _l("Approved claim"),
    LineKind.SCRAP_RESIDUAL: _l("Scrap residual deducted"),
    LineKind.OVERDUE: _l("Overdue old part charged back"),
    LineKind.EMERGENCY_CREDIT: _l("Emergency part shipped: part value + freight"),
}
labels.register("run_status", RUN_STATUS_LABELS)
labels.register("statement_kind", STATEMENT_KIND_LABELS)
labels.register("statement_status", STATEMENT_STATUS_LABELS)
labels.register("chargeback_status", CHARGEBACK_STATUS_LABELS)
labels.register("statement_line_kind", LINE_KIND_LABELS)


@dataclass(frozen=True)
class Line:
    id: int
    claim_id: int
    claim_number: str
    kind: str  # a LineKind value, or "chargeback"
    description: str
    amount: Decimal
    status: str
    counts: bool = True  # in the statement's total (a waived chargeback is not)

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "claim_number": self.claim_number,
            "description": self.description,
            "amount": f"{self.amount:.2f}",
            "status": self.status,
        }


# -- access ----------------------------------------------------------------------------------------


def visible_statements(user: User) -> sa.Select:
    """Statements `user` may list: finance all; station / supplier own released; auditors
    released supplier statements (they resolve disputes); nobody else any."""
    query = sa.select(Statement)
    if user.role is Role.FINANCE:
        return query
    released = Statement.status != StatementStatus.DRAFT
    if user.role is Role.AUDITOR:
        return query.where(released, Statement.kind == StatementKind.SUPPLIER)
    if user.role is Role.STATION:
        return query.where(
            released,
            Statement.kind == StatementKind.STATION,
            Statement.org_id == user.organisation_id,
        )
    if user.role is Role.SUPPLIER:
        return query.where(
            released,
            Statement.kind == StatementKind.SUPPLIER,
            Statement.org_id == user.organisation_id,
        )
    return query.where(sa.false())


def statement_or_404(statement_id: int, user: User) -> Statement:
    statement = db.session.get(Statement, statement_id)
    if statement is None or not statement.can_view(user):
        abort(404)
    return statement


def chargeback_or_404(chargeback_id: int, user: User) -> Chargeback:
    chargeback = db.session.get(Chargeback, chargeback_id)
    if chargeback is None or not chargeback.statement.can_view(user):
        abort(404)
    return chargeback


def run_or_404(run_id: int) -> SettlementRun:
    run = db.session.get(SettlementRun, run_id)
    if run is None:
        abort(404)
    return run


# -- lines -----------------------------------------------------------------------------------------


def chargeback_description(cb: Chargeback) -> str:
    parts = _("Parts %(amount)s", amount=f"{cb.parts_amount:,.2f}")
    if cb.removed_parts_amount:
        parts += " " + _(
            "(%(amount)s removed by inspection)", amount=f"{cb.removed_parts_amount:,.2f}"
        )
    labor = _("labor %(amount)s", amount=f"{cb.labor_amount:,.2f}")
    if cb.labor_hours_charged < cb.labor_hours:
        labor += " " + _(
            "(%(charged)s of %(hours)s h: agreement cap)",
            charged=f"{cb.labor_hours_charged:.2f}",
            hours=f"{cb.labor_hours:.2f}",
        )
    share = f"{(cb.recovery_share * 100).normalize():f}%"
    fee = f"{(cb.handling_fee_rate * 100).normalize():f}%"
    return _(
        "%(parts)s + %(labor)s x share %(share)s + handling fee %(fee)s",
        parts=parts,
        labor=labor,
        share=share,
        fee=fee,
    )


def _station_description(kind: LineKind, claim: Claim, detail: str) -> str:
    from portal.claims.labels import TYPE_LABELS

    label = str(LINE_KIND_LABELS[kind])
    if kind is LineKind.CLAIM:
        return f"{label}: {TYPE_LABELS[claim.type]}"
    return f"{label}: {detail}" if detail else label


ADJUSTMENT_LABELS = {
    AdjustmentKind.SUPPLIER_CREDIT: _l(
        "Adjustment: recovery lowered by a later inspection finding"
    ),
    AdjustmentKind.STATION_CREDIT: _l("Adjustment: overdue charge waived after it was deducted"),
    AdjustmentKind.SUPPLIER_DEBIT: _l("Adjustment: credit taken back, the chargeback was waived"),
}
labels.register("adjustment_kind", ADJUSTMENT_LABELS)


def adjustment_lines(statement: Statement) -> list[Line]:
    """The adjustments the statement carries, each naming its claim and the statement it
    corrects; their kind is "adjustment" and their status the statement's."""
    query = (
        sa.select(Adjustment, Claim.number, Statement.number)
        .join(Claim, Claim.id == Adjustment.claim_id)
        .join(Statement, Statement.id == Adjustment.original_statement_id)
        .where(Adjustment.statement_id == statement.id)
        .order_by(Claim.number, Adjustment.id)
    )
    return [
        Line(
            id=adjustment.id,
            claim_id=adjustment.claim_id,
            claim_number=number,
            kind="adjustment",
            description=_(
                "%(label)s (corrects statement %(original)s)",
                label=str(ADJUSTMENT_LABELS[adjustment.kind]),
                original=original,
            ),
            amount=adjustment.amount,
            status=statement.status.value,
        )
        for adjustment, number, original in db.session.execute(query)
    ]


@dataclass(frozen=True)
class LineView:
    """How a reader looks at a statement's lines: sorted by `sort` ("claim", "amount" or, on a
    supplier statement, "status"), narrowed to a claim number or VIN (`search`) and, on a
    supplier statement, to a chargeback status."""

    sort: str = "claim"
    descending: bool = False
    search: str = ""
    status: str = ""

    @property
    def narrowed(self) -> bool:
        return bool(self.search or self.status)


def statement_lines(
    statement: Statement,
    offset: int = 0,
    limit: int | None = None,
    view: LineView | None = None,
) -> list[Line]:
    """The statement's lines in claim-number order (a page of them with offset/limit), or as
    `view` sorts and narrows them; the adjustments it carries come first, on the first page
    (narrowed to the claim searched for; none when a status is asked for)."""
    view = view or LineView()
    lines = _adjustments(statement, view) if offset == 0 else []
    return lines + _own_lines(statement, offset, limit, view)


def _adjustments(statement: Statement, view: LineView) -> list[Line]:
    if view.status:
        return []
    lines = adjustment_lines(statement)
    if view.search:
        lines = [line for line in lines if view.search.upper() in line.claim_number.upper()]
    return lines


def count_lines(statement: Statement, view: LineView) -> int:
    """How many lines `view` shows (adjustments included)."""
    if not view.narrowed:
        return statement.line_count
    adjustments = len(_adjustments(statement, view))
    if statement.kind is StatementKind.SUPPLIER:
        query = _narrowed(
            sa.select(sa.func.count(Chargeback.id))
            .join(Claim, Claim.id == Chargeback.claim_id)
            .where(Chargeback.statement_id == statement.id),
            view,
            Chargeback.status,
        )
    else:
        query = _narrowed(
            sa.select(sa.func.count(StatementLine.id))
            .join(Claim, Claim.id == StatementLine.claim_id)
            .where(StatementLine.statement_id == statement.id),
            view,
            None,
        )
    return adjustments + (db.session.scalar(query) or 0)


def _narrowed(query: sa.Select, view: LineView, status_column) -> sa.Select:
    if view.search:
        query = query.where(contains(view.search, Claim.number, Claim.vin))
    if view.status and status_column is not None:
        query = query.where(status_column == view.status)
    return query


def _line_order(view: LineView, claim_key, amount, status, tiebreak) -> list:
    """The ORDER BY of `view`: its column, then claim number and id in the same direction."""
    column = {"amount": amount, "status": status}.get(view.sort)
    keys = [*([column] if column is not None else []), *claim_key, tiebreak]
    return [k.desc() if view.descending else k.asc() for k in keys]


def _own_lines(
    statement: Statement, offset: int = 0, limit: int | None = None, view: LineView | None = None
) -> list[Line]:
    view = view or LineView()
    if statement.kind is StatementKind.SUPPLIER:
        query = _narrowed(
            sa.select(Chargeback, Claim.number)
            .join(Claim, Claim.id == Chargeback.claim_id)
            .where(Chargeback.statement_id == statement.id),
            view,
            Chargeback.status,
        )
        query = (
            query.order_by(
                *_line_order(
                    view, [Claim.number], Chargeback.amount, Chargeback.status, Chargeback.id
                )
            )
            .offset(offset)
            .limit(limit)
        )
        return [
            Line(
                id=cb.id,
                claim_id=cb.claim_id,
                claim_number=number,
                kind="chargeback",
                description=chargeback_description(cb),
                amount=cb.amount,
                status=cb.status.value,
                counts=cb.counts,
            )
            for cb, number in db.session.execute(query)
        ]
    query = _narrowed(
        sa.select(StatementLine, Claim, Part.number, OldPart.tag)
        .join(Claim, Claim.id == StatementLine.claim_id)
        .outerjoin(
            StationCharge,
            sa.and_(
                StationCharge.id == StatementLine.source_id,
                StatementLine.kind.in_([LineKind.SCRAP_RESIDUAL, LineKind.OVERDUE]),
            ),
        )
        .outerjoin(OldPart, OldPart.id == StationCharge.old_part_id)
        .outerjoin(Part, Part.id == OldPart.part_id)
        .where(StatementLine.statement_id == statement.id),
        view,
        None,
    )
    query = (
        query.order_by(
            *_line_order(
                view,
                [Claim.number, StatementLine.kind],
                StatementLine.amount,
                None,
                StatementLine.id,
            )
        )
        .offset(offset)
        .limit(limit)
    )
    lines = []
    for line, claim, part_number, tag in db.session.execute(query):
        detail = ""
        if line.kind is LineKind.OVERDUE and tag:
            detail = tag
        elif line.kind is LineKind.SCRAP_RESIDUAL and part_number:
            detail = part_number
        elif line.kind is LineKind.EMERGENCY_CREDIT:
            detail = _("freight %(amount)s", amount=f"{(claim.freight_amount or Decimal(0)):,.2f}")
        lines.append(
            Line(
                id=line.id,
                claim_id=claim.id,
                claim_number=claim.number,
                kind=line.kind.value,
                description=_station_description(line.kind, claim, detail),
                amount=line.amount,
                status=statement.status.value,
            )
        )
    return lines


def iter_statement_lines(
    statement: Statement, batch: int = 2000, view: LineView | None = None
) -> Iterator[Line]:
    """Every line (or those `view` shows, in its order), a batch at a time (CSV and PDF of large
    statements, the page's export): the adjustments first, as on the page."""
    view = view or LineView()
    yield from _adjustments(statement, view)
    offset = 0
    while True:
        page = _own_lines(statement, offset, batch, view)
        yield from page
        if len(page) < batch:
            return
        offset += batch


def organisation_name(statement: Statement) -> str:
    org = db.session.get(Organisation, statement.org_id)
    return f"{org.code} {org.name}" if org else str(statement.org_id)


# -- draft inspection ------------------------------------------------------------------------------


def totals_with_previous(run: SettlementRun, kind: StatementKind) -> list[dict]:
    """Every statement of the run of `kind` with its organisation, totals and the same
    organisation's net in the previous released run (difference from last period)."""
    from portal.settlement.operations import previous_run

    previous = previous_run(run)
    prev_net = {}
    if previous is not None:
        prev_net = dict(
            db.session.execute(
                sa.select(Statement.org_id, Statement.net).where(
                    Statement.run_id == previous.id, Statement.kind == kind
                )
            ).all()
        )
    rows = db.session.execute(
        sa.select(Statement, Organisation.code, Organisation.name)
        .join(Organisation, Organisation.id == Statement.org_id)
        .where(Statement.run_id == run.id, Statement.kind == kind)
        .order_by(Organisation.code)
    ).all()
    out = []
    for statement, code, name in rows:
        before = prev_net.get(statement.org_id)
        out.append(
            {
                "statement": statement,
                "code": code,
                "name": name,
                "previous_net": before,
                "difference": None if before is None else statement.net - before,
            }
        )
    return out
