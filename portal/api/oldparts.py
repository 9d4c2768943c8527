"""Old parts (旧件) through the API: the list a page at a time, and one part with its events.

Who sees what (the same rule as the old-part pages, `portal.oldparts.queries.visible_parts`):

- a station: its own parts, whatever their state;
- auditor and finance: every part (finance reads only: there is nothing to write here);
- a supplier: the parts that come to it: routed to it by the station (`destination_org_id` is
  its organisation: disposition `return_to_supplier`) once they left the station, or forwarded
  to it by the OEM once the forwarding shipment left. A part held at the OEM is not its
  supplier's to see, even when it is charged for it (its chargeback shows the inspection), and
  a forwarded part shows it only the forwarding shipment, never the station's.
- admin: 403.

A part the user may not see answers 404, like one that does not exist.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload, selectinload

from portal.api.auth import api_view
from portal.api.blueprint import bp, not_found
from portal.api.schemas import OldPart, OldPartDetail, OldPartList, OldPartQuery
from portal.api.spec import declare, paged
from portal.auth.models import Role, User
from portal.extensions import db
from portal.oldparts.models import OldPart as OldPartRecord
from portal.oldparts.queries import local_today, visible_parts

READERS = (Role.STATION, Role.AUDITOR, Role.FINANCE, Role.SUPPLIER)


@bp.route("/old-parts", methods=["GET"])
@api_view(*READERS)
@declare(query=OldPartQuery, answer=OldPartList, tag="old-parts")
def list_old_parts(user: User, query: OldPartQuery):
    """Old parts the user may see, newest first, a page at a time.

    Filters `status`, `disposition`, `overdue` (true: overdue and not waived; false: the
    others). A station sees its own, a supplier those that come to it.
    """
    select = visible_parts(user)
    if query.status is not None:
        select = select.where(OldPartRecord.status == query.status)
    if query.disposition is not None:
        select = select.where(OldPartRecord.disposition == query.disposition)
    if query.overdue is True:
        select = select.where(
            OldPartRecord.overdue_at.is_not(None), OldPartRecord.waived_at.is_(None)
        )
    elif query.overdue is False:
        select = select.where(
            sa.or_(OldPartRecord.overdue_at.is_(None), OldPartRecord.waived_at.is_not(None))
        )
    today = local_today()
    return OldPartList(
        **paged(
            select,
            (OldPartRecord.created_at.desc(), OldPartRecord.id.desc()),
            query.page,
            query.per_page,
            lambda part: OldPart.of(part, user, today),
            joinedload(OldPartRecord.claim),
            joinedload(OldPartRecord.part),
            joinedload(OldPartRecord.destination),
            joinedload(OldPartRecord.supplier),
            joinedload(OldPartRecord.shipment),
        )
    )


@bp.route("/old-parts/<tag>", methods=["GET"])
@api_view(*READERS)
@declare(answer=OldPartDetail, tag="old-parts")
def get_old_part(user: User, tag: str):
    """An old part with its way so far and its events, oldest first."""
    part = db.session.scalar(
        visible_parts(user)
        .where(OldPartRecord.tag == tag)
        .options(selectinload(OldPartRecord.events))
    )
    if part is None:
        raise not_found(_("There is no old part %(tag)s, or it is not yours to see.", tag=tag))
    return OldPartDetail.of(part, user, local_today())
