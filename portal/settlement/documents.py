"""Statement documents (结算单): the PDF a worker renders and stores, the CSV a download streams.

The PDF is printed in Chinese and English side by side: a worker has no request and so no
reader's language, and the OEM and the station or supplier file the same paper. Its labels are
fixed print text (the template and `STATUS_TEXT` below); line descriptions come from the
translation catalogue in both languages. `render_statement_pdf` and `render_statement_pdfs` are
jobs (never run inside a web request, except in the in-process mode without Redis, where every
job is): they store the file under `<UPLOAD_FOLDER>/statements/` with a random name, and
`pdf_path` serves it only while it is current, that is rendered after the statement's last change
(released, disputed, waived, final, paid...). Whoever makes such a change queues a new render
(`operations.queue_statement_pdf`).

The CSV follows the reader's language (it is produced while a request streams it) and starts
with a byte order mark so that Excel reads the UTF-8 Chinese right.

WeasyPrint is imported inside the renderer: it is heavy, and only the workers need it.
"""

from __future__ import annotations

import csv
import io
import logging
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.claims import attachments
from portal.db import utcnow
from portal.extensions import db
from portal.jobs import set_progress
from portal.masterdata.models import OEM_CODE, Organisation
from portal.settlement import engine
from portal.settlement.models import Chargeback, Statement, StatementKind
from portal.settlement.queries import Line, iter_statement_lines

log = logging.getLogger(__name__)

PDF_FOLDER = "statements"
STATEMENT_JOB = "portal.settlement.documents:render_statement_pdf"
RUN_JOB = "portal.settlement.documents:render_statement_pdfs"
TEMPLATE = "settlement/pdf/statement.html"

# Fixed print text of the bilingual PDF, (Chinese, English), like the template's labels.
TITLE_TEXT = {
    StatementKind.STATION: ("结算单", "Settlement statement"),
    StatementKind.SUPPLIER: ("索赔追偿单", "Supplier chargeback statement"),
}
ORG_TEXT = {
    StatementKind.STATION: "服务站 Station",
    StatementKind.SUPPLIER: "供应商 Supplier",
}
STATUS_TEXT = {
    # statements
    "draft": "草稿 Draft",
    "released": "已发布 Released",
    "final": "已确认 Final",
    "paid": "已付款 Paid",
    # chargebacks (supplier statement lines)
    "open": "待确认 Open",
    "accepted": "已接受 Accepted",
    "disputed": "争议中 Disputed",
    "upheld": "维持追偿 Upheld",
    "waived": "已豁免 Waived",
}

CSV_COLUMNS = (
    _l("Statement number"),
    _l("Period"),
    _l("Organisation code"),
    _l("Claim number"),
    _l("Kind"),
    _l("Description"),
    _l("Amount"),
    _l("Status"),
)
BOM = "\ufeff"


# -- the PDF ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PdfLine:
    """A statement line as printed: amounts already formatted, status in both languages."""

    claim_number: str
    description: str
    description_zh: str  # "" when the catalogue gives nothing other than the English
    amount: str
    status: str
    counts: bool = True


@dataclass(frozen=True)
class StatementDocument:
    """Everything the PDF prints; built from the database by `statement_document`."""

    issuer: str
    title_zh: str
    title_en: str
    number: str
    period: str
    org_label: str
    org_code: str
    org_name: str
    status: str
    released_on: str
    paid_on: str
    paid_reference: str
    generated_at: str
    show_status: bool
    lines: list[PdfLine]
    net: str
    vat_rate: str
    vat: str
    gross: str

    @property
    def waived_count(self) -> int:
        return sum(not line.counts for line in self.lines)


def money_text(amount: Decimal) -> str:
    """1234.5 -> "1,234.50": amounts are rounded lines already; this only writes them."""
    return f"{amount:,.2f}"


