"""What every factory shares: the session it writes to and the test password."""

from __future__ import annotations

import factory.alchemy

from portal.extensions import db

PASSWORD = "Test-password-1"  # noqa: S105 - test only
_password_hash: str | None = None


def test_password_hash() -> str:
    """The hash of `PASSWORD`, computed once per run (at the app's configured argon2 cost)."""
    global _password_hash
    if _password_hash is None:
        from portal.auth.models import User

        probe = User()
        probe.set_password(PASSWORD)
        _password_hash = probe.password_hash
    return _password_hash


test_password_hash.__test__ = False  # a helper, not a test


def session():
    """The test's session: `db.session` is what the `db_session` fixture swaps in for each test
    (and what an app on its own database uses), so the factories follow it."""
    return db.session


class BaseFactory(factory.alchemy.SQLAlchemyModelFactory):
    """Objects are added to the test's session and flushed, never committed."""

    class Meta:
        abstract = True
        sqlalchemy_session_factory = session
        sqlalchemy_session_persistence = "flush"
