"""Every page of the demo, for every role, in English and in Chinese, speaks the reader's words
(issue 15): no code where a label belongs (`partially_approved`, `return_to_supplier`,
`labor_hours`), no amount without its thousands separators (`5658.93`), no English left in a
Chinese page.

Each demo login walks the portal from its home page through the links it is shown (a few
pages of each kind: claims of every status, old parts, statements, chargebacks, notifications,
analysis, admin), in each language. What people wrote (comments, reasons, names, file names) is
shown as they wrote it and is not held against the page.
"""

from __future__ import annotations

import re
from collections import defaultdict, deque
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import sqlalchemy as sa

from portal import labels
from portal.claims.models import Claim, ClaimStatus
from portal.demo import DEMO_PASSWORD, DEMO_USERS
from portal.extensions import db
from tests import words_support
from tests.conftest import login
from tests.test_demo import db_session, demo  # noqa: F401 - the demo, loaded once per module

LANGUAGES = {"en": False, "zh_CN": True}
# One page of each kind (the claims of every status are visited as well, see `claim_pages`):
# the walk of the twelve logins and languages stays within about two minutes.
PAGES_PER_KIND = 1
MAX_PAGES = 250

# The kinds of page (see `kind_of`) each role's walk must have read: the pages of every part of
# the portal it works in, recent ones included (campaigns and recalls, contracts, adjustments on
# statements, the audit log, the analyses with early warnings and outlier stations, the
# master-data records). A page missing here is a walk that stopped short, not a passing page.
MUST_READ = {
    "station": {
        "/dealer/", "/claims/{}", "/claims/new", "/campaigns/vin", "/campaigns/work",
        "/old-parts/", "/old-parts/{}", "/settlement/statements", "/settlement/statements/{}",
        "/announcements/", "/notifications/",
    },
    "auditor": {
        "/oem/review", "/oem/claims/{}", "/claims/{}", "/old-parts/", "/old-parts/findings",
        "/settlement/disputes", "/campaigns/", "/campaigns/{}", "/analysis/faults",
        "/analysis/reliability", "/analysis/compensation", "/analysis/warnings",
        "/analysis/warnings/{}", "/analysis/stations", "/analysis/reports", "/audit-log/",
        "/announcements/", "/notifications/",
    },
    "finance": {
        "/settlement/", "/settlement/runs/{}", "/settlement/statements",
        "/settlement/statements/{}", "/campaigns/", "/analysis/compensation",
        "/analysis/warnings", "/analysis/stations", "/audit-log/", "/notifications/",
    },
    "supplier": {
        "/settlement/chargebacks", "/settlement/chargebacks/{}", "/campaigns/", "/old-parts/",
        "/analysis/faults", "/analysis/warnings", "/notifications/",
    },
    "admin": {
        "/admin/masterdata/", "/admin/masterdata/import", "/admin/masterdata/stations",
        "/admin/masterdata/stations/{}/edit", "/admin/masterdata/suppliers/{}/edit",
        "/admin/masterdata/models/{}/edit", "/admin/masterdata/parts/{}",
        "/admin/masterdata/parts/{}/edit", "/admin/masterdata/labor_operations/{}/edit",
        "/admin/masterdata/vehicles/{}", "/admin/masterdata/vehicles/{}/edit",
        "/admin/masterdata/contracts", "/admin/masterdata/contracts/{}", "/campaigns/",
        "/campaigns/{}", "/admin/users", "/admin/rules", "/analysis/warnings",
        "/analysis/stations", "/audit-log/", "/notifications/",
    },
}  # fmt: skip

# Links that are no page: files, downloads, JSON, the sign-out and language switches.
NOT_A_PAGE = re.compile(
    r"^/(static|lang|logout|api)/|/lookup/|/attachments/\d|/evidence/|/photos?/|\.(pdf|csv|xlsx|png|jpe?g)(\?|$)"
    r"|/(pdf|tags|packing-list|export|download)(/|$)|[?&]format=(csv|xlsx)"
)

# Columns people type: shown as written, in whatever language they wrote them.
WRITTEN_BY_PEOPLE = {
    "address", "attachment_filename", "body", "carrier", "cause", "complaint", "correction",
    "decision_note", "decision_reason", "description", "dispute_reason", "email", "engine_no",
    "filename", "finding_review_note", "full_name", "goodwill_reason", "inspection_note",
    "label_en", "name", "note", "owner_name", "paid_reference", "reason", "receive_note",
    "region", "resolution_reason", "system", "title", "tracking_no", "user_agent", "username",
    "waive_reason",
}  # fmt: skip
# Columns of those names the portal writes itself (an automatic approval's English record, an
# adjustment's reason written out when it was made): what they say must not excuse a page.
WRITTEN_BY_THE_PORTAL = {("audit_log", "note"), ("settlement_adjustment", "reason")}


