"""`db upgrade` from empty builds exactly the models' schema, and every revision reverses."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from portal import create_app
from portal.extensions import db
from tests.conftest import drop_postgres_database, fresh_database_url, migrate_to_head, test_config


def _differences(app) -> list:
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


@pytest.fixture
def empty_database(tmp_path):
    url = fresh_database_url(f"portal_migrations_check_{os.getpid()}", tmp_path)
    yield url
    drop_postgres_database(url)


def test_upgrade_from_empty_equals_the_models(empty_database):
    app = create_app(test_config(empty_database))
    migrate_to_head(app)
    assert _differences(app) == []
    with app.app_context():
        db.engine.dispose()


def test_every_revision_downgrades_to_empty_and_upgrades_again(empty_database):
    from flask_migrate import downgrade, upgrade

    app = create_app(test_config(empty_database))
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        tables = set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert tables == set()
        upgrade()
        assert _differences(app) == []
        db.engine.dispose()
