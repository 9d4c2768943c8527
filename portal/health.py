"""Health checks for load balancers and orchestrators (DESIGN 8).

`GET /healthz` answers 200 while the process answers (it touches nothing else); `GET /readyz`
answers 200 when the database is reachable and its schema is at the migrations' head and, with
`REDIS_URL` set, Redis answers; else 503. Neither needs a sign-in, sets a cookie or says why:
the body is `{"status": "ok"}` or `{"status": "unavailable"}` and the reason goes to the log.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask import Blueprint, current_app, jsonify

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)


def migration_heads() -> set[str]:
    """The revisions the shipped migrations end in (read once per process)."""
    heads = current_app.extensions.get("portal_migration_heads")
    if heads is None:
        directory = current_app.extensions["migrate"].directory
        heads = set(ScriptDirectory(directory).get_heads())
        current_app.extensions["portal_migration_heads"] = heads
    return heads


def schema_problem() -> str | None:
    """Why the database cannot serve this code (unreachable, not migrated), or None."""
    from portal.extensions import db

    with db.engine.connect() as connection:
        # alembic's own table, read directly: MigrationContext would log two lines per probe.
        migrated = sa.inspect(connection).has_table("alembic_version")
        current = (
            set(connection.scalars(sa.text("SELECT version_num FROM alembic_version")))
            if migrated
            else set()
        )
    wanted = migration_heads()
    if current == wanted:
        return None
    have = ", ".join(sorted(current)) or "none"
    return f"the database schema is at revision {have}, the code needs {', '.join(sorted(wanted))}"


def _redis_problem() -> str | None:
    """None when Redis answers or is not configured (it raises when it does not answer)."""
    from portal.jobs import redis_connection, uses_redis

    if uses_redis():
        redis_connection().ping()
    return None


def _answer(ready: bool):
    response = jsonify(status="ok" if ready else "unavailable")
    response.status_code = 200 if ready else 503
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/healthz", methods=["GET", "HEAD"])
def healthz():
    return _answer(True)


@bp.route("/readyz", methods=["GET", "HEAD"])
def readyz():
    for name, check in (("database", schema_problem), ("redis", _redis_problem)):
        try:
            problem = check()
        except Exception as exc:  # noqa: BLE001 - any failure of a dependency means "not ready"
            problem = f"{type(exc).__name__}: {exc}"
        if problem:
            log.warning("not ready: %s: %s", name, problem)
            return _answer(False)
    return _answer(True)


def init_app(app) -> None:
    """Register the checks outside CSRF and sessions (the sign-in throttle never sees them)."""
    from portal.extensions import csrf

    csrf.exempt(bp)
    app.register_blueprint(bp)
