"""Attachments: type by content, size limit, random names outside the web root."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal.claims import attachments
from portal.errors import DomainError, ValidationFailed
from tests.factories import ClaimFactory, Fleet

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
PDF = b"%PDF-1.7\n" + b"0" * 32
WEBP = b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 16


@pytest.fixture
def claim(world, app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path))
    return ClaimFactory(fleet=Fleet.build(world))


@pytest.mark.parametrize(
    ("data", "content_type"),
    [(PNG, "image/png"), (JPEG, "image/jpeg"), (PDF, "application/pdf"), (WEBP, "image/webp")],
)
def test_photos_and_pdfs_are_accepted_by_their_content(world, claim, tmp_path, data, content_type):
    att = attachments.add_attachment(claim, world.users["station"], "../../etc/receipt.bin", data)
    assert att.content_type == content_type
    assert att.filename == "receipt.bin"  # no path from the client survives
    stored = Path(tmp_path) / att.stored_name
    assert stored.read_bytes() == data
    assert "receipt" not in att.stored_name and len(att.stored_name) >= 32


@pytest.mark.parametrize(
    "data", [b"GIF89a" + b"\x00" * 10, b"<html><script>", b"MZ\x90\x00", b"just text"]
)
def test_other_content_is_refused_whatever_its_name(world, claim, data):
    with pytest.raises(ValidationFailed, match="Only JPEG, PNG or WebP photos and PDF"):
        attachments.add_attachment(claim, world.users["station"], "photo.jpg", data)
    assert claim.attachments == []


def test_empty_and_oversized_files_are_refused(world, claim, monkeypatch):
    with pytest.raises(ValidationFailed, match="empty"):
        attachments.add_attachment(claim, world.users["station"], "a.png", b"")
    monkeypatch.setattr(attachments, "MAX_ATTACHMENT_BYTES", 40)
    with pytest.raises(ValidationFailed, match="larger than"):
        attachments.add_attachment(claim, world.users["station"], "a.png", PNG + b"\x00" * 10)


def test_only_the_owner_adds_and_only_while_editable(world, claim):
    with pytest.raises(DomainError):
        attachments.add_attachment(claim, world.users["station_b"], "a.png", PNG)
    with pytest.raises(DomainError):
        attachments.add_attachment(claim, world.users["auditor"], "a.png", PNG)


def test_removing_deletes_the_file(world, claim, tmp_path):
    att = attachments.add_attachment(claim, world.users["station"], "a.pdf", PDF)
    path = Path(tmp_path) / att.stored_name
    attachments.remove_attachment(att, world.users["station"])
    assert not path.exists()
