"""Claim numbers people can read and say on the phone: RP-ST-SH01-2611-0042.

Type prefix, station code, year and month of creation, and a sequence per type, station and
month. The sequence row is incremented with one atomic upsert, so concurrent submits never
share a number; the unique index on claim.number is the last guard.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.dialects import postgresql, sqlite

from portal.claims.models import ClaimSequence, ClaimType
from portal.extensions import db
from portal.masterdata.models import Station


def next_number(station: Station, claim_type: ClaimType, today: date, session=None) -> str:
    session = session or db.session
    period = today.strftime("%y%m")
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = ClaimSequence.__table__
    stmt = (
        insert(table)
        .values(prefix=claim_type.prefix, station_id=station.id, period=period, last_value=1)
        .on_conflict_do_update(
            index_elements=[table.c.prefix, table.c.station_id, table.c.period],
            set_={"last_value": table.c.last_value + 1},
        )
        .returning(table.c.last_value)
    )
    value = session.execute(stmt).scalar_one()
    return f"{claim_type.prefix}-{station.code}-{period}-{value:04d}"
