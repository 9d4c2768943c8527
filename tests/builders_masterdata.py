"""Helpers for the master-data import tests: CSV files in memory and a picture of the tables."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from portal.extensions import db
from portal.masterdata.campaigns import Campaign, CampaignPart, CampaignVehicle
from portal.masterdata.models import (
    FaultCode,
    LaborOperation,
    Organisation,
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

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "csv"

# Tables and the columns whose values make up "the master data" a refused import must not touch.
_TABLES = (
    Organisation.__table__,
    Station.__table__,
    Supplier.__table__,
    VehicleModel.__table__,
    WarrantyPolicy.__table__,
    Part.__table__,
    PartPrice.__table__,
    PartModel.__table__,
    LaborOperation.__table__,
    FaultCode.__table__,
    Vehicle.__table__,
    WarrantyContract.__table__,
    Campaign.__table__,
    CampaignPart.__table__,
    CampaignVehicle.__table__,
)


def csv_bytes(
    *lines: str, bom: bool = False, newline: str = "\n", encoding: str = "utf-8"
) -> bytes:
    """A CSV file of `lines` (each already comma-separated), ending with a newline."""
    data = (newline.join(lines) + newline).encode(encoding)
    return b"\xef\xbb\xbf" + data if bom else data


def example(kind: str) -> bytes:
    return (EXAMPLES / f"{kind}.csv").read_bytes()


def master_data_snapshot() -> dict[str, list[tuple]]:
    """Every row of every master-data table, in primary-key order."""
    db.session.flush()
    return {
        table.name: [
            tuple(row) for row in db.session.execute(sa.select(table).order_by(*table.primary_key))
        ]
        for table in _TABLES
    }
