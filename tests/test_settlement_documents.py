"""Statement documents: a worker renders each statement as a bilingual PDF (company header, lines,
totals, page numbers) and stores it; a download streams it as CSV that Excel reads.

Amounts from the test world (see test_settlement_engine): a repair claim of station A pays
230.00 (VAT 29.90) and charges 225.00 back to supplier A (VAT 29.25).
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
import uuid
import zlib
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask import render_template

from portal import jobs
from portal.db import utcnow
from portal.extensions import db
from portal.settlement import documents
from portal.settlement import operations as settle
from portal.settlement.models import Statement, StatementKind, StatementStatus
from portal.settlement.queries import statement_lines
from tests.conftest import redis_url, test_config
from tests.factories import ClaimFactory, Fleet, SettlementRunFactory
from tests.test_settlement_engine import (
    TODAY,
    chargeback_of,
    release,
    statement_of,
)


@pytest.fixture
def fleet(world):
    from portal.claims.models import ClaimSettings

    ClaimSettings.current().auto_approve_enabled = False
    world.oem.name = "华星汽车 Huaxing Motors"
    return Fleet.build(world)


@pytest.fixture(autouse=True)
def uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path / "uploads"))
    return tmp_path / "uploads"


def pdf_text(data: bytes, tmp_path) -> str:
    """The PDF's text as poppler's pdftotext reads it (CI installs poppler-utils)."""
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) reads the PDF back")
    path = tmp_path / "read.pdf"
    path.write_bytes(data)
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def embedded_fonts(data: bytes) -> str:
    chunks = [data.decode("latin-1")]
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            chunks.append(zlib.decompress(stream).decode("latin-1"))
        except zlib.error:
            continue
    return "\n".join(chunks)


def stored(uploads) -> list[str]:
    folder = uploads / "statements"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def csv_rows(statement) -> list[list[str]]:
    text = "".join(documents.statement_csv(statement))
    assert text.startswith("\ufeff")  # the BOM: Excel reads the UTF-8 right
    return list(csv.reader(io.StringIO(text[1:])))


@pytest.fixture
def draft(world, fleet):
    """A draft run of two claims: station A's statement and supplier A's, two lines each."""
    claims = [ClaimFactory(fleet=fleet, approved=True), ClaimFactory(fleet=fleet, approved=True)]
    return SettlementRunFactory(world=world), claims


# -- the PDF ---------------------------------------------------------------------------------------


def test_a_worker_renders_a_draft_statement_and_stores_its_pdf(world, draft, uploads, tmp_path):
    run, claims = draft
    statement = statement_of(run, StatementKind.STATION, world.stations[0])
    assert documents.pdf_path(statement) is None  # nothing rendered yet

    assert documents.render_statement_pdf(statement.id) == "rendered"
    db.session.refresh(statement)
    path = documents.pdf_path(statement)
    assert path is not None and path.parent == uploads / "statements"
    assert re.fullmatch(r"[0-9a-f]{32}\.pdf", path.name)
    assert statement.pdf_rendered_at is not None

    data = path.read_bytes()
    assert data.startswith(b"%PDF")
    assert "NotoSansCJK" in embedded_fonts(data)  # Chinese in an embedded CJK font
    text = pdf_text(data, tmp_path)
    for expected in (
        "华星汽车 Huaxing Motors",  # the company header
        "结算单",
        "Settlement statement",
        statement.number,
        statement.period,
        "ST-A Station A",
        "草稿 Draft",
        *(claim.number for claim in claims),
        "净额 Net",
        "460.00",  # 2 x 230.00
        "增值税 VAT 13%",
        "59.80",
        "含税总额 Gross",
        "519.80",
        "Page 1 of 1",
    ):
        assert expected in text, expected


def test_a_supplier_statement_shows_each_chargeback_with_its_status_and_the_waived_one_struck(
    world, draft, tmp_path
):
    run, (kept, waived) = draft
    release(world, run)
    supplier, auditor = world.users["supplier"], world.users["auditor"]
    settle.accept_chargeback(chargeback_of(kept), supplier)
    settle.dispute_chargeback(chargeback_of(waived), supplier, "Misuse")
    settle.resolve_chargeback(chargeback_of(waived), auditor, "waive", "Oil log shows misuse")
    db.session.commit()
    statement = statement_of(run, StatementKind.SUPPLIER, world.suppliers[0])
    db.session.refresh(statement)
    assert (statement.net, statement.status) == (Decimal("225.00"), StatementStatus.FINAL)

    document = documents.statement_document(statement)
    assert [(line.claim_number, line.status, line.counts) for line in document.lines] == sorted(
        [
            (kept.number, "已接受 Accepted", True),
            (waived.number, "已豁免 Waived", False),
        ]
    )
    html = render_template(documents.TEMPLATE, doc=document)
    rows = re.findall(r'<tr( class="waived")?><td class="nowrap">([^<]+)</td>', html)
    assert sorted(rows) == sorted([("", kept.number), (' class="waived"', waived.number)])

    assert documents.render_statement_pdf(statement.id) == "rendered"
    db.session.refresh(statement)
    text = pdf_text(documents.pdf_path(statement).read_bytes(), tmp_path)
    for expected in (
        "索赔追偿单",
        "Supplier chargeback statement",
        "SU-A Supplier A",
        "已确认 Final",
        kept.number,
        waived.number,
        "已接受 Accepted",
        "已豁免 Waived",
        "not counted in the totals",
        "225.00",  # net: the waived line is out
        "29.25",
        "254.25",
    ):
        assert expected in text, expected
    assert "450.00" not in text  # the total with the waived line


def test_a_change_after_the_render_makes_the_pdf_stale_until_it_is_rendered_again(
    world, draft, uploads, tmp_path
):
    run, _ = draft
    release(world, run)
    statement = statement_of(run, StatementKind.STATION, world.stations[0])
    documents.render_statement_pdf(statement.id)
    db.session.refresh(statement)
    first = statement.pdf_stored_name
    assert documents.pdf_path(statement) is not None

    settle.mark_paid(statement, world.users["finance"], TODAY, "BANK-42")
    db.session.commit()
    assert documents.pdf_path(statement) is None  # printed before the payment

    assert documents.render_statement_pdf(statement.id) == "rendered"
    db.session.refresh(statement)
    assert statement.pdf_stored_name != first
    assert stored(uploads) == [statement.pdf_stored_name]  # the previous file is gone
    text = pdf_text(documents.pdf_path(statement).read_bytes(), tmp_path)
    for expected in ("已付款 Paid", TODAY.isoformat(), "BANK-42"):
        assert expected in text, expected


def test_a_render_older_than_the_stored_one_is_thrown_away(world, draft, uploads):
    run, _ = draft
    statement = statement_of(run, StatementKind.STATION, world.stations[0])
    documents.render_statement_pdf(statement.id)
    db.session.refresh(statement)
    newest = statement.pdf_stored_name
    # Another worker's render that started later was stored first.
    statement.pdf_rendered_at = utcnow() + timedelta(minutes=1)
    db.session.commit()

    assert documents.render_statement_pdf(statement.id) == "superseded"
    db.session.refresh(statement)
    assert statement.pdf_stored_name == newest
    assert stored(uploads) == [newest]


def test_a_statement_discarded_before_its_render_is_skipped(world, draft, uploads):
    run, _ = draft
    statement_id = statement_of(run, StatementKind.STATION, world.stations[0]).id
    settle.discard_run(run, world.users["finance"])
    db.session.commit()
    assert documents.render_statement_pdf(statement_id) == "skipped"
    assert stored(uploads) == []


def test_discarding_a_draft_deletes_the_pdfs_rendered_for_it(world, draft, uploads):
    run, _ = draft
    statement = statement_of(run, StatementKind.STATION, world.stations[0])
    documents.render_statement_pdf(statement.id)
    assert len(stored(uploads)) == 1
    settle.discard_run(run, world.users["finance"])
    db.session.commit()
    assert stored(uploads) == []


def test_the_run_job_renders_every_statement_once_and_reports_progress(world, draft, uploads):
    run, _ = draft
    release(world, run)
    statements = list(db.session.scalars(sa.select(Statement).where(Statement.run_id == run.id)))
    assert len(statements) == 2

    job_id = settle.queue_statement_pdfs(run, world.users["finance"])
    db.session.commit()  # the caller commits; the job starts then
    found = jobs.job_status(job_id)
    assert (found.status, found.result, found.progress) == ("finished", 2, 100)
    for statement in statements:
        db.session.refresh(statement)
        assert documents.pdf_path(statement) is not None
    assert len(stored(uploads)) == 2

    # Run again (a retry, a second click): every PDF is current, nothing is rendered twice.
    assert documents.render_statement_pdfs(run.id) == 0
    assert len(stored(uploads)) == 2


def test_a_long_statement_runs_over_pages_numbered_x_of_y_under_a_repeated_header(
    world, draft, tmp_path
):
    run, _ = draft
    statement = statement_of(run, StatementKind.STATION, world.stations[0])
    document = documents.statement_document(statement)
    many = [
        replace(line, claim_number=f"RP-ST-A-2611-{n:04d}")
        for n, line in enumerate(document.lines * 50, start=1)
    ]
    text = pdf_text(documents.render_pdf(replace(document, lines=many)), tmp_path)
    pages = text.count("\f")
    assert pages >= 3
    assert "Page 1 of" in text and f"Page {pages} of {pages}" in text
    assert text.count("索赔单号 Claim no.") == pages  # the table header repeats on every page
    assert all(f"RP-ST-A-2611-{n:04d}" in text for n in range(1, 101))


@pytest.fixture
def redis_app(database_url, tmp_path):
    from portal import create_app

    url = redis_url()
    if url is None:
        pytest.skip("Redis is not reachable here; CI always has it")
    app = create_app(test_config(database_url, REDIS_URL=url, UPLOAD_FOLDER=str(tmp_path / "rq")))
    yield app
    if "portal_redis" in app.extensions:
        app.extensions["portal_redis"].close()


@pytest.mark.redis
def test_with_redis_a_worker_renders_the_run_and_reports_its_progress(
    world, draft, redis_app, tmp_path
):
    from rq import Queue, SimpleWorker

    run, _ = draft
    with redis_app.app_context():
        connection = jobs.redis_connection()
        queue = Queue(f"statement-pdfs-{uuid.uuid4().hex}", connection=connection)
        job_id = jobs.enqueue(documents.RUN_JOB, run.id, queue=queue.name)
        assert jobs.job_status(job_id).status == "queued"  # waits for a worker
        try:
            SimpleWorker([queue], connection=connection).work(burst=True)
            found = jobs.job_status(job_id)
        finally:
            queue.delete(delete_jobs=True)
            connection.delete(f"rq:job:{job_id}", f"rq:results:{job_id}")
    assert (found.status, found.result, found.progress) == ("finished", 2, 100)
    assert found.meta["step"] == "pdf"
    assert len(stored(tmp_path / "rq")) == 2


# -- the CSV ---------------------------------------------------------------------------------------


def test_the_csv_has_a_row_per_line_and_the_totals(world, draft):
    run, claims = draft
    statement = statement_of(run, StatementKind.STATION, world.stations[0])
    rows = csv_rows(statement)
    assert rows[0] == [
        "Statement number",
        "Period",
        "Organisation code",
        "Claim number",
        "Kind",
        "Description",
        "Amount",
        "Status",
    ]
    lines = statement_lines(statement)
    assert rows[1 : 1 + len(lines)] == [
        [
            statement.number,
            statement.period,
            "ST-A",
            line.claim_number,
            "claim",
            line.description,
            "230.00",
            "draft",
        ]
        for line in lines
    ]
    assert sorted(row[3] for row in rows[1:3]) == sorted(claim.number for claim in claims)
    assert rows[3] == []
    assert [(row[4], row[5], row[6]) for row in rows[4:]] == [
        ("net", "Net", "460.00"),
        ("vat", "VAT 13%", "59.80"),
        ("gross", "Gross", "519.80"),
    ]
    assert sum(Decimal(row[6]) for row in rows[1:3]) == statement.net


def test_the_csv_keeps_a_waived_chargeback_out_of_the_net(world, draft):
    run, (kept, waived) = draft
    release(world, run)
    supplier = world.users["supplier"]
    settle.dispute_chargeback(chargeback_of(waived), supplier, "Misuse")
    settle.resolve_chargeback(chargeback_of(waived), world.users["auditor"], "waive", "Agreed")
    db.session.commit()
    statement = statement_of(run, StatementKind.SUPPLIER, world.suppliers[0])
    db.session.refresh(statement)
    rows = csv_rows(statement)
    by_claim = {row[3]: row for row in rows[1:3]}
    assert (by_claim[kept.number][4], by_claim[kept.number][6], by_claim[kept.number][7]) == (
        "chargeback",
        "225.00",
        "open",
    )
    assert (by_claim[waived.number][6], by_claim[waived.number][7]) == ("225.00", "waived")
    totals = {row[4]: row[6] for row in rows[4:]}
    assert totals == {"net": "225.00", "vat": "29.25", "gross": "254.25"}
