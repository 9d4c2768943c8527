"""Claims through the API: list, create, read, replace a draft, submit, comment, attach."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, jsonify, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload, selectinload

from portal.labels import label
from portal import inputs
from portal.api.auth import api_view, json_body
from portal.api.blueprint import ApiError, bp, not_found
from portal.api.serialize import attachment_json, claim_detail, claim_summary, moment
from portal.auth.models import Role, User
from portal.claims import attachments
from portal.claims import operations as ops
from portal.claims.models import Attachment, Claim, ClaimStatus, ClaimType
from portal.claims.payload import Malformed, _Parser, parse_claim
from portal.errors import Conflict
from portal.extensions import db

READERS = (Role.STATION, Role.AUDITOR, Role.FINANCE)
MAX_PER_PAGE = inputs.MAX_PER_PAGE


def load_claim(number: str, user: User) -> Claim:
    """The claim `number` if `user` may see it; a foreign or unknown one is 404, never 403."""
    claim = db.session.scalar(sa.select(Claim).where(Claim.number == number))
    if claim is None or not claim.can_view(user):
        raise not_found(
            _("There is no claim %(number)s, or it is not yours to see.", number=number)
        )
    return claim


def claim_response(claim: Claim, status: int = 200, **headers):
    """The claim as `GET` shows it, with its revision's ETag (what a PATCH names in If-Match)."""
    response = jsonify(claim_detail(claim))
    response.status_code = status
    response.headers.update(headers)
    response.headers["ETag"] = claim.etag
    return response


def expected_revision(claim: Claim, data: dict) -> int:
    """The revision the client last saw: from `If-Match` (the ETag of `GET`), else from
    `revision` in the body. Naming none is 428; an If-Match naming another tag, or another
    claim's, names no current revision (0) and is refused as stale."""
    if_match = request.headers.get("If-Match", "").strip()
    if if_match and if_match != "*":
        tags = [tag.strip().removeprefix("W/") for tag in if_match.split(",")]
        return claim.revision if claim.etag in tags else 0
    parser = _Parser()
    revision = parser.integer(data, "revision", 1)
    if parser.errors:
        raise Malformed(str(_l("The revision is malformed.")), parser.errors)
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
def list_claims(user: User):
    args = request.args
    fields: dict[str, str] = {}
    query = sa.select(Claim)
    if user.role is Role.STATION:
        query = query.where(Claim.station_id == user.organisation_id)
    else:  # drafts are private to their station
        query = query.where(Claim.status != ClaimStatus.DRAFT)
    if args.get("status"):
        try:
            query = query.where(Claim.status == ClaimStatus(args["status"]))
        except ValueError:
            fields["status"] = str(
                _l("must be one of: %(values)s", values=", ".join(s.value for s in ClaimStatus))
            )
    if args.get("type"):
        try:
            query = query.where(Claim.type == ClaimType(args["type"]))
        except ValueError:
            fields["type"] = str(
                _l("must be one of: %(values)s", values=", ".join(t.value for t in ClaimType))
            )
    page, per_page = inputs.page_args(args, fields, per_page=current_app.config["PAGE_SIZE"])
    if fields:
        raise Malformed(str(_l("The query is malformed.")), fields)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    items = db.session.scalars(
        query.options(joinedload(Claim.station), selectinload(Claim.flags))
        .order_by(Claim.created_at.desc(), Claim.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return jsonify(
        {
            "items": [claim_summary(c) for c in items],
            "page": page,
            "per_page": per_page,
            "total": total,
        }
    )


def _positive_int(args, name: str, default: int, maximum: int | None, fields: dict) -> int:
    """A whole number from 1 to `maximum` (an id column's bound when None): `inputs.int_arg`."""
    return inputs.int_arg(args, name, fields, default=default, maximum=maximum or inputs.MAX_ID)


@bp.route("/claims", methods=["POST"])
@api_view(Role.STATION)
def create_claim(user: User):
    claim = ops.create_claim(user, parse_claim(json_body()))
    return claim_response(claim, 201, Location=url_for("api.get_claim", number=claim.number))


@bp.route("/claims/<number>", methods=["GET"])
@api_view(*READERS)
def get_claim(user: User, number: str):
    return claim_response(load_claim(number, user))


@bp.route("/claims/<number>", methods=["PATCH"])
@api_view(Role.STATION)
def update_claim(user: User, number: str):
    claim = load_claim(number, user)
    data = json_body()
    revision = expected_revision(claim, data)
    data.setdefault("type", claim.type.value)  # the type may be left out; it cannot change
    ops.update_claim(claim, user, parse_claim(data), expected_revision=revision)
    return claim_response(claim)


@bp.route("/claims/<number>/submit", methods=["POST"])
@api_view(Role.STATION)
def submit_claim(user: User, number: str):
    claim = load_claim(number, user)
    ops.submit_claim(claim, user)
    return claim_response(claim)


@bp.route("/claims/<number>/comments", methods=["POST"])
@api_view(Role.STATION, Role.AUDITOR)
def add_comment(user: User, number: str):
    claim = load_claim(number, user)
    data = json_body()
    body = data.get("body")
    if not isinstance(body, str):
        raise Malformed(str(_l("The comment is malformed.")), {"body": str(_l("must be text"))})
    if claim.status is ClaimStatus.DRAFT:
        raise Conflict(_("Comments open once the claim is submitted."))
    comment = ops.add_comment(claim, user, body)
    return (
        jsonify(
            {
                "id": comment.id,
                "body": comment.body,
                "by": user.username,
                "at": moment(comment.created_at),
            }
        ),
        201,
    )


@bp.route("/claims/<number>/attachments", methods=["POST"])
@api_view(Role.STATION)
def add_attachment(user: User, number: str):
    claim = load_claim(number, user)
    upload = request.files.get("file")
    if upload is None:
        raise Malformed(
            str(_l("Send the file as multipart/form-data in the field `file`.")),
            {"file": str(_l("is required"))},
        )
    if not claim.is_editable:
        raise Conflict(
            _(
                "Claim %(number)s is %(status)s and cannot be edited.",
                number=claim.number,
                status=label(claim.status),
            )
        )
    attachment = attachments.add_attachment(claim, user, upload.filename or "", upload.read())
    body = attachment_json(attachment)
    return jsonify(body), 201, {"Location": body["url"]}


@bp.route("/claims/<number>/attachments/<int:attachment_id>", methods=["GET"])
@api_view(*READERS)
def claim_attachment(user: User, number: str, attachment_id: int):
    claim = load_claim(number, user)
    attachment = db.session.get(Attachment, attachment_id)
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
