"""Opening a recall can announce it to every station at once (信息发布): an auditor ticks the
option on the open form; the announcement says what the campaign is and its work, goes to all
stations (each is notified), and links to the campaign: a station to its own affected vehicles,
the OEM to the campaign's page. Both languages."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.announcements.models import Announcement
from portal.masterdata.campaigns import Campaign, CampaignVehicle
from portal.notifications.models import Notification
from tests.factories import CampaignFactory, Fleet

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}

OPEN_FORM = {
    "code": "RC-NEW",
    "title": "Brake hose may chafe",
    "kind": "recall",
    "start_date": "2026-01-01",
    "end_date": "2026-12-31",
    "operation_code": "OP-1",
    "hours": "0.80",
    "parts": "P-100:2",
    "supplier_code": "SU-B",
    "recovery_share": "0.5",
}


def _text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def fleet(world):
    return Fleet.build(world)


def announcements(db_session) -> list[Announcement]:
    db_session.expire_all()
    return list(db_session.scalars(sa.select(Announcement).order_by(Announcement.id)))


def open_with_announcement(client, note="Please call every owner this week.", headers=None):
    data = {**OPEN_FORM, "announce": "y", "announcement_note": note}
    return client.post("/campaigns/new", data=data, headers=headers or {})


def test_the_open_form_offers_an_auditor_to_announce_the_campaign(login_as, fleet):
    html = _text(login_as("auditor").get("/campaigns/new"))
    assert 'data-testid="announce-option"' in html
    assert "Announce it to all stations" in html
    assert 'name="announcement_note"' in html


def test_opening_a_recall_with_the_option_announces_it_to_all_stations(
    login_as, world, fleet, db_session
):
    response = open_with_announcement(login_as("auditor"))
    assert response.status_code == 302, _text(response)
    (announcement,) = announcements(db_session)
    campaign = db_session.scalar(sa.select(Campaign).where(Campaign.code == "RC-NEW"))
    assert announcement.campaign_id == campaign.id
    assert announcement.to_all
    assert announcement.published_by.username == world.usernames["auditor"]
    assert announcement.title == "Recall RC-NEW: Brake hose may chafe"
    body = announcement.body
    assert "Open from 2026-01-01 to 2026-12-31." in body
    assert "OP-1" in body and "0.80 hours" in body
    assert "P-100" in body and "× 2" in body
    assert body.endswith("Please call every owner this week.")
    # The supplier's share is the OEM's business, not the stations'.
    assert "SU-B" not in body and "0.5" not in body

    notified = db_session.scalars(
        sa.select(Notification.user_id).where(
            Notification.link == f"/announcements/{announcement.id}"
        )
    ).all()
    assert {world.users["station"].id, world.users["station_b"].id} <= set(notified)


def test_the_flash_says_the_campaign_was_announced(login_as, fleet):
    response = open_with_announcement(login_as("auditor"))
    page = _text(login_as("auditor").get(response.headers["Location"]))
    assert "The campaign was announced to all stations." in page


def test_without_the_option_nothing_is_announced(login_as, fleet, db_session):
    response = login_as("auditor").post("/campaigns/new", data=OPEN_FORM)
    assert response.status_code == 302
    assert announcements(db_session) == []


def test_a_refused_campaign_announces_nothing(login_as, fleet, db_session):
    client = login_as("auditor")
    response = client.post(
        "/campaigns/new", data={**OPEN_FORM, "operation_code": "OP-X", "announce": "y"}
    )
    assert response.status_code == 422
    assert announcements(db_session) == []
    assert db_session.scalar(sa.select(Campaign).where(Campaign.code == "RC-NEW")) is None


def test_a_too_long_note_is_refused_beside_its_field(login_as, fleet, db_session):
    response = open_with_announcement(login_as("auditor"), note="x" * 5001)
    assert response.status_code == 422
    assert announcements(db_session) == []


def test_an_admin_opens_campaigns_but_announcements_are_the_auditors(login_as, fleet, db_session):
    client = login_as("admin")
    assert 'data-testid="announce-option"' not in _text(client.get("/campaigns/new"))
    response = open_with_announcement(client)
    assert response.status_code == 302
    assert announcements(db_session) == []


def test_a_station_reads_the_announcement_and_follows_it_to_its_affected_vehicles(
    login_as, switching_login, fleet, db_session
):
    open_with_announcement(switching_login("auditor"))
    campaign = db_session.scalar(sa.select(Campaign).where(Campaign.code == "RC-NEW"))
    db_session.add(CampaignVehicle(campaign=campaign, vehicle=fleet.vehicle))
    db_session.flush()
    (announcement,) = announcements(db_session)

    client = switching_login("station")
    html = _text(client.get(f"/announcements/{announcement.id}"))
    link = html.split('data-testid="announced-campaign"', 1)[1]
    assert "RC-NEW" in link and "Brake hose may chafe" in link
    assert 'href="/campaigns/work?campaign=RC-NEW"' in link

    work = _text(client.get("/campaigns/work?campaign=RC-NEW"))
    assert "Brake hose may chafe" in work
    assert fleet.vehicle.vin in work.split('data-testid="campaign-work"', 1)[1]


def test_the_oem_sees_the_announcement_link_to_the_campaign_page(login_as, fleet, db_session):
    client = login_as("auditor")
    open_with_announcement(client)
    (announcement,) = announcements(db_session)
    html = _text(client.get(f"/announcements/{announcement.id}"))
    link = html.split('data-testid="announced-campaign"', 1)[1]
    assert 'href="/campaigns/RC-NEW"' in link


def test_a_service_campaign_is_announced_as_one(login_as, fleet, db_session):
    data = {**OPEN_FORM, "kind": "service", "announce": "y", "end_date": ""}
    assert login_as("auditor").post("/campaigns/new", data=data).status_code == 302
    (announcement,) = announcements(db_session)
    assert announcement.title == "Service campaign RC-NEW: Brake hose may chafe"
    assert "Open from 2026-01-01." in announcement.body


def test_an_auditor_reading_chinese_announces_in_chinese(login_as, fleet, db_session):
    client = login_as("auditor")
    html = _text(client.get("/campaigns/new", headers=ZH))
    assert "通知所有服务站" in html
    open_with_announcement(client, note="", headers=ZH)
    (announcement,) = announcements(db_session)
    assert announcement.title == "召回 RC-NEW：Brake hose may chafe"
    assert "2026-01-01" in announcement.body and "工时" in announcement.body
    assert "Open from" not in announcement.body and "The work" not in announcement.body


def test_a_long_title_still_fits_the_announcement(login_as, fleet, db_session):
    data = {**OPEN_FORM, "title": "T" * 200, "announce": "y"}
    assert login_as("auditor").post("/campaigns/new", data=data).status_code == 302
    (announcement,) = announcements(db_session)
    assert len(announcement.title) == 200


# -- announcing a campaign already open ----------------------------------------------------------


@pytest.fixture
def recall(fleet):
    return CampaignFactory(
        code="RC-1", title="Oil pump may leak", operation=fleet.operation, vehicles=[fleet.vehicle]
    )


def test_an_auditor_announces_an_open_campaign_from_its_page_once(
    login_as, world, recall, db_session
):
    client = login_as("auditor")
    page = _text(client.get("/campaigns/RC-1"))
    assert 'data-testid="announce"' in page
    response = client.post("/campaigns/RC-1/announce", data={"note": "Vehicles chosen."})
    assert response.status_code == 302, _text(response)
    (announcement,) = announcements(db_session)
    assert announcement.campaign_id == recall.id and announcement.to_all
    assert announcement.body.endswith("Vehicles chosen.")
    page = _text(client.get("/campaigns/RC-1"))
    assert 'data-testid="announce"' not in page
    assert f'href="/announcements/{announcement.id}"' in page

    again = client.post("/campaigns/RC-1/announce", data={"note": ""}, follow_redirects=True)
    assert "Campaign RC-1 was announced already." in _text(again)
    assert len(announcements(db_session)) == 1


def test_a_closed_campaign_is_not_announced(login_as, recall, db_session):
    client = login_as("auditor")
    client.post("/campaigns/RC-1/close", data={"note": ""})
    assert 'data-testid="announce"' not in _text(client.get("/campaigns/RC-1"))
    refused = client.post("/campaigns/RC-1/announce", data={}, follow_redirects=True)
    assert "Campaign RC-1 is closed: it is not announced." in _text(refused)
    assert announcements(db_session) == []


@pytest.mark.parametrize("role", ["admin", "finance", "supplier", "station"])
def test_only_auditors_announce_a_campaign(login_as, recall, db_session, role):
    client = login_as(role)
    assert client.post("/campaigns/RC-1/announce", data={}).status_code == 403
    assert announcements(db_session) == []


def test_an_unknown_campaign_is_not_found(login_as, fleet):
    assert login_as("auditor").post("/campaigns/NOPE/announce", data={}).status_code == 404
