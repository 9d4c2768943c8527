"""Test harness.

Tests run on PostgreSQL and Redis when they are reachable (CI always), on SQLite otherwise.
The schema is built once per run by the Alembic migrations (not `create_all`), and each test
runs inside a transaction that is rolled back, so tests never see each other's rows.

Override with TEST_DATABASE_URL / TEST_REDIS_URL; set TEST_DATABASE_URL=sqlite to force SQLite.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import Iterator

import argon2.profiles
import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from tests import factories

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
# One database per test process, so that concurrent runs never disturb each other.
PG_TEST_DB = f"portal_test_{os.getpid()}"


def _postgres_reachable(url: str) -> bool:
    try:
        engine = sa.create_engine(url, connect_args={"connect_timeout": 2})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        return False


def drop_postgres_database(url: str) -> None:
    if not url.startswith("postgresql"):
        return
    name = url.rsplit("/", 1)[1]
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _fresh_postgres_database(name: str) -> str:
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def fresh_database_url(name: str, tmp_dir) -> str:
    """A new, empty database for this run: PostgreSQL when reachable, else a SQLite file."""
    wanted = os.environ.get("TEST_DATABASE_URL", "")
    if wanted == "sqlite" or (not wanted and not _postgres_reachable(PG_ADMIN_URL)):
        return f"sqlite:///{tmp_dir}/{name}.db"
    if wanted:
        return wanted
    return _fresh_postgres_database(name)


def redis_url() -> str | None:
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    if url == "none":
        return None
    try:
        from redis import Redis

        with Redis.from_url(url, socket_connect_timeout=1) as client:
            client.ping()
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        return None
    return url


def test_config(database_url: str, **extra) -> dict:
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        "REDIS_URL": None,
        "SECRET_KEY": "test-secret-key",
        "SERVER_NAME": None,
        # argon2id at its cheapest: every sign-in of the suite would otherwise pay the
        # production cost (about 0.65 s here). tests/test_auth.py checks production's default.
        "PASSWORD_HASH_PARAMETERS": argon2.profiles.CHEAPEST,
        # Each test builds its own data: the supplier home's C/1000 trend is not kept between.
        "QUALITY_TREND_CACHE_SECONDS": 0,
    }
    config.update(extra)
    return config


test_config.__test__ = False  # a helper, not a test, when imported into test modules


def migrate_to_head(app) -> None:
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> Iterator[str]:
    url = fresh_database_url(PG_TEST_DB, tmp_path_factory.mktemp("db"))
    yield url
    if not os.environ.get("TEST_DATABASE_URL"):
        drop_postgres_database(url)


class IsolatedClient(FlaskClient):
    """Each request runs as in production: in its own app context, with its own `g` and its
    own database session (on the test's connection, so it sees and joins the test's data).

    The answer is read whole inside that context (`buffered`), as a WSGI server reads it inside
    the request: a streamed answer (a CSV) keeps the request's context for its generator, which
    a test that does not read it would otherwise close later, in another context ("Working
    outside of request context", "Token was created in a different Context")."""

    def open(self, *args, **kwargs):
        kwargs.setdefault("buffered", True)
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture(scope="session")
def app(database_url):
    from portal import create_app

    app = create_app(test_config(database_url))
    app.test_client_class = IsolatedClient
    migrate_to_head(app)
    yield app
    from portal.extensions import db

    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def is_postgres(database_url) -> bool:
    return database_url.startswith("postgresql")


@pytest.fixture(autouse=True)
def db_session(app) -> Iterator:
    """Every test in a transaction that is rolled back at its end."""
    from portal.extensions import db

    with app.app_context():
        connection = db.engine.connect()
        transaction = connection.begin()
        original = db.session
        # A plain SQLAlchemy session: Flask-SQLAlchemy's own Session.get_bind() would pick
        # the engine and ignore the connection, escaping the rolled-back transaction.
        from flask_sqlalchemy.session import _app_ctx_id

        db.session = sa.orm.scoped_session(
            sa.orm.sessionmaker(bind=connection, join_transaction_mode="create_savepoint"),
            scopefunc=_app_ctx_id,
        )
        try:
            yield db.session
        finally:
            db.session.remove()
            db.session = original
            transaction.rollback()
            connection.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def world(db_session):
    """A small, complete master-data world: the OEM, two stations, two suppliers, users."""
    return factories.World.build()


def login(client, username: str, password: str = factories.PASSWORD):
    return client.post("/login", data={"username": username, "password": password})


@pytest.fixture
def login_as(client, world):
    def _login(role_or_username: str):
        username = world.usernames.get(role_or_username, role_or_username)
        response = login(client, username)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return _login


@pytest.fixture
def switching_login(login_as, client, db_session):
    """`login_as` for tests that act as one role after another on the one test client: each
    sign-in signs out whoever was signed in, and every answer is followed by a fresh read of
    the test's objects, since each request commits in its own session."""
    opener, session = client.open, db_session()

    def open_and_expire(*args, **kwargs):
        response = opener(*args, **kwargs)
        session.expire_all()
        return response

    client.open = open_and_expire

    def _login(who: str):
        client.post("/logout")
        return login_as(who)

    return _login


@contextlib.contextmanager
def app_on_own_database(url: str, *, migrated: bool = True) -> Iterator:
    """A separate app on the fresh database `url` (migrated to head unless told not to), where
    work really commits: `db.session` is the app's own meanwhile; the database is dropped after."""
    from portal import create_app
    from portal.extensions import db

    app = create_app(test_config(url))
    if migrated:
        migrate_to_head(app)
    rolled_back = db.session
    db.session = db._make_scoped_session({})
    try:
        yield app
    finally:
        db.session.remove()
        db.session = rolled_back
        with app.app_context():
            db.engine.dispose()
        drop_postgres_database(url)


@pytest.fixture
def committing_app(tmp_path, db_session):
    """A separate app on its own fresh database where work really commits, for tests of
    concurrency between transactions (PostgreSQL only). `db.session` is the app's own here."""
    url = fresh_database_url(f"portal_concurrency_{os.getpid()}", tmp_path)
    if not url.startswith("postgresql"):
        pytest.skip("real concurrency is tested on PostgreSQL (CI always has it)")
    with app_on_own_database(url) as app:
        yield app
