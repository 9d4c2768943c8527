"""Analysis (统计分析) through the API (DESIGN 8): claim rates and a selection's reliability.

Thin views over the pages' own query functions (`portal.analysis.queries`, `.reports`) and
filters (`portal.analysis.filters`): auditors, finance and admins read every part; a supplier
only its own (its selection always carries its supplier code; naming another supplier or
another supplier's part is a 404); a station gets 403. A filter that cannot be read is a 400
with a message per field; too few failures to fit is a 422. Statistics are JSON numbers, money is
a string.
"""

from __future__ import annotations

from flask import request
from flask_babel import lazy_gettext as _l

from portal.analysis import filters as f
from portal.analysis import queries, reports
from portal.analysis.queries import API_GROUPS, GroupBy
from portal.api.auth import api_view
from portal.api.blueprint import bp
from portal.api.schemas import ClaimRates, ClaimRatesQuery, Reliability, ReliabilityQuery
from portal.api.spec import declare
from portal.auth.models import Role, User
from portal.claims.payload import Malformed

READERS = (Role.AUDITOR, Role.FINANCE, Role.ADMIN, Role.SUPPLIER)


def _filters(user: User, extra: dict[str, str] | None = None) -> f.Filters:
    fields = dict(extra or {})
    try:
        found = f.parse(request.args, user)
    except f.FilterError as exc:
        fields.update(exc.fields)
        found = None
    if fields:
        raise Malformed(str(_l("The query is malformed.")), fields)
    return found


@bp.route("/analysis/claim-rates", methods=["GET"])
@api_view(*READERS)
@declare(query=ClaimRatesQuery, answer=ClaimRates, errors=(400,), tag="analysis")
def claim_rates(user: User, query: ClaimRatesQuery):
    """Claims, vehicles, claims per 1,000 vehicles and cost by a key.

    A supplier only for its own parts (another supplier or another supplier's part: 404).
    DESIGN 7's conventions: a claim counts when approved, partially approved or settled and
    repaired by as_of; vehicles of age 0 are left out. For months_in_service the key is k and
    `vehicles` those of age >= k.
    """
    text = request.args.get("group_by", "").strip()
    problems: dict[str, str] = {}
    group_by = None
    if text in {g.value for g in API_GROUPS}:
        group_by = GroupBy(text)
    else:
        problems["group_by"] = str(
            _l("must be one of: %(values)s", values=", ".join(g.value for g in API_GROUPS))
        )
    filters = _filters(user, problems)
    rows = queries.claim_rates(filters.selection, group_by)
    return ClaimRates.model_validate(
        {
            "group_by": group_by.value,
            "as_of": filters.selection.as_of.isoformat(),
            "rows": [
                {
                    "key": row.key,
                    "vehicles": row.vehicles,
                    "claims": row.claims,
                    "per_1000": row.per_1000,
                    "cost": str(row.cost),
                }
                for row in rows
            ],
        }
    )


@bp.route("/analysis/reliability", methods=["GET"])
@api_view(*READERS)
@declare(query=ReliabilityQuery, answer=Reliability, errors=(400, 422), tag="analysis")
def reliability(user: User, query: ReliabilityQuery):
    """A selection's Weibull fit, expected failures, forecast and Nevada chart.

    A supplier only for its own parts (another supplier or another supplier's part: 404).
    Too few failures to fit: 422.
    """
    options, problems = f.forecast_options(request.args)
    filters = _filters(user, {k: str(v) for k, v in problems.items()})
    report = reports.reliability_report(filters.selection, **options)
    return Reliability.model_validate(report.to_dict())
