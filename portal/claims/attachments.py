"""Attachments (photos, PDF receipts): the type is read from the content, never the name;
files live under random names in the instance folder, outside the web root."""

from __future__ import annotations

import secrets
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l

from portal.auth.models import User
from portal.claims.models import Attachment, Claim
from portal.errors import DomainError, ValidationFailed
from portal.extensions import db

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_ATTACHMENTS_PER_CLAIM = 30

# Leading bytes ("magic numbers") of the types we accept.
SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"%PDF-", "application/pdf", ".pdf"),
)


def sniff(head: bytes) -> tuple[str, str] | None:
    """(content type, extension) from the first bytes, or None for anything else."""
    for magic, content_type, ext in SIGNATURES:
        if head.startswith(magic):
            return content_type, ext
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp", ".webp"
    return None


def storage_dir() -> Path:
    path = Path(
        current_app.config.get("UPLOAD_FOLDER") or Path(current_app.instance_path) / "uploads"
    )
    path.mkdir(parents=True, exist_ok=True)
    return path


def path_of(attachment: Attachment) -> Path:
    return storage_dir() / attachment.stored_name


def add_attachment(claim: Claim, user: User, filename: str, data: bytes) -> Attachment:
    """Store `data` for `claim` after checking who adds it, its real type and its size."""
    if not claim.can_edit(user):
        raise DomainError(str(_l("Attachments can only be added to a draft or returned claim.")))
    if len(claim.attachments) >= MAX_ATTACHMENTS_PER_CLAIM:
        raise ValidationFailed(
            str(_l("A claim holds at most %(n)d attachments.", n=MAX_ATTACHMENTS_PER_CLAIM)),
            {"file": str(_l("too many attachments"))},
        )
    if not data:
        raise ValidationFailed(str(_l("The file is empty.")), {"file": str(_l("empty file"))})
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise ValidationFailed(
            str(_l("The file is larger than %(mb)d MB.", mb=MAX_ATTACHMENT_BYTES // (1024 * 1024))),
            {"file": str(_l("too large"))},
        )
    kind = sniff(data[:16])
    if kind is None:
        raise ValidationFailed(
            str(_l("Only JPEG, PNG or WebP photos and PDF files can be attached.")),
            {"file": str(_l("unsupported file type"))},
        )
    content_type, ext = kind
    stored_name = secrets.token_hex(16) + ext
    (storage_dir() / stored_name).write_bytes(data)
    clean_name = Path(filename or "file").name[:200] or "file"
    attachment = Attachment(
        claim=claim,
        filename=clean_name,
        stored_name=stored_name,
        content_type=content_type,
        size=len(data),
        uploaded_by=user,
    )
    db.session.add(attachment)
    db.session.flush()
    return attachment


def remove_attachment(attachment: Attachment, user: User) -> None:
    if not attachment.claim.can_edit(user):
        raise DomainError(
            str(_l("Attachments can only be removed from a draft or returned claim."))
        )
    path = path_of(attachment)
    db.session.delete(attachment)
    db.session.flush()
    path.unlink(missing_ok=True)