def codes_people_type() -> dict[str, set[str]]:
    """Codes a page shows because its reader types them, by the pages' path prefix: the CSV
    columns and values of the import (DESIGN 8) and the reason codes an admin maintains."""
    from portal.claims.models import ReasonCode
    from portal.masterdata import importer
    from portal.masterdata.models import Disposition

    columns = {name for kind in importer.KINDS for name in importer.columns(kind)}
    columns |= {d.value for d in Disposition}  # the values of the `disposition` column
    reason_codes = set(db.session.scalars(sa.select(ReasonCode.code)))
    return {
        "/masterdata/import": columns,
        "/admin/masterdata/import": columns,
        "/admin/": reason_codes | {"lower_snake_case", "missing_photos"},  # the code's form
    }


@pytest.fixture(scope="module")
def english_ui():
    return words_support.english_ui_strings()


@pytest.fixture(scope="module")
def one_word_codes() -> set[str]:
    """The codes of one word that have a label (`open`, `recall`, `wear`): shown alone, as the
    whole text of a cell or a badge, it is a code where its label belongs."""
    return {
        str(code)
        for table in labels.kinds().values()
        for code, text in table.items()
        if re.fullmatch(r"[a-z]+", str(code)) and str(text) != str(code)
    } - {"km"}  # also the unit after a distance ("12,345 km")


@pytest.fixture(scope="module")
def written_words(demo) -> set[str]:  # noqa: F811 - the demo fixture imported above
    """The codes, amounts and English phrases that appear in what people wrote (read once: the
    demo is the same for every login, each test's changes are rolled back)."""
    found: set[str] = set()
    for table in db.metadata.sorted_tables:
        columns = [
            c
            for c in table.columns
            if c.name in WRITTEN_BY_PEOPLE
            and (table.name, c.name) not in WRITTEN_BY_THE_PORTAL
            and isinstance(c.type, sa.String | sa.Text)
        ]
        for column in columns:
            for (value,) in demo.connection.execute(sa.select(column).distinct()):
                if not value:
                    continue
                if re.fullmatch(r"[a-z]+", value):
                    found.add(value)  # a one-word name (the username `auditor`)
                found.update(words_support.SNAKE_CASE.findall(value))
                found.update(words_support.RAW_MONEY.findall(value))
                found.update(words_support.ENGLISH_WORDS.findall(value))
    return found


def kind_of(url: str) -> str:
    """The kind of page `url` is: its path with every segment holding a digit as `{}`, and
    its query's names (`/claims/{}`, `/oem/review?status`)."""
    parts = urlsplit(url)
    path = "/".join("{}" if re.search(r"\d", seg) else seg for seg in parts.path.split("/"))
    names = sorted({name for name, _ in parse_qsl(parts.query) if name != "page"})
    return path + ("?" + "&".join(names) if names else "")


def links_of(html: str) -> list[str]:
    found = []
    for href in re.findall(r'href="([^"#]+)"', html):
        href = href.replace("&amp;", "&")
        if href.startswith("/") and not href.startswith("//") and not NOT_A_PAGE.search(href):
            parts = urlsplit(href)
            query = [(k, v) for k, v in parse_qsl(parts.query) if k != "next"]
            found.append(parts.path + ("?" + urlencode(query) if query else ""))
    return found


def claim_pages(organisation_id: int, role: str) -> list[str]:
    """A claim of every status the user may open (its own station's for a station)."""
    where = [Claim.station_id == organisation_id] if role == "station" else []
    if role not in ("station", "auditor", "finance"):
        return []
    urls = []
    for status in ClaimStatus:
        if status is ClaimStatus.DRAFT and role != "station":
            continue  # a draft is its station's alone
        number = db.session.scalar(
            sa.select(Claim.number).where(Claim.status == status, *where).order_by(Claim.id)
        )
        if number is not None:
            urls.append(f"/claims/{number}")
            if role == "auditor":
                urls.append(f"/oem/claims/{number}")
    return urls


