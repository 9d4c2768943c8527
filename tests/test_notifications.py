"""Notifications: the user's list (newest first, unread highlighted, paged), marking read, the
bell in the header, links that only ever lead to this site, and who hears of a claim comment."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.db import utcnow
from portal.notifications.models import Notification
from portal.notifications.operations import local_path
from tests.factories import ClaimFactory, Fleet


def note(user, message: str, link: str | None = None, minutes_ago: int = 0, read=False):
    from portal.extensions import db

    created = utcnow() - timedelta(minutes=minutes_ago)
    n = Notification(
        user_id=user.id,
        message=message,
        link=link,
        created_at=created,
        read_at=created if read else None,
    )
    db.session.add(n)
    db.session.flush()
    return n


def listed(page: str) -> list[tuple[int, str]]:
    return [
        (int(i), state)
        for i, state in re.findall(
            r'data-testid="notification" data-id="(\d+)" data-state="(\w+)"', page
        )
    ]


def row_of(page: str, notification_id: int) -> str:
    """The <li> of one notification."""
    start = page.rindex("<li", 0, page.index(f'data-id="{notification_id}"'))
    return page[start:].split("</li>")[0]


def bell_count(page: str) -> int | None:
    found = re.search(r'data-testid="bell-count">([^<]+)<', page)
    return int(found.group(1)) if found else None


def test_the_page_lists_my_notifications_newest_first_with_unread_highlighted(world, login_as):
    me = world.users["station"]
    old = note(me, "Claim RP-1 was approved", "/claims/RP-1", minutes_ago=30, read=True)
    new = note(me, "Claim RP-2 was returned", "/claims/RP-2", minutes_ago=5)
    note(world.users["station_b"], "Not mine", "/claims/RP-9")

    page = login_as("station").get("/notifications/").get_data(as_text=True)
    assert listed(page) == [(new.id, "unread"), (old.id, "read")]
    assert "Not mine" not in page
    row = row_of(page, new.id)
    assert "list-group-item-primary" in row and "Mark as read" in row
    assert 'data-target="/claims/RP-2"' in row


def test_the_page_is_paged(app, world, login_as, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    me = world.users["auditor"]
    made = [note(me, f"N{n}", minutes_ago=10 - n) for n in range(3)]
    client = login_as("auditor")
    assert [i for i, _ in listed(client.get("/notifications/").get_data(as_text=True))] == [
        made[2].id,
        made[1].id,
    ]
    page2 = client.get("/notifications/?page=2").get_data(as_text=True)
    assert [i for i, _ in listed(page2)] == [made[0].id]


@pytest.mark.parametrize("role", ["station", "auditor", "finance", "supplier", "admin"])
def test_every_signed_in_user_has_the_page_and_the_bell(world, login_as, role):
    note(world.users[role], "Hello", minutes_ago=1)
    note(world.users[role], "Hello again")
    page = login_as(role).get("/notifications/").get_data(as_text=True)
    assert 'data-testid="bell"' in page
    assert bell_count(page) == 2


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/notifications/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert 'data-testid="bell"' not in client.get("/login").get_data(as_text=True)


def test_marking_one_read_lowers_the_bell_count(world, login_as, db_session):
    me = world.users["finance"]
    first, second = note(me, "One", minutes_ago=2), note(me, "Two")
    client = login_as("finance")
    assert bell_count(client.get("/notifications/").get_data(as_text=True)) == 2

    response = client.post(f"/notifications/{first.id}/read", data={"page": "1"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/notifications/")
    page = client.get("/notifications/").get_data(as_text=True)
    assert bell_count(page) == 1
    assert listed(page) == [(second.id, "unread"), (first.id, "read")]

    db_session.expire_all()
    read_at = first.read_at
    assert read_at is not None
    client.post(f"/notifications/{first.id}/read")  # again: the first time stays
    db_session.expire_all()
    assert first.read_at == read_at


def test_marking_all_read_clears_the_bell(world, login_as, db_session):
    me = world.users["station"]
    for n in range(3):
        note(me, f"N{n}", minutes_ago=n)
    theirs = note(world.users["station_b"], "Theirs")
    client = login_as("station")
    assert client.post("/notifications/read-all").status_code == 302
    page = client.get("/notifications/").get_data(as_text=True)
    assert bell_count(page) is None
    assert {state for _, state in listed(page)} == {"read"}
    assert "Mark all as read" not in page
    db_session.expire_all()
    assert theirs.read_at is None


def test_someone_elses_notification_is_404(world, login_as, db_session):
    theirs = note(world.users["station_b"], "Theirs", "/claims/RP-9")
    client = login_as("station")
    assert client.post(f"/notifications/{theirs.id}/read").status_code == 404
    assert client.post(f"/notifications/{theirs.id}/open").status_code == 404
    assert client.post("/notifications/999999/read").status_code == 404
    db_session.expire_all()
    assert theirs.read_at is None


def test_marking_read_needs_a_post_with_the_csrf_token(app, world, login_as, monkeypatch):
    mine = note(world.users["station"], "Mine")
    client = login_as("station")
    assert client.get(f"/notifications/{mine.id}/read").status_code == 405
    assert client.get("/notifications/read-all").status_code == 405
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert client.post(f"/notifications/{mine.id}/read").status_code == 400
    assert client.post("/notifications/read-all").status_code == 400


def test_opening_marks_read_and_goes_to_the_target(world, login_as, db_session):
    mine = note(world.users["station"], "Claim RP-2 was returned", "/claims/RP-2?tab=x#comments")
    response = login_as("station").post(f"/notifications/{mine.id}/open")
    assert response.status_code == 302
    assert response.headers["Location"] == "/claims/RP-2?tab=x#comments"
    db_session.expire_all()
    assert mine.read_at is not None


@pytest.mark.parametrize(
    "link",
    [
        "https://evil.example/claims",
        "//evil.example/claims",
        "/\\evil.example",
        "javascript:alert(1)",
        "claims/RP-1",
        "/claims/\nRP-1",
        "",
        None,
    ],
)
def test_a_link_that_leaves_the_site_is_never_followed(world, login_as, db_session, link):
    mine = note(world.users["station"], "Odd link", link)
    client = login_as("station")
    page = client.get("/notifications/").get_data(as_text=True)
    row = row_of(page, mine.id)
    assert "data-target" not in row and "evil" not in row
    response = client.post(f"/notifications/{mine.id}/open")
    assert response.status_code == 302
    assert response.headers["Location"] == "/notifications/"
    db_session.expire_all()
    assert mine.read_at is not None


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("/claims/RP-1", "/claims/RP-1"),
        ("/announcements/3", "/announcements/3"),
        ("/claims/RP-1?x=1#c", "/claims/RP-1?x=1#c"),
        ("//evil.example", None),
        ("/\\evil.example", None),
        ("http://evil.example/", None),
        ("/claims\t/x", None),
        (None, None),
    ],
)
def test_local_path(link, expected):
    assert local_path(link) == expected


# -- claim comments ------------------------------------------------------------------------------


@pytest.fixture
def submitted_claim(world):
    return ClaimFactory(fleet=Fleet.build(world), submitted=True)


def notes_of(db_session, user) -> list[tuple[str, str]]:
    db_session.expire_all()
    return [
        (n.message, n.link)
        for n in db_session.scalars(sa.select(Notification).where(Notification.user_id == user.id))
    ]


def test_an_auditors_comment_notifies_the_claims_station(
    world, login_as, db_session, submitted_claim
):
    number = submitted_claim.number
    response = login_as("auditor").post(f"/claims/{number}/comments", data={"body": "Photo?"})
    assert response.status_code == 302
    assert notes_of(db_session, world.users["station"]) == [
        (f"An auditor commented on claim {number}.", f"/claims/{number}")
    ]
    assert notes_of(db_session, world.users["station_b"]) == []
    assert notes_of(db_session, world.users["auditor"]) == []


def test_a_stations_own_comment_notifies_nobody(world, login_as, db_session, submitted_claim):
    before = db_session.scalar(sa.select(sa.func.count(Notification.id)))
    response = login_as("station").post(
        f"/claims/{submitted_claim.number}/comments", data={"body": "Photos follow"}
    )
    assert response.status_code == 302
    assert db_session.scalar(sa.select(sa.func.count(Notification.id))) == before
    assert notes_of(db_session, world.users["station"]) == []
