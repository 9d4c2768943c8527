"""Settlement runs, computed and released by the real operations (the jobs run in-process
without Redis, as in the tests)."""

from __future__ import annotations

import factory

from portal.extensions import db
from portal.settlement import engine
from portal.settlement import operations as settle
from portal.settlement.models import RunStatus, SettlementRun
from tests.factories.base import BaseFactory


class SettlementRunFactory(BaseFactory):
    """`SettlementRunFactory(world=world)`: a run of the current month started by finance and
    computed to a draft (trait `drafted`, the default); `released=True` releases it, which
    settles its claims. What the run must see is committed first, as a worker reads only
    committed rows."""

    class Meta:
        model = SettlementRun

    class Params:
        drafted = factory.Trait(release=False)
        released = factory.Trait(release=True)

    world = None
    finance = factory.LazyAttribute(lambda o: o.world.users["finance"])
    period = factory.LazyFunction(engine.current_period)
    release = False

    @classmethod
    def _create(cls, model_class, *, world, finance, period, release) -> SettlementRun:
        db.session.commit()
        run = settle.start_run(finance, period)
        db.session.commit()
        db.session.refresh(run)
        assert run.status is RunStatus.DRAFT, run.error
        if release:
            settle.request_release(run, finance)
            db.session.commit()
            db.session.refresh(run)
            assert run.status is RunStatus.RELEASED, run.error
        return run
