"""CSV import of master data (录入基本信息), for `flask import KIND FILE` and the admin upload page.

A file is UTF-8 (a byte-order mark is accepted) with a header row naming exactly the columns of
its kind (in any order), as DESIGN section 8 fixes them. The whole file is validated first and
every bad cell or row is reported with its physical line number (the header is line 1); if any
row is bad nothing is imported. A row whose key already exists updates that record. The
operation flushes and never commits: the CLI command or the view commits.

Kinds that refer to others must be imported after them. A complete load goes in this order:
suppliers, stations, models, policies, parts, part_models, labor_operations, fault_codes,
vehicles, contracts
vehicles, campaigns, campaign_vehicles
(`IMPORT_ORDER`; `examples/csv/` holds one sample file per kind).

Values:

- text is trimmed; a cell may be empty only where noted below;
- money (CNY) has at most two decimals and is >= 0; hours likewise;
- rates are fractions from 0 to 1 (`0.10` is 10%) with at most six decimals;
- dates are `YYYY-MM-DD`; km, months and days are whole numbers >= 0 (a policy's months and km
  are >= 1); `major_assembly` is `true` or `false`;
- VINs are checked by `vin_error` (length, characters, check digit); lower case is upper-cased.

Keys and references:

- keys: `code` (stations, suppliers, models, labor_operations, fault_codes), `number` (parts),
  `vin` (vehicles), and `(model, group)` for policies. A key twice in one file is an error on
  the second line, naming the first.
- `parts.supplier` must be a supplier code, `policies.model` and `vehicles.model` a model code,
  `vehicles.station` a station code or empty. References must already be in the database.
- stations and suppliers share the organisation code namespace: a station row whose code
  belongs to a supplier or to the OEM is refused, and the other way round.

Per-kind decisions:

- `suppliers.labor_hours_cap` empty means no cap; `recovery_share` empty means 1 (the
  agreement's default, 100%); `handling_fee_rate` empty means 0.
- `parts.scrap_rate` is the residual value (折价) a `scrap_at_station` part keeps at the
  station. It is required for `scrap_at_station` (0 is allowed: a worthless part) and must be
  empty or 0 for the other dispositions, where it would mean nothing.
- `parts.unit_price` keeps a price history: a new part gets one open price valid since always;
  a different price closes the open one yesterday and opens a new one today (or simply
  replaces the open one if that started today or later); the same price changes nothing.
- `part_models` lists the models a part fits, one `part,model` pair a row (the part by its
  number); a part with no model listed fits all. Its key is the pair: importing a pair that is
  listed already changes nothing; an admin removes a pair on the part's page.
- `vehicles.owner_name` and `owner_phone` may be empty (fleet sales); the sale date may not be
  before the production date.
- `models.break_in_max_km` may not be below `break_in_min_km`.
- `contracts` (extended warranty contracts, 延保): one row per contract number and coverage group
  it extends, keyed by `(number, group)`. A contract is on one vehicle: its rows must name one
  VIN, and a number already on another vehicle is refused; the VIN's model must have a policy
  for the group. `months` and `km` are >= 1; `km` is the odometer reading up to which it covers.
- `campaigns` (召回 / 服务活动): `kind` is `recall` or `service`; `end_date` may be empty (open-
  ended) and not before `start_date`; `operation` is a labor operation code and `hours` (> 0)
  the package's labor; `parts` lists the package's parts as `number:qty` separated by `;`
  (may be empty: a labor-only campaign); `supplier` may be empty (the OEM bears the cost), and
  then `recovery_share` must be empty or 0; with a supplier, the share is required. A new
  campaign is open; importing an existing code updates it and replaces its parts, and leaves
  it open or closed as it was.
- `campaign_vehicles` lists a campaign's affected vehicles, one `campaign,vin` pair a row;
  importing a pair that is listed already changes nothing.
"""

from __future__ import annotations

import csv
import enum
import io
import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import InstrumentedAttribute

from portal.auditlog import operations as audit
from portal.errors import ValidationFailed
from portal.extensions import db
from portal.masterdata.campaigns import Campaign, CampaignKind, CampaignPart, CampaignVehicle
from portal.masterdata.models import (
    Disposition,
    FaultCode,
    LaborOperation,
    Organisation,
    OrgKind,
    Part,
    PartModel,
    PartPrice,
    Station,
    Supplier,
    Vehicle,
    VehicleModel,
    WarrantyContract,
    WarrantyPolicy,
)
from portal.masterdata.vin import vin_error

KINDS: tuple[str, ...] = (
    "stations",
    "suppliers",
    "models",
    "policies",
    "parts",
    "part_models",
    "labor_operations",
    "fault_codes",
    "vehicles",
    "contracts",
    "campaigns",
    "campaign_vehicles",
)
IMPORT_ORDER: tuple[str, ...] = (
    "suppliers",
    "stations",
    "models",
    "policies",
    "parts",
    "part_models",
    "labor_operations",
    "fault_codes",
    "vehicles",
    "contracts",
    "campaigns",
    "campaign_vehicles",
)

