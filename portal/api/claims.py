"""Claims through the API: list, create, read, replace a draft, submit, comment, attach."""

from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload, selectinload

from portal.api.auth import api_view
from portal.api.blueprint import ApiError, bp, not_found
from portal.api.schemas import (
    Attachment,
    Claim,
    ClaimList,
    ClaimQuery,
    ClaimSummary,
    Comment,
    CommentCreate,
)
from portal.api.spec import declare, dump, paged
from portal.auth.models import Role, User
from portal.claims import attachments
from portal.claims import operations as ops
from portal.claims.models import Attachment as AttachmentRecord
from portal.claims.models import Claim as ClaimRecord
from portal.claims.models import ClaimStatus
from portal.claims.payload import ClaimCreate, ClaimUpdate
from portal.errors import Malformed
from portal.extensions import db

READERS = (Role.STATION, Role.AUDITOR, Role.FINANCE)
IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "schema": {"type": "string", "maxLength": 200},
    "description": "the ETag of the claim as last read; without it the body's `revision` is "
    "needed (neither: 428, `*` is not enough); another one is a 409 and changes nothing",
}
UPLOAD = {
    "type": "object",
    "properties": {"file": {"type": "string", "format": "binary"}},
    "required": ["file"],
}


def load_claim(number: str, user: User) -> ClaimRecord:
    """The claim `number` if `user` may see it; a foreign or unknown one is 404, never 403."""
    claim = db.session.scalar(sa.select(ClaimRecord).where(ClaimRecord.number == number))
    if claim is None or not claim.can_view(user):
        raise not_found(
            _("There is no claim %(number)s, or it is not yours to see.", number=number)
        )
    return claim


def claim_response(claim: ClaimRecord, user: User, status: int = 200, **headers):
    """The claim as `GET` shows it to `user`, with its revision's ETag (what a PATCH names in
    If-Match)."""
    response = jsonify(dump(Claim.of(claim, user)))
    response.status_code = status
    response.headers.update(headers)
    response.headers["ETag"] = claim.etag
    return response


def expected_revision(claim: ClaimRecord, revision: int | None) -> int:
    """The revision the client last saw: from `If-Match` (the ETag of `GET`), else `revision`
    from the body. Naming none is 428; an If-Match naming another tag, or another claim's,
    names no current revision (0) and is refused as stale."""
    if_match = request.headers.get("If-Match", "").strip()
    if if_match and if_match != "*":
        tags = [tag.strip().removeprefix("W/") for tag in if_match.split(",")]
        return claim.revision if claim.etag in tags else 0
    if revision is None:
        raise ApiError(
            428,
            "precondition_required",
            _(
                "Name the revision you are changing: send the claim's ETag in If-Match, or its "
                "revision in the body."
            ),
            {"If-Match": str(_l("is required (or `revision` in the body)"))},
        )
    return revision


@bp.route("/claims", methods=["GET"])
@api_view(*READERS)
@declare(query=ClaimQuery, answer=ClaimList, tag="claims")
def list_claims(user: User, query: ClaimQuery):
    """Claims, newest first, a page at a time.

    A station sees its own, drafts included; auditor and finance every submitted claim.
    """
    select = sa.select(ClaimRecord)
    if user.role is Role.STATION:
        select = select.where(ClaimRecord.station_id == user.organisation_id)
    else:  # drafts are private to their station
        select = select.where(ClaimRecord.status != ClaimStatus.DRAFT)
    if query.status is not None:
        select = select.where(ClaimRecord.status == query.status)
    if query.type is not None:
        select = select.where(ClaimRecord.type == query.type)
    return ClaimList(
        **paged(
            select,
            (ClaimRecord.created_at.desc(), ClaimRecord.id.desc()),
            query.page,
            query.per_page,
            ClaimSummary.of,
            joinedload(ClaimRecord.station),
            selectinload(ClaimRecord.flags),
        )
    )