def percent_text(rate: Decimal) -> str:
    """0.13 -> "13%"."""
    return f"{(rate * 100).normalize():f}%"


def _local(moment: datetime | None, fmt: str) -> str:
    return moment.astimezone(engine.zone()).strftime(fmt) if moment else ""


def _issuer() -> str:
    """The company header: the OEM organisation's name (e.g. 华星汽车 Huaxing Motors)."""
    return (
        db.session.scalar(sa.select(Organisation.name).where(Organisation.code == OEM_CODE)) or ""
    )


def _lines(statement: Statement) -> list[PdfLine]:
    with force_locale("en"):
        lines = list(iter_statement_lines(statement))
    with force_locale("zh_CN"):
        chinese = {
            (line.kind, line.id): line.description for line in iter_statement_lines(statement)
        }
    return [_pdf_line(line, chinese.get((line.kind, line.id), "")) for line in lines]


def _pdf_line(line: Line, chinese: str) -> PdfLine:
    return PdfLine(
        claim_number=line.claim_number,
        description=line.description,
        description_zh=chinese if chinese != line.description else "",
        amount=money_text(line.amount),
        status=STATUS_TEXT.get(line.status, line.status),
        counts=line.counts,
    )


def statement_document(
    statement: Statement, generated_at: datetime | None = None
) -> StatementDocument:
    org = db.session.get(Organisation, statement.org_id)
    title_zh, title_en = TITLE_TEXT[statement.kind]
    return StatementDocument(
        issuer=_issuer(),
        title_zh=title_zh,
        title_en=title_en,
        number=statement.number,
        period=statement.period,
        org_label=ORG_TEXT[statement.kind],
        org_code=org.code if org else "",
        org_name=org.name if org else "",
        status=STATUS_TEXT.get(statement.status.value, statement.status.value),
        released_on=_local(statement.released_at, "%Y-%m-%d"),
        paid_on=statement.paid_on.isoformat() if statement.paid_on else "",
        paid_reference=statement.paid_reference or "",
        generated_at=_local(generated_at or utcnow(), "%Y-%m-%d %H:%M"),
        show_status=statement.kind is StatementKind.SUPPLIER,
        lines=_lines(statement),
        net=money_text(statement.net),
        vat_rate=percent_text(statement.run.vat_rate),
        vat=money_text(statement.vat),
        gross=money_text(statement.gross),
    )


def render_pdf(document: StatementDocument) -> bytes:
    """The PDF of a statement document (needs an app context for the template)."""
    from weasyprint import HTML

    return HTML(string=render_template(TEMPLATE, doc=document)).write_pdf()


def statement_pdf_bytes(statement: Statement, generated_at: datetime | None = None) -> bytes:
    """The statement as a PDF: company header, facts, lines, totals, "Page X of Y"."""
    return render_pdf(statement_document(statement, generated_at))


# -- storing the PDF (jobs) ------------------------------------------------------------------------


def storage_dir() -> Path:
    path = attachments.storage_dir() / PDF_FOLDER
    path.mkdir(parents=True, exist_ok=True)
    return path


def last_changed(statement: Statement) -> datetime:
    """When the statement last changed in a way its PDF shows: created, released, a chargeback
    accepted / disputed / resolved, final, paid."""
    moments = [statement.created_at, statement.released_at, statement.final_at, statement.paid_at]
    if statement.kind is StatementKind.SUPPLIER:
        moments.extend(
            db.session.execute(
                sa.select(
                    sa.func.max(Chargeback.accepted_at),
                    sa.func.max(Chargeback.disputed_at),
                    sa.func.max(Chargeback.resolved_at),
                ).where(Chargeback.statement_id == statement.id)
            ).one()
        )
    return max(moment for moment in moments if moment is not None)


def pdf_path(statement: Statement) -> Path | None:
    """The rendered PDF when it exists and is current (rendered after the last change)."""
    if not statement.pdf_stored_name or statement.pdf_rendered_at is None:
        return None
    if statement.pdf_rendered_at < last_changed(statement):
        return None
    path = storage_dir() / statement.pdf_stored_name
    return path if path.is_file() else None


