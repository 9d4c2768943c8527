"""Recalls and service campaigns (召回 / 服务活动) with their package and affected vehicles.

    CampaignFactory()                                    an open recall since 30 days ago
    CampaignFactory(service=True, vehicles=[vehicle])    a service campaign listing `vehicle`
    CampaignFactory(closed=True) / (future=True) / (ended=True)

`package` is the list of (part, qty) the campaign fits; `vehicles` the affected vehicles.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import factory

from portal.db import utcnow
from portal.masterdata.campaigns import (
    Campaign,
    CampaignKind,
    CampaignPart,
    CampaignStatus,
    CampaignVehicle,
)
from tests.factories.base import BaseFactory, session
from tests.factories.masterdata import LaborOperationFactory


class CampaignFactory(BaseFactory):
    class Meta:
        model = Campaign

    class Params:
        service = factory.Trait(kind=CampaignKind.SERVICE)
        closed = factory.Trait(status=CampaignStatus.CLOSED, closed_at=factory.LazyFunction(utcnow))
        future = factory.Trait(
            start_date=factory.LazyFunction(lambda: date.today() + timedelta(days=10))
        )
        ended = factory.Trait(
            start_date=factory.LazyFunction(lambda: date.today() - timedelta(days=60)),
            end_date=factory.LazyFunction(lambda: date.today() - timedelta(days=10)),
        )
        package = ()

    code = factory.Sequence(lambda n: f"RC-{n:04d}")
    title = factory.Sequence(lambda n: f"Campaign {n}")
    kind = CampaignKind.RECALL
    status = CampaignStatus.OPEN
    start_date = factory.LazyFunction(lambda: date.today() - timedelta(days=30))
    end_date = None
    operation = factory.SubFactory(LaborOperationFactory)
    hours = Decimal("1.00")
    supplier = None
    recovery_share = Decimal("0")
    parts = factory.LazyAttribute(
        lambda o: [CampaignPart(part=part, qty=qty) for part, qty in o.package]
    )

    @factory.post_generation
    def vehicles(campaign, create, extracted, **kwargs):
        for vehicle in extracted or ():
            session().add(CampaignVehicle(campaign=campaign, vehicle=vehicle))
        session().flush()
