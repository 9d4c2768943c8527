"""Days and moments in the reader's locale (issue 15, "dates in the reader's locale").

A page writes a day as its reader does ("Dec 5, 2026" / "2026年12月5日") and a moment in the
portal's time zone (Asia/Shanghai) with the locale's own glue ("Dec 6, 2026, 2:33 AM" /
"2026年12月6日 02:33"); inputs, URLs and exports keep ISO text.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime

import pytest
from flask import render_template_string
from flask_babel import force_locale

from portal import messages
from portal.claims.models import ClaimSettings
from tests.factories import ClaimFactory, Fleet

DAY = date(2026, 12, 5)
# 18:33 UTC on Dec 5 is 02:33 on Dec 6 in Shanghai.
LATE_EVENING_UTC = datetime(2026, 12, 5, 18, 33, tzinfo=UTC)


@pytest.mark.parametrize(
    ("locale", "day", "moment"),
    [
        ("en", "Dec 5, 2026", "Dec 6, 2026, 2:33\u202fAM"),
        ("zh_CN", "2026年12月5日", "2026年12月6日 02:33"),
    ],
)
def test_a_day_and_a_moment_are_written_as_the_reader_writes_them(app, locale, day, moment):
    with app.test_request_context(), force_locale(locale):
        assert messages.day(DAY) == day
        assert messages.moment(LATE_EVENING_UTC).replace(" ", "\u202f") == moment.replace(
            " ", "\u202f"
        )
        # A moment's day is the local one, not the UTC one.
        assert messages.day(LATE_EVENING_UTC) == messages.day(date(2026, 12, 6))
        # A naive moment is UTC, as the database keeps it.
        assert messages.moment(LATE_EVENING_UTC.replace(tzinfo=None)) == messages.moment(
            LATE_EVENING_UTC
        )
        assert messages.day(None) == messages.moment(None) == "–"
        # The audit log's moments keep their seconds.
        assert ":33:00" in messages.moment(LATE_EVENING_UTC, seconds=True)


@pytest.mark.parametrize(("locale", "expected"), [("en", "Nov 2026"), ("zh_CN", "2026年11月")])
def test_a_settlement_period_is_written_as_a_month(app, locale, expected):
    with app.test_request_context(), force_locale(locale):
        assert messages.month("2026-11") == expected
        assert messages.month(date(2026, 11, 30)) == expected
        assert messages.format_param("month", "2026-11") == expected
        assert render_template_string("{{ p|month }}", p="2026-11") == expected
        # Text that is not a month is left as it was; nothing is a month by accident.
        assert messages.month("2026-13") == "2026-13"
        assert messages.month("soon") == "soon"
        assert messages.month(None) == "–"


def test_a_page_never_prints_a_bare_day_or_moment_as_iso_text(app):
    with app.test_request_context(), force_locale("zh_CN"):
        shown = render_template_string(
            "{{ d }}|{{ m }}|{{ d|day }}|{{ d.isoformat() }}", d=DAY, m=LATE_EVENING_UTC
        )
    printed_day, printed_moment, filtered, iso = shown.split("|")
    assert printed_day == filtered == "2026年12月5日"
    assert printed_moment.startswith("2026年12月6日 ")
    assert iso == "2026-12-05"  # said on purpose: for an input, a URL or an attribute


@pytest.fixture
def fleet(world):
    ClaimSettings.current().auto_approve_enabled = False
    return Fleet.build(world)


@pytest.fixture
def login_as(switching_login):
    return switching_login


def test_the_claim_list_page_and_form_show_the_day_in_the_readers_locale(login_as, fleet):
    claim = ClaimFactory(fleet=fleet, own_vehicle=True)
    iso = claim.repair_date.isoformat()
    client = login_as("station")
    with force_locale("en"):
        english = messages.day(claim.repair_date)
    with force_locale("zh_CN"):
        chinese = messages.day(claim.repair_date)
    assert re.fullmatch(r"[A-Z][a-z]{2} \d{1,2}, \d{4}", english)
    assert re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日", chinese)

    for language, shown in (("en", english), ("zh_CN", chinese)):
        client.post(f"/lang/{language}")
        for url in ("/dealer/", f"/claims/{claim.number}"):
            page = client.get(url).get_data(as_text=True)
            assert shown in page, (language, url)
            assert f">{iso}<" not in page and f"> {iso}" not in page, (language, url)
        # The form's date input keeps ISO text: the browser shows it in its own way.
        form = client.get(f"/claims/{claim.number}/edit").get_data(as_text=True)
        assert re.search(rf'type="date"[^>]*value="{iso}"|value="{iso}"[^>]*type="date"', form)

    # The export keeps the day as ISO text (CSV) for the spreadsheet to read.
    body = client.get("/dealer/", query_string={"export": "csv"}).get_data().decode("utf-8")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert any(iso in row for row in rows[1:])
    assert not any(chinese in row for row in rows[1:])


def test_the_audit_log_writes_a_day_it_kept_as_iso_text_in_the_readers_locale(app):
    from portal.auditlog import words

    with app.test_request_context(), force_locale("en"):
        assert words.value_text("repair_date", "2026-12-05") == "Dec 5, 2026"
        assert words.value_text("at", "2026-12-05T18:33:00+00:00").startswith("Dec 6, 2026, ")
        assert words.value_text("reference", "BANK-2026-12") == "BANK-2026-12"  # not a day
    with app.test_request_context(), force_locale("zh_CN"):
        assert words.value_text("repair_date", "2026-12-05") == "2026年12月5日"
