"""Announcements (信息发布): auditors publish to all stations, a region's or a chosen list; each
station sees only its own, unread first; the first read is kept; the OEM sees who read what."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import render_template

from portal.announcements import operations as ops
from portal.announcements.models import Announcement, AnnouncementRead
from portal.claims import attachments
from portal.db import utcnow
from portal.notifications.models import Notification
from tests import factories

PDF = b"%PDF-1.7\n" + b"0" * 64
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def uploads(app, tmp_path, monkeypatch) -> Path:
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path))
    return tmp_path


@pytest.fixture
def north_c(world):
    """A third station, ST-C, in the North region like ST-B, with one user."""
    station = factories.StationFactory(code="ST-C", name="Station C", region="North")
    world.users["station_c"] = factories.UserFactory(
        station=True, organisation=station, username="station_c"
    )
    return station


def publish(client, title="Recall campaign 2026-07", body="Check the oil pump.", **fields):
    data = {"title": title, "body": body, "audience": "all", **fields}
    return client.post("/announcements/new", data=data, content_type="multipart/form-data")


def published(db_session, title: str) -> Announcement:
    db_session.expire_all()
    return db_session.scalars(sa.select(Announcement).where(Announcement.title == title)).one()


def inbox_ids(client) -> list[int]:
    page = client.get("/announcements/").get_data(as_text=True)
    return [int(i) for i in re.findall(r'data-testid="announcement" data-id="(\d+)"', page)]


def notified(db_session, world, key: str) -> list[str]:
    return list(
        db_session.scalars(
            sa.select(Notification.link).where(Notification.user_id == world.users[key].id)
        )
    )


def as_user(app, world, key: str):
    """A second signed-in client, so that a test can act as several users."""
    other = app.test_client()
    response = other.post(
        "/login", data={"username": world.users[key].username, "password": factories.PASSWORD}
    )
    assert response.status_code == 302
    return other


def download(client, url: str):
    """GET a file and close the streamed response (send_file keeps the file open until then)."""
    response = client.get(url)
    response.get_data()
    response.close()
    return response


# -- audience ------------------------------------------------------------------------------------


def test_publishing_to_all_reaches_every_station_and_notifies_its_users(
    app, world, north_c, login_as, db_session
):
    auditor = login_as("auditor")
    response = publish(auditor, title="To everyone")
    announcement = published(db_session, "To everyone")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/announcements/{announcement.id}")
    assert announcement.to_all and announcement.published_by == world.users["auditor"]

    link = f"/announcements/{announcement.id}"
    for key in ("station", "station_b", "station_c"):
        assert notified(db_session, world, key) == [link]
        assert inbox_ids(as_user(app, world, key)) == [announcement.id]
    for key in ("auditor", "finance", "admin", "supplier"):
        assert notified(db_session, world, key) == []


def test_publishing_to_a_region_reaches_only_its_stations(
    app, world, north_c, login_as, db_session
):
    response = publish(login_as("auditor"), title="North only", audience="regions", regions="North")
    assert response.status_code == 302
    announcement = published(db_session, "North only")
    assert not announcement.to_all
    assert sorted(s.code for s in announcement.stations) == ["ST-B", "ST-C"]

    for key in ("station_b", "station_c"):
        assert inbox_ids(as_user(app, world, key)) == [announcement.id]
        assert notified(db_session, world, key) == [f"/announcements/{announcement.id}"]
    east = as_user(app, world, "station")
    assert inbox_ids(east) == []
    assert east.get(f"/announcements/{announcement.id}").status_code == 404
    assert notified(db_session, world, "station") == []


def test_publishing_to_a_list_reaches_exactly_those_stations(
    app, world, north_c, login_as, db_session
):
    auditor = login_as("auditor")
    response = publish(auditor, title="A and C", audience="stations", stations=["ST-A", "ST-C"])
    assert response.status_code == 302
    announcement = published(db_session, "A and C")
    assert sorted(s.code for s in announcement.stations) == ["ST-A", "ST-C"]

    for key in ("station", "station_c"):
        assert inbox_ids(as_user(app, world, key)) == [announcement.id]
        assert len(notified(db_session, world, key)) == 1
    b = as_user(app, world, "station_b")
    assert inbox_ids(b) == []
    assert b.get(f"/announcements/{announcement.id}").status_code == 404
    assert notified(db_session, world, "station_b") == []


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"audience": "regions"}, "choose at least one region"),
        ({"audience": "regions", "regions": "Atlantis"}, "no station in Atlantis"),
        ({"audience": "stations"}, "choose at least one station"),
        ({"audience": "stations", "stations": ["ST-A", "NOPE"]}, "no such station: NOPE"),
        ({"title": ""}, "This field is required."),
        ({"body": "   "}, "This field is required."),
    ],
)
def test_an_incomplete_audience_or_text_publishes_nothing(
    world, login_as, db_session, fields, problem
):
    response = publish(login_as("auditor"), **fields)
    assert response.status_code == 422
    assert problem in response.get_data(as_text=True)
    assert db_session.scalar(sa.select(sa.func.count(Announcement.id))) == 0
    assert db_session.scalar(sa.select(sa.func.count(Notification.id))) == 0


# -- who may do what -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["station", "finance", "admin", "supplier"])
def test_only_auditors_publish(world, login_as, db_session, role):
    client = login_as(role)
    assert client.get("/announcements/new").status_code == 403
    assert publish(client).status_code == 403
    assert db_session.scalar(sa.select(sa.func.count(Announcement.id))) == 0


def test_suppliers_get_403_on_everything_here(world, login_as, db_session, uploads):
    announcement = ops.publish(
        world.users["auditor"],
        title="T",
        body="B",
        audience=ops.Audience.ALL,
        upload=ops.Upload("a.pdf", PDF),
    )
    supplier = login_as("supplier")
    for path in (
        "/announcements/",
        f"/announcements/{announcement.id}",
        f"/announcements/{announcement.id}/attachment",
    ):
        assert download(supplier, path).status_code == 403, path


@pytest.mark.parametrize("role", ["auditor", "finance", "admin"])
def test_the_oem_sees_the_list_and_each_announcement(world, login_as, role):
    announcement = ops.publish(
        world.users["auditor"], title="Seen by the OEM", body="B", audience=ops.Audience.ALL
    )
    client = login_as(role)
    page = client.get("/announcements/").get_data(as_text=True)
    assert "Seen by the OEM" in page
    assert ("New announcement" in page) is (role == "auditor")
    assert client.get(f"/announcements/{announcement.id}").status_code == 200
    assert client.get("/announcements/999999").status_code == 404


def test_the_text_is_plain_with_its_line_breaks(world, login_as):
    ops.publish(
        world.users["auditor"],
        title="<b>Bold?</b>",
        body="Line one\r\n<script>alert(1)</script>\nLine three",
        audience=ops.Audience.ALL,
    )
    station = login_as("station")
    announcement_id = inbox_ids(station)[0]
    page = station.get(f"/announcements/{announcement_id}").get_data(as_text=True)
    assert "&lt;b&gt;Bold?&lt;/b&gt;" in page
    assert "Line one<br>&lt;script&gt;alert(1)&lt;/script&gt;<br>Line three" in page
    assert "<script>alert" not in page


# -- reading -------------------------------------------------------------------------------------


def test_unread_come_first_then_read_newest_first_within_each(world, login_as, db_session):
    auditor = world.users["auditor"]
    now = utcnow()
    made = []
    for days_ago in (4, 3, 2, 1):
        a = ops.publish(auditor, title=f"{days_ago} days", body="B", audience=ops.Audience.ALL)
        a.published_at = now - timedelta(days=days_ago)
        made.append(a)
    db_session.flush()
    oldest, old, newer, newest = made

    station = login_as("station")
    assert inbox_ids(station) == [newest.id, newer.id, old.id, oldest.id]
    station.get(f"/announcements/{old.id}")
    station.get(f"/announcements/{newest.id}")
    assert inbox_ids(station) == [newer.id, oldest.id, newest.id, old.id]
    page = station.get("/announcements/").get_data(as_text=True)
    states = re.findall(r'data-id="\d+" data-state="(\w+)"', page)
    assert states == ["unread", "unread", "read", "read"]

    # Read is per user: the other station's user still has all four unread.
    assert ops.unread_for(world.users["station_b"], 10) == [newest, newer, old, oldest]


def test_the_inbox_is_paged(app, world, login_as, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    for n in range(3):
        ops.publish(world.users["auditor"], title=f"N{n}", body="B", audience=ops.Audience.ALL)
    station = login_as("station")
    assert len(inbox_ids(station)) == 2
    page2 = station.get("/announcements/?page=2").get_data(as_text=True)
    assert len(re.findall(r'data-testid="announcement"', page2)) == 1


def test_reading_records_a_receipt_once_and_keeps_the_first_time(world, login_as, db_session):
    announcement = ops.publish(
        world.users["auditor"], title="Once", body="B", audience=ops.Audience.ALL
    )
    station = login_as("station")
    assert station.get(f"/announcements/{announcement.id}").status_code == 200

    receipts = db_session.scalars(sa.select(AnnouncementRead)).all()
    assert [(r.user_id, r.station_id) for r in receipts] == [
        (world.users["station"].id, world.stations[0].id)
    ]
    first = utcnow() - timedelta(days=2)
    receipts[0].read_at = first
    db_session.flush()

    page = station.get(f"/announcements/{announcement.id}")
    assert page.status_code == 200
    db_session.expire_all()
    receipts = db_session.scalars(sa.select(AnnouncementRead)).all()
    assert len(receipts) == 1
    assert receipts[0].read_at == first
    assert 'data-testid="first-read"' in page.get_data(as_text=True)


def test_reading_an_announcement_marks_its_notification_read(world, login_as, db_session):
    announcement = ops.publish(
        world.users["auditor"], title="Bell", body="B", audience=ops.Audience.ALL
    )
    station = login_as("station")
    assert 'data-testid="bell-count">1<' in station.get("/announcements/").get_data(as_text=True)
    station.get(f"/announcements/{announcement.id}")
    db_session.expire_all()
    mine = db_session.scalars(
        sa.select(Notification).where(Notification.user_id == world.users["station"].id)
    ).one()
    assert mine.read_at is not None
    other = db_session.scalars(
        sa.select(Notification).where(Notification.user_id == world.users["station_b"].id)
    ).one()
    assert other.read_at is None


def test_oem_users_reading_leave_no_receipt(world, login_as, db_session):
    announcement = ops.publish(
        world.users["auditor"], title="OEM", body="B", audience=ops.Audience.ALL
    )
    login_as("auditor").get(f"/announcements/{announcement.id}")
    assert db_session.scalar(sa.select(sa.func.count()).select_from(AnnouncementRead)) == 0


# -- read receipts -------------------------------------------------------------------------------


def test_the_oem_sees_who_read_it_when_and_who_has_not(app, world, north_c, login_as, db_session):
    announcement = ops.publish(
        world.users["auditor"], title="Receipts", body="B", audience=ops.Audience.ALL
    )
    second_a = factories.UserFactory(
        station=True, organisation=world.stations[0], username="station_a2", full_name="Li Wei"
    )
    db_session.flush()
    as_user(app, world, "station").get(f"/announcements/{announcement.id}")
    as_user(app, world, "station_c").get(f"/announcements/{announcement.id}")
    other = app.test_client()
    other.post("/login", data={"username": second_a.username, "password": factories.PASSWORD})
    other.get(f"/announcements/{announcement.id}")

    auditor = login_as("auditor")
    page = auditor.get(f"/announcements/{announcement.id}").get_data(as_text=True)
    assert "2 of 3 stations read" in page
    states = dict(re.findall(r'data-station="([\w-]+)" data-state="(\w+)"', page))
    assert states == {"ST-A": "read", "ST-B": "unread", "ST-C": "read"}
    # Not read yet first: those are the stations to chase.
    assert page.index('data-station="ST-B"') < page.index('data-station="ST-A"')
    row_a = page[page.index('data-station="ST-A"') :].split("</tr>")[0]
    assert "station_a" in row_a and "Li Wei" in row_a
    listing = auditor.get("/announcements/").get_data(as_text=True)
    assert "2 of 3 stations read" in listing


def test_read_counts_cover_the_chosen_stations_only(world, north_c, db_session):
    announcement = ops.publish(
        world.users["auditor"],
        title="Two",
        body="B",
        audience=ops.Audience.STATIONS,
        station_codes=["ST-A", "ST-B"],
    )
    ops.record_read(announcement, world.users["station_b"])
    stats = ops.read_stats([announcement])[announcement.id]
    assert (stats.read, stats.targeted) == (1, 2)
    rows = ops.receipts_by_station(announcement)
    assert [(r.station.code, bool(r.receipts)) for r in rows] == [("ST-A", False), ("ST-B", True)]


# -- attachments ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "content_type", "disposition"),
    [(PDF, "application/pdf", "attachment"), (PNG, "image/png", "inline")],
)
def test_a_pdf_or_photo_is_stored_under_a_random_name_and_served_to_its_readers(
    app, world, login_as, db_session, uploads, data, content_type, disposition
):
    response = publish(
        login_as("auditor"),
        title="With file",
        audience="stations",
        stations="ST-A",
        attachment=(io.BytesIO(data), "../../etc/bulletin.bin"),
    )
    assert response.status_code == 302
    announcement = published(db_session, "With file")
    assert announcement.attachment_filename == "bulletin.bin"
    assert announcement.attachment_content_type == content_type
    stored = uploads / announcement.attachment_stored_name
    assert stored.read_bytes() == data
    assert "bulletin" not in announcement.attachment_stored_name

    url = f"/announcements/{announcement.id}/attachment"
    for key in ("station", "auditor", "finance", "admin"):
        got = download(as_user(app, world, key), url)
        assert got.status_code == 200, key
        assert got.data == data
        assert got.mimetype == content_type
        assert got.headers["Content-Disposition"].startswith(disposition)
        assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert download(as_user(app, world, "station_b"), url).status_code == 404
    assert download(as_user(app, world, "supplier"), url).status_code == 403


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"GIF89a" + b"\x00" * 10, "Only JPEG, PNG or WebP photos and PDF files"),
        (b"<html><script>alert(1)</script>", "Only JPEG, PNG or WebP photos and PDF files"),
        (b"MZ\x90\x00", "Only JPEG, PNG or WebP photos and PDF files"),
        (b"", "The file is empty."),
    ],
)
def test_other_content_is_refused_whatever_its_name(
    world, login_as, db_session, uploads, data, problem
):
    response = publish(login_as("auditor"), attachment=(io.BytesIO(data), "bulletin.pdf"))
    assert response.status_code == 422
    assert problem in response.get_data(as_text=True)
    assert db_session.scalar(sa.select(sa.func.count(Announcement.id))) == 0
    assert list(uploads.iterdir()) == []


def test_an_oversized_attachment_is_refused(world, login_as, db_session, uploads, monkeypatch):
    monkeypatch.setattr(attachments, "MAX_ATTACHMENT_BYTES", 40)
    response = publish(login_as("auditor"), attachment=(io.BytesIO(PDF), "big.pdf"))
    assert response.status_code == 422
    assert "larger than" in response.get_data(as_text=True)
    assert db_session.scalar(sa.select(sa.func.count(Announcement.id))) == 0
    assert list(uploads.iterdir()) == []


def test_an_announcement_without_attachment_has_none_to_serve(world, login_as):
    announcement = ops.publish(
        world.users["auditor"], title="No file", body="B", audience=ops.Audience.ALL
    )
    url = f"/announcements/{announcement.id}/attachment"
    assert login_as("station").get(url).status_code == 404


# -- the station home page's panel ---------------------------------------------------------------


def test_unread_for_gives_the_newest_unread_and_the_panel_renders_them(app, world, db_session):
    station_user = world.users["station"]
    made = [
        ops.publish(world.users["auditor"], title=f"P{n}", body="B", audience=ops.Audience.ALL)
        for n in range(3)
    ]
    now = utcnow()
    for n, a in enumerate(made):
        a.published_at = now - timedelta(hours=3 - n)
    ops.record_read(made[2], station_user)
    db_session.flush()

    unread = ops.unread_for(station_user, 5)
    assert unread == [made[1], made[0]]
    assert ops.unread_for(station_user, 1) == [made[1]]
    assert ops.unread_for(world.users["auditor"], 5) == []

    with app.test_request_context("/dealer/"):
        html = render_template("announcements/_unread_panel.html", unread_announcements=unread)
        assert 'data-testid="unread-announcements"' in html
        assert html.index("P1") < html.index("P0")
        assert f"/announcements/{made[1].id}" in html
        assert "P2" not in html
        empty = render_template("announcements/_unread_panel.html", unread_announcements=[])
        assert empty.strip() == ""


def test_the_nav_shows_announcements_to_stations_and_auditors(world, login_as):
    for role, shown in (("station", True), ("auditor", True), ("supplier", False)):
        client = login_as(role)
        page = client.get("/notifications/").get_data(as_text=True)
        assert ('href="/announcements/"' in page) is shown, role
        client.post("/logout")


def test_the_station_home_shows_unread_announcements_first(world, client, login_as, db_session):
    from portal.announcements.operations import Audience, publish

    publish(
        world.users["auditor"],
        title="Recall R-2611: brake hoses",
        body="Check every H9.",
        audience=Audience.ALL,
    )
    login_as("station")
    home = client.get("/dealer/").get_data(as_text=True)
    assert "Recall R-2611: brake hoses" in home
    client.post("/logout")
    login_as("station_b")
    other = client.get("/dealer/").get_data(as_text=True)
    assert "Station B" in other and "Recall R-2611" in other
