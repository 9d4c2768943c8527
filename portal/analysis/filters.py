"""The analysis pages' filters: the query string read into a `Selection`, scoped to the user.

Every dimension of DESIGN 7 can be filtered (model, production month, sale month, months in
service, fault code, causal part, supplier, station, region) together with a date range (repair
date from, as of), and the claims covered only thanks to an extended warranty contract can be
looked at apart (`contract`: contract_covered or policy_only). A value that cannot be read, or
names nothing, is answered with a message (the page shows it, status 400), never an error page.
A supplier's user sees its own parts only: its selection always carries its own supplier code,
and naming another supplier or another supplier's part is a 404 (existence is not leaked).

A drill-down link is the same filters with the figure's dimension fixed to the figure's key
(`Filters.drill`), so the claim list behind a figure is exactly the claims the figure counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

import sqlalchemy as sa
from flask import abort
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal import labels
from portal.analysis.conventions import last_day
from portal.analysis.queries import CONTRACT_FILTERS, GroupBy, Selection
from portal.analysis.reports import DEFAULT_HORIZON
from portal.auth.models import Role, User
from portal.extensions import db
from portal.inputs import InvalidValue, parse_int
from portal.masterdata.models import FaultCode, Part, Station, Supplier, VehicleModel

GROUP_LABELS = {
    GroupBy.MODEL: _l("Model"),
    GroupBy.PRODUCTION_MONTH: _l("Production month"),
    GroupBy.SALE_MONTH: _l("Sale month"),
    GroupBy.MONTHS_IN_SERVICE: _l("Months in service"),
    GroupBy.FAULT_CODE: _l("Fault code"),
    GroupBy.PART: _l("Causal part"),
    GroupBy.SUPPLIER: _l("Supplier"),
    GroupBy.STATION: _l("Station"),
    GroupBy.REGION: _l("Region"),
}

# The query-string names of the filters, in the order the form shows them.
FIELDS = (
    "model",
    "part",
    "fault_code",
    "supplier",
    "station",
    "region",
    "produced_from",
    "produced_to",
    "sold_from",
    "sold_to",
    "mis_from",
    "mis_to",
    "repaired_from",
    "as_of",
    "contract",
)
CONTRACT_LABELS = labels.register(
    "analysis_contract",
    {
        "contract_covered": _l("Covered only thanks to a contract"),
        "policy_only": _l("Policy only"),
    },
)
# The filters by their labels (the active filters shown above a result).
FIELD_LABELS = labels.register(
    "analysis_filter",
    {
        "model": _l("Model"),
        "part": _l("Causal part"),
        "fault_code": _l("Fault code"),
        "supplier": _l("Supplier"),
        "station": _l("Station"),
        "region": _l("Region"),
        "produced_from": _l("Produced from"),
        "produced_to": _l("Produced to"),
        "sold_from": _l("Sold from"),
        "sold_to": _l("Sold to"),
        "mis_from": _l("Months in service from"),
        "mis_to": _l("Months in service to"),
        "repaired_from": _l("Repaired from"),
        "as_of": _l("As of"),
        "contract": _l("Extended warranty contract"),
    },
)
CODE_FIELDS = {
    "model": (VehicleModel, VehicleModel.code, _l("There is no vehicle model %(code)s.")),
    "part": (Part, Part.number, _l("There is no part %(code)s.")),
    "fault_code": (FaultCode, FaultCode.code, _l("There is no fault code %(code)s.")),
    "supplier": (Supplier, Supplier.code, _l("There is no supplier %(code)s.")),
    "station": (Station, Station.code, _l("There is no station %(code)s.")),
}


class FilterError(Exception):
    """Filters that cannot be read: each message says which and why (`fields`: by filter)."""

    def __init__(self, fields: dict[str, str]):
        self.fields = fields
        self.messages = list(fields.values())
        super().__init__("; ".join(self.messages))


def supplier_of(user: User) -> Supplier | None:
    """The supplier whose parts `user` is restricted to, or None for the OEM's users."""
    if user.role is Role.SUPPLIER:
        return db.session.get(Supplier, user.organisation_id)
    return None


