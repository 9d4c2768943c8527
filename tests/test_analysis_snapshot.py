"""The compensation analysis over every counted claim is read from a snapshot (migration 0029)
that the nightly job stores: the snapshot holds exactly the report computed from the claims,
the page says when it was computed, and filtered selections are still computed per request."""

from __future__ import annotations

from datetime import date

import pytest

from portal.analysis import compensation
from portal.analysis.queries import Selection
from tests.test_analysis_pages import an1, claims, fleet, numbers_in, settled  # noqa: F401


def test_the_snapshot_holds_exactly_the_computed_report(claims, settled):  # noqa: F811
    as_of = date.today()
    report = compensation.compensation(Selection(as_of))
    assert report.claims and report.by_supplier and report.cycle_times
    compensation.store(as_of)
    stored, computed_at = compensation.stored(as_of)
    assert stored == report
    assert computed_at is not None
    assert compensation.stored(date(2025, 9, 30)) is None


def test_the_page_over_every_claim_shows_the_snapshot_and_its_time(
    login_as,
    claims,  # noqa: F811
    settled,  # noqa: F811
    monkeypatch,
):
    client = login_as("finance")
    first = client.get("/analysis/compensation").get_data(as_text=True)  # stores today's
    assert 'data-testid="snapshot-note"' in first

    def refuse(selection):
        raise AssertionError("computed again")

    monkeypatch.setattr(compensation, "compensation", refuse)
    again = client.get("/analysis/compensation").get_data(as_text=True)
    assert numbers_in(again, "money-claims") == numbers_in(first, "money-claims")
    assert numbers_in(again, "money-recovered") == numbers_in(first, "money-recovered")
    with pytest.raises(AssertionError):  # a filtered selection is computed now
        client.get("/analysis/compensation?model=AN1")


def test_the_refresh_button_computes_the_snapshot_again(
    switching_login,
    claims,  # noqa: F811
    settled,  # noqa: F811
):
    from portal.analysis.models import Snapshot
    from portal.extensions import db

    client = switching_login("auditor")
    client.get("/analysis/compensation")
    before = db.session.query(Snapshot).one().computed_at
    response = client.post("/analysis/compensation/refresh")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.query(Snapshot).one().computed_at >= before
    assert switching_login("supplier").post("/analysis/compensation/refresh").status_code == 403
