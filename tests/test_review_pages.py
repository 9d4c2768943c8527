"""The auditor's pages through HTTP: the review queue (filters, counts, keyset pages) and the
review page of a claim (everything to decide on, the decision form, conflicts, who may do what)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.claims import attachments
from portal.claims import operations as ops
from portal.claims.decisions import Decision, decide_claim
from portal.claims.models import Claim, ClaimSettings, ClaimStatus
from portal.claims.payload import parse_claim
from portal.db import utcnow
from portal.masterdata.models import PartPrice
from portal.oem import views as oem_views
from tests.conftest import login
from tests.factories import ClaimFactory, Fleet, claim_payload
from tests.test_claim_pages import TINY_PDF, download, tiny_png
from tests.words_support import shown_day

NOT_AUDITORS = ("station", "supplier", "finance", "admin")


@pytest.fixture
def fleet(world):
    ClaimSettings.current().auto_approve_enabled = False  # every submitted claim waits in review
    return Fleet.build(world)


@pytest.fixture
def sign_in(app, world):
    """A separate signed-in browser per user: sign_in("auditor")."""

    def _sign_in(key: str):
        client = app.test_client()
        response = login(client, world.usernames[key])
        assert response.status_code == 302
        return client

    return _sign_in


@pytest.fixture
def auditor(sign_in):
    return sign_in("auditor")


@pytest.fixture
def uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path / "uploads"))
    return tmp_path / "uploads"


def html(response) -> str:
    return response.get_data(as_text=True)


def row_of(page: str, marker: str) -> str:
    """The table row that carries `marker` (a data attribute), up to its end."""
    return page.split(marker, 1)[1].split("</tr>", 1)[0]


def numbers_in(page: str) -> list[str]:
    return re.findall(r'<tr data-claim="([^"]+)"', page)


def reload(db_session, claim: Claim) -> Claim:
    db_session.expire_all()
    return db_session.get(Claim, claim.id)


def decision_form(claim: Claim, action: str = "approve", lines=None, **fields) -> dict:
    """What the browser posts: every line prefilled with its claimed value, `lines` overriding
    by position: {1: {"approved": "1.00", "reason": "excessive_labor", "note": "..."}}."""
    data = {"action": action, "version": str(claim.version), "supplier_code": "", "reason": ""}
    for index, line in enumerate(claim.lines):
        claimed = {"labor": line.hours, "part": line.qty, "trip": line.qty}.get(
            line.kind.value, line.amount
        )
        data[f"lines-{index}-line_id"] = str(line.id)
        data[f"lines-{index}-approved"] = str(claimed)
        data[f"lines-{index}-reason"] = ""
        data[f"lines-{index}-note"] = ""
        for key, value in ((lines or {}).get(index) or {}).items():
            data[f"lines-{index}-{key}"] = value
    data.update(fields)
    return data


def days_ago(n: int) -> str:
    return (date.today() - timedelta(days=n)).isoformat()


# -- the queue -------------------------------------------------------------------------------------


@pytest.fixture
def queue(world, fleet, db_session):
    """Five claims in review, oldest first: A1 repair, A2 flagged labor, B1 (North) a bigger
    part claim, A3 an appraisal; and A4 returned to the station."""
    claims = {
        "a1": ClaimFactory(fleet=fleet, in_review=True, own_vehicle=True),
        "a2": ClaimFactory(
            fleet=fleet,
            in_review=True,
            own_vehicle=True,
            lines=[
                {"kind": "labor", "operation_code": "OP-1", "hours": "3.00", "description": "Rust"}
            ],
        ),
        "b1": ClaimFactory(
            fleet=fleet,
            in_review=True,
            own_vehicle=True,
            station="station_b",
            causal_part="P-200",
            lines=[{"kind": "part", "part_number": "P-200", "qty": 40}],
        ),
        "a3": ClaimFactory(
            fleet=fleet, in_review=True, own_vehicle=True, type="appraisal", lines=[]
        ),
        "a4": ClaimFactory(
            fleet=fleet, returned=True, own_vehicle=True, reason="Photo of the part missing"
        ),
    }
    now = utcnow()
    for age, claim in zip((20, 12, 9, 3, 1), claims.values(), strict=True):
        claim.submitted_at = now - timedelta(days=age, hours=1)
    db_session.flush()
    return claims


def test_the_queue_lists_claims_in_review_oldest_first_with_what_an_auditor_sorts_by(
    auditor, queue
):
    page = html(auditor.get("/oem/review"))

    assert '<h1 class="h3 mb-0">Review queue</h1>' in page
    assert numbers_in(page) == [queue[k].number for k in ("a1", "a2", "b1", "a3")]
    a2 = queue["a2"]
    row = row_of(page, f'data-claim="{a2.number}"')
    assert f'href="/oem/claims/{a2.number}"' in row
    assert "Warranty repair" in row
    assert "ST-A" in row and "Station A" in row and "East" in row
    assert a2.vin in row
    assert 'data-age="12"' in row and "12 days" in row
    assert '<td class="num">240.00</td>' in row  # 3.00 h x 80.00
    assert 'data-flag="labor_hours"' in row and "Labor hours above standard" in row
    assert '<td class="num">1</td>' in row  # the version
    assert "data-flag=" not in row_of(page, f'data-claim="{queue["a1"].number}"')
    assert "North" in row_of(page, f'data-claim="{queue["b1"].number}"')
    assert queue["a4"].number not in page  # returned: under its own tab


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("type=appraisal", ["a3"]),
        ("type=repair", ["a1", "a2", "b1"]),
        ("station=ST-B", ["b1"]),
        ("region=North", ["b1"]),
        ("region=East", ["a1", "a2", "a3"]),
        ("flag=any", ["a2"]),
        ("flag=none", ["a1", "b1", "a3"]),
        ("flag=labor_hours", ["a2"]),
        ("flag=duplicate", []),
        ("age=10", ["a1", "a2"]),
        ("min_amount=1000", ["b1"]),
        ("min_amount=200&max_amount=300", ["a1", "a2"]),
        ("status=returned", ["a4"]),
        ("status=returned&station=ST-B", []),
        ("status=approved", ["approved"]),
        ("status=nonsense", ["a1", "a2", "b1", "a3"]),  # unreadable: the default applies
    ],
)
def test_the_queue_filters(world, fleet, auditor, queue, query, expected):
    approved = ClaimFactory(fleet=fleet, approved=True, own_vehicle=True)
    claims = {**queue, "approved": approved}

    page = html(auditor.get(f"/oem/review?{query}"))

    assert numbers_in(page) == [claims[k].number for k in expected]
    if not expected:
        assert "No claim matches these filters." in page


def test_the_counts_per_status_and_type_stand_beside_the_choices(auditor, queue):
    page = html(auditor.get("/oem/review"))

    tabs = page.split('data-testid="queue-status"', 1)[1].split("</ul>", 1)[0]
    assert re.search(r'data-count="in_review">4<', tabs)
    assert re.search(r'data-count="returned">1<', tabs)
    assert 'data-status-tab="approved"' in tabs  # decided statuses are browsed, not counted
    assert '<option value="repair">Warranty repair (3)</option>' in page
    assert '<option value="appraisal">Appraisal (1)</option>' in page
    assert '<option value="roadside">Roadside emergency (0)</option>' in page
    chips = page.split('data-testid="type-counts"', 1)[1].split("</div>", 1)[0]
    assert re.search(r'data-type-count="repair">Warranty repair <span[^>]*>3<', chips)

    # The counts follow the other filters.
    page = html(auditor.get("/oem/review?station=ST-B"))
    assert re.search(r'data-count="in_review">1<', page)
    assert re.search(r'data-count="returned">0<', page)
    assert '<option value="repair">Warranty repair (1)</option>' in page
    assert 'value="ST-B"' in page  # the filter shows what it applies


def test_the_queue_reads_the_stations_of_its_page_in_one_query(auditor, queue, db_session):
    """As in a web process's fresh request, nothing is in the session: the page's claims of two
    stations cost one station query, not one per claim."""
    db_session.expunge_all()
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = db_session.get_bind()
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        page = html(auditor.get("/oem/review"))
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    assert len(numbers_in(page)) == 4
    assert "ST-A" in page and "ST-B" in page
    assert len([s for s in statements if s.lstrip().startswith("SELECT station.id")]) == 1


def test_keyset_pages_carry_the_cursor_and_the_filters(auditor, queue, monkeypatch):
    monkeypatch.setattr(oem_views, "QUEUE_PAGE_SIZE", 2)

    first = html(auditor.get("/oem/review?type=repair&flag="))
    assert numbers_in(first) == [queue["a1"].number, queue["a2"].number]
    assert 'data-page="first"' not in first
    next_link = re.search(r'href="([^"]+)" data-page="next"', first).group(1).replace("&amp;", "&")
    assert "type=repair" in next_link and "after=" in next_link
    assert "page=" not in next_link  # keyset, no page numbers

    second = html(auditor.get(next_link))
    assert numbers_in(second) == [queue["b1"].number]
    assert 'data-page="next"' not in second
    first_link = re.search(r'href="([^"]+)" data-page="first"', second).group(1)
    assert first_link.replace("&amp;", "&") == "/oem/review?type=repair"


def test_an_empty_queue_says_so(auditor, fleet):
    assert "No claims are waiting for review." in html(auditor.get("/oem/review"))
    assert "No claims with this status." in html(auditor.get("/oem/review?status=settled"))


# -- the review page -------------------------------------------------------------------------------


@pytest.fixture
def evidence(world, fleet, uploads, db_session):
    """A claim in review with everything beside it: an earlier claim of the VIN (same causal
    part, so this one is flagged duplicate), a draft of the VIN, hours above standard, a part
    whose price changed since the repair, a photo and a PDF receipt."""
    station = world.users["station"]
    vin = fleet.sibling_vehicle().vin
    older = ClaimFactory(
        fleet=fleet,
        in_review=True,
        own_vehicle=True,
        vin=vin,
        odometer_km=5000,
        repair_date=days_ago(60),
        fault_date=days_ago(61),
        causal_part="P-200",
        lines=[{"kind": "part", "part_number": "P-200", "qty": 1}],
    )
    older.submitted_at = utcnow() - timedelta(days=58)
    earlier = ClaimFactory(
        fleet=fleet,
        approved=True,
        own_vehicle=True,
        vin=vin,
        odometer_km=9000,
        repair_date=days_ago(9),
        fault_date=days_ago(9),
    )
    draft = ClaimFactory(fleet=fleet, vin=vin)
    fleet.part.prices[0].valid_to = date.today() - timedelta(days=1)
    fleet.part.prices.append(PartPrice(unit_price=Decimal("110.00"), valid_from=date.today()))
    claim = ops.create_claim(
        station,
        parse_claim(
            claim_payload(
                fleet,
                vin=vin,
                lines=[
                    {"kind": "part", "part_number": "P-100", "qty": 2},
                    {
                        "kind": "labor",
                        "operation_code": "OP-1",
                        "hours": "2.00",
                        "description": "Seized bolts",
                    },
                ],
            )
        ),
    )
    attachments.add_attachment(claim, station, "pump.png", tiny_png())
    attachments.add_attachment(claim, station, "invoice.pdf", TINY_PDF)
    ops.submit_claim(claim, station)
    db_session.flush()
    return {"claim": claim, "earlier": earlier, "older": older, "draft": draft}


def test_the_review_page_shows_everything_to_decide_on(auditor, evidence):
    claim = evidence["claim"]

    response = auditor.get(f"/oem/claims/{claim.number}")

    assert response.status_code == 200
    page = html(response)
    assert f'<h1 class="h3 mb-0">{claim.number}</h1>' in page
    # The vehicle and its coverage on the repair date at the claim's odometer.
    coverage = page.split('data-testid="coverage"', 1)[1].split("</table>", 1)[0]
    assert "Basic" in coverage and "In coverage" in coverage  # the group by its label
    assert "Wear parts" in coverage and "Expired" in coverage
    assert f"On {shown_day(claim.repair_date)} at 15,000 km" in page
    # The VIN's other claims, newest first, with links; never the draft nor the claim itself.
    earlier = page.split('data-testid="earlier-claims"', 1)[1].split("</section>", 1)[0]
    shown = re.findall(r'data-earlier="([^"]+)"', earlier)
    assert shown == [evidence["earlier"].number, evidence["older"].number]
    assert f'href="/oem/claims/{evidence["earlier"].number}"' in earlier
    assert "Same causal part" in row_of(earlier, f'data-earlier="{evidence["earlier"].number}"')
    assert "Approved" in earlier
    # Each flag with its explanation.
    flags = page.split('data-testid="flags"', 1)[1].split("</ul>", 1)[0]
    assert 'data-rule="labor_hours"' in flags
    assert "2 hours for OP-1 are above its standard 1.5 hours: Seized bolts" in flags
    assert 'data-rule="duplicate"' in flags and evidence["earlier"].number in flags
    # The price list behind each line and the standard hours of the operation.
    part_row = row_of(page, 'data-line="1"')
    assert f"Price list on {shown_day(claim.repair_date)}: 100.00" in part_row
    assert "Current price: 110.00" in part_row
    labor_row = row_of(page, 'data-line="2"')
    assert "Standard hours: 1.50 h" in labor_row and "claimed above standard" in labor_row
    # Attachments inline: the photo as a thumbnail opening the full image, the PDF as a link.
    photo, pdf = claim.attachments
    url = f"/claims/{claim.number}/attachments"
    assert f'<a class="attachment-thumb-link" href="{url}/{photo.id}"' in page
    assert f'<img class="attachment-thumb" src="{url}/{photo.id}" alt="pump.png"' in page
    assert f'<a class="attachment-doc" href="{url}/{pdf.id}" data-kind="pdf">' in page
    assert download(auditor, f"{url}/{photo.id}").status_code == 200
    # The history: versions, timeline, the comment thread open to the auditor.
    assert 'data-testid="versions"' in page and "First submission." in page
    assert 'data-action="queued"' in page
    assert f'action="/oem/claims/{claim.number}/comments"' in page


def test_the_decision_form_is_prefilled_with_the_claim_and_the_reason_codes(
    auditor, evidence, db_session
):
    from portal.claims.models import ReasonCode

    db_session.scalar(sa.select(ReasonCode).where(ReasonCode.code == "misuse")).active = False
    db_session.flush()
    claim = evidence["claim"]

    page = html(auditor.get(f"/oem/claims/{claim.number}"))

    form = page.split('data-testid="decision-form"', 1)[1].split("</form>", 1)[0]
    assert f'name="version" type="hidden" value="{claim.version}"' in form
    assert 'name="lines-0-approved" required type="text" value="2"' in form
    assert 'name="lines-1-approved" required type="text" value="2.00"' in form
    assert f'name="lines-1-line_id" type="hidden" value="{claim.lines[1].id}"' in form
    assert '<option value="excessive_labor">Excessive labor hours</option>' in form
    assert 'value="misuse"' not in form  # a deactivated code is not offered
    default = "SU-A · Supplier A — default: the causal part&#39;s supplier"
    assert f'<option selected value="SU-A">{default}</option>' in form
    assert '<option value="SU-B">SU-B · Supplier B</option>' in form
    for button in ("approve", "reject", "return"):
        assert f'name="action" value="{button}"' in form
    assert 'data-running="total">380.00<' in page  # 2 x 100.00 + 10% + 2.00 h x 80.00
    assert "/static/oem.js" in page

    auditor.post("/lang/zh_CN")
    page = html(auditor.get(f"/oem/claims/{claim.number}"))
    assert '<option value="excessive_labor">工时过多</option>' in page


def test_approving_as_claimed_moves_on_to_the_next_claim_in_the_queue(
    world, fleet, auditor, db_session
):
    waiting = ClaimFactory(fleet=fleet, in_review=True, own_vehicle=True)
    claim = ClaimFactory(fleet=fleet, in_review=True, own_vehicle=True)
    waiting.submitted_at = utcnow() - timedelta(days=5)
    db_session.flush()

    response = auditor.post(f"/oem/claims/{claim.number}/decision", data=decision_form(claim))

    assert response.status_code == 302
    assert response.headers["Location"] == f"/oem/claims/{waiting.number}"
    claim = reload(db_session, claim)
    assert claim.status is ClaimStatus.APPROVED
    assert claim.approved_total_amount == claim.total_amount == Decimal("230.00")
    assert claim.responsible_supplier.code == "SU-A"  # the causal part's supplier
    assert claim.decided_by.username == "auditor"
    page = html(auditor.get(response.headers["Location"]))
    assert f"Claim {claim.number} is approved: CN¥230.00 approved of CN¥230.00 claimed." in page


def test_the_last_decision_goes_back_to_the_queue(world, fleet, auditor):
    claim = ClaimFactory(fleet=fleet, in_review=True, own_vehicle=True)

    response = auditor.post(f"/oem/claims/{claim.number}/decision", data=decision_form(claim))

    assert response.headers["Location"] == "/oem/review"
    page = html(auditor.get("/oem/review"))
    assert "The review queue is empty" in page and "No claims are waiting for review." in page


def test_cutting_a_line_with_a_reason_code_partially_approves_with_exact_amounts(
    world, fleet, auditor, sign_in, db_session
):
    claim = ClaimFactory(fleet=fleet, in_review=True, own_vehicle=True)
    cut = {"approved": "1.00", "reason": "excessive_labor", "note": "1.0 h is enough"}

    response = auditor.post(
        f"/oem/claims/{claim.number}/decision",
        data=decision_form(claim, lines={1: cut}, supplier_code="SU-B"),
    )

    assert response.status_code == 302
    claim = reload(db_session, claim)
    assert claim.status is ClaimStatus.PARTIALLY_APPROVED
    part, labor = claim.lines
    assert (part.approved_qty, part.approved_amount, part.reason_code) == (
        1,
        Decimal("100.00"),
        None,
    )
    assert (labor.approved_hours, labor.approved_amount) == (Decimal("1.00"), Decimal("80.00"))
    assert (labor.reason_code, labor.decision_note) == ("excessive_labor", "1.0 h is enough")
    assert claim.approved_handling_amount == Decimal("10.00")
    assert claim.approved_total_amount == Decimal("190.00")
    assert claim.responsible_supplier.code == "SU-B"

    # Read-only now, with the decision: who, when, the approved amounts per line, the reasons.
    page = html(auditor.get(f"/oem/claims/{claim.number}"))
    assert 'data-testid="decision-form"' not in page
    decision = page.split('data-testid="decision"', 1)[1].split("</section>", 1)[0]
    assert "Partially approved" in decision and "auditor" in decision
    assert 'data-testid="approved-total">190.00<' in decision
    assert "SU-B" in decision
    labor_row = row_of(page, 'data-line="2"')
    assert "80.00" in labor_row and "1.00 h" in labor_row
    assert "Excessive labor hours" in labor_row and "1.0 h is enough" in labor_row

    station_page = html(sign_in("station").get(f"/claims/{claim.number}"))
    assert 'data-status="partially_approved"' in station_page
    assert "Excessive labor hours" in row_of(station_page, 'data-line="2"')


def test_a_cut_without_a_reason_code_is_shown_beside_its_line_and_nothing_is_saved(
    world, fleet, auditor, db_session
):
    claim = ClaimFactory(fleet=fleet, in_review=True, own_vehicle=True)

    response = auditor.post(
        f"/oem/claims/{claim.number}/decision",
        data=decision_form(claim, lines={1: {"approved": "1.00", "note": "kept"}}, reason="x"),
    )

    assert response.status_code == 422
    page = html(response)
    assert "The decision was not saved." in page
    labor_row = row_of(page, 'data-line="2"')
    assert 'class="table-danger"' in page.split('data-line="2"', 1)[0].rsplit("<tr", 1)[1]
    assert 'data-error-for="lines-1-reason">a cut needs a reason code<' in labor_row
    assert 'name="lines-1-approved" required type="text" value="1.00"' in labor_row  # kept
    assert 'value="kept"' in labor_row
    assert re.search(r"<textarea[^>]*>\s*x</textarea>", page)
    assert "data-error-for" not in row_of(page, 'data-line="1"')
    claim = reload(db_session, claim)
    assert claim.status is ClaimStatus.IN_REVIEW
    assert claim.lines[1].approved_hours is None and claim.decided_at is None


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ({"approved": "3.00", "reason": "excessive_labor"}, "more than the 1.50 hours claimed"),
        ({"approved": "abc"}, "must be a number"),
        ({"approved": ""}, "is required"),
        ({"approved": "1.00", "reason": "no_such_code"}, "unknown reason code no_such_code"),
    ],
)
def test_a_wrong_approved_value_is_shown_beside_its_line(world, fleet, auditor, line, error):
    claim = ClaimFactory(fleet=fleet, in_review=True, own_vehicle=True)

    response = auditor.post(
        f"/oem/claims/{claim.number}/decision", data=decision_form(claim, lines={1: line})
    )

    assert response.status_code == 422
    assert error in row_of(html(response), 'data-line="2"')


def test_rejecting_needs_a_reason(world, fleet, auditor, sign_in, db_session):
    claim = ClaimFactory(fleet=fleet, in_review=True, own_vehicle=True)

    response = auditor.post(
        f"/oem/claims/{claim.number}/decision", data=decision_form(claim, "reject")
    )
    assert response.status_code == 422
    assert 'data-error-for="reason">is required to reject<' in html(response)
    assert reload(db_session, claim).status is ClaimStatus.IN_REVIEW

    response = auditor.post(
        f"/oem/claims/{claim.number}/decision",
        data=decision_form(claim, "reject", reason="Damage from an accident, not a defect"),
    )
    assert response.status_code == 302
    claim = reload(db_session, claim)
    assert claim.status is ClaimStatus.REJECTED
    assert claim.approved_total_amount == Decimal("0.00")
    station_page = html(sign_in("station").get(f"/claims/{claim.number}"))
    assert "Damage from an accident, not a defect" in station_page


def test_returning_a_claim_sends_it_back_to_the_station(world, fleet, auditor, sign_in, db_session):
    claim = ClaimFactory(fleet=fleet, in_review=True, own_vehicle=True)

    response = auditor.post(
        f"/oem/claims/{claim.number}/decision", data=decision_form(claim, "return")
    )
    assert response.status_code == 422
    assert 'data-error-for="reason">is required<' in html(response)

    response = auditor.post(
        f"/oem/claims/{claim.number}/decision",
        data=decision_form(claim, "return", reason="Add a photo of the failed pump"),
    )
    assert response.status_code == 302
    assert reload(db_session, claim).status is ClaimStatus.RETURNED
    station_page = html(sign_in("station").get(f"/claims/{claim.number}"))
    assert 'data-status="returned"' in station_page
    assert "Returned to your station" in station_page
    assert "Add a photo of the failed pump" in station_page
    # The auditor's page shows it returned, without a form.
    page = html(auditor.get(f"/oem/claims/{claim.number}"))
    assert 'data-testid="returned"' in page and 'data-testid="decision-form"' not in page


def test_deciding_a_decided_claim_is_a_conflict_and_shows_the_claim_as_it_is(
    world, fleet, auditor, db_session
):
    claim = ClaimFactory(fleet=fleet, in_review=True, own_vehicle=True)
    form = decision_form(claim, "reject", reason="Not a warranty case")
    other = world.users["auditor"]
    decide_claim(claim.id, other, Decision("approve"))  # another auditor was faster
    db_session.flush()

    response = auditor.post(f"/oem/claims/{claim.number}/decision", data=form)

    assert response.status_code == 409
    page = html(response)
    conflict = page.split('data-testid="conflict"', 1)[1].split("</div>\n</div>", 1)[0]
    assert "another auditor decided or changed this claim meanwhile" in conflict.lower()
    assert f"Claim {claim.number} is approved" in conflict
    assert "Not a warranty case" in conflict  # what was typed is not lost
    assert 'data-testid="decision-form"' not in page
    assert 'data-status="approved"' in page
    assert reload(db_session, claim).status is ClaimStatus.APPROVED


def test_a_stale_version_is_a_conflict_and_keeps_what_was_typed(world, fleet, auditor, db_session):
    claim = ClaimFactory(fleet=fleet, in_review=True, own_vehicle=True)
    cut = {"approved": "1.00", "reason": "excessive_labor", "note": "typed before"}
    form = decision_form(claim, lines={1: cut}, reason="My notes")  # the page at version 1
    # Meanwhile another auditor returned it and the station resubmitted it: version 2.
    ops.return_claim(claim, world.users["auditor"], "Odometer photo missing")
    ops.submit_claim(claim, world.users["station"])
    assert (claim.status, claim.version) == (ClaimStatus.IN_REVIEW, 2)
    db_session.flush()

    response = auditor.post(f"/oem/claims/{claim.number}/decision", data=form)

    assert response.status_code == 409
    page = html(response)
    assert "Another auditor decided or changed this claim meanwhile" in page
    assert f"is at version {claim.version} now" in page
    # Still in review: the form is back with the current version and what was typed.
    assert f'name="version" type="hidden" value="{claim.version}"' in page
    assert 'value="typed before"' in page
    assert re.search(r"<textarea[^>]*>\s*My notes</textarea>", page)
    assert reload(db_session, claim).status is ClaimStatus.IN_REVIEW


def test_an_auditor_comments_from_the_review_page(world, fleet, auditor, sign_in):
    claim = ClaimFactory(fleet=fleet, in_review=True, own_vehicle=True)

    response = auditor.post(
        f"/oem/claims/{claim.number}/comments", data={"body": "Please send the old pump."}
    )

    assert response.status_code == 302
    assert response.headers["Location"] == f"/oem/claims/{claim.number}#comments"
    station_page = html(sign_in("station").get(f"/claims/{claim.number}"))
    assert "Please send the old pump." in station_page
    empty = auditor.post(f"/oem/claims/{claim.number}/comments", data={"body": " "})
    assert empty.status_code == 422


@pytest.mark.parametrize("role", NOT_AUDITORS)
def test_only_auditors_open_the_queue_the_review_page_and_decide(
    world, fleet, sign_in, db_session, role
):
    claim = ClaimFactory(fleet=fleet, in_review=True, own_vehicle=True)
    client = sign_in(role)

    assert client.get("/oem/review").status_code == 403
    assert client.get(f"/oem/claims/{claim.number}").status_code == 403
    response = client.post(f"/oem/claims/{claim.number}/decision", data=decision_form(claim))
    assert response.status_code == 403
    assert (
        client.post(f"/oem/claims/{claim.number}/comments", data={"body": "x"}).status_code == 403
    )
    assert reload(db_session, claim).status is ClaimStatus.IN_REVIEW


def test_a_draft_or_an_unknown_claim_is_not_found(world, fleet, auditor):
    draft = ClaimFactory(fleet=fleet)

    assert auditor.get(f"/oem/claims/{draft.number}").status_code == 404
    assert (
        auditor.post(f"/oem/claims/{draft.number}/decision", data=decision_form(draft)).status_code
        == 404
    )
    assert auditor.get("/oem/claims/RP-NOPE-0000").status_code == 404


def test_the_decision_form_is_protected_against_cross_site_requests(
    app, world, fleet, auditor, db_session, monkeypatch
):
    claim = ClaimFactory(fleet=fleet, in_review=True, own_vehicle=True)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)

    response = auditor.post(f"/oem/claims/{claim.number}/decision", data=decision_form(claim))

    assert response.status_code == 400
    assert "The form expired or was sent from elsewhere" in html(response)
    assert reload(db_session, claim).status is ClaimStatus.IN_REVIEW
    page = html(auditor.get(f"/oem/claims/{claim.number}"))
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = auditor.post(
        f"/oem/claims/{claim.number}/decision", data={**decision_form(claim), "csrf_token": token}
    )
    assert response.status_code == 302
    assert reload(db_session, claim).status is ClaimStatus.APPROVED
