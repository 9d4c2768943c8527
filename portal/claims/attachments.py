"""Attachments (photos, PDF receipts): the type is read from the content, never the name;
files live under random names in the instance folder, outside the web root."""

from __future__ import annotations

import secrets
from pathlib import Path

from flask import abort, current_app, send_file
from flask_babel import lazy_gettext as _l

from portal.auth.models import User
from portal.claims.models import Attachment, Claim
from portal.errors import Conflict, DomainError, ValidationFailed
from portal.extensions import db
from portal.labels import in_sentence

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


PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})


def check_file(
    data: bytes,
    field: str = "file",
    *,
    types: frozenset[str] | None = None,
    refusal: str | None = None,
) -> tuple[str, str]:
    """(content type, extension) of an upload, read from its content, never its name; refused
    with a ValidationFailed on `field` when empty, too large or not of `types` (default: JPEG,
    PNG or WebP photos and PDF files). Every upload of the portal goes through here."""
    if not data:
        raise ValidationFailed(str(_l("The file is empty.")), {field: str(_l("empty file"))})
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise ValidationFailed(
            str(_l("The file is larger than %(mb)d MB.", mb=MAX_ATTACHMENT_BYTES // (1024 * 1024))),
            {field: str(_l("too large"))},
        )
    kind = sniff(data[:16])
    if kind is None or (types is not None and kind[0] not in types):
        raise ValidationFailed(
            refusal or str(_l("Only JPEG, PNG or WebP photos and PDF files can be attached.")),
            {field: str(_l("unsupported file type"))},
        )
    return kind


def store_file(data: bytes, ext: str) -> str:
    """Write a checked upload under a new random name in the upload folder; answers the name."""
    stored_name = secrets.token_hex(16) + ext
    (storage_dir() / stored_name).write_bytes(data)
    return stored_name


def clean_filename(filename: str | None, default: str = "file") -> str:
    """The name the user gave a file, without any folder, for display and download only."""
    return Path(filename or default).name[:200] or default


def send_stored(path: Path | None, content_type: str, filename: str):
    """A stored upload to whoever may see it: photos open in the browser, PDFs download. The
    type was sniffed from the content, and nosniff keeps the browser from guessing another."""
    if path is None or not path.is_file():
        abort(404)
    response = send_file(
        path,
        mimetype=content_type,
        as_attachment=not content_type.startswith("image/"),
        download_name=filename,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def path_of(attachment: Attachment) -> Path:
    return storage_dir() / attachment.stored_name


def add_attachment(claim: Claim, user: User, filename: str, data: bytes) -> Attachment:
    """Store `data` for `claim` after checking who adds it, its real type and its size."""
    if not claim.is_editable:
        raise Conflict(
            str(
                _l(
                    "Claim %(number)s is %(status)s and cannot be edited.",
                    number=claim.number,
                    status=in_sentence(claim.status),
                )
            )
        )
    if not claim.can_edit(user):
        raise DomainError(str(_l("Attachments can only be added to a draft or returned claim.")))
    if len(claim.attachments) >= MAX_ATTACHMENTS_PER_CLAIM:
        raise ValidationFailed(
            str(_l("A claim holds at most %(n)d attachments.", n=MAX_ATTACHMENTS_PER_CLAIM)),
            {"file": str(_l("too many attachments"))},
        )
    content_type, ext = check_file(data)
    stored_name = store_file(data, ext)
    clean_name = clean_filename(filename)
    attachment = Attachment(
        claim=claim,
        filename=clean_name,
        stored_name=stored_name,
        content_type=content_type,
        size=len(data),
        uploaded_by=user,
    )
    db.session.add(attachment)
    claim.touch()
    db.session.flush()
    return attachment


def remove_attachment(attachment: Attachment, user: User) -> None:
    if not attachment.claim.can_edit(user):
        raise DomainError(
            str(_l("Attachments can only be removed from a draft or returned claim."))
        )
    path = path_of(attachment)
    attachment.claim.touch()
    db.session.delete(attachment)
    db.session.flush()
    path.unlink(missing_ok=True)
