"""The settlement lists' columns (portal.lists): runs, statements and the supplier's
chargebacks."""

from __future__ import annotations

from operator import itemgetter

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal import labels
from portal.claims.models import Claim
from portal.lists import Column, Listing, keyed
from portal.masterdata.models import Organisation
from portal.settlement.models import Chargeback, ChargebackStatus, SettlementRun, Statement
from portal.settlement.queries import (
    CHARGEBACK_STATUS_LABELS,
    RUN_STATUS_LABELS,
    STATEMENT_KIND_LABELS,
    STATEMENT_STATUS_LABELS,
)


def _claim_column(column):
    return (
        sa.select(column)
        .where(Claim.id == Chargeback.claim_id)
        .correlate(Chargeback)
        .scalar_subquery()
    )


def _statement_column(column):
    return (
        sa.select(column)
        .where(Statement.id == Chargeback.statement_id)
        .correlate(Chargeback)
        .scalar_subquery()
    )


def _org_code():
    return (
        sa.select(Organisation.code)
        .where(Organisation.id == Statement.org_id)
        .correlate(Statement)
        .scalar_subquery()
    )


RUNS = Listing(
    [
        Column("id", "#", SettlementRun.id, lambda r: r.id),
        Column("period", _l("Period"), SettlementRun.period, lambda r: r.period),
        Column("status", _l("Status"), SettlementRun.status, lambda r: RUN_STATUS_LABELS[r.status]),
        Column("claims", _l("Claims"), SettlementRun.claim_count, lambda r: r.claim_count),
        Column(
            "station_net", _l("Stations net"), SettlementRun.station_net, lambda r: r.station_net
        ),
        Column(
            "supplier_net",
            _l("Suppliers net"),
            SettlementRun.supplier_net,
            lambda r: r.supplier_net,
        ),
        Column("created", _l("Started"), SettlementRun.created_at, lambda r: r.created_at),
        Column("released", _l("Released"), SettlementRun.released_at, lambda r: r.released_at),
    ],
    default="-created",
    tiebreak=SettlementRun.id,
)

STATEMENTS = Listing(
    [
        Column("number", _l("Statement"), Statement.number, lambda s: s.number),
        Column("kind", _l("Kind"), Statement.kind, lambda s: STATEMENT_KIND_LABELS[s.kind]),
        Column("org", _l("Organisation"), _org_code(), lambda s: s.org.code),
        Column("org_name", _l("Name"), None, lambda s: s.org.name),
        Column("period", _l("Period"), Statement.period, lambda s: s.period),
        Column(
            "status", _l("Status"), Statement.status, lambda s: STATEMENT_STATUS_LABELS[s.status]
        ),
        Column("lines", _l("Lines"), Statement.line_count, lambda s: s.line_count),
        Column("net", _l("Net"), Statement.net, lambda s: s.net),
        Column("vat", _l("VAT"), Statement.vat, lambda s: s.vat),
        Column("gross", _l("Gross"), Statement.gross, lambda s: s.gross),
        Column("paid_on", _l("Paid on"), Statement.paid_on, lambda s: s.paid_on),
    ],
    default="-period",
    tiebreak=Statement.id,
    default_order=lambda descending: [
        Statement.period.desc(),
        Statement.kind,
        _org_code(),
        Statement.id,
    ],
)

CHARGEBACKS = Listing(
    [
        Column("claim", _l("Claim"), _claim_column(Claim.number), lambda cb: cb.claim.number),
        Column("vin", _l("VIN"), _claim_column(Claim.vin), lambda cb: cb.claim.vin),
        Column(
            "statement",
            _l("Statement"),
            _statement_column(Statement.number),
            lambda cb: cb.statement.number,
        ),
        Column(
            "period",
            _l("Period"),
            _statement_column(Statement.period),
            lambda cb: cb.statement.period,
        ),
        Column("amount", _l("Amount"), Chargeback.amount, lambda cb: cb.amount),
        Column(
            "status",
            _l("Status"),
            Chargeback.status,
            lambda cb: CHARGEBACK_STATUS_LABELS[cb.status],
        ),
        Column("disputed", _l("Disputed on"), Chargeback.disputed_at, lambda cb: cb.disputed_at),
    ],
    default="status",
    tiebreak=Chargeback.id,
    # What waits for the supplier first (open lines), then the oldest period, by claim.
    default_order=lambda descending: [
        sa.case((Chargeback.status == ChargebackStatus.OPEN, 0), else_=1),
        _statement_column(Statement.period),
        _claim_column(Claim.number),
        Chargeback.id,
    ],
)


