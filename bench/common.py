"""What the benchmarks share: a fresh database, SQL scripts run statement by statement, and
maintenance commands outside a transaction."""

from __future__ import annotations

import sqlalchemy as sa

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def recreate(url: str, drop_only: bool = False) -> None:
    """Drop the database of `url` and (unless `drop_only`) create it empty."""
    name = url.rsplit("/", 1)[1]
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if not drop_only:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def database_exists(url: str) -> bool:
    probe = sa.create_engine(ADMIN_URL)
    with probe.connect() as conn:
        found = conn.scalar(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": url.rsplit("/", 1)[1]}
        )
    probe.dispose()
    return bool(found)


def run_script(conn: sa.Connection, script: str, params: dict) -> None:
    """Each `;`-terminated statement of `script` with the parameters it names."""
    for statement in script.split(";\n"):
        if statement.strip():
            used = {k: v for k, v in params.items() if f":{k}" in statement}
            conn.execute(sa.text(statement), used)


def maintenance(engine: sa.Engine, *commands: str) -> None:
    """Commands that cannot run in a transaction (VACUUM, CHECKPOINT)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for command in commands:
            conn.execute(sa.text(command))