def render_statement_pdf(statement_id: int) -> str:
    """The job: render one statement's PDF (any status, drafts too) and store it in place of the
    previous one. Safe to run twice or concurrently: the newest render wins, the other's file is
    removed. Answers "rendered", "superseded" (a newer render was stored meanwhile) or "skipped"
    (the statement is gone: its draft was discarded)."""
    statement = db.session.get(Statement, statement_id)
    if statement is None:
        return "skipped"
    # The render shows the statement as read from here on: it is current unless it changes
    # after this instant.
    started = utcnow()
    data = statement_pdf_bytes(statement, generated_at=started)
    name = secrets.token_hex(16) + ".pdf"
    path = storage_dir() / name
    path.write_bytes(data)
    try:
        locked = db.session.scalars(
            sa.select(Statement)
            .where(Statement.id == statement_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one_or_none()
        if locked is None or (locked.pdf_rendered_at and locked.pdf_rendered_at > started):
            db.session.rollback()
            path.unlink(missing_ok=True)
            return "skipped" if locked is None else "superseded"
        previous = locked.pdf_stored_name
        locked.pdf_stored_name = name
        locked.pdf_rendered_at = started
        db.session.commit()
    except BaseException:
        db.session.rollback()
        path.unlink(missing_ok=True)
        raise
    if previous and previous != name:
        (storage_dir() / previous).unlink(missing_ok=True)
    log.info("statement %s: PDF %s (%d bytes)", statement_id, name, len(data))
    return "rendered"


def render_statement_pdfs(run_id: int) -> int:
    """The job: render the PDF of every statement of a run whose PDF is not current, committing
    each; reports progress. A retry renders only what is still missing. Answers how many."""
    ids = db.session.scalars(
        sa.select(Statement.id).where(Statement.run_id == run_id).order_by(Statement.id)
    ).all()
    rendered = 0
    set_progress(0, step="pdf")
    for done, statement_id in enumerate(ids, start=1):
        statement = db.session.get(Statement, statement_id)
        current = statement is None or pdf_path(statement) is not None
        if not current and render_statement_pdf(statement_id) == "rendered":
            rendered += 1
        set_progress(done * 100 // len(ids), step="pdf")
    set_progress(100, step="pdf")
    return rendered


# -- the CSV ---------------------------------------------------------------------------------------


def _row(values: Iterable[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(values)
    return buffer.getvalue()


def _text(value: str) -> str:
    """A text cell Excel will not take for a formula (=, +, -, @ at the start)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def statement_csv(statement: Statement) -> Iterator[str]:
    """The statement as CSV rows (a header, one row per line, then the totals), streamed: the
    view wraps it in `stream_with_context` and sends it as UTF-8. The first row starts with a
    byte order mark. Amounts are plain `0.00`; a waived chargeback keeps its row with the status
    `waived` and is not in the net. The totals rows carry `net`, `vat` and `gross` as their
    kind."""
    org = db.session.get(Organisation, statement.org_id)
    head = [_text(statement.number), statement.period, _text(org.code if org else "")]
    yield BOM + _row(str(column) for column in CSV_COLUMNS)
    for line in iter_statement_lines(statement):
        yield _row(
            [
                *head,
                _text(line.claim_number),
                line.kind,
                _text(line.description),
                f"{line.amount:.2f}",
                line.status,
            ]
        )
    yield _row([])
    totals = (
        ("net", _("Net"), statement.net),
        ("vat", _("VAT %(rate)s", rate=percent_text(statement.run.vat_rate)), statement.vat),
        ("gross", _("Gross"), statement.gross),
    )
    for kind, label, amount in totals:
        yield _row([*head, "", kind, label, f"{amount:.2f}", ""])
