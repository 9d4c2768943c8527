"""The auditor's decision through the API (审核), and the reason codes a cut may give.

`POST /claims/{number}/decision` is load -> authorize -> act -> commit like every API view: the
claim is loaded as the auditor may see it (a draft or an unknown number is 404), the role gate
lets only auditors pass (403 for everyone else), `decide_claim` locks the claim row and refuses
a decided or changed claim (409) or an invalid decision (422), and the answer is the claim as
`GET /claims/{number}` shows it.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify

from portal.api.auth import api_view, json_body
from portal.api.blueprint import bp
from portal.api.claims import claim_response, load_claim
from portal.auth.models import Role, User
from portal.claims.decisions import decide_claim, parse_decision
from portal.claims.models import ReasonCode
from portal.extensions import db


@bp.route("/claims/<number>/decision", methods=["POST"])
@api_view(Role.AUDITOR)
def decide(user: User, number: str):
    claim = load_claim(number, user)
    decision = parse_decision(json_body())
    decide_claim(claim.id, user, decision)
    return claim_response(claim)


@bp.route("/reason-codes", methods=["GET"])
@api_view(Role.AUDITOR, Role.FINANCE)
def reason_codes(user: User):
    """The active reason codes with their labels: what a decision's line `reason` may be."""
    # Sorted here, not by the database: collations order "part_" and "parti" differently.
    codes = sorted(
        db.session.scalars(sa.select(ReasonCode).where(ReasonCode.active)), key=lambda rc: rc.code
    )
    return jsonify(
        {
            "items": [
                {"code": rc.code, "label_en": rc.label_en, "label_zh": rc.label_zh} for rc in codes
            ]
        }
    )