@dataclass
class Filters:
    """What the user asked for, as typed (`values`) and as read (`selection`)."""

    selection: Selection
    values: dict[str, str] = field(default_factory=dict)
    supplier: Supplier | None = None  # the user's own supplier (a supplier's user)

    def args(self, **overrides) -> dict[str, str]:
        """The query string of these filters, with `overrides` (None drops a filter)."""
        merged = {**self.values, **overrides}
        return {k: v for k, v in merged.items() if v not in (None, "")}

    def drill(self, group_by: GroupBy, key) -> dict[str, str] | None:
        """The filters of the claims behind a figure grouped by `group_by` with `key` (None when
        the key is no value a filter can name: claims without a causal part...)."""
        if key is None:
            return None
        key = str(key)
        if group_by is GroupBy.MONTHS_IN_SERVICE:
            return self.args(mis_from=key, mis_to=key)
        if group_by is GroupBy.PRODUCTION_MONTH:
            return self.args(produced_from=key, produced_to=key)
        if group_by is GroupBy.SALE_MONTH:
            return self.args(sold_from=key, sold_to=key)
        return self.args(**{group_by.value: key})

    def cell(self, sale_month: str, mis: int) -> dict[str, str]:
        """The claims of one Nevada chart cell: vehicles sold in `sale_month`, at MIS `mis`."""
        return self.args(sold_from=sale_month, sold_to=sale_month, mis_from=mis, mis_to=mis)

    @property
    def active(self) -> bool:
        return any(k != "as_of" for k in self.values)


def _month(text: str, end: bool) -> date:
    year, _sep, month = text.partition("-")
    if not (
        (year + month).isascii()
        and len(year) == 4
        and year.isdigit()
        and month.isdigit()
        and 1 <= int(month) <= 12
    ):
        raise ValueError(text)
    y, m = int(year), int(month)
    return date(y, m, last_day(y, m) if end else 1)


def parse(args, user: User, today: date | None = None) -> Filters:
    """Read the filters of `args` (a request's query string) for `user`.

    Raises `FilterError` with every message at once; aborts 404 when a supplier's user names
    another supplier or another supplier's part."""
    values = {name: args.get(name, "").strip() for name in FIELDS}
    values = {name: value for name, value in values.items() if value}
    own = supplier_of(user)
    errors: dict[str, str] = {}
    read: dict = {}

    for name, (table, column, missing) in CODE_FIELDS.items():
        code = values.get(name)
        if code is None:
            continue
        found = db.session.scalar(sa.select(table).where(column == code))
        if own is not None and name == "supplier" and (found is None or found.id != own.id):
            abort(404)
        if own is not None and name == "part" and (found is None or found.supplier_id != own.id):
            abort(404)
        if found is None:
            errors[name] = str(missing % {"code": code})
        else:
            read[name] = code
    region = values.get("region")
    if region is not None:
        if db.session.scalar(sa.select(Station.id).where(Station.region == region).limit(1)):
            read["region"] = region
        else:
            errors["region"] = _("There is no region %(region)s.", region=region)

    for name in ("as_of", "repaired_from"):
        if name in values:
            try:
                read[name] = date.fromisoformat(values[name])
            except ValueError:
                errors[name] = _("%(value)s is not a date (YYYY-MM-DD).", value=values[name])
    for name in ("produced_from", "produced_to", "sold_from", "sold_to"):
        if name in values:
            try:
                read[name] = _month(values[name], end=name.endswith("_to"))
            except ValueError:
                errors[name] = _("%(value)s is not a month (YYYY-MM).", value=values[name])
    for name in ("mis_from", "mis_to"):
        if name in values:
            text = values[name]
            if (value := _whole(text, 1, 600)) is not None:
                read[name] = value
            else:
                errors[name] = _(
                    "%(value)s is not a number of months in service (1 to 600).", value=text
                )

    contract = values.get("contract")
    if contract is not None:
        if contract in CONTRACT_FILTERS:
            read["contract"] = contract
        else:
            errors["contract"] = _(
                "%(value)s is not one of: %(choices)s",
                value=contract,
                choices=", ".join(CONTRACT_FILTERS),
            )

    as_of = read.get("as_of") or today or date.today()
    if read.get("repaired_from") and read["repaired_from"] > as_of:
        errors["repaired_from"] = _("The repair date range starts after its end (as of).")
    for low, high in (("produced_from", "produced_to"), ("sold_from", "sold_to")):
        if read.get(low) and read.get(high) and read[low] > read[high]:
            errors[low] = _("A month range starts after its end.")
    if read.get("mis_from") and read.get("mis_to") and read["mis_from"] > read["mis_to"]:
        errors["mis_from"] = _("The months-in-service range starts after its end.")
    if errors:
        raise FilterError(errors)

    suppliers = (
        (own.code,) if own is not None else ((read["supplier"],) if "supplier" in read else ())
    )
    selection = Selection(
        as_of=as_of,
        model=read.get("model"),
        part=read.get("part"),
        fault_code=read.get("fault_code"),
        suppliers=suppliers,
        station=read.get("station"),
        region=read.get("region"),
        produced_from=read.get("produced_from"),
        produced_to=read.get("produced_to"),
        sold_from=read.get("sold_from"),
        sold_to=read.get("sold_to"),
        repaired_from=read.get("repaired_from"),
        mis_from=read.get("mis_from"),
        mis_to=read.get("mis_to"),
        contract=read.get("contract"),
    )
    return Filters(selection, values, own)


