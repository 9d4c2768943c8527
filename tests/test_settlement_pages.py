"""The settlement pages: finance starts a run, inspects the draft and releases it; stations and
suppliers read their own released statements; a supplier accepts or disputes each chargeback with
evidence, an auditor upholds or waives; finance marks statements paid; every statement downloads
as CSV and (rendered by a job) as PDF; a failed or stalled run is retried or resumed."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from babel.dates import format_skeleton

from portal.claims.models import ClaimSettings, ClaimStatus
from portal.db import utcnow
from portal.settlement import engine
from portal.settlement.models import (
    Chargeback,
    ChargebackEvidence,
    ChargebackStatus,
    RunStatus,
    SettlementRun,
    SettlementSettings,
    Statement,
    StatementKind,
    StatementStatus,
)
from tests import words_support
from tests.factories import ClaimFactory, Fleet

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
CURRENT = engine.current_period


def confirm_of(page: str, testid: str) -> str:
    """The question the button `testid` asks before its form is sent (its data-confirm)."""
    tag = re.search(rf'<button[^>]*data-testid="{testid}"[^>]*>', page)
    assert tag is not None, testid
    question = re.search(r'data-confirm="([^"]*)"', tag.group(0))
    assert question is not None, f"{testid} sends at one click"
    return question.group(1).replace("&#39;", "'")


@pytest.fixture
def login_as(switching_login):
    return switching_login


@pytest.fixture(autouse=True)
def uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path))
    return tmp_path


@pytest.fixture
def fleet(world):
    ClaimSettings.current().auto_approve_enabled = False
    return Fleet.build(world)


@pytest.fixture
def claims(world, fleet, db_session):
    """Station A's claim (charged to supplier A) and station B's claim (supplier B's part)."""
    return [
        ClaimFactory(fleet=fleet, approved=True),
        ClaimFactory(
            fleet=fleet,
            approved=True,
            station="station_b",
            causal_part="P-200",
            lines=[{"kind": "part", "part_number": "P-200", "qty": 2}],
        ),
    ]


def as_month(period: str, locale: str = "en") -> str:
    """A period ("2026-11") as a reader writes it, by Babel itself ("Nov 2026", "2026年11月")."""
    year, month = (int(part) for part in period.split("-"))
    return format_skeleton("yMMM", date(year, month, 1), locale=locale)


def test_a_period_reads_as_a_month_on_every_settlement_page_in_both_languages(
    released, login_as, world
):
    """Settlement periods are months in the reader's words ("Nov 2026" / "2026年11月"): on the
    runs, the run, the statements, the supplier's chargebacks and the release notification;
    the period stays YYYY-MM only where it is typed or linked."""
    period = released.period
    for role, urls in (
        ("finance", ["/settlement/", f"/settlement/runs/{released.id}", "/settlement/statements"]),
        ("supplier", ["/settlement/chargebacks"]),
        ("station", ["/notifications/"]),
    ):
        client = login_as(role)
        for lang, locale in (("en", "en"), ("zh_CN", "zh_Hans_CN")):
            client.post(f"/lang/{lang}")
            for url in urls:
                page = re.sub(r"<input[^>]*>", "", text(client.get(url)))  # typed: YYYY-MM
                shown = " ".join(words_support.visible_text(page))
                assert as_month(period, locale) in shown, (role, lang, url)
                assert period not in shown, (role, lang, url)
        client.post("/lang/en")


def text(response) -> str:
    return response.get_data(as_text=True)


def start(client, period: str | None = None):
    return client.post("/settlement/runs", data={"period": period or CURRENT()})


def the_run(db_session) -> SettlementRun:
    return db_session.scalar(sa.select(SettlementRun).order_by(SettlementRun.id.desc()))


def statement_of(db_session, run, kind: StatementKind, org) -> Statement:
    return db_session.scalar(
        sa.select(Statement).where(
            Statement.run_id == run.id, Statement.kind == kind, Statement.org_id == org.id
        )
    )


@pytest.fixture
def released(login_as, claims, db_session):
    """A released run of the current month; finance is signed in."""
    client = login_as("finance")
    start(client)
    run = the_run(db_session)
    assert client.post(f"/settlement/runs/{run.id}/release").status_code == 302
    assert run.status is RunStatus.RELEASED
    return run


def chargeback_of(db_session, claim) -> Chargeback:
    return db_session.scalar(sa.select(Chargeback).where(Chargeback.claim_id == claim.id))


# -- finance: start, inspect, release --------------------------------------------------------------


def test_finance_starts_a_run_and_lands_on_its_draft_with_totals_per_station_and_supplier(
    login_as, claims, world, db_session
):
    client = login_as("finance")
    home = text(client.get("/settlement/"))
    assert f'value="{CURRENT()}"' in home  # the current month is the default
    assert "No settlement run yet" in home

    response = start(client)
    run = the_run(db_session)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/settlement/runs/{run.id}")
    assert run.status is RunStatus.DRAFT

    page = text(client.get(f"/settlement/runs/{run.id}"))
    assert "is computed: inspect the draft" in page
    assert 'data-run-status="draft"' in page
    assert 'data-testid="release"' in page and 'data-testid="discard"' in page
    # Releasing moves money: it asks first, naming the claims and both totals.
    release = confirm_of(page, "release")
    assert f"{run.claim_count} claims" in release and "330.10 credited to stations" in release
    assert f"{run.supplier_net:,.2f} charged back to suppliers" in release
    # Station A: 1 x 100.00 + 10.00 handling + 1.50 h x 80.00 = 230.00; station B: 2 x 45.50
    # + 9.10 handling = 100.10.
    assert 'data-org="ST-A"' in page and "230.00" in page
    assert 'data-org="ST-B"' in page and "100.10" in page
    station_a = statement_of(db_session, run, StatementKind.STATION, world.stations[0])
    assert f"/settlement/statements/{station_a.id}" in page

    suppliers = text(client.get(f"/settlement/runs/{run.id}?kind=supplier"))
    assert 'data-org="SU-A"' in suppliers and "225.00" in suppliers
    assert 'data-org="SU-B"' in suppliers
    searched = text(client.get(f"/settlement/runs/{run.id}?kind=station&q=st-b"))
    assert 'data-org="ST-B"' in searched and 'data-org="ST-A"' not in searched

    listed = text(client.get("/settlement/"))
    assert 'data-testid="open-run"' in listed and f'data-run="{run.id}"' in listed
    assert 'class="table-primary"' in listed  # the open run is highlighted in the list


def test_the_draft_compares_each_organisation_with_the_previous_released_run(
    released, login_as, world, fleet, db_session
):
    ClaimFactory(fleet=fleet, approved=True)  # station A again, next run
    client = login_as("finance")
    start(client)
    run = the_run(db_session)
    assert run.id != released.id and run.status is RunStatus.DRAFT
    page = text(client.get(f"/settlement/runs/{run.id}"))
    assert f"Differences from the previous released run, {as_month(released.period)}" in page
    row = re.search(r'<tr data-org="ST-A">.*?</tr>', page, re.S).group(0)
    assert "230.00" in row  # this run and the previous one
    assert 'class="text-body-secondary">0.00<' in row  # no difference
    row_b = re.search(r'<tr data-org="ST-B">.*?</tr>', page, re.S)
    assert row_b is None  # nothing for station B this time


def test_a_future_month_or_a_bad_period_is_refused_with_the_operations_message(
    login_as, claims, db_session
):
    client = login_as("finance")
    future = (utcnow() + timedelta(days=62)).strftime("%Y-%m")
    response = start(client, future)
    assert response.status_code == 422
    assert (
        f"{as_month(future)} is in the future: settle the current month or an earlier one."
        in text(response)
    )
    assert "in the future" in text(response)
    bad = start(client, "2026-13")
    assert bad.status_code == 422
    assert "The period must be a month written YYYY-MM." in text(bad)
    assert db_session.scalar(sa.select(sa.func.count(SettlementRun.id))) == 0


def test_a_second_run_while_one_is_open_is_a_conflict(login_as, claims, db_session):
    client = login_as("finance")
    start(client)
    response = start(client)
    assert response.status_code == 409
    assert "is still open (draft): release or discard it first." in text(response)
    assert db_session.scalar(sa.select(sa.func.count(SettlementRun.id))) == 1


def test_the_progress_json_reports_status_progress_step_and_staleness(login_as, claims, db_session):
    client = login_as("finance")
    start(client)
    run = the_run(db_session)
    data = client.get(f"/settlement/runs/{run.id}/progress").get_json()
    assert data["status"] == "draft"
    assert data["progress"] == 100
    assert data["step"] == "draft"
    assert data["stale"] is False
    assert client.get("/settlement/runs/999999/progress").status_code == 404
    station = login_as("station")
    assert station.get(f"/settlement/runs/{run.id}/progress").status_code == 403


def test_releasing_settles_the_claims_and_shows_the_statements_to_their_owners(
    released, claims, world, db_session
):
    for claim in claims:
        db_session.refresh(claim)
        assert claim.status is ClaimStatus.SETTLED
    for org in world.stations:
        statement = statement_of(db_session, released, StatementKind.STATION, org)
        assert statement.status is StatementStatus.RELEASED


def test_a_station_sees_its_released_statement_and_not_another_stations_nor_a_draft(
    released, login_as, claims, world, fleet, db_session
):
    station_a = statement_of(db_session, released, StatementKind.STATION, world.stations[0])
    station_b = statement_of(db_session, released, StatementKind.STATION, world.stations[1])
    client = login_as("station")
    listed = text(client.get("/settlement/statements"))
    assert station_a.number in listed and station_b.number not in listed
    assert "/settlement/statements" in text(client.get("/dealer/"))  # the "Statements" nav item
    page = client.get(f"/settlement/statements/{station_a.id}")
    assert page.status_code == 200
    html = text(page)
    assert "230.00" in html and "29.90" in html and "259.90" in html  # net, VAT 13%, gross
    assert f'href="/claims/{claims[0].number}"' in html  # its own claim links to the claim
    assert 'data-testid="mark-paid"' not in html
    assert client.get(f"/settlement/statements/{station_b.id}").status_code == 404
    assert client.get(f"/settlement/statements/{station_b.id}.csv").status_code == 404
    assert client.get(f"/settlement/statements/{station_b.id}.pdf").status_code == 404

    # A new draft run: its statement of station A is finance's alone until released.
    ClaimFactory(fleet=fleet, approved=True)
    finance = login_as("finance")
    start(finance)
    draft = statement_of(db_session, the_run(db_session), StatementKind.STATION, world.stations[0])
    assert draft.status is StatementStatus.DRAFT
    assert 'data-testid="draft-alert"' in text(finance.get(f"/settlement/statements/{draft.id}"))
    client = login_as("station")
    assert client.get(f"/settlement/statements/{draft.id}").status_code == 404
    assert draft.number not in text(client.get("/settlement/statements"))


def test_discarding_a_draft_deletes_its_statements_and_frees_its_claims(
    login_as, claims, db_session
):
    client = login_as("finance")
    start(client)
    run = the_run(db_session)
    response = client.post(f"/settlement/runs/{run.id}/discard")
    assert response.status_code == 302
    assert run.status is RunStatus.DISCARDED
    assert db_session.scalar(sa.select(sa.func.count(Statement.id))) == 0
    assert "was discarded" in text(client.get(f"/settlement/runs/{run.id}"))
    # Discarding twice is no harm; releasing a discarded run is a conflict.
    assert client.post(f"/settlement/runs/{run.id}/discard").status_code == 302
    refused = client.post(f"/settlement/runs/{run.id}/release")
    assert refused.status_code == 409
    assert "Only a draft can be released; this run is discarded." in text(refused)
    start(client)
    assert the_run(db_session).status is RunStatus.DRAFT  # the claims are in the next run


def test_finance_filters_every_statement_by_kind_period_status_and_organisation(
    released, login_as, world, db_session
):
    client = login_as("finance")
    everything = text(client.get("/settlement/statements"))
    numbers = db_session.scalars(sa.select(Statement.number)).all()
    assert len(numbers) == 4 and all(n in everything for n in numbers)
    suppliers = text(client.get("/settlement/statements?kind=supplier"))
    assert all((n in suppliers) == n.startswith("C-") for n in numbers)
    by_org = text(client.get("/settlement/statements?q=st-b"))
    assert [n for n in numbers if n in by_org] == [n for n in numbers if n.endswith("ST-B")]
    assert "No statement matches." in text(client.get("/settlement/statements?period=2001-01"))
    assert "No statement matches." in text(client.get("/settlement/statements?status=paid"))
    assert text(client.get("/settlement/statements?kind=bogus")).count("data-statement=") == 4


# -- downloads -------------------------------------------------------------------------------------


def test_a_statement_downloads_as_csv(released, login_as, world, db_session):
    statement = statement_of(db_session, released, StatementKind.STATION, world.stations[0])
    client = login_as("station")
    # buffered: read the streamed body while the request is still open (the test client's
    # requests each run in a context of their own).
    response = client.get(f"/settlement/statements/{statement.id}.csv", buffered=True)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert (
        response.headers["Content-Disposition"] == f'attachment; filename="{statement.number}.csv"'
    )
    body = text(response)
    assert statement.number in body
    assert "230.00" in body and "259.90" in body


def test_a_statement_pdf_is_rendered_by_a_job_then_downloaded(
    released, login_as, world, db_session
):
    statement = statement_of(db_session, released, StatementKind.STATION, world.stations[0])
    client = login_as("station")
    pending = client.get(f"/settlement/statements/{statement.id}.pdf")
    assert pending.status_code == 202
    page = text(pending)
    assert "The PDF is being prepared." in page
    job_url = re.search(r'data-pdf-job-url="([^"]+)"', page).group(1)
    job = client.get(job_url).get_json()  # the job ran in-process (no Redis)
    assert job["status"] == "finished", job
    response = client.get(f"/settlement/statements/{statement.id}.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.get_data().startswith(b"%PDF")
    assert f"filename={statement.number}.pdf" in response.headers["Content-Disposition"]
    response.close()


# -- suppliers review, auditors resolve ------------------------------------------------------------


def test_the_supplier_home_lists_its_statements_with_open_lines_and_its_open_chargebacks(
    released, login_as, claims, world, db_session
):
    statement = statement_of(db_session, released, StatementKind.SUPPLIER, world.suppliers[0])
    other = statement_of(db_session, released, StatementKind.SUPPLIER, world.suppliers[1])
    client = login_as("supplier")
    page = text(client.get("/settlement/chargebacks"))
    assert statement.number in page and other.number not in page
    assert 'data-testid="open-count">1 open<' in page
    assert claims[0].number in page and claims[1].number not in page
    assert client.get(f"/settlement/statements/{other.id}").status_code == 404
    cb_other = chargeback_of(db_session, claims[1])
    assert client.get(f"/settlement/chargebacks/{cb_other.id}").status_code == 404


def test_the_supplier_accepts_a_line_and_its_statement_becomes_final(
    released, login_as, claims, world, db_session
):
    statement = statement_of(db_session, released, StatementKind.SUPPLIER, world.suppliers[0])
    cb = chargeback_of(db_session, claims[0])
    client = login_as("supplier")
    page = text(client.get(f"/settlement/statements/{statement.id}"))
    assert f'data-testid="accept-{cb.id}"' in page and f'data-testid="dispute-{cb.id}"' in page
    assert f'href="/claims/{claims[0].number}"' not in page  # a supplier never opens claims
    # The line's Accept asks first, showing the amount; nothing is accepted yet.
    asked = client.post(
        f"/settlement/chargebacks/{cb.id}/accept",
        data={"next": f"/settlement/statements/{statement.id}"},
    )
    assert asked.status_code == 200
    assert 'data-testid="accept-confirm"' in text(asked)
    assert f'data-testid="accept-total">{cb.amount:,.2f}<' in text(asked)
    assert cb.status is ChargebackStatus.OPEN
    response = client.post(
        "/settlement/chargebacks/accept",
        data={
            "id": cb.id,
            "confirmed": "yes",
            "total": str(cb.amount),
            "next": f"/settlement/statements/{statement.id}",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/settlement/statements/{statement.id}")
    assert cb.status is ChargebackStatus.ACCEPTED
    assert statement.status is StatementStatus.FINAL
    again = client.post(f"/settlement/chargebacks/{cb.id}/accept")
    assert again.status_code == 409
    # The status reads as a word inside the English sentence, as its label in Chinese.
    assert f"Chargeback for {cb.claim.number} is already accepted." in text(again)
    client.post("/lang/zh_CN")
    again = client.post(f"/settlement/chargebacks/{cb.id}/accept")
    assert again.status_code == 409
    assert f"{cb.claim.number} 的追偿已处于 已接受 状态。" in text(again)


def test_accept_all_accepts_every_open_line_of_the_statement(
    released, login_as, claims, world, db_session
):
    statement = statement_of(db_session, released, StatementKind.SUPPLIER, world.suppliers[1])
    client = login_as("supplier_b")
    assert 'data-testid="accept-all"' in text(client.get(f"/settlement/statements/{statement.id}"))
    response = client.post(f"/settlement/statements/{statement.id}/accept-all")
    assert response.status_code == 302
    assert chargeback_of(db_session, claims[1]).status is ChargebackStatus.ACCEPTED
    assert statement.status is StatementStatus.FINAL
    assert "One open line accepted." in text(client.get(response.headers["Location"]))
    other = login_as("supplier")
    assert other.post(f"/settlement/statements/{statement.id}/accept-all").status_code == 404


def test_a_supplier_disputes_with_png_evidence_and_an_auditor_waives_it(
    released, login_as, claims, world, db_session, uploads
):
    statement = statement_of(db_session, released, StatementKind.SUPPLIER, world.suppliers[0])
    cb = chargeback_of(db_session, claims[0])
    client = login_as("supplier")
    page = text(client.get(f"/settlement/chargebacks/{cb.id}"))
    assert 'enctype="multipart/form-data"' in page
    assert "How the amount was computed" in page and "225.00" in page
    accept = confirm_of(page, "accept")
    assert f"Accept the chargeback of {cb.amount:,.2f} for claim {claims[0].number}?" in accept
    assert "Old parts and inspection" in page

    # A file that is not a photo or a PDF refuses the whole dispute: nothing is stored.
    refused = client.post(
        f"/settlement/chargebacks/{cb.id}/dispute",
        data={
            "reason": "Not our part",
            "files": [(io.BytesIO(PNG), "photo.png"), (io.BytesIO(b"MZ\x90\x00exe"), "a.exe")],
        },
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    assert "a.exe: Only JPEG, PNG or WebP photos and PDF files can be attached." in text(refused)
    assert cb.status is ChargebackStatus.OPEN
    assert db_session.scalar(sa.select(sa.func.count(ChargebackEvidence.id))) == 0
    assert list(uploads.iterdir()) == []

    no_reason = client.post(
        f"/settlement/chargebacks/{cb.id}/dispute",
        data={"reason": "  "},
        content_type="multipart/form-data",
    )
    assert no_reason.status_code == 422
    assert "Say why the chargeback is disputed." in text(no_reason)

    response = client.post(
        f"/settlement/chargebacks/{cb.id}/dispute",
        data={
            "reason": "The pump failed from contaminated oil.",
            "files": [(io.BytesIO(PNG), "pump.png")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert cb.status is ChargebackStatus.DISPUTED
    evidence = cb.evidence[0]
    shown = client.get(f"/settlement/chargebacks/{cb.id}/evidence/{evidence.id}")
    assert shown.status_code == 200 and shown.mimetype == "image/png"
    assert shown.get_data() == PNG
    shown.close()
    page = text(client.get(f"/settlement/chargebacks/{cb.id}"))
    assert 'data-testid="state-disputed"' in page and "contaminated oil" in page
    assert 'data-testid="evidence-form"' in page  # more evidence while disputed
    more = client.post(
        f"/settlement/chargebacks/{cb.id}/evidence",
        data={"files": [(io.BytesIO(PNG), "label.png")]},
        content_type="multipart/form-data",
    )
    assert more.status_code == 302 and len(cb.evidence) == 2
    # Another supplier neither sees it nor its evidence.
    other = login_as("supplier_b")
    assert other.get(f"/settlement/chargebacks/{cb.id}").status_code == 404
    assert other.get(f"/settlement/chargebacks/{cb.id}/evidence/{evidence.id}").status_code == 404
    assert login_as("station").get(f"/settlement/chargebacks/{cb.id}").status_code == 403

    auditor = login_as("auditor")
    queue = text(auditor.get("/settlement/disputes"))
    assert claims[0].number in queue and "contaminated oil" in queue
    assert 'data-testid="nav-count">1<' in queue
    assert claims[0].number in text(auditor.get("/settlement/disputes?supplier=SU-A"))
    assert "No dispute waits" in text(auditor.get("/settlement/disputes?supplier=SU-B"))
    # Finance reads the disputes (its home's "Open disputes" leads there) but decides nothing.
    finance = login_as("finance")
    home = text(finance.get("/", follow_redirects=True))
    assert 'href="/settlement/disputes"' in home
    listed = text(finance.get("/settlement/disputes"))
    assert claims[0].number in listed and 'data-testid="nav-count">1<' in listed
    assert ">View</a>" in listed and ">Review</a>" not in listed
    read_only = text(finance.get(f"/settlement/chargebacks/{cb.id}"))
    assert claims[0].number in read_only and 'data-testid="resolve-form"' not in read_only
    refused = finance.post(
        f"/settlement/chargebacks/{cb.id}/resolve", data={"action": "waive", "reason": "no"}
    )
    assert refused.status_code == 403 and cb.status is ChargebackStatus.DISPUTED
    auditor = login_as("auditor")
    page = text(auditor.get(f"/settlement/chargebacks/{cb.id}"))
    assert 'data-testid="resolve-form"' in page and "pump.png" in page
    resolve = confirm_of(page, "resolve")
    assert f"Resolve the dispute on claim {claims[0].number} ({cb.amount:,.2f})?" in resolve
    seen = auditor.get(f"/settlement/chargebacks/{cb.id}/evidence/{evidence.id}")
    assert seen.status_code == 200
    seen.close()
    no_reason = auditor.post(
        f"/settlement/chargebacks/{cb.id}/resolve", data={"action": "waive", "reason": ""}
    )
    assert no_reason.status_code == 422
    assert "Say why the dispute is resolved this way." in text(no_reason)
    assert cb.status is ChargebackStatus.DISPUTED
    response = auditor.post(
        f"/settlement/chargebacks/{cb.id}/resolve",
        data={"action": "waive", "reason": "Inspection shows contamination."},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/settlement/disputes")
    assert cb.status is ChargebackStatus.WAIVED
    # The waived line no longer counts: the statement's totals drop to zero and it is final.
    assert (statement.net, statement.gross) == (Decimal("0.00"), Decimal("0.00"))
    assert statement.status is StatementStatus.FINAL
    twice = auditor.post(
        f"/settlement/chargebacks/{cb.id}/resolve", data={"action": "uphold", "reason": "x"}
    )
    assert twice.status_code == 409

    page = text(login_as("supplier").get(f"/settlement/statements/{statement.id}"))
    assert "text-decoration-line-through" in page  # the waived line is struck through
    assert 'data-chargeback-status="waived"' in page


def test_an_upheld_dispute_keeps_the_line_in_the_totals(
    released, login_as, claims, world, db_session
):
    statement = statement_of(db_session, released, StatementKind.SUPPLIER, world.suppliers[0])
    cb = chargeback_of(db_session, claims[0])
    login_as("supplier").post(
        f"/settlement/chargebacks/{cb.id}/dispute",
        data={"reason": "Too expensive"},
        content_type="multipart/form-data",
    )
    auditor = login_as("auditor")
    response = auditor.post(
        f"/settlement/chargebacks/{cb.id}/resolve",
        data={"action": "uphold", "reason": "Agreed price list."},
    )
    assert response.status_code == 302
    assert cb.status is ChargebackStatus.UPHELD
    assert statement.net == Decimal("225.00") and statement.status is StatementStatus.FINAL
    page = text(auditor.get(f"/settlement/chargebacks/{cb.id}"))
    assert 'data-testid="state-resolved"' in page and "Agreed price list." in page


# -- finance marks paid ----------------------------------------------------------------------------


def test_finance_marks_a_statement_paid_and_a_bad_date_is_refused(
    released, login_as, world, db_session
):
    statement = statement_of(db_session, released, StatementKind.STATION, world.stations[0])
    client = login_as("finance")
    page = text(client.get(f"/settlement/statements/{statement.id}"))
    assert 'data-testid="mark-paid"' in page
    paid = confirm_of(page, "mark-paid-button")
    assert f"Record statement {statement.number} as paid: {statement.net:,.2f}," in paid
    url = f"/settlement/statements/{statement.id}/paid"
    bad = client.post(url, data={"paid_on": "31/12/2026", "reference": "BANK-1"})
    assert bad.status_code == 422
    assert "Give the date as YYYY-MM-DD" in text(bad)
    future = (engine.local_today() + timedelta(days=2)).isoformat()
    later = client.post(url, data={"paid_on": future, "reference": "BANK-1"})
    assert later.status_code == 422 and "is in the future" in text(later)
    no_ref = client.post(url, data={"paid_on": engine.local_today().isoformat(), "reference": ""})
    assert no_ref.status_code == 422 and "is required" in text(no_ref)
    assert statement.status is StatementStatus.RELEASED

    today = engine.local_today()
    response = client.post(url, data={"paid_on": today.isoformat(), "reference": "BANK-1"})
    assert response.status_code == 302
    assert statement.status is StatementStatus.PAID
    assert (statement.paid_on, statement.paid_reference) == (today, "BANK-1")
    page = text(client.get(f"/settlement/statements/{statement.id}"))
    assert 'data-testid="paid-info"' in page and "BANK-1" in page
    assert 'data-testid="mark-paid"' not in page
    again = client.post(url, data={"paid_on": today.isoformat(), "reference": "BANK-2"})
    assert again.status_code == 409 and "is already paid" in text(again)


def test_a_supplier_statement_with_open_lines_cannot_be_paid(released, login_as, world, db_session):
    statement = statement_of(db_session, released, StatementKind.SUPPLIER, world.suppliers[0])
    client = login_as("finance")
    assert 'data-testid="mark-paid"' not in text(
        client.get(f"/settlement/statements/{statement.id}")
    )
    response = client.post(
        f"/settlement/statements/{statement.id}/paid",
        data={"paid_on": engine.local_today().isoformat(), "reference": "BANK-9"},
    )
    assert response.status_code == 409
    assert "still has open or disputed chargebacks" in text(response)


# -- failed and stalled runs -----------------------------------------------------------------------


def test_a_failed_run_shows_its_reason_and_is_retried(login_as, claims, db_session, monkeypatch):
    def broken(run_id):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(engine, "_compute", broken)
    client = login_as("finance")
    start(client)
    run = the_run(db_session)
    assert run.status is RunStatus.FAILED
    page = text(client.get(f"/settlement/runs/{run.id}"))
    assert 'data-testid="failed-alert"' in page
    assert "RuntimeError: the database went away" in page
    assert 'data-testid="retry"' in page
    assert client.get(f"/settlement/runs/{run.id}/progress").get_json()["status"] == "failed"

    monkeypatch.undo()
    response = client.post(f"/settlement/runs/{run.id}/retry")
    assert response.status_code == 302
    assert run.status is RunStatus.DRAFT and run.attempts == 2
    assert "was started again" in text(client.get(f"/settlement/runs/{run.id}"))
    assert client.post(f"/settlement/runs/{run.id}/retry").status_code == 409


def test_a_run_whose_worker_stopped_is_flagged_and_resumed(
    login_as, claims, world, db_session, app
):
    long_ago = utcnow() - timedelta(seconds=engine.stale_after().total_seconds() + 60)
    run = SettlementRun(
        period=CURRENT(),
        status=RunStatus.RUNNING,
        open_slot=1,
        progress=35,
        step="station_charges",
        vat_rate=Decimal("0.13"),
        cutoff=engine.period_cutoff(engine.parse_period(CURRENT())),
        created_by_id=world.users["finance"].id,
        created_at=long_ago,
        started_at=long_ago,
        heartbeat_at=long_ago,
        attempts=1,
    )
    db_session.add(run)
    db_session.commit()
    client = login_as("finance")
    page = text(client.get(f"/settlement/runs/{run.id}"))
    assert 'data-testid="stale-alert"' in page and "The worker stopped?" in page
    assert 'data-testid="resume"' in page
    assert f'data-run-progress-url="/settlement/runs/{run.id}/progress"' in page
    progress = client.get(f"/settlement/runs/{run.id}/progress").get_json()
    assert progress == {
        "status": "running",
        "progress": 35,
        "step": "station_charges",
        "stale": True,
        "status_label": "Running",
        "step_label": "Station statements: scrap residuals and overdue parts",
    }
    assert "worker stopped?" in text(client.get("/settlement/"))
    response = client.post(f"/settlement/runs/{run.id}/retry")
    assert response.status_code == 302
    assert run.status is RunStatus.DRAFT and run.attempts == 2
    assert run.claim_count == 2


def test_released_runs_offer_their_pdfs_rendered_again(released, login_as, db_session):
    client = login_as("finance")
    page = text(client.get(f"/settlement/runs/{released.id}"))
    assert 'data-testid="render-pdfs"' in page and 'data-testid="release"' not in page
    response = client.post(f"/settlement/runs/{released.id}/pdfs")
    assert response.status_code == 302
    assert "being rendered again" in text(client.get(response.headers["Location"]))
    rendered = db_session.scalars(sa.select(Statement.pdf_rendered_at)).all()
    assert all(rendered)  # in-process jobs: every statement of the run has its PDF


# -- who may do what -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "method", "path"),
    [
        ("station", "get", "/settlement/"),
        ("supplier", "get", "/settlement/"),
        ("auditor", "get", "/settlement/"),
        ("supplier", "post", "/settlement/runs"),
        ("auditor", "post", "/settlement/runs"),
        ("station", "get", "/settlement/disputes"),
        ("supplier", "get", "/settlement/disputes"),
        ("finance", "get", "/settlement/chargebacks"),
        ("station", "get", "/settlement/chargebacks"),
        ("admin", "get", "/settlement/statements"),
    ],
)
def test_wrong_roles_are_refused(login_as, who, method, path):
    client = login_as(who)
    assert getattr(client, method)(path).status_code == 403


def test_wrong_roles_may_not_act_on_runs_chargebacks_or_payments(
    released, login_as, claims, world, db_session
):
    statement = statement_of(db_session, released, StatementKind.STATION, world.stations[0])
    cb = chargeback_of(db_session, claims[0])
    station = login_as("station")
    assert station.post(f"/settlement/runs/{released.id}/release").status_code == 403
    assert station.post(f"/settlement/statements/{statement.id}/paid").status_code == 403
    auditor = login_as("auditor")
    assert auditor.post(f"/settlement/chargebacks/{cb.id}/accept").status_code == 403
    assert auditor.get(f"/settlement/statements/{statement.id}").status_code == 404
    supplier = login_as("supplier")
    assert supplier.post(f"/settlement/chargebacks/{cb.id}/resolve").status_code == 403
    assert supplier.get(f"/settlement/runs/{released.id}").status_code == 403


def test_a_form_without_its_csrf_token_is_refused(login_as, claims, app, monkeypatch, db_session):
    client = login_as("finance")
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert start(client).status_code == 400
    assert db_session.scalar(sa.select(sa.func.count(SettlementRun.id))) == 0


# -- the VAT rate (admin) --------------------------------------------------------------------------


def test_the_admin_sets_the_vat_rate_and_the_next_run_uses_it(login_as, claims, db_session):
    admin = login_as("admin")
    page = text(admin.get("/admin/rules/settlement"))
    assert 'value="13"' in page and 'data-testid="in-force-vat">13%<' in page
    for bad in ["100", "101", "-1", "abc", "12.34567", ""]:
        refused = admin.post("/admin/rules/settlement", data={"vat_percent": bad})
        assert refused.status_code == 200, bad
        assert "invalid-feedback" in text(refused), bad
    assert SettlementSettings.current().vat_rate == Decimal("0.13")
    assert admin.post("/admin/rules/settlement", data={"vat_percent": "9"}).status_code == 302
    assert SettlementSettings.current().vat_rate == Decimal("0.09")
    assert admin.post("/admin/rules/settlement", data={"vat_percent": "0"}).status_code == 302
    assert SettlementSettings.current().vat_rate == Decimal("0")
    assert admin.post("/admin/rules/settlement", data={"vat_percent": "6.5"}).status_code == 302
    assert SettlementSettings.current().vat_rate == Decimal("0.065")

    client = login_as("finance")
    start(client)
    run = the_run(db_session)
    assert run.vat_rate == Decimal("0.065")
    statement = db_session.scalar(
        sa.select(Statement).where(Statement.run_id == run.id, Statement.net == Decimal("230.00"))
    )
    assert statement.vat == Decimal("14.95")  # 230.00 x 6.5%
    assert login_as("finance").get("/admin/rules/settlement").status_code == 403