def _supplier_name():
    return (
        sa.select(Organisation.name)
        .where(Organisation.id == Chargeback.supplier_id)
        .correlate(Chargeback)
        .scalar_subquery()
    )


# The auditors' disputes: chargebacks a supplier disputed, waiting for a decision or decided.
DISPUTES = Listing(
    [
        Column("disputed", _l("Disputed"), Chargeback.disputed_at, lambda cb: cb.disputed_at),
        Column("supplier", _l("Supplier"), _supplier_name(), lambda cb: cb.statement.org.name),
        Column("claim", _l("Claim"), _claim_column(Claim.number), lambda cb: cb.claim.number),
        Column("vin", _l("VIN"), _claim_column(Claim.vin), lambda cb: cb.claim.vin),
        Column(
            "statement",
            _l("Statement"),
            _statement_column(Statement.number),
            lambda cb: cb.statement.number,
        ),
        Column("amount", _l("Amount"), Chargeback.amount, lambda cb: cb.amount),
        Column(
            "status",
            _l("Status"),
            Chargeback.status,
            lambda cb: CHARGEBACK_STATUS_LABELS[cb.status],
        ),
        Column("reason", _l("Reason"), None, lambda cb: cb.dispute_reason),
        Column("evidence", _l("Evidence"), None, lambda cb: len(cb.evidence)),
        Column("resolved", _l("Decided on"), Chargeback.resolved_at, lambda cb: cb.resolved_at),
        Column("resolution", _l("Decision reason"), None, lambda cb: cb.resolution_reason),
    ],
    default="disputed",  # the oldest dispute first
    tiebreak=Chargeback.id,
)


def _line_status(line) -> str:
    """A line's status as the page shows it: a supplier line's chargeback status, else none."""
    if line.kind == "chargeback":
        return labels.label(line.status, "chargeback_status")
    return ""


# A statement's lines (queries.statement_lines sorts them; the keys here are what the URL may
# ask for): the page and its export, "claim" by default as the statement is printed.
STATEMENT_LINES = Listing(
    [
        Column("claim", _l("Claim"), "claim", lambda line: line.claim_number),
        Column("description", _l("Description"), None, lambda line: line.description),
        Column("amount", _l("Amount"), "amount", lambda line: line.amount),
        Column("status", _l("Status"), "status", _line_status),
    ],
    default="claim",
    tiebreak=None,
)


def _run_status(row) -> str:
    return labels.label(row["statement"].status.value, "statement_status")


def _of_statement(name: str):
    return lambda row: getattr(row["statement"], name)


# The statements of a run, per kind (queries.totals_with_previous, computed in Python): by
# organisation code by default; the biggest nets or differences on asking.
RUN_TOTALS = Listing(
    [
        keyed("code", _l("Code"), itemgetter("code")),
        keyed("name", _l("Name"), itemgetter("name")),
        keyed("statement", _l("Statement"), _of_statement("number")),
        Column("status", _l("Status"), lambda r: r["statement"].status.value, _run_status),
        keyed("lines", _l("Lines"), _of_statement("line_count")),
        keyed("net", _l("Net"), _of_statement("net")),
        keyed("vat", _l("VAT"), _of_statement("vat")),
        keyed("gross", _l("Gross"), _of_statement("gross")),
        keyed("previous", _l("Previous net"), itemgetter("previous_net")),
        keyed("difference", _l("Difference"), itemgetter("difference")),
    ],
    default="code",
    tiebreak=itemgetter("code"),
)