def empty(user: User, today: date | None = None) -> Filters:
    """No filters (what a page shows under a filter error's message)."""
    own = supplier_of(user)
    selection = Selection(as_of=today or date.today())
    if own is not None:
        selection = replace(selection, suppliers=(own.code,))
    return Filters(selection, {}, own)


def group_by(args, default: GroupBy, allowed=tuple(GroupBy)) -> tuple[GroupBy, str | None]:
    """The `group_by` argument (default when absent), and a message when it is not one of
    `allowed`."""
    text = args.get("group_by", "").strip()
    if not text:
        return default, None
    try:
        found = GroupBy(text)
    except ValueError:
        found = None
    if found is None or found not in allowed:
        return default, _("%(value)s is not a way to group the claims.", value=text)
    return found, None


def forecast_options(args) -> tuple[dict, dict[str, str]]:
    """The reliability forecast's options: `horizon` (1-60 months, default 12), `future_sales`
    per month (default None: the last 3 full months' average) and an optional `warranty_months`
    limit; with a message per option that cannot be read."""
    read: dict = {"horizon": DEFAULT_HORIZON, "future_sales": None, "warranty_months": None}
    errors: dict[str, str] = {}
    text = args.get("horizon", "").strip()
    if text:
        if (value := _whole(text, 1, 60)) is not None:
            read["horizon"] = value
        else:
            errors["horizon"] = _("The forecast horizon is 1 to 60 months.")
    text = args.get("future_sales", "").strip()
    if text:
        try:
            value = float(text)
        except ValueError:
            value = -1.0
        if 0 <= value <= 10_000_000:
            read["future_sales"] = value
        else:
            errors["future_sales"] = _(
                "Future sales are a number of vehicles per month (0 or more)."
            )
    text = args.get("warranty_months", "").strip()
    if text:
        if (value := _whole(text, 1, 240)) is not None:
            read["warranty_months"] = value
        else:
            errors["warranty_months"] = _("The warranty limit is 1 to 240 months.")
    return read, errors


def _whole(text: str, low: int, high: int) -> int | None:
    """A whole number in ASCII digits from `low` to `high`, else None (not `²`, `٣` or `１`,
    which str.isdigit() would let through)."""
    try:
        return parse_int(text, low, high)
    except InvalidValue:
        return None
