"""The old-part pages: a station packs and ships its parts, the destination scans them in,
reports missing ones and inspects, the OEM forwards to the supplier and writes off, the supplier
writes off what was forwarded; nobody sees another organisation's parts or shipments."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest

from portal.masterdata.models import Disposition
from portal.oldparts import operations as op
from portal.oldparts.models import Inspection, OldPart, OldPartStatus, ShipmentStatus
from portal.oldparts.tasks import local_today
from tests.factories import ClaimFactory, Fleet, old_parts
from tests.test_api_auth import Api, error_of, token_for


@pytest.fixture
def login_as(switching_login):
    return switching_login


@pytest.fixture
def fleet(world):
    return Fleet.build(world)


@pytest.fixture
def parts(world, fleet, db_session):
    return old_parts(ClaimFactory(fleet=fleet, with_old_parts=True))


@pytest.fixture
def shipped(world, parts):
    """Both parts in a shipped return shipment to the OEM."""
    shipment = op.create_return_shipment(world.users["station"], [p.tag for p in parts])
    op.ship(shipment, world.users["station"], "ZTO", "ZT1")
    return shipment


def text(response) -> str:
    return response.get_data(as_text=True)


# -- the station -----------------------------------------------------------------------------------


def test_the_station_lists_its_parts_awaiting_return_with_deadline_and_destination(login_as, parts):
    client = login_as("station")
    page = text(client.get("/old-parts/"))
    for part in parts:
        assert part.tag in page
    left = parts[0].days_left(local_today())  # 30, or 29 once it is tomorrow in Shanghai
    assert f"{left} days left" in page
    assert "Awaiting return" in page
    assert 'name="tag"' in page  # a checkbox per part to pack
    assert "OEM" in page or "Huaxing" in page or parts[0].destination.name in page


def test_the_list_filters_by_status_disposition_and_overdue(login_as, parts, db_session):
    parts[0].overdue_at = parts[0].created_at
    db_session.flush()
    client = login_as("station")
    overdue = text(client.get("/old-parts/?overdue=yes"))
    assert parts[0].tag in overdue and parts[1].tag not in overdue
    assert 'data-testid="overdue"' in overdue
    assert parts[0].tag not in text(client.get("/old-parts/?status=shipped"))
    assert parts[1].tag in text(client.get("/old-parts/?disposition=return_to_oem"))
    assert parts[1].tag not in text(client.get("/old-parts/?disposition=return_to_supplier"))
    assert parts[1].tag in text(client.get("/old-parts/?status=bogus"))  # a bad filter: ignored


def test_the_station_creates_a_shipment_and_ships_it(login_as, parts):
    client = login_as("station")
    response = client.post("/old-parts/shipments", data={"tag": [p.tag for p in parts]})
    assert response.status_code == 302
    shipment = parts[0].shipment
    assert shipment is not None and parts[1].shipment == shipment
    assert response.headers["Location"].endswith(f"/old-parts/shipments/{shipment.number}")
    page = text(client.get(f"/old-parts/shipments/{shipment.number}"))
    assert "Mark shipped" in page and parts[1].tag in page

    refused = client.post(
        f"/old-parts/shipments/{shipment.number}/ship", data={"carrier": "ZTO", "tracking_no": ""}
    )
    assert refused.status_code == 422
    assert "is required" in text(refused)
    assert shipment.status is ShipmentStatus.PACKING

    done = client.post(
        f"/old-parts/shipments/{shipment.number}/ship",
        data={"carrier": "ZTO", "tracking_no": "ZT123"},
    )
    assert done.status_code == 302
    assert shipment.status is ShipmentStatus.SHIPPED
    assert {p.status for p in parts} == {OldPartStatus.SHIPPED}
    assert shipment.number in text(client.get("/old-parts/shipments"))


def test_creating_a_shipment_without_parts_says_so(login_as, parts):
    client = login_as("station")
    response = client.post("/old-parts/shipments", data={}, follow_redirects=True)
    assert "choose at least one part" in text(response)
    assert parts[0].shipment_id is None


def test_one_shipment_goes_to_one_destination(world, fleet, login_as, db_session):
    fleet.part_b.disposition = Disposition.RETURN_TO_SUPPLIER
    to_oem = old_parts(ClaimFactory(fleet=fleet, with_old_parts=True, units=1))
    to_supplier = old_parts(
        ClaimFactory(
            fleet=fleet, with_old_parts=True, old_part="P-200", causal_part="P-200", units=1
        )
    )
    client = login_as("station")
    page = text(client.get("/old-parts/"))
    assert "Supplier B" in page  # the destination of each part is shown
    response = client.post(
        "/old-parts/shipments",
        data={"tag": [to_oem[0].tag, to_supplier[0].tag]},
        follow_redirects=True,
    )
    assert "one shipment goes to one destination" in text(response)
    assert to_oem[0].shipment_id is None and to_supplier[0].shipment_id is None


# -- the receiver ----------------------------------------------------------------------------------


def test_the_oem_receives_by_tag_and_a_wrong_tag_changes_nothing(login_as, parts, shipped):
    client = login_as("auditor")
    page = text(client.get(f"/old-parts/shipments/{shipped.number}"))
    assert 'data-testid="scan"' in page and "autofocus" in page

    wrong = client.post(f"/old-parts/shipments/{shipped.number}/receive", data={"tag": "NOPE-1"})
    assert wrong.status_code == 422
    assert "Tag NOPE-1 is not in shipment" in text(wrong)
    assert {p.status for p in parts} == {OldPartStatus.SHIPPED}

    ok = client.post(
        f"/old-parts/shipments/{shipped.number}/receive",
        data={"tag": f"  {parts[0].tag} ", "note": "box dented"},
    )
    assert ok.status_code == 302
    assert parts[0].status is OldPartStatus.RECEIVED and parts[0].receive_note == "box dented"
    after = text(client.get(f"/old-parts/shipments/{shipped.number}"))
    assert "1 part still to receive" in after


def test_the_receiver_reports_a_missing_part_then_inspects_the_received_one(
    login_as, parts, shipped
):
    client = login_as("auditor")
    client.post(f"/old-parts/shipments/{shipped.number}/receive", data={"tag": parts[0].tag})
    client.post(
        f"/old-parts/shipments/{shipped.number}/missing",
        data={"tag": parts[1].tag, "note": "not in the box"},
    )
    assert parts[1].receive_note == "not in the box"
    assert [e.action for e in parts[1].events][-1] == "missing"

    page = text(client.get(f"/old-parts/shipments/{shipped.number}"))
    assert 'data-testid="inspect-form"' in page
    response = client.post(
        f"/old-parts/{parts[0].tag}/inspect",
        data={
            "result": "confirmed_defect",
            "note": "scored rotor",
            "next": f"/old-parts/shipments/{shipped.number}",
        },
    )
    assert response.headers["Location"].endswith(f"/old-parts/shipments/{shipped.number}")
    assert parts[0].inspection is Inspection.CONFIRMED_DEFECT
    assert parts[0].status is OldPartStatus.INSPECTED

    bad = client.post(f"/old-parts/{parts[1].tag}/inspect", data={"result": "great"})
    assert bad.status_code == 302
    assert parts[1].inspection is None


def test_the_oem_forwards_to_the_supplier_and_writes_off(world, login_as, parts, shipped):
    auditor = world.users["auditor"]
    for part in parts:
        op.receive(shipped, auditor, part.tag)
        op.inspect(part, auditor, Inspection.CONFIRMED_DEFECT)
    client = login_as("auditor")
    page = text(client.get(f"/old-parts/shipments/{shipped.number}"))
    assert 'data-testid="forward"' in page

    response = client.post("/old-parts/forward", data={"tag": [parts[0].tag]})
    forward = parts[0].forward_shipment
    assert forward is not None and forward.to_org.code == "SU-A"
    assert response.headers["Location"].endswith(f"/old-parts/shipments/{forward.number}")
    client.post(
        f"/old-parts/shipments/{forward.number}/ship", data={"carrier": "SF", "tracking_no": "S1"}
    )
    assert parts[0].status is OldPartStatus.FORWARDED

    client.post("/old-parts/write-off", data={"tag": [parts[1].tag], "note": "scrapped"})
    assert parts[1].status is OldPartStatus.WRITTEN_OFF
    assert parts[1].events[-1].note == "scrapped"

    # a forwarded part is the supplier's to write off now: refused, nothing changed
    refused = client.post(
        "/old-parts/write-off", data={"tag": [parts[0].tag]}, follow_redirects=True
    )
    assert "Only the holder" in text(refused)
    assert parts[0].status is OldPartStatus.FORWARDED


def test_the_supplier_writes_off_what_was_forwarded_to_it(world, login_as, parts, shipped):
    auditor = world.users["auditor"]
    op.receive(shipped, auditor, parts[0].tag)
    op.inspect(parts[0], auditor, Inspection.CONFIRMED_DEFECT)
    forward = op.forward_to_supplier(auditor, [parts[0].tag])
    op.ship(forward, auditor, "SF", "S1")

    client = login_as("supplier")
    listing = text(client.get("/old-parts/"))
    assert parts[0].tag in listing
    assert forward.number in text(client.get("/old-parts/shipments"))
    page = text(client.get(f"/old-parts/shipments/{forward.number}"))
    assert "Write off" in page
    client.post("/old-parts/write-off", data={"tag": parts[0].tag})
    assert parts[0].status is OldPartStatus.WRITTEN_OFF


def test_a_supplier_receives_and_writes_off_the_parts_routed_to_it(
    world, fleet, login_as, db_session
):
    fleet.part_b.disposition = Disposition.RETURN_TO_SUPPLIER
    (part,) = old_parts(
        ClaimFactory(
            fleet=fleet, with_old_parts=True, old_part="P-200", causal_part="P-200", units=1
        )
    )
    shipment = op.create_return_shipment(world.users["station"], [part.tag])
    op.ship(shipment, world.users["station"], "ZTO", "1")
    client = login_as("supplier_b")
    client.post(f"/old-parts/shipments/{shipment.number}/receive", data={"tag": part.tag})
    client.post(f"/old-parts/{part.tag}/inspect", data={"result": "misuse"})
    client.post("/old-parts/write-off", data={"tag": part.tag})
    db_session.expire_all()
    assert part.inspection is Inspection.MISUSE
    assert part.status is OldPartStatus.WRITTEN_OFF


# -- one part --------------------------------------------------------------------------------------


def test_the_part_page_shows_its_timeline_and_links_to_its_claim(login_as, parts, shipped):
    client = login_as("station")
    page = text(client.get(f"/old-parts/{parts[0].tag}"))
    assert 'data-action="created"' in page and 'data-action="shipped"' in page
    assert f'href="/claims/{parts[0].claim.number}"' in page


def test_an_auditor_waives_an_overdue_part_with_a_reason(login_as, parts):
    later = date.today() + timedelta(days=31)
    assert op.mark_overdue(later) == 2
    client = login_as("auditor")
    page = text(client.get(f"/old-parts/{parts[0].tag}"))
    assert 'data-testid="waive-form"' in page
    refused = client.post(f"/old-parts/{parts[0].tag}/waive", data={"reason": " "})
    assert refused.status_code == 422 and "is required" in text(refused)
    assert parts[0].waived_at is None
    client.post(f"/old-parts/{parts[0].tag}/waive", data={"reason": "flood at the station"})
    assert parts[0].waived_at is not None
    station_page = text(login_as("station").get("/old-parts/"))
    assert 'data-testid="waived"' in station_page and 'data-testid="overdue"' in station_page


# -- access ----------------------------------------------------------------------------------------


def test_another_station_gets_404_on_a_part_and_a_shipment(login_as, parts, shipped):
    client = login_as("station_b")
    assert client.get(f"/old-parts/{parts[0].tag}").status_code == 404
    assert client.get(f"/old-parts/shipments/{shipped.number}").status_code == 404
    assert client.get(f"/old-parts/shipments/{shipped.number}/packing-list.pdf").status_code == 404
    assert parts[0].tag not in text(client.get("/old-parts/"))
    assert shipped.number not in text(client.get("/old-parts/shipments"))


def test_a_supplier_sees_only_parts_routed_or_forwarded_to_it(world, login_as, parts, shipped):
    # SU-A is the parts' supplier: it sees them once they left the station; SU-B never.
    other = login_as("supplier_b")
    assert other.get(f"/old-parts/{parts[0].tag}").status_code == 404
    assert parts[0].tag not in text(other.get("/old-parts/"))
    auditor = world.users["auditor"]
    op.receive(shipped, auditor, parts[0].tag)
    op.inspect(parts[0], auditor, Inspection.CONFIRMED_DEFECT)
    forward = op.forward_to_supplier(auditor, [parts[0].tag])
    op.ship(forward, auditor, "SF", "S1")
    assert other.get(f"/old-parts/shipments/{forward.number}").status_code == 404
    assert other.post("/old-parts/write-off", data={"tag": parts[0].tag}).status_code == 404
    assert parts[0].status is OldPartStatus.FORWARDED
    assert login_as("supplier").get(f"/old-parts/{parts[0].tag}").status_code == 200


def test_a_supplier_does_not_see_parts_still_at_the_station(login_as, parts):
    client = login_as("supplier")
    assert client.get(f"/old-parts/{parts[0].tag}").status_code == 404


def test_a_station_may_not_receive(login_as, parts, shipped):
    client = login_as("station")
    response = client.post(
        f"/old-parts/shipments/{shipped.number}/receive", data={"tag": parts[0].tag}
    )
    assert response.status_code == 403
    assert parts[0].status is OldPartStatus.SHIPPED


@pytest.mark.parametrize(
    ("who", "method", "path"),
    [
        ("admin", "get", "/old-parts/"),
        ("admin", "get", "/old-parts/shipments"),
        ("finance", "post", "/old-parts/shipments"),
        ("auditor", "post", "/old-parts/shipments"),
        ("supplier", "post", "/old-parts/forward"),
        ("station", "post", "/old-parts/forward"),
        ("station", "post", "/old-parts/write-off"),
        ("finance", "post", "/old-parts/write-off"),
        ("supplier", "post", "/old-parts/X-1/waive"),
    ],
)
def test_roles_without_business_get_403(login_as, who, method, path):
    client = login_as(who)
    assert getattr(client, method)(path).status_code == 403


def test_finance_may_view_the_list(login_as, parts):
    client = login_as("finance")
    assert parts[0].tag in text(client.get("/old-parts/"))
    assert client.get(f"/old-parts/{parts[0].tag}").status_code == 200


# -- the claim's old parts on the claim page and the review page -----------------------------------


def test_the_station_sees_its_claims_old_parts_on_the_claim_page(login_as, parts, shipped):
    client = login_as("station")
    page = text(client.get(f"/claims/{parts[0].claim.number}"))
    assert 'data-testid="claim-old-parts"' in page
    for part in parts:
        assert f'href="/old-parts/{part.tag}"' in page
    assert 'data-status="shipped"' in page
    assert "Return to the OEM" in page


def test_the_auditor_sees_the_old_parts_on_the_review_page(world, login_as, parts, shipped):
    auditor = world.users["auditor"]
    op.receive(shipped, auditor, parts[0].tag)
    op.inspect(parts[0], auditor, Inspection.NO_FAULT_FOUND)
    client = login_as("auditor")
    page = text(client.get(f"/oem/claims/{parts[0].claim.number}"))
    assert 'data-testid="claim-old-parts"' in page
    assert f'href="/old-parts/{parts[0].tag}"' in page and parts[1].tag in page
    assert "No fault found" in page


def test_the_overdue_and_waived_deadline_shows_on_the_claim_page(world, login_as, parts):
    op.mark_overdue(date.today() + timedelta(days=31))
    op.waive_overdue(parts[1], world.users["auditor"], "flood")
    page = text(login_as("station").get(f"/claims/{parts[0].claim.number}"))
    assert 'data-testid="overdue"' in page and 'data-testid="waived"' in page


def test_a_claim_without_old_parts_has_no_old_parts_section(world, fleet, login_as):
    claim = ClaimFactory(fleet=fleet)
    page = text(login_as("station").get(f"/claims/{claim.number}"))
    assert 'data-testid="claim-old-parts"' not in page


def test_another_station_gets_404_on_the_claim_with_old_parts(login_as, parts):
    client = login_as("station_b")
    response = client.get(f"/claims/{parts[0].claim.number}")
    assert response.status_code == 404
    assert parts[0].tag not in text(response)


# -- the OEM's list filters: station and supplier --------------------------------------------------


@pytest.mark.parametrize("who", ["auditor", "finance"])
def test_the_oem_filters_the_list_by_station_and_supplier(world, fleet, login_as, db_session, who):
    (by_a,) = old_parts(ClaimFactory(fleet=fleet, with_old_parts=True, units=1))  # of SU-A
    (by_b,) = old_parts(  # P-200: of SU-B
        ClaimFactory(
            fleet=fleet, with_old_parts=True, old_part="P-200", causal_part="P-200", units=1
        )
    )
    client = login_as(who)
    page = text(client.get("/old-parts/"))
    assert 'name="station"' in page and 'name="supplier"' in page
    assert "ST-A · Station A" in page and "SU-B · Supplier B" in page

    mine = text(client.get("/old-parts/?station=ST-A"))
    assert by_a.tag in mine and by_b.tag in mine
    assert by_a.tag not in text(client.get("/old-parts/?station=ST-B"))

    supplier_b = text(client.get("/old-parts/?supplier=SU-B"))
    assert by_b.tag in supplier_b and by_a.tag not in supplier_b
    both = text(client.get("/old-parts/?station=ST-A&supplier=SU-A&status=awaiting_return"))
    assert by_a.tag in both and by_b.tag not in both
    assert by_b.tag in text(client.get("/old-parts/?supplier=NOPE"))  # a bad filter: ignored


def test_stations_and_suppliers_get_no_station_or_supplier_filter(login_as, parts):
    client = login_as("station")
    page = text(client.get("/old-parts/"))
    assert 'name="station"' not in page and 'name="supplier"' not in page
    assert 'name="status"' in page
    # a station's own list is not widened or narrowed by a hand-made OEM filter
    assert parts[0].tag in text(client.get("/old-parts/?station=ST-B"))
    supplier = text(login_as("supplier").get("/old-parts/"))
    assert 'name="station"' not in supplier


# -- inspection photos -----------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
PDF = b"%PDF-1.7\n" + b"\x00" * 32


@pytest.fixture
def uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path))
    return tmp_path


@pytest.fixture
def received(world, parts, shipped):
    op.receive(shipped, world.users["auditor"], parts[0].tag)
    return parts[0]


def download(client, url: str):
    """GET a file and close the streamed response (send_file keeps the file open until then)."""
    response = client.get(url)
    response.get_data()
    response.close()
    return response


def _inspect(client, tag, data, name="rotor.png", result="confirmed_defect"):
    return client.post(
        f"/old-parts/{tag}/inspect",
        data={"result": result, "note": "scored", "photo": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_recording_an_inspection_asks_first_naming_part_claim_and_supplier(login_as, received):
    """The OEM's result decides what the supplier is charged (after settlement too), so its
    button asks first; portal.js fills in the result chosen ({choice})."""
    import html as html_module
    import re

    client = login_as("auditor")
    supplier = received.supplier.name
    for url in (f"/old-parts/{received.tag}", f"/old-parts/shipments/{received.shipment.number}"):
        page = html_module.unescape(text(client.get(url)))
        (question,) = re.findall(r'data-confirm-choice="result" data-confirm="([^"]+)"', page)
        assert question.startswith(f"Record “{{choice}}” for old part {received.tag} of claim ")
        assert received.claim.number in question and supplier in question
        assert "the difference goes on the next statement" in question
    client.post("/lang/zh_CN")
    page = html_module.unescape(text(client.get(f"/old-parts/{received.tag}")))
    (question,) = re.findall(r'data-confirm-choice="result" data-confirm="([^"]+)"', page)
    assert "{choice}" in question and received.tag in question and "旧件" in question
    assert not re.search(r"[A-Za-z]{4,} [a-z]{3,} [a-z]{3,}", question), question


def test_an_inspection_keeps_its_photo_shown_on_the_part_page(login_as, received, uploads):
    client = login_as("auditor")
    form = text(client.get(f"/old-parts/{received.tag}"))
    assert 'enctype="multipart/form-data"' in form and 'name="photo"' in form
    response = _inspect(client, received.tag, PNG, name="../../rotor.png")
    assert response.status_code == 302
    assert received.status is OldPartStatus.INSPECTED
    (photo,) = received.photos
    assert photo.filename == "rotor.png" and photo.content_type == "image/png"
    assert photo.size == len(PNG) and photo.stored_name.endswith(".png")
    assert photo.stored_name != "rotor.png" and (uploads / photo.stored_name).read_bytes() == PNG
    page = text(client.get(f"/old-parts/{received.tag}"))
    url = f"/old-parts/{received.tag}/photos/{photo.id}"
    assert 'data-testid="inspection-photos"' in page and f'src="{url}"' in page
    served = download(client, url)
    assert served.status_code == 200 and served.data == PNG
    assert served.mimetype == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"


def test_an_inspection_without_a_photo_still_works(login_as, received, uploads):
    response = login_as("auditor").post(
        f"/old-parts/{received.tag}/inspect", data={"result": "misuse"}
    )
    assert response.status_code == 302
    assert received.inspection is Inspection.MISUSE and received.photos == []


def test_a_file_that_is_not_an_image_refuses_the_inspection(login_as, received, uploads):
    client = login_as("auditor")
    response = _inspect(client, received.tag, PDF, name="photo.png")
    assert response.status_code == 302
    assert received.status is OldPartStatus.RECEIVED and received.inspection is None
    assert received.photos == [] and list(uploads.iterdir()) == []
    page = text(client.get(f"/old-parts/{received.tag}"))
    assert "Only JPEG, PNG or WebP photos can be added to an inspection." in page


def test_a_photo_too_large_refuses_the_inspection(login_as, received, uploads, monkeypatch):
    monkeypatch.setattr("portal.oldparts.views.MAX_ATTACHMENT_BYTES", 16)
    monkeypatch.setattr("portal.claims.attachments.MAX_ATTACHMENT_BYTES", 16)
    _inspect(login_as("auditor"), received.tag, PNG)
    assert received.inspection is None and received.photos == []


def test_only_those_who_see_the_part_get_its_photo(world, login_as, received, uploads):
    photo = op.add_photo(received, world.users["auditor"], "rotor.png", PNG)
    url = f"/old-parts/{received.tag}/photos/{photo.id}"
    assert download(login_as("station"), url).status_code == 200  # the part's own station
    assert download(login_as("finance"), url).status_code == 200
    assert download(login_as("station_b"), url).status_code == 404
    assert download(login_as("supplier_b"), url).status_code == 404
    # a photo asked for under another part's tag is not found either
    other = received.claim.number + "-0102"
    assert login_as("auditor").get(f"/old-parts/{other}/photos/{photo.id}").status_code == 404
    assert login_as("auditor").get(f"/old-parts/{received.tag}/photos/999999").status_code == 404


# -- what a supplier sees: only the parts that come to it (pages and API) -------------------------
# A supplier sees the parts routed to it by the station, or forwarded to it by the OEM once the
# forwarding shipment left, and never the number of a station's shipment that did not go to it.
# Everyone else sees what they saw before.


@pytest.fixture
def at_the_oem(world, fleet, db_session):
    """Two SU-A parts the station shipped to the OEM: (parts, the station's shipment)."""
    parts = old_parts(ClaimFactory(fleet=fleet, with_old_parts=True))
    shipment = op.create_return_shipment(world.users["station"], [p.tag for p in parts])
    op.ship(shipment, world.users["station"], "ZTO", "ZT-STATION-1")
    return parts, shipment


def forward(world, part: OldPart, *, ship: bool = True):
    auditor = world.users["auditor"]
    op.receive(part.shipment, auditor, part.tag)
    op.inspect(part, auditor, Inspection.CONFIRMED_DEFECT, "cracked housing")
    shipment = op.forward_to_supplier(auditor, [part.tag])
    if ship:
        op.ship(shipment, auditor, "SF", "SF-FWD-1")
    return shipment


def api(client, username: str) -> Api:
    return Api(client, token_for(client, username))


def test_a_part_held_at_the_oem_is_not_its_suppliers_to_see(client, login_as, at_the_oem):
    parts, shipment = at_the_oem
    page = login_as("supplier")
    listing = text(page.get("/old-parts/"))
    assert parts[0].tag not in listing and shipment.number not in listing
    assert page.get(f"/old-parts/{parts[0].tag}").status_code == 404
    assert page.get(f"/old-parts/shipments/{shipment.number}").status_code == 404
    assert page.get(f"/old-parts/shipments/{shipment.number}/packing-list.pdf").status_code == 404
    supplier = api(client, "supplier_a")
    assert supplier.get("/old-parts").get_json()["items"] == []
    assert error_of(supplier.get(f"/old-parts/{parts[0].tag}"), 404)["code"] == "not_found"


def test_inspected_at_the_oem_and_packed_for_the_supplier_is_still_not_its(
    world, client, login_as, at_the_oem
):
    parts, _shipment = at_the_oem
    forward(world, parts[0], ship=False)
    assert login_as("supplier").get(f"/old-parts/{parts[0].tag}").status_code == 404
    assert error_of(api(client, "supplier_a").get(f"/old-parts/{parts[0].tag}"), 404)


def test_a_forwarded_part_shows_the_forwarding_shipment_never_the_stations(
    world, client, login_as, at_the_oem
):
    parts, station_shipment = at_the_oem
    forwarding = forward(world, parts[0])

    page = login_as("supplier")
    listing = text(page.get("/old-parts/"))
    assert parts[0].tag in listing and parts[1].tag not in listing  # the other stays at the OEM
    assert forwarding.number in listing and station_shipment.number not in listing
    detail = text(page.get(f"/old-parts/{parts[0].tag}"))
    assert forwarding.number in detail and "cracked housing" in detail
    assert station_shipment.number not in detail and "ZT-STATION-1" not in detail
    assert page.get(f"/old-parts/{parts[1].tag}").status_code == 404
    assert page.get(f"/old-parts/shipments/{forwarding.number}").status_code == 200
    assert page.get(f"/old-parts/shipments/{station_shipment.number}").status_code == 404

    supplier = api(client, "supplier_a")
    (item,) = supplier.get("/old-parts").get_json()["items"]
    assert item["tag"] == parts[0].tag and item["shipment_number"] is None
    one = supplier.get(f"/old-parts/{parts[0].tag}").get_json()
    assert one["forward_shipment_number"] == forwarding.number
    assert one["shipment_number"] is None and one["inspection"] == "confirmed_defect"
    assert station_shipment.number not in str(one) and "ZT-STATION-1" not in str(one)
    assert error_of(supplier.get(f"/old-parts/{parts[1].tag}"), 404)
    # Another supplier sees none of it.
    assert api(client, "supplier_b").get("/old-parts").get_json()["items"] == []


def test_a_station_sees_the_forwarding_shipments_number_without_a_link_it_may_not_open(
    world, login_as, at_the_oem
):
    parts, _station_shipment = at_the_oem
    forwarding = forward(world, parts[0])
    page = login_as("station")
    href = f'href="/old-parts/shipments/{forwarding.number}"'
    for url in ("/old-parts/", f"/old-parts/{parts[0].tag}"):
        html = page.get(url).get_data(as_text=True)
        assert forwarding.number in html and href not in html, url
    assert page.get(f"/old-parts/shipments/{forwarding.number}").status_code == 404
    html = login_as("auditor").get(f"/old-parts/{parts[0].tag}").get_data(as_text=True)
    assert href in html


def test_a_part_routed_to_the_supplier_shows_the_stations_shipment_to_it(
    world, fleet, client, login_as, db_session
):
    fleet.part_b.disposition = Disposition.RETURN_TO_SUPPLIER  # P-200 goes straight to SU-B
    parts = old_parts(
        ClaimFactory(
            fleet=fleet, with_old_parts=True, old_part="P-200", causal_part="P-200", units=1
        )
    )
    shipment = op.create_return_shipment(world.users["station"], [parts[0].tag])
    op.ship(shipment, world.users["station"], "ZTO", "ZT-DIRECT")
    detail = text(login_as("supplier_b").get(f"/old-parts/{parts[0].tag}"))
    assert shipment.number in detail and "ZT-DIRECT" in detail
    one = api(client, "supplier_b").get(f"/old-parts/{parts[0].tag}").get_json()
    assert one["shipment_number"] == shipment.number


@pytest.mark.parametrize("who", ["auditor", "finance", "station"])
def test_the_oem_and_the_station_still_see_the_stations_shipment(
    world, client, login_as, at_the_oem, who
):
    parts, station_shipment = at_the_oem
    forwarding = forward(world, parts[0])
    detail = text(login_as(who).get(f"/old-parts/{parts[0].tag}"))
    assert station_shipment.number in detail and forwarding.number in detail
    username = world.usernames[who]
    one = api(client, username).get(f"/old-parts/{parts[0].tag}").get_json()
    assert one["shipment_number"] == station_shipment.number
    assert station_shipment.number in str(one["events"])


def test_a_shipments_parts_sort_and_export_as_its_page_shows_them(login_as, world, parts, shipped):
    from tests.test_lists import csv_rows, row_order, xlsx_rows
    from tests.test_lists_more import BAD_SORTS

    tags = sorted(p.tag for p in parts)
    op.receive(shipped, world.users["auditor"], tags[1])
    client = login_as("auditor")
    url = f"/old-parts/shipments/{shipped.number}"

    def order(**args) -> list[str]:
        return row_order(text(client.get(url, query_string=args)), "data-tag", tags)

    assert order() == tags
    assert order(sort="tag", dir="desc") == tags[::-1]
    assert order(sort="status", dir="asc") == [tags[1], tags[0]]  # received before shipped
    assert order(sort="status", dir="desc") == [tags[0], tags[1]]
    for args in BAD_SORTS:
        assert client.get(url, query_string=args).status_code == 200
    rows = csv_rows(client.get(url, query_string={"sort": "tag", "dir": "desc", "export": "csv"}))
    assert rows[0][:5] == ["Tag", "Claim", "Part number", "Part", "Status"]
    assert [r[0] for r in rows[1:]] == tags[::-1]
    assert {r[4] for r in rows[1:]} == {"Received", "Shipped"}
    sheet = xlsx_rows(client.get(url, query_string={"export": "xlsx"}))
    assert [r[0] for r in sheet[1:]] == tags
    # A failed receive renders the page again: its sort links still lead to the page.
    refused = text(client.post(f"{url}/receive", data={"tag": "NO-SUCH-TAG"}))
    assert f'href="{url}?sort=tag&amp;dir=desc"' in refused
    # Another station sees neither the box nor its export.
    other = login_as("station_b")
    assert other.get(url, query_string={"export": "csv"}).status_code == 404
