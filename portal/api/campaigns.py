"""`GET /campaigns` and `GET /campaigns/{code}`: recalls and service campaigns with their
completion figures, for auditors, finance and admins; a supplier reads those charged to it
(another campaign is a 404); a station gets 403 (it sees campaigns on its vehicles' lookups)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify, request
from flask_babel import gettext as _

from portal.api.auth import api_view
from portal.api.blueprint import bp, not_found
from portal.api.serialize import day, hours, money
from portal.auth.models import Role, User
from portal.campaigns import operations, queries
from portal.claims.payload import Malformed
from portal.extensions import db
from portal.masterdata.campaigns import Campaign, CampaignStatus

READERS = (Role.AUDITOR, Role.FINANCE, Role.ADMIN, Role.SUPPLIER)


def campaign_json(campaign: Campaign, completion: queries.Completion) -> dict:
    return {
        "code": campaign.code,
        "title": campaign.title,
        "kind": campaign.kind.value,
        "status": campaign.status.value,
        "start_date": day(campaign.start_date),
        "end_date": day(campaign.end_date),
        "operation": campaign.operation.code,
        "hours": hours(campaign.hours),
        "parts": [{"part_number": p.part.number, "qty": p.qty} for p in campaign.parts],
        "supplier": campaign.supplier.code if campaign.supplier else None,
        "recovery_share": f"{campaign.recovery_share:f}",
        "completion": {
            "affected": completion.affected,
            "done": completion.done,
            "in_work": completion.in_work,
            "remaining": completion.remaining,
            "cost_so_far": money(completion.cost_so_far),
            "cost_to_come": money(completion.cost_to_come),
        },
    }


@bp.route("/campaigns", methods=["GET"])
@api_view(*READERS)
def list_campaigns(user: User):
    status = request.args.get("status", "")
    if status and status not in {s.value for s in CampaignStatus}:
        raise Malformed(
            _("The query is malformed."), {"status": _("must be open or closed")}
        )
    stmt = sa.select(Campaign).where(operations.visible_to(user)).order_by(Campaign.code)
    if status:
        stmt = stmt.where(Campaign.status == status)
    campaigns = list(db.session.scalars(stmt))
    completions = queries.completions([c.id for c in campaigns])
    empty = queries.Completion(0, 0, 0, queries.ZERO)
    return jsonify(
        {"items": [campaign_json(c, completions.get(c.id, empty)) for c in campaigns]}
    )


@bp.route("/campaigns/<code>", methods=["GET"])
@api_view(*READERS)
def get_campaign(user: User, code: str):
    campaign = db.session.scalar(sa.select(Campaign).where(Campaign.code == code))
    if campaign is None or not operations.can_view(campaign, user):
        raise not_found(_("No campaign %(code)s.", code=code))
    return jsonify(campaign_json(campaign, queries.completion(campaign)))