_BOM = b"\xef\xbb\xbf"
_FEW = 500  # values looked up with one IN (...); more are found by reading the table once
_MAX_INT = 2**31 - 1  # INTEGER columns
_MAX_AMOUNT = Decimal(10) ** 12  # far above any real price, far below the BIGINT storage limit
_NUMBER_RE = re.compile(r"^[+-]?\d+(\.\d+)?$")
_INT_RE = re.compile(r"^[+-]?\d+$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# --- messages -------------------------------------------------------------------------------


def N_(message: str) -> str:
    """Marks `message` for extraction; it is translated where it is used."""
    return message


def _shown(raw: str) -> str:
    """A cell value as quoted in a message: long values are cut."""
    return raw if len(raw) <= 40 else raw[:37] + "..."


# --- public results and errors --------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """One problem of an uploaded file: its physical line (header = 1), column and message."""

    line: int
    column: str | None
    message: str

    def __str__(self) -> str:
        if self.column:
            return _(
                "line %(line)d, %(column)s: %(problem)s",
                line=self.line,
                column=self.column,
                problem=self.message,
            )
        return _("line %(line)d: %(problem)s", line=self.line, problem=self.message)


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int


class ImportRejected(ValidationFailed):
    """The file was refused as a whole; `errors` lists every problem, by line."""

    def __init__(self, errors: list[RowError]):
        self.errors = sorted(errors, key=lambda e: e.line)
        super().__init__(
            _("Nothing was imported: %(count)d problem(s) found.", count=len(self.errors))
        )


class CellError(ValueError):
    """A cell's value is refused; the message quotes the value and says why."""


# --- cell parsers ---------------------------------------------------------------------------

Parser = Callable[[str], Any]


def text(attribute: InstrumentedAttribute) -> Parser:
    """Free text, as long as the model's column allows."""
    limit = attribute.property.columns[0].type.length

    def parse(raw: str) -> str:
        if len(raw) > limit:
            raise CellError(
                _('"%(value)s" is longer than %(limit)d characters', value=_shown(raw), limit=limit)
            )
        return raw

    return parse


def _decimal(raw: str, places: int, maximum: Decimal) -> Decimal:
    if not _NUMBER_RE.match(raw):
        raise CellError(_('"%(value)s" is not a number', value=_shown(raw)))
    value = Decimal(raw)
    if value < 0:
        raise CellError(_('"%(value)s" must not be negative', value=_shown(raw)))
    if value > maximum:
        raise CellError(_('"%(value)s" is too large', value=_shown(raw)))
    if value != value.quantize(Decimal(1).scaleb(-places)):  # "1.50" and "1.500" are fine
        if places == 2:
            raise CellError(_('"%(value)s" has more than two decimals', value=_shown(raw)))
        raise CellError(
            _('"%(value)s" has more than %(places)d decimals', value=_shown(raw), places=places)
        )
    return value


def money(raw: str) -> Decimal:
    """CNY, at most two decimals, >= 0."""
    return _decimal(raw, 2, _MAX_AMOUNT)


def hours(raw: str) -> Decimal:
    """Labor hours, at most two decimals, >= 0."""
    return _decimal(raw, 2, _MAX_AMOUNT)


def rate(raw: str) -> Decimal:
    """A fraction from 0 to 1 (0.10 is 10%), at most six decimals."""
    if raw.endswith("%"):
        raise CellError(
            _('"%(value)s": write rates as fractions, 0.10 for 10%%', value=_shown(raw))
        )
    value = _decimal(raw, 6, _MAX_AMOUNT)
    if value > 1:
        raise CellError(
            _('"%(value)s" is not a fraction from 0 to 1 (0.10 is 10%%)', value=_shown(raw))
        )
    return value


def whole(minimum: int) -> Parser:
    """A whole number (km, months, days) of at least `minimum`."""

    def parse(raw: str) -> int:
        if not _INT_RE.match(raw):
            raise CellError(_('"%(value)s" is not a whole number', value=_shown(raw)))
        value = int(raw)
        if value < 0:
            raise CellError(_('"%(value)s" must not be negative', value=raw))
        if value < minimum:
            raise CellError(
                _('"%(value)s" must be at least %(minimum)d', value=raw, minimum=minimum)
            )
        if value > _MAX_INT:
            raise CellError(_('"%(value)s" is too large', value=_shown(raw)))
        return value

    return parse


def day(raw: str) -> date:
    """A date written YYYY-MM-DD."""
    try:
        if not _DATE_RE.match(raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise CellError(
            _('"%(value)s" is not a date in the form YYYY-MM-DD', value=_shown(raw))
        ) from None


def boolean(raw: str) -> bool:
    """`true` or `false` (any case)."""
    lowered = raw.lower()
    if lowered not in {"true", "false"}:
        raise CellError(_('"%(value)s" is neither true nor false', value=_shown(raw)))
    return lowered == "true"


def disposition(raw: str) -> Disposition:
    try:
        return Disposition(raw)
    except ValueError:
        raise CellError(
            _(
                '"%(value)s" is not one of: %(choices)s',
                value=_shown(raw),
                choices=", ".join(d.value for d in Disposition),
            )
        ) from None


def campaign_kind(raw: str) -> CampaignKind:
    try:
        return CampaignKind(raw.lower())
    except ValueError:
        raise CellError(
            _(
                '"%(value)s" is not one of: %(choices)s',
                value=_shown(raw),
                choices=", ".join(k.value for k in CampaignKind),
            )
        ) from None


def package_parts(raw: str) -> tuple[tuple[str, int], ...]:
    """`number:qty` items separated by `;` (a part once, qty a whole number of at least 1)."""
    items: list[tuple[str, int]] = []
    for item in (piece.strip() for piece in raw.split(";")):
        if not item:
            continue
        number, sep, qty = (x.strip() for x in item.rpartition(":"))
        if not sep or not number or not _INT_RE.match(qty) or not 1 <= int(qty) <= 999:
            raise CellError(
                _(
                    '"%(value)s" is not a part number and a quantity from 1 to 999, as P-100:2',
                    value=_shown(item),
                )
            )
        if any(number == seen for seen, _qty in items):
            raise CellError(_('part "%(value)s" is listed twice', value=_shown(number)))
        items.append((number, int(qty)))
    return tuple(items)


def vin(raw: str) -> str:
    """A VIN with a valid check digit; lower case is accepted and upper-cased."""
    value = raw.upper()
    problem = vin_error(value)
    if problem:
        raise CellError(
            _('"%(value)s" is not a valid VIN: %(reason)s', value=_shown(raw), reason=problem)
        )
    return value


# --- the column specification of each kind --------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """A column naming a record of another kind by its code; resolved to that record's id."""

    model: type[db.Model]
    unknown: str  # message, %(value)s is the code
    key: str = "code"  # the referenced model's column the code is


def _same(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Column:
    """One CSV column: how to parse it and which model column it sets.

    `attr` None: the kind's `after_write` uses the value. `optional`: an empty cell is
    allowed and stands for `default`. `store` turns the value into the one stored.
    """

    name: str
    parse: Parser
    attr: str | None
    optional: bool = False
    default: Any = None
    ref: Reference | None = None
    store: Callable[[Any], Any] = _same


def col(name: str, parse: Parser, attr: str | None = "", **kw: Any) -> Column:
    """A column that sets the model column of the same name unless `attr` says otherwise."""
    return Column(name, parse, name if attr == "" else attr, **kw)


@dataclass(frozen=True)
class Written:
    """A row as written: the id of its record and whether the import created it."""

    id: int
    created: bool
    values: dict[str, Any]


RowCheck = Callable[[dict[str, Any]], Iterator[tuple[str, str]]]
FileCheck = Callable[[list["_Row"]], list[RowError]]
AfterWrite = Callable[[list[Written], date], None]


@dataclass(frozen=True)
class Kind:
    """What one KIND of file holds and how its rows become records."""

    name: str
    model: type[db.Model]
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # column names
    key_attrs: tuple[InstrumentedAttribute, ...]  # the same key on the model
    checks: tuple[RowCheck, ...] = ()
    file_checks: tuple[FileCheck, ...] = ()  # over all rows, references resolved
    after_write: AfterWrite | None = None
    org_kind: OrgKind | None = None  # stations and suppliers share Organisation.code

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def stored(self, values: dict[str, Any]) -> dict[str, Any]:
        """Model column -> value, for a row whose cells all parsed and references resolved."""
        return {c.attr: c.store(values[c.name]) for c in self.columns if c.attr}

    def db_key(self, stored: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(stored[attr.key] for attr in self.key_attrs)


_SUPPLIER = Reference(Supplier, N_('there is no supplier with the code "%(value)s"'))
_MODEL = Reference(VehicleModel, N_('there is no vehicle model with the code "%(value)s"'))
_STATION = Reference(Station, N_('there is no station with the code "%(value)s"'))
_PART = Reference(Part, N_('there is no part with the number "%(value)s"'), key="number")
_OPERATION = Reference(LaborOperation, N_('there is no labor operation with the code "%(value)s"'))
_CAMPAIGN = Reference(Campaign, N_('there is no campaign with the code "%(value)s"'))
_VEHICLE = Reference(Vehicle, N_('there is no vehicle with the VIN "%(value)s"'), key="vin")


def _break_in_range(values: dict[str, Any]) -> Iterator[tuple[str, str]]:
    low, high = values.get("break_in_min_km"), values.get("break_in_max_km")
    if low is not None and high is not None and high < low:
        yield (
            "break_in_max_km",
            _("%(high)d km is below the break-in start of %(low)d km", high=high, low=low),
        )


def _scrap_rate_fits_disposition(values: dict[str, Any]) -> Iterator[tuple[str, str]]:
    if "disposition" not in values or "scrap_rate" not in values:
        return
    scrap_rate = values["scrap_rate"]
    if values["disposition"] is Disposition.SCRAP_AT_STATION:
        if scrap_rate is None:
            yield "scrap_rate", _("is required for a part scrapped at the station (0 to 1)")
    elif scrap_rate:
        yield (
            "scrap_rate",
            _(
                '"%(value)s": only a part scrapped at the station has a scrap rate; leave it empty',
                value=scrap_rate,
            ),
        )


def _sold_after_production(values: dict[str, Any]) -> Iterator[tuple[str, str]]:
    made, sold = values.get("production_date"), values.get("sale_date")
    if made and sold and sold < made:
        yield (
            "sale_date",
            _(
                "%(sold)s is before the production date %(made)s",
                sold=sold.isoformat(),
                made=made.isoformat(),
            ),
        )


def _campaign_terms(values: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """Dates in order, some hours, and a recovery share exactly when there is a supplier."""
    start, end = values.get("start_date"), values.get("end_date")
    if start and end and end < start:
        yield (
            "end_date",
            _(
                "%(end)s is before the start date %(start)s",
                end=end.isoformat(),
                start=start.isoformat(),
            ),
        )
    if values.get("hours") == 0:
        yield "hours", _("a campaign's package needs some labor hours")
    if "supplier" not in values or "recovery_share" not in values:
        return
    if values["supplier"] is None and values["recovery_share"]:
        yield "recovery_share", _("a share needs a supplier to bear it; leave it empty")
    elif values["supplier"] is not None and values["recovery_share"] is None:
        yield "recovery_share", _("is required with a supplier (0 to 1)")


def _package_parts_known(values: dict[str, Any]) -> Iterator[tuple[str, str]]:
    numbers = [number for number, _qty in values.get("parts") or ()]
    if not numbers:
        return
    known = set(db.session.scalars(sa.select(Part.number).where(Part.number.in_(numbers))))
    for number in numbers:
        if number not in known:
            yield "parts", _('there is no part with the number "%(value)s"', value=number)


def _write_package_parts(written: list[Written], today: date) -> None:
    """Each campaign's parts become the ones its row lists."""
    ids = [w.id for w in written]
    numbers = {number for w in written for number, _qty in w.values["parts"] or ()}
    part_ids = _ids_by_code(Part, numbers, "number")
    db.session.execute(sa.delete(CampaignPart).where(CampaignPart.campaign_id.in_(ids)))
    rows = [
        {"campaign_id": w.id, "part_id": part_ids[number], "qty": qty}
        for w in written
        for number, qty in w.values["parts"] or ()
    ]
    if rows:
        db.session.execute(sa.insert(CampaignPart), rows)


@dataclass(frozen=True)
class _Price:
    id: int
    unit_price: Decimal
    valid_from: date | None
    valid_to: date | None


@dataclass
class _PriceWrites:
    """The changes to `part_price` that an import makes, written in bulk."""

    opened: list[dict[str, Any]] = field(default_factory=list)
    closed: list[dict[str, Any]] = field(default_factory=list)
    replaced: list[dict[str, Any]] = field(default_factory=list)

    def plan(self, part_id: int, prices: list[_Price], unit_price: Decimal, today: date) -> None:
        """Make `unit_price` the part's price from `today` on, keeping its history.

        A part without prices gets one valid since always. Otherwise the open price (no
        `valid_to`) is kept when equal, replaced when it starts today or later, and else
        closed yesterday, with a new open price from today.
        """
        current = next((p for p in prices if p.valid_to is None), None)
        if current is not None and current.unit_price == unit_price:
            return
        if not prices:
            self.opened.append({"part_id": part_id, "unit_price": unit_price, "valid_from": None})
        elif current is not None and current.valid_from is not None and current.valid_from >= today:
            self.replaced.append({"id": current.id, "unit_price": unit_price})
        else:
            if current is not None:
                self.closed.append({"id": current.id, "valid_to": today - timedelta(days=1)})
            self.opened.append({"part_id": part_id, "unit_price": unit_price, "valid_from": today})

    def write(self) -> None:
        if self.opened:
            db.session.execute(sa.insert(PartPrice), self.opened)
        _update(PartPrice, self.closed)
        _update(PartPrice, self.replaced)


def _prices_of(part_ids: list[int]) -> dict[int, list[_Price]]:
    found: dict[int, list[_Price]] = {part_id: [] for part_id in part_ids}
    stmt = sa.select(
        PartPrice.part_id,
        PartPrice.id,
        PartPrice.unit_price,
        PartPrice.valid_from,
        PartPrice.valid_to,
    )
    for part_id, *price in _rows_where_in(stmt, PartPrice.part_id, part_ids):
        found[part_id].append(_Price(*price))
    return found


def _write_prices(written: list[Written], today: date) -> None:
    """The parts' unit prices, with their history (a created part has none yet)."""
    history = _prices_of(sorted(w.id for w in written if not w.created))
    writes = _PriceWrites()
    for row in written:
        writes.plan(row.id, history.get(row.id, []), row.values["unit_price"], today)
    writes.write()


def _one_vehicle_per_contract(rows: list[_Row]) -> list[RowError]:
    """A contract is on one vehicle: its rows name one VIN, and a number already on another
    vehicle is not moved."""
    first: dict[str, _Row] = {}
    errors = []
    for row in rows:
        number, vehicle_id = row.values.get("number"), row.values.get("vin")
        if number is None or not isinstance(vehicle_id, int):
            continue
        earlier = first.setdefault(number, row)
        if earlier.values["vin"] != vehicle_id:
            message = _(
                "contract %(number)s is on another VIN on line %(first)d",
                number=number,
                first=earlier.line,
            )
            errors.append(RowError(row.line, "vin", message))
    stmt = sa.select(WarrantyContract.number, WarrantyContract.vehicle_id, Vehicle.vin).join(
        Vehicle, Vehicle.id == WarrantyContract.vehicle_id
    )
    existing = {
        number: (vehicle_id, vin)
        for number, vehicle_id, vin in _rows_where_in(stmt, WarrantyContract.number, set(first))
    }
    refused = {error.line for error in errors}
    for row in rows:
        number, vehicle_id = row.values.get("number"), row.values.get("vin")
        on = existing.get(number)
        moved = on is not None and isinstance(vehicle_id, int) and on[0] != vehicle_id
        if moved and row.line not in refused:
            message = _("contract %(number)s is on VIN %(vin)s", number=number, vin=on[1])
            errors.append(RowError(row.line, "vin", message))
    return errors


def _fits_the_vehicle(rows: list[_Row]) -> list[RowError]:
    """A contract extends a coverage group of its vehicle's model's policy, from a start date
    on or after the vehicle's sale."""
    vehicle_ids = {v for row in rows if isinstance(v := row.values.get("vin"), int)}
    stmt = sa.select(Vehicle.id, VehicleModel.code, Vehicle.sale_date).join(
        VehicleModel, VehicleModel.id == Vehicle.model_id
    )
    vehicles = {
        vid: (code, sold) for vid, code, sold in _rows_where_in(stmt, Vehicle.id, vehicle_ids)
    }
    groups = {
        (code, group)
        for code, group in db.session.execute(
            sa.select(VehicleModel.code, WarrantyPolicy.group).join(WarrantyPolicy.model)
        )
    }
    errors = []
    for row in rows:
        vehicle_id, group, start = (row.values.get(k) for k in ("vin", "group", "start_date"))
        if not isinstance(vehicle_id, int):
            continue
        model, sold = vehicles[vehicle_id]
        if group is not None and (model, group) not in groups:
            message = _(
                'model %(model)s has no warranty policy for coverage group "%(group)s"',
                model=model,
                group=group,
            )
            errors.append(RowError(row.line, "group", message))
        if start is not None and start < sold:
            message = _(
                "%(start)s is before the vehicle's sale date %(sale)s",
                start=start.isoformat(),
                sale=sold.isoformat(),
            )
            errors.append(RowError(row.line, "start_date", message))
    return errors


def _zero_if_empty(value: Decimal | None) -> Decimal:
    return value if value is not None else Decimal(0)


def _code(model: type[db.Model]) -> Column:
    return col("code", text(model.code))


def _name(model: type[db.Model], name: str = "name") -> Column:
    return col(name, text(getattr(model, name)))


SPECS: dict[str, Kind] = {
    spec.name: spec
    for spec in (
        Kind(
            "stations",
            Station,
            (
                _code(Station),
                _name(Station),
                col("region", text(Station.region)),
                col("labor_rate", money),
                col("km_rate", money),
                col("parts_handling_rate", rate),
            ),
            key=("code",),
            key_attrs=(Station.code,),
            org_kind=OrgKind.STATION,
        ),
        Kind(
            "suppliers",
            Supplier,
            (
                _code(Supplier),
                _name(Supplier),
                col("recovery_share", rate, optional=True, default=Decimal(1)),
                col("labor_hours_cap", hours, optional=True),
                col("handling_fee_rate", rate, optional=True, default=Decimal(0)),
            ),
            key=("code",),
            key_attrs=(Supplier.code,),
            org_kind=OrgKind.SUPPLIER,
        ),
        Kind(
            "models",
            VehicleModel,
            (
                _code(VehicleModel),
                _name(VehicleModel),
                col("break_in_days", whole(0)),
                col("break_in_min_km", whole(0)),
                col("break_in_max_km", whole(0)),
                col("break_in_price", money),
            ),
            key=("code",),
            key_attrs=(VehicleModel.code,),
            checks=(_break_in_range,),
        ),
        Kind(
            "policies",
            WarrantyPolicy,
            (
                col("model", text(VehicleModel.code), attr="model_id", ref=_MODEL),
                col("group", text(WarrantyPolicy.group)),
                col("months", whole(1)),
                col("km", whole(1)),
            ),
            key=("model", "group"),
            key_attrs=(WarrantyPolicy.model_id, WarrantyPolicy.group),
        ),
        Kind(
            "parts",
            Part,
            (
                col("number", text(Part.number)),
                _name(Part),
                col("group", text(Part.group)),
                col("supplier", text(Supplier.code), attr="supplier_id", ref=_SUPPLIER),
                col("unit_price", money, attr=None),
                col("major_assembly", boolean, attr="is_major_assembly"),
                col("disposition", disposition),
                col("scrap_rate", rate, optional=True, store=_zero_if_empty),
            ),
            key=("number",),
            key_attrs=(Part.number,),
            checks=(_scrap_rate_fits_disposition,),
            after_write=_write_prices,
        ),
        Kind(
            "part_models",
            PartModel,
            (
                col("part", text(Part.number), attr="part_id", ref=_PART),
                col("model", text(VehicleModel.code), attr="model_id", ref=_MODEL),
            ),
            key=("part", "model"),
            key_attrs=(PartModel.part_id, PartModel.model_id),
        ),
        Kind(
            "labor_operations",
            LaborOperation,
            (
                _code(LaborOperation),
                _name(LaborOperation, "description"),
                col("standard_hours", hours),
            ),
            key=("code",),
            key_attrs=(LaborOperation.code,),
        ),
        Kind(
            "fault_codes",
            FaultCode,
            (
                _code(FaultCode),
                _name(FaultCode, "description"),
                col("system", text(FaultCode.system)),
            ),
            key=("code",),
            key_attrs=(FaultCode.code,),
        ),
        Kind(
            "vehicles",
            Vehicle,
            (
                col("vin", vin),
                col("model", text(VehicleModel.code), attr="model_id", ref=_MODEL),
                col("engine_no", text(Vehicle.engine_no)),
                col("production_date", day),
                col("sale_date", day),
                col(
                    "station",
                    text(Station.code),
                    attr="selling_station_id",
                    optional=True,
                    ref=_STATION,
                ),
                col("owner_name", text(Vehicle.owner_name), optional=True, default=""),
                col("owner_phone", text(Vehicle.owner_phone), optional=True, default=""),
                col("odometer_km", whole(0)),
            ),
            key=("vin",),
            key_attrs=(Vehicle.vin,),
            checks=(_sold_after_production,),
        ),
        Kind(
            "contracts",
            WarrantyContract,
            (
                col("number", text(WarrantyContract.number)),
                col("vin", vin, attr="vehicle_id", ref=_VEHICLE),
                col("group", text(WarrantyContract.group)),
                col("start_date", day),
                col("months", whole(1)),
                col("km", whole(1)),
            ),
            key=("number", "group"),
            key_attrs=(WarrantyContract.number, WarrantyContract.group),
            file_checks=(_one_vehicle_per_contract, _fits_the_vehicle),
        ),
        Kind(
            "campaigns",
            Campaign,
            (
                _code(Campaign),
                col("title", text(Campaign.title)),
                col("kind", campaign_kind),
                col("start_date", day),
                col("end_date", day, optional=True),
                col("operation", text(LaborOperation.code), attr="operation_id", ref=_OPERATION),
                col("hours", hours),
                col("parts", package_parts, attr=None, optional=True, default=()),
                col(
                    "supplier",
                    text(Supplier.code),
                    attr="supplier_id",
                    optional=True,
                    ref=_SUPPLIER,
                ),
                col("recovery_share", rate, optional=True, store=_zero_if_empty),
            ),
            key=("code",),
            key_attrs=(Campaign.code,),
            checks=(_campaign_terms, _package_parts_known),
            after_write=_write_package_parts,
        ),
        Kind(
            "campaign_vehicles",
            CampaignVehicle,
            (
                col("campaign", text(Campaign.code), attr="campaign_id", ref=_CAMPAIGN),
                col("vin", vin, attr="vehicle_id", ref=_VEHICLE),
            ),
            key=("campaign", "vin"),
            key_attrs=(CampaignVehicle.campaign_id, CampaignVehicle.vehicle_id),
        ),
    )
}
assert tuple(SPECS) == KINDS
assert set(IMPORT_ORDER) == set(KINDS)


def columns(kind: str) -> tuple[str, ...]:
    """The header of a KIND file, in the documented order (for template files)."""
    return _spec(kind).column_names


def _spec(kind: str) -> Kind:
    try:
        return SPECS[kind]
    except KeyError:
        raise ValueError(f"unknown kind {kind!r}; one of: {', '.join(KINDS)}") from None


# --- reading the file -----------------------------------------------------------------------


@dataclass
class _Row:
    line: int
    values: dict[str, Any] = field(default_factory=dict)  # the cells that parsed


def _refused(line: int, message: str) -> ImportRejected:
    """A refusal of the whole file for one reason, found on `line`."""
    return ImportRejected([RowError(line, None, message)])


def _decode(data: bytes) -> str:
    body = data.removeprefix(_BOM)
    if b"\x00" in body:  # UTF-16 or a binary file (a spreadsheet saved under .csv)
        line = body.count(b"\n", 0, body.index(b"\x00")) + 1
        raise _refused(line, _('the file is not CSV text; save it as "CSV UTF-8"'))
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = body.count(b"\n", 0, exc.start) + 1
        message = _(
            'the file is not UTF-8 text (byte 0x%(byte)s); save it as "CSV UTF-8" and try again',
            byte=body[exc.start : exc.start + 1].hex().upper(),
        )
        raise _refused(line, message) from None


def _records(content: str) -> Iterator[tuple[int, list[str]]]:
    """(first physical line, cells) per CSV record; blank lines are skipped."""
    reader = csv.reader(io.StringIO(content, newline=""), strict=True)
    line = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            message = _("the file cannot be read as CSV: %(reason)s", reason=str(exc))
            raise _refused(reader.line_num, message) from None
        if any(cell.strip() for cell in cells):
            yield line, cells
        line = reader.line_num + 1


def _positions(spec: Kind, line: int, header: list[str]) -> dict[str, int]:
    """Column name -> index; a missing, unknown or repeated column is an error of the header."""
    names = [h.strip() for h in header]
    errors = []
    expected = ", ".join(spec.column_names)
    for index, name in enumerate(names):
        if name not in spec.column_names:
            errors.append(
                RowError(
                    line,
                    name or None,
                    _(
                        'unknown column "%(name)s"; the columns of %(kind)s are: %(columns)s',
                        name=name,
                        kind=spec.name,
                        columns=expected,
                    ),
                )
            )
        elif name in names[:index]:
            errors.append(RowError(line, name, _("the column appears more than once")))
    errors += [
        RowError(
            line,
            name,
            _(
                "missing column; the columns of %(kind)s are: %(columns)s",
                kind=spec.name,
                columns=expected,
            ),
        )
        for name in spec.column_names
        if name not in names
    ]
    if errors:
        raise ImportRejected(errors)
    return {name: names.index(name) for name in spec.column_names}


def _parse_row(
    spec: Kind, line: int, cells: list[str], positions: dict[str, int], width: int
) -> tuple[_Row, list[RowError]]:
    row = _Row(line)
    if len(cells) != width:
        return row, [
            RowError(
                line,
                None,
                _(
                    "has %(found)d fields where the header has %(expected)d",
                    found=len(cells),
                    expected=width,
                ),
            )
        ]
    errors = []
    for column in spec.columns:
        raw = cells[positions[column.name]].strip()
        if not raw:
            if column.optional:
                row.values[column.name] = column.default
            else:
                errors.append(RowError(line, column.name, _("a value is required")))
            continue
        try:
            row.values[column.name] = column.parse(raw)
        except CellError as exc:
            errors.append(RowError(line, column.name, str(exc)))
    for check in spec.checks:
        errors += [RowError(line, name, message) for name, message in check(row.values)]
    return row, errors


def _read(spec: Kind, data: bytes) -> tuple[list[_Row], list[RowError]]:
    records = _records(_decode(data))
    header = next(records, None)
    if header is None:
        message = _(
            "the file is empty; its first line must be the header: %(columns)s",
            columns=",".join(spec.column_names),
        )
        raise _refused(1, message)
    header_line, header_cells = header
    positions = _positions(spec, header_line, header_cells)
    rows, errors = [], []
    for line, cells in records:
        row, row_errors = _parse_row(spec, line, cells, positions, len(header_cells))
        rows.append(row)
        errors += row_errors
    if not rows:
        errors.append(RowError(header_line + 1, None, _("the file has no rows below the header")))
    return rows, errors


# --- checks against the file itself and the database ----------------------------------------


def _rows_where_in(
    stmt: sa.Select, attr: InstrumentedAttribute, values: Collection[Any]
) -> list[sa.Row[Any]]:
    """The rows of `stmt` (which selects `attr`) whose `attr` is one of `values`.

    A few values go into one IN (...). For many, the table is read once and filtered here:
    as exact, and much faster on PostgreSQL than many IN (...) queries of hundreds of
    parameters, which psycopg prepares and the server then runs with a poor generic plan.
    """
    if not values:
        return []
    if len(values) <= _FEW:
        return db.session.execute(stmt.where(attr.in_(values))).all()
    wanted = set(values)
    return [row for row in db.session.execute(stmt) if getattr(row, attr.key) in wanted]


def _file_key(spec: Kind, row: _Row) -> tuple[Any, ...] | None:
    if all(name in row.values for name in spec.key):
        return tuple(row.values[name] for name in spec.key)
    return None


def _duplicates(spec: Kind, rows: list[_Row]) -> list[RowError]:
    first_line: dict[tuple[Any, ...], int] = {}
    errors = []
    for row in rows:
        key = _file_key(spec, row)
        if key is None:
            continue
        if key in first_line:
            errors.append(
                RowError(
                    row.line,
                    spec.key[0] if len(spec.key) == 1 else None,
                    _(
                        '"%(key)s" is already on line %(first)d',
                        key=",".join(map(str, key)),
                        first=first_line[key],
                    ),
                )
            )
        else:
            first_line[key] = row.line
    return errors


def _ids_by_code(
    model: type[db.Model], codes: Collection[str], key: str = "code"
) -> dict[str, int]:
    column = getattr(model, key)
    stmt = sa.select(column, model.id)
    return dict(_rows_where_in(stmt, column, codes))


def _resolve_references(spec: Kind, rows: list[_Row]) -> list[RowError]:
    """Replace each referenced code by its record's id; unknown codes are errors."""
    errors = []
    for column in spec.columns:
        if column.ref is None:
            continue
        wanted = {row.values[column.name] for row in rows if row.values.get(column.name)}
        found = _ids_by_code(column.ref.model, wanted, column.ref.key)
        for row in rows:
            code = row.values.get(column.name)
            if not code:
                continue
            if code in found:
                row.values[column.name] = found[code]
            else:
                message = _(column.ref.unknown, value=code)
                errors.append(RowError(row.line, column.name, message))
    return errors


_TAKEN_BY = {
    OrgKind.OEM: N_('"%(value)s" is the code of the OEM itself'),
    OrgKind.STATION: N_('"%(value)s" is already the code of a station'),
    OrgKind.SUPPLIER: N_('"%(value)s" is already the code of a supplier'),
}


def _organisation_conflicts(spec: Kind, rows: list[_Row]) -> list[RowError]:
    """Stations and suppliers share one code namespace with the OEM."""
    if spec.org_kind is None:
        return []
    codes = {row.values["code"] for row in rows if "code" in row.values}
    stmt = sa.select(Organisation.code, Organisation.kind).where(Organisation.kind != spec.org_kind)
    taken = dict(_rows_where_in(stmt, Organisation.code, codes))
    return [
        RowError(row.line, "code", _(_TAKEN_BY[taken[code]], value=code))
        for row in rows
        if (code := row.values.get("code")) in taken
    ]


# --- writing --------------------------------------------------------------------------------


def _existing(spec: Kind, stored: list[dict[str, Any]]) -> dict[tuple[Any, ...], dict[str, Any]]:
    """The current columns of the records the rows' keys name already, by key (in bulk)."""
    leading = spec.key_attrs[0]
    stmt = sa.select(spec.model.id, *(getattr(spec.model, name) for name in stored[0]))
    found = {}
    for row in _rows_where_in(stmt, leading, {values[leading.key] for values in stored}):
        current = dict(row._mapping)
        found[spec.db_key(current)] = current
    return found


def _insert(spec: Kind, rows: list[dict[str, Any]]) -> dict[tuple[Any, ...], int]:
    """Insert new records in bulk; their ids by key.

    A plain executemany and one look-up of the new ids: on PostgreSQL much faster than
    INSERT ... RETURNING of thousands of rows, whose long statements psycopg parses each time.
    """
    if not rows:
        return {}
    db.session.execute(sa.insert(spec.model), rows)
    leading = spec.key_attrs[0]
    stmt = sa.select(spec.model.id, *spec.key_attrs)
    wanted = {spec.db_key(values) for values in rows}
    return {
        key: new.id
        for new in _rows_where_in(stmt, leading, {values[leading.key] for values in rows})
        if (key := spec.db_key(new._mapping)) in wanted
    }


def _update(model: type[db.Model], rows: list[dict[str, Any]]) -> None:
    """Update records in bulk by primary key (each dict holds `id` and the new values)."""
    if rows:
        db.session.execute(sa.update(model), rows)


def _write(spec: Kind, rows: list[_Row], today: date) -> ImportResult:
    stored = [spec.stored(row.values) for row in rows]
    existing = _existing(spec, stored)
    keys = [spec.db_key(values) for values in stored]
    ids = _insert(spec, [v for v, key in zip(stored, keys, strict=True) if key not in existing])
    _update(
        spec.model,
        [
            {"id": current["id"], **values}
            for values, key in zip(stored, keys, strict=True)
            if (current := existing.get(key)) and any(current[k] != v for k, v in values.items())
        ],
    )
    if spec.after_write:
        written = [
            Written(ids[key], True, row.values)
            if key in ids
            else Written(existing[key]["id"], False, row.values)
            for row, key in zip(rows, keys, strict=True)
        ]
        spec.after_write(written, today)
    db.session.flush()
    return ImportResult(created=len(ids), updated=len(rows) - len(ids))


def import_csv(
    kind: str, data: bytes, *, today: date | None = None, actor: audit.Actor | None = None
) -> ImportResult:
    """Validate a whole KIND file, then create or update its records (flushes, never commits).

    Raises `ImportRejected` listing every problem when any row is bad; nothing is written then.
    `today` (default: the server's date) dates part price changes.
    """
    spec = _spec(kind)
    rows, errors = _read(spec, data)
    errors += _duplicates(spec, rows)
    errors += _resolve_references(spec, rows)
    errors += _organisation_conflicts(spec, rows)
    for check in spec.file_checks:
        errors += check(rows)
    if errors:
        raise ImportRejected(errors)
    result = _write(spec, rows, today or date.today())
    audit.record(
        audit.AuditKind.MASTERDATA_IMPORTED,
        actor,
        subject=kind,
        after={"rows": len(rows), "created": result.created, "updated": result.updated},
    )
    return result


# --- one record at a time (the admin's record pages) ----------------------------------------

# Personal data is not copied into the audit log: only that it changed.
_PRIVATE_COLUMNS = frozenset({"owner_name", "owner_phone"})


def _cell_text(value: Any) -> str:
    """A stored value written as the import's cell for it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def record_cells(kind: str, record: Any) -> dict[str, str]:
    """The record as a row of a KIND file would write it (column -> cell text)."""
    spec = _spec(kind)
    cells = {}
    for column in spec.columns:
        if column.ref is not None:
            ref_id = getattr(record, column.attr)
            value = (
                None
                if ref_id is None
                else db.session.scalar(
                    sa.select(getattr(column.ref.model, column.ref.key)).where(
                        column.ref.model.id == ref_id
                    )
                )
            )
        elif column.attr is None:  # the part's unit price: the one valid today
            value = getattr(record, "current_price", None)
        else:
            value = getattr(record, column.attr)
        cells[column.name] = _cell_text(value)
    return cells


def key_columns(kind: str) -> tuple[str, ...]:
    return _spec(kind).key


def editable(kind: str) -> bool:
    """Whether a record of KIND has anything to edit beyond its key (a part_models pair has
    not: it is added or removed)."""
    spec = _spec(kind)
    return any(name not in spec.key for name in spec.column_names)


def _private(kind: str, cells: dict[str, str] | None) -> dict[str, str] | None:
    if cells is None:
        return None
    return {k: ("***" if k in _PRIVATE_COLUMNS and v else v) for k, v in cells.items()}


def save_record(
    kind: str,
    cells: dict[str, str],
    *,
    record: Any = None,
    today: date | None = None,
    actor: audit.Actor | None = None,
) -> Any:
    """Create one record of KIND from `cells` (column -> text), or edit `record`, with the
    import's validation (the same parsers, checks and references; problems are `RowError`s of
    line 1 naming their column) and its writing (a part's new price starts on `today`, its
    history kept). An edit keeps the record's key. Raises `ImportRejected`; flushes, never
    commits. The change is in the audit log."""
    spec = _spec(kind)
    names = spec.column_names
    before = record_cells(kind, record) if record is not None else None
    if before is not None:
        cells = {**cells, **{name: before[name] for name in spec.key}}
    positions = {name: index for index, name in enumerate(names)}
    row, errors = _parse_row(
        spec, 1, [str(cells.get(name) or "").strip() for name in names], positions, len(names)
    )
    if not errors:
        errors += _resolve_references(spec, [row])
        errors += _organisation_conflicts(spec, [row])
    if not errors and record is None and _find(spec, row) is not None:
        key = ",".join(str(cells.get(name) or "").strip() for name in spec.key)
        errors.append(
            RowError(
                1,
                spec.key[0],
                _('"%(key)s" exists already: edit that record instead', key=key),
            )
        )
    if errors:
        raise ImportRejected(errors)
    _write(spec, [row], today or date.today())
    saved = _find(spec, row)
    db.session.refresh(saved)
    after = record_cells(kind, saved)
    if before != after:
        audit.record(
            audit.AuditKind.MASTERDATA_CREATED
            if before is None
            else audit.AuditKind.MASTERDATA_UPDATED,
            actor,
            subject=f"{kind} {','.join(after[name] for name in spec.key)}",
            before=_private(kind, {k: v for k, v in before.items() if after.get(k) != v})
            if before is not None
            else None,
            after=_private(
                kind,
                after if before is None else {k: v for k, v in after.items() if before.get(k) != v},
            ),
        )
    return saved


def _find(spec: Kind, row: _Row) -> Any:
    key = spec.db_key(spec.stored(row.values))
    return db.session.scalar(
        sa.select(spec.model).where(
            *(attr == value for attr, value in zip(spec.key_attrs, key, strict=True))
        )
    )
