"""Old parts (旧件) through the API: the list a page at a time, and one part with its events.

Who sees what (the same rule as the old-part pages, `portal.oldparts.views.visible_parts`):

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
from flask import current_app, jsonify, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload, selectinload

from portal.api.auth import api_view
from portal.api.blueprint import bp, not_found
from portal.api.serialize import old_part_detail, old_part_summary
from portal.auth.models import Role, User
from portal.claims.payload import Malformed
from portal.extensions import db
from portal.inputs import page_args
from portal.masterdata.models import Disposition
from portal.oldparts.models import OldPart, OldPartStatus
from portal.oldparts.queries import local_today, visible_parts

READERS = (Role.STATION, Role.AUDITOR, Role.FINANCE, Role.SUPPLIER)
BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def _choices(enum) -> str:
    return str(_l("must be one of: %(values)s", values=", ".join(v.value for v in enum)))


@bp.route("/old-parts", methods=["GET"])
@api_view(*READERS)
def list_old_parts(user: User):
    """Old parts the user may see, newest first; filters `status`, `disposition`, `overdue`
    (true: overdue and not waived; false: the others), paged like `/claims`."""
    args = request.args
    fields: dict[str, str] = {}
    query = visible_parts(user)
    if args.get("status"):
        try:
            query = query.where(OldPart.status == OldPartStatus(args["status"]))
        except ValueError:
            fields["status"] = _choices(OldPartStatus)
    if args.get("disposition"):
        try:
            query = query.where(OldPart.disposition == Disposition(args["disposition"]))
        except ValueError:
            fields["disposition"] = _choices(Disposition)
    if args.get("overdue"):
        overdue = BOOLEANS.get(args["overdue"].strip().lower())
        if overdue is None:
            fields["overdue"] = str(_l("must be true or false"))
        elif overdue:
            query = query.where(OldPart.overdue_at.is_not(None), OldPart.waived_at.is_(None))
        else:
            query = query.where(
                sa.or_(OldPart.overdue_at.is_(None), OldPart.waived_at.is_not(None))
            )
    page, per_page = page_args(args, fields, per_page=current_app.config["PAGE_SIZE"])
    if fields:
        raise Malformed(str(_l("The query is malformed.")), fields)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    items = db.session.scalars(
        query.options(
            joinedload(OldPart.claim),
            joinedload(OldPart.part),
            joinedload(OldPart.destination),
            joinedload(OldPart.supplier),
            joinedload(OldPart.shipment),
        )
        .order_by(OldPart.created_at.desc(), OldPart.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    today = local_today()
    return jsonify(
        {
            "items": [old_part_summary(p, user, today) for p in items],
            "page": page,
            "per_page": per_page,
            "total": total,
        }
    )


@bp.route("/old-parts/<tag>", methods=["GET"])
@api_view(*READERS)
def get_old_part(user: User, tag: str):
    part = db.session.scalar(
        visible_parts(user).where(OldPart.tag == tag).options(selectinload(OldPart.events))
    )
    if part is None:
        raise not_found(_("There is no old part %(tag)s, or it is not yours to see.", tag=tag))
    return jsonify(old_part_detail(part, user, local_today()))