def walk(client, start: list[str]) -> dict[str, str]:
    """The pages `start` names, and those reachable from them, one of each kind: url -> html.
    No link a reader is shown answers 404 (a page it may not open is shown without a link)."""
    seen_kinds: dict[str, int] = defaultdict(int)
    queued = set(start)
    todo = deque(start)
    pages: dict[str, str] = {}
    while todo and len(pages) < MAX_PAGES:
        url = todo.popleft()
        kind = kind_of(url)
        if seen_kinds[kind] >= PAGES_PER_KIND and url not in start:
            continue
        response = client.get(url)
        assert response.status_code in (200, 302, 303, 403), (url, response.status_code)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        seen_kinds[kind] += 1
        html = response.get_data(as_text=True)
        pages[url] = html
        for link in links_of(html):
            if link not in queued:
                queued.add(link)
                todo.append(link)
    return pages


@pytest.mark.slow
@pytest.mark.parametrize("language", sorted(LANGUAGES))
@pytest.mark.parametrize(("username", "role"), [(u, r) for u, r, *_ in DEMO_USERS])
def test_every_page_of_the_demo_speaks_the_readers_words(
    app, client, username, role, language, english_ui, written_words, one_word_codes
):
    assert login(client, username, DEMO_PASSWORD).status_code == 302
    client.post(f"/lang/{language}")
    from portal.auth.models import User

    user = db.session.scalar(sa.select(User).where(User.username == username))
    home = client.get("/", follow_redirects=True)
    start = [urlsplit(home.request.url).path, "/notifications/"]
    pages = walk(client, start + claim_pages(user.organisation_id, role))
    read = {kind_of(url) for url in pages}
    assert MUST_READ[role] <= read, (
        f"the walk did not read {sorted(MUST_READ[role] - read)}; it read {sorted(read)}"
    )

    typed = codes_people_type()
    problems = []
    for url, html in pages.items():
        allowed = written_words.union(
            *(codes for prefix, codes in typed.items() if url.startswith(prefix))
        )
        problems += words_support.problems_of(
            url, html, chinese=LANGUAGES[language], allowed=allowed, english_ui=english_ui
        )
        problems += [
            words_support.Problem(url, "code", chunk)
            for chunk in words_support.visible_text(html)
            if chunk in one_word_codes and chunk not in allowed
        ]
    unique = sorted({(p.kind, p.text): p for p in problems}.values(), key=str)
    assert not unique, f"{len(unique)} problem(s) on {len(pages)} pages:\n" + "\n".join(
        f"  {p}" for p in unique[:80]
    )


def test_no_timeline_entry_of_the_demo_keeps_the_portals_words_written_out():
    """The portal's own reasons (approved automatically, queued over the limit) are message keys
    written out when read; a reason kept as text is a person's, never "total 1593.16"."""
    from portal.claims.models import ClaimEvent

    reasons = db.session.scalars(sa.select(ClaimEvent.reason).where(ClaimEvent.reason != ""))
    raw = sorted({r for r in reasons if words_support.RAW_MONEY.search(r)})
    assert not raw, raw[:5]
    automatic = db.session.scalars(
        sa.select(ClaimEvent).where(ClaimEvent.action.in_(("auto_approved", "queued")))
    ).all()
    assert automatic and all(e.message_key for e in automatic)


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_every_audit_entry_of_the_demo_reads_in_the_readers_words(app, language, written_words):
    """Each field, value, kind and subject of every entry of the demo's audit log, as the page
    and the CSV show it: a label, never a field name or a code; money formatted."""
    from flask_babel import force_locale

    from portal.auditlog import words
    from portal.auditlog.models import AuditEntry

    problems = set()
    with app.test_request_context(), force_locale(language):
        for entry in db.session.scalars(sa.select(AuditEntry)):
            shown = [words.kind_label(entry.kind), words.subject_label(entry.subject, entry.kind)]
            for values in (entry.before, entry.after):
                for name in values or {}:
                    if not (
                        labels.has_label(name, "audit_field")
                        or labels.has_label(name, "masterdata_column")
                    ):
                        problems.add(f"{entry.kind}: field {name!r} has no label")
                shown += [f"{k}: {v}" for k, v in words.changes(values, entry.kind)]
            for text in shown:
                for code in words_support.SNAKE_CASE.findall(text):
                    if code not in written_words:
                        problems.add(f"{entry.kind}: code {code!r} in {text!r}")
                for amount in words_support.RAW_MONEY.findall(text):
                    problems.add(f"{entry.kind}: amount {amount!r} in {text!r}")
    assert not problems, sorted(problems)[:40]
