"""The auditor's decision through the API (审核), and the reason codes a cut may give.

`POST /claims/{number}/decision` is load -> authorize -> act -> commit like every API view: the
claim is loaded as the auditor may see it (a draft or an unknown number is 404), the role gate
lets only auditors pass (403 for everyone else), `decide_claim` locks the claim row and refuses
a decided or changed claim (409) or an invalid decision (422), and the answer is the claim as
`GET /claims/{number}` shows it.
"""

from __future__ import annotations

import sqlalchemy as sa

from portal.api.auth import api_view
from portal.api.blueprint import bp
from portal.api.claims import claim_response, load_claim
from portal.api.schemas import Claim, ReasonCode, ReasonCodeList
from portal.api.spec import declare
from portal.auth.models import Role, User
from portal.claims.decisions import Decision, decide_claim
from portal.claims.models import ReasonCode as ReasonCodeRecord
from portal.extensions import db


@bp.route("/claims/<number>/decision", methods=["POST"])
@api_view(Role.AUDITOR)
@declare(body=Decision, answer=Claim, errors=(409, 422), etag=True, tag="audit")
def decide(user: User, number: str, body: Decision):
    """Approve (in full or in part), reject, or return a claim under review.

    A line left out, or given without values, is approved as claimed; a line's `reason` is a
    reason code (`GET /reason-codes`), required where a value is cut; the claim's `reason` is
    free text, required to reject or return. A decided or changed claim is a 409.
    """
    claim = load_claim(number, user)
    decide_claim(claim.id, user, body)
    return claim_response(claim, user)


@bp.route("/reason-codes", methods=["GET"])
@api_view(Role.AUDITOR, Role.FINANCE)
@declare(answer=ReasonCodeList, tag="audit")
def reason_codes(user: User):
    """The active reason codes with their labels: what a decision's line `reason` may be."""
    # Sorted here, not by the database: collations order "part_" and "parti" differently.
    codes = sorted(
        db.session.scalars(sa.select(ReasonCodeRecord).where(ReasonCodeRecord.active)),
        key=lambda rc: rc.code,
    )
    return ReasonCodeList(
        items=[ReasonCode(code=rc.code, label_en=rc.label_en, label_zh=rc.label_zh) for rc in codes]
    )
