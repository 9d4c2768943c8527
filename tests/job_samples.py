"""Job functions for the tests of portal.jobs (importable by a worker, like real jobs)."""

import sqlalchemy as sa

from portal.extensions import db
from portal.jobs import set_progress
from portal.masterdata.models import Station


def count_stations(region: str) -> int:
    set_progress(50, step="counting")
    return db.session.scalar(sa.select(sa.func.count(Station.id)).where(Station.region == region))


def fail_halfway() -> None:
    set_progress(40)
    raise RuntimeError("the job broke on purpose")
