"""`GET /campaigns` and `GET /campaigns/{code}`: recalls and service campaigns (召回 / 服务活动)
with their completion figures."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.api.auth import api_view
from portal.api.blueprint import bp, not_found
from portal.api.schemas import Campaign, CampaignList, CampaignQuery
from portal.api.spec import declare
from portal.auth.models import Role, User
from portal.campaigns import operations, queries
from portal.extensions import db
from portal.masterdata.campaigns import Campaign as CampaignRecord

READERS = (Role.AUDITOR, Role.FINANCE, Role.ADMIN, Role.SUPPLIER)


@bp.route("/campaigns", methods=["GET"])
@api_view(*READERS)
@declare(query=CampaignQuery, answer=CampaignList, tag="campaigns")
def list_campaigns(user: User, query: CampaignQuery):
    """Recalls and service campaigns with their completion, by code.

    Auditors, finance and admins read every campaign; a supplier those charged to it. Filter
    `status` (open, closed).
    """
    stmt = (
        sa.select(CampaignRecord).where(operations.visible_to(user)).order_by(CampaignRecord.code)
    )
    if query.status is not None:
        stmt = stmt.where(CampaignRecord.status == query.status)
    campaigns = list(db.session.scalars(stmt))
    completions = queries.completions([c.id for c in campaigns])
    empty = queries.Completion(0, 0, 0, queries.ZERO)
    return CampaignList(items=[Campaign.of(c, completions.get(c.id, empty)) for c in campaigns])


@bp.route("/campaigns/<code>", methods=["GET"])
@api_view(*READERS)
@declare(answer=Campaign, tag="campaigns")
def get_campaign(user: User, code: str):
    """A campaign with its package and its completion figures.

    A supplier reads only the campaigns charged to it (another is a 404).
    """
    campaign = db.session.scalar(sa.select(CampaignRecord).where(CampaignRecord.code == code))
    if campaign is None or not operations.can_view(campaign, user):
        raise not_found(_("No campaign %(code)s.", code=code))
    return Campaign.of(campaign, queries.completion(campaign))