@bp.route("/claims", methods=["POST"])
@api_view(Role.STATION)
@declare(
    body=ClaimCreate,
    answer=Claim,
    status=201,
    errors=(422,),
    etag=True,
    location=True,
    tag="claims",
)
def create_claim(user: User, body: ClaimCreate):
    """Create a draft, complete or not (the checks run on submit).

    Unknown references (fault code, part, operation, shipper) are refused at once (422).
    """
    claim = ops.create_claim(user, body)
    return claim_response(claim, user, 201, Location=url_for("api.get_claim", number=claim.number))


@bp.route("/claims/<number>", methods=["GET"])
@api_view(*READERS)
@declare(answer=Claim, etag=True, tag="claims")
def get_claim(user: User, number: str):
    """The claim: header, amounts, lines, flags, events, versions, comments and attachments.

    The owner station sees its drafts; auditor and finance every submitted claim.
    """
    return claim_response(load_claim(number, user), user)


@bp.route("/claims/<number>", methods=["PATCH"])
@api_view(Role.STATION)
@declare(
    body=ClaimUpdate,
    answer=Claim,
    errors=(409, 422, 428),
    etag=True,
    headers=[IF_MATCH],
    tag="claims",
)
def update_claim(user: User, number: str, body: ClaimUpdate):
    """Replace the content of a draft or a returned claim.

    Name the revision changed: the ETag of `GET` in If-Match, or `revision` in the body. A
    claim changed since is a 409 and nothing is changed.
    """
    claim = load_claim(number, user)
    revision = expected_revision(claim, body.revision)
    body.type = body.type or claim.type  # the type may be left out; it cannot change
    ops.update_claim(claim, user, body, expected_revision=revision)
    return claim_response(claim, user)


@bp.route("/claims/<number>/submit", methods=["POST"])
@api_view(Role.STATION)
@declare(answer=Claim, errors=(409, 422), etag=True, tag="claims")
def submit_claim(user: User, number: str):
    """Submit a draft or a returned claim; the answer carries its flags.

    A refusal (422) names every finding by its rule; a submitted claim is a 409.
    """
    claim = load_claim(number, user)
    ops.submit_claim(claim, user)
    return claim_response(claim, user)


@bp.route("/claims/<number>/comments", methods=["POST"])
@api_view(Role.STATION, Role.AUDITOR)
@declare(body=CommentCreate, answer=Comment, status=201, errors=(409, 422), tag="claims")
def add_comment(user: User, number: str, body: CommentCreate):
    """Comment on a submitted claim (a draft is a 409); blank or longer than 4000 is 422."""
    claim = load_claim(number, user)
    return Comment.of(ops.add_comment(claim, user, body.body))


@bp.route("/claims/<number>/attachments", methods=["POST"])
@api_view(Role.STATION)
@declare(answer=Attachment, status=201, errors=(409, 413, 422), upload=UPLOAD, tag="claims")
def add_attachment(user: User, number: str):
    """Attach a photo or a PDF (multipart field `file`) to a draft or a returned claim.

    The type is checked by content; anything else is 422, a claim not editable 409.
    """
    claim = load_claim(number, user)
    upload = request.files.get("file")
    if upload is None:
        raise Malformed(
            str(_l("Send the file as multipart/form-data in the field `file`.")),
            {"file": str(_l("is required"))},
        )
    attachment = attachments.add_attachment(claim, user, upload.filename or "", upload.read())
    answer = Attachment.of(attachment)
    return answer, 201, {"Location": answer.url}


@bp.route("/claims/<number>/attachments/<id:attachment_id>", methods=["GET"])
@api_view(*READERS)
@declare(download=True, tag="claims")
def claim_attachment(user: User, number: str, attachment_id: int):
    """Download an attachment of the claim."""
    claim = load_claim(number, user)
    attachment = db.session.get(AttachmentRecord, attachment_id)
    if attachment is None or attachment.claim_id != claim.id:
        raise not_found()
    path = attachments.path_of(attachment)
    if not path.is_file():
        raise not_found()
    return send_file(
        path,
        mimetype=attachment.content_type,
        as_attachment=True,
        download_name=attachment.filename,
    )
