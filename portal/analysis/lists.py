"""The sortable columns of the analysis lists (portal.lists): the claims behind the figures
(sorted in SQL by `claim_order`), the early warnings and the outlier stations (computed in
Python: their columns' orders are key functions)."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.claims.models import Claim
from portal.lists import Column, Listing, Sort
from portal.masterdata.models import FaultCode, Organisation, Part

CLAIM_KEYS = (
    ("claim", _l("Claim")),
    ("type", _l("Type")),
    ("status", _l("Status")),
    ("station", _l("Station")),
    ("vin", _l("VIN")),
    ("repair", _l("Repair date")),
    ("mis", _l("MIS")),
    ("part", _l("Causal part")),
    ("fault", _l("Fault code")),
    ("supplier", _l("Supplier")),
    ("amount", _l("Approved amount")),
)
# The URL's sort keys (the query orders them itself, `claim_order`); the newest repair first.
CLAIMS = Listing(
    [Column(key, label, key) for key, label in CLAIM_KEYS],
    default="-repair",
    tiebreak=None,
)


def _code_of(model, column, key):
    return sa.select(column).where(model.id == key).correlate(Claim).scalar_subquery()


def claim_order(sort: Sort, mis) -> list:
    """The ORDER BY of the claims list: the column asked for, then the claim number (`mis`: the
    counted claims' months-in-service column). By default the newest repair first."""
    if (sort.key, sort.descending) == (CLAIMS.default.key, CLAIMS.default.descending):
        return [Claim.repair_date.desc(), Claim.number]
    expressions = {
        "claim": Claim.number,
        "type": Claim.type,
        "status": Claim.status,
        "station": _code_of(Organisation, Organisation.code, Claim.station_id),
        "vin": Claim.vin,
        "repair": Claim.repair_date,
        "mis": mis,
        "part": _code_of(Part, Part.number, Claim.causal_part_id),
        "fault": _code_of(FaultCode, FaultCode.code, Claim.fault_code_id),
        "supplier": _code_of(Organisation, Organisation.code, Claim.responsible_supplier_id),
        "amount": Claim.approved_total_amount,
    }
    column = expressions[sort.key]
    first = (column.desc() if sort.descending else column.asc()).nulls_last()
    number = Claim.number.desc() if sort.descending else Claim.number.asc()
    return [first, number]


def _ratio(w) -> float:
    return float(w.ratio) if w.ratio else float("inf")  # no expected claims: infinitely many


# The early warnings (sorted in Python): the active ones first, the least likely first, unless
# a column is chosen.
WARNINGS = Listing(
    [
        Column("part", _l("Causal part"), lambda w: w.part.number),
        Column("supplier", _l("Supplier"), lambda w: w.supplier.code),
        Column("cohort", _l("Production month"), lambda w: w.cohort),
        Column("vehicles", _l("Vehicles"), lambda w: w.vehicles),
        Column("observed", _l("Observed claims"), lambda w: w.observed),
        Column("expected", _l("Expected claims"), lambda w: w.expected),
        Column("ratio", _l("Ratio"), _ratio),
        Column("p", _l("p-value"), lambda w: w.p_value),
        Column("as_of", _l("As of"), lambda w: w.as_of),
        Column("state", _l("Status"), lambda w: not w.active),
    ],
    default="p",
    tiebreak=lambda w: w.id,
)


def _stat(metric):
    """A station's test statistic of `metric` (p-value or modified z), None when untested."""
    return lambda s: s.tests[metric][2] if metric in s.tests else None


# The outlier stations (sorted in Python): flagged first, then by claims, unless a column is
# chosen.
STATIONS = Listing(
    [
        Column("station", _l("Station"), lambda s: s.code),
        Column("region", _l("Region"), lambda s: s.region),
        Column("claims", _l("Claims"), lambda s: s.claims),
        Column("vehicles", _l("Vehicles"), lambda s: s.vehicles),
        Column("per_vehicle", _l("Claims per vehicle"), lambda s: s.claims_per_vehicle),
        Column("per_vehicle_p", _l("p-value"), _stat("claims_per_vehicle")),
        Column("cost", _l("Cost per claim"), lambda s: s.cost_per_claim),
        Column("cost_z", _l("Modified z"), _stat("cost_per_claim")),
        Column("hours", _l("Labor hours per claim"), lambda s: s.hours_per_claim),
        Column("hours_z", _l("Modified z"), _stat("hours_per_claim")),
        Column("repeats", _l("Repeat repairs"), lambda s: s.repeats),
        Column("repeats_p", _l("p-value"), _stat("repeats")),
        # The analysis' own order, no heading of its own: flagged first, then by claims.
        Column("flagged", _l("Flagged"), lambda s: (not s.flagged, -s.claims, s.code)),
    ],
    default="flagged",
    tiebreak=lambda s: s.code,
)
