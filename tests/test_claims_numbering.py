"""Claim numbers stay unique and gap-free per type, station and month under concurrent submits."""

from __future__ import annotations

import threading
from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from portal.claims.models import ClaimSequence, ClaimType
from portal.claims.numbering import next_number
from portal.extensions import db
from portal.masterdata.models import Organisation, Station


def test_numbers_restart_each_month_and_per_type(world):
    station = world.stations[0]
    assert next_number(station, ClaimType.REPAIR, date(2026, 10, 31)) == "RP-ST-A-2610-0001"
    assert next_number(station, ClaimType.REPAIR, date(2026, 10, 1)) == "RP-ST-A-2610-0002"
    assert next_number(station, ClaimType.REPAIR, date(2026, 11, 1)) == "RP-ST-A-2611-0001"
    assert next_number(station, ClaimType.ROADSIDE, date(2026, 11, 1)) == "RS-ST-A-2611-0001"
    assert (
        next_number(world.stations[1], ClaimType.REPAIR, date(2026, 11, 1)) == "RP-ST-B-2611-0001"
    )


@pytest.mark.postgres
def test_concurrent_transactions_never_share_a_number(app, is_postgres):
    """Eight threads, each in its own connection and transaction, take numbers at once."""
    if not is_postgres:
        pytest.skip("SQLite serialises writers itself; the race is a PostgreSQL matter")
    with app.app_context():
        engine = db.engine
        with Session(engine) as setup:
            station = Station(
                code="ST-RACE",
                name="Race",
                region="East",
                labor_rate=1,
                km_rate=1,
                parts_handling_rate=0,
            )
            setup.add(station)
            setup.commit()
            station_id = station.id
        numbers: list[str] = []
        errors: list[Exception] = []
        barrier = threading.Barrier(8)

        def take(n: int) -> None:
            try:
                with Session(engine) as session:
                    st = session.get(Station, station_id)
                    barrier.wait()
                    for _ in range(n):
                        numbers.append(
                            next_number(st, ClaimType.REPAIR, date(2026, 11, 24), session)
                        )
                        session.commit()
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)

        threads = [threading.Thread(target=take, args=(10,)) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        try:
            assert errors == []
            assert len(numbers) == 80
            assert sorted(numbers) == [f"RP-ST-RACE-2611-{i:04d}" for i in range(1, 81)]
        finally:
            with Session(engine) as cleanup:
                cleanup.execute(
                    sa.delete(ClaimSequence).where(ClaimSequence.station_id == station_id)
                )
                cleanup.execute(sa.delete(Station).where(Station.id == station_id))
                cleanup.execute(sa.delete(Organisation).where(Organisation.id == station_id))
                cleanup.commit()
