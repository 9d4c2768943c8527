"""Users, one trait per role; every one signs in with `PASSWORD`."""

from __future__ import annotations

import factory
import sqlalchemy as sa

from portal.auth.models import Role, User
from portal.extensions import db
from tests.factories.base import BaseFactory, test_password_hash
from tests.factories.masterdata import OemFactory, StationFactory, SupplierFactory


class UserFactory(BaseFactory):
    """`UserFactory(auditor=True)`; without a role trait, a station user of a new station."""

    class Meta:
        model = User

    class Params:
        station = factory.Trait(role=Role.STATION, organisation=factory.SubFactory(StationFactory))
        auditor = factory.Trait(role=Role.AUDITOR)
        finance = factory.Trait(role=Role.FINANCE)
        admin = factory.Trait(role=Role.ADMIN)
        supplier = factory.Trait(
            role=Role.SUPPLIER, organisation=factory.SubFactory(SupplierFactory)
        )

    username = factory.LazyAttributeSequence(lambda o, n: f"{o.role.value}{n}")
    role = Role.STATION
    organisation = factory.LazyAttribute(
        lambda o: StationFactory() if o.role is Role.STATION else OemFactory()
    )
    password_hash = factory.LazyFunction(test_password_hash)


def users(role: Role, org, usernames: list[str]) -> list[User]:
    """Many users of `org` at once (one INSERT), all with the test password's hash."""
    password_hash = test_password_hash()
    db.session.execute(
        sa.insert(User),
        [
            {
                "username": name,
                "role": role,
                "organisation_id": org.id,
                "password_hash": password_hash,
            }
            for name in usernames
        ],
    )
    return list(db.session.scalars(sa.select(User).where(User.username.in_(usernames))))
