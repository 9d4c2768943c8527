"""Background jobs through one small module.

With `REDIS_URL` set, `enqueue` puts the job on an RQ queue and `flask --app wsgi worker` runs it.
Without it (the embedded default), the job runs in-process and synchronously before `enqueue`
returns, so a laptop install needs no Redis. Either way the web side reads a job's status and
progress through `job_status(job_id)` (and `/jobs/<id>` for the pages' progress bars).

A job function is named by its import path (`"portal.settlement.tasks:compute_run"`) and gets
ids, never objects; it runs in a fresh application context and commits for itself.

Work that asks for a job inside a transaction (an operation) calls `enqueue_after_commit`: the
job is started once the session's transaction commits, so a worker never sees the work before
it is committed, and never starts when the transaction rolls back. Its id is known at once.

With `REDIS_URL` set but Redis unreachable, starting or reading a job raises `JobsUnavailable`
(503, code `unavailable`): the API answers it as JSON, pages show its message; an action that
needs a job calls `require_jobs()` before it writes anything.
"""

from __future__ import annotations

import contextvars
import importlib
import logging
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    has_app_context,
    jsonify,
    render_template,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from redis.exceptions import RedisError
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.errors import DomainError

log = logging.getLogger(__name__)

bp = Blueprint("jobs", __name__)

_worker_app: Flask | None = None
_local_jobs: dict[str, dict[str, Any]] = {}
_current_local_job: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "current_local_job", default=None
)
_held_jobs: contextvars.ContextVar[list[tuple[str, str, tuple, dict]] | None] = (
    contextvars.ContextVar("held_jobs", default=None)
)


class JobsUnavailable(DomainError):
    """Redis (and so every worker) cannot be reached: nothing can be queued or looked up."""

    code = "unavailable"
    status = 503

    def __init__(self):
        super().__init__(str(_l("Background jobs are not available right now; try again later.")))


@dataclass
class JobStatus:
    id: str
    status: str  # queued, started, finished, failed (RQ's names)
    progress: int = 0
    result: Any = None
    error: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "progress": self.progress,
            "error": self.error,
        }


def redis_connection():
    """The app's one Redis client (it pools its connections)."""
    from redis import Redis

    client = current_app.extensions.get("portal_redis")
    if client is None:
        # A Redis host that does not answer costs a page seconds, not minutes; reads stay
        # unbounded since a worker blocks on its queues.
        client = Redis.from_url(current_app.config["REDIS_URL"], socket_connect_timeout=3)
        current_app.extensions["portal_redis"] = client
    return client


def uses_redis() -> bool:
    return bool(current_app.config.get("REDIS_URL"))


def _unavailable(exc: RedisError, doing: str) -> JobsUnavailable:
    log.warning("background jobs unavailable while %s: %s: %s", doing, type(exc).__name__, exc)
    return JobsUnavailable()


def require_jobs() -> None:
    """Raise `JobsUnavailable` unless a job could be queued now (always true without Redis)."""
    if not uses_redis():
        return
    try:
        redis_connection().ping()
    except RedisError as exc:
        raise _unavailable(exc, "checking Redis") from exc


def _resolve(path: str):
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def execute(path: str, *args, **kwargs):
    """Run the job function `path` in a fresh app context; what RQ workers call."""
    app = _worker_app or (current_app._get_current_object() if has_app_context() else None)
    if app is None:
        from portal import create_app

        app = create_app()
    from portal.extensions import db

    with app.app_context():
        try:
            return _resolve(path)(*args, **kwargs)
        finally:
            db.session.remove()


def new_job_id() -> str:
    return uuid.uuid4().hex


def enqueue(
    path: str,
    *args,
    owner_id: int | None = None,
    queue: str = "default",
    job_id: str | None = None,
    **kwargs,
) -> str:
    """Start the job `path` with `args`; answers its id (`job_id` when given). `owner_id` may
    read its status."""
    job_id = job_id or new_job_id()
    meta = {"owner_id": owner_id, "progress": 0}
    if uses_redis():
        from rq import Queue, Retry

        q = Queue(queue, connection=redis_connection())
        try:
            job = q.enqueue(
                execute,
                path,
                *args,
                **kwargs,
                job_id=job_id,
                meta=meta,
                retry=Retry(max=2, interval=[5, 30]),
                job_timeout=3600,
                result_ttl=86400,
                failure_ttl=7 * 86400,
            )
        except RedisError as exc:
            raise _unavailable(exc, f"queueing {path}") from exc
        return job.id
    _local_jobs[job_id] = {"status": "queued", "meta": meta, "result": None, "error": None}
    held = _held_jobs.get()
    if held is not None:
        held.append((job_id, path, args, kwargs))
        return job_id
    _run_local(job_id, path, args, kwargs)
    return job_id


def _run_local(job_id: str, path: str, args: tuple, kwargs: dict) -> None:
    _local_jobs[job_id]["status"] = "started"
    token = _current_local_job.set(job_id)
    try:
        # A nested app context keeps the caller's session untouched, like a separate worker.
        with current_app.app_context():
            result = _resolve(path)(*args, **kwargs)
        _local_jobs[job_id].update(status="finished", result=result)
        _local_jobs[job_id]["meta"]["progress"] = 100
    except Exception:
        log.exception("job %s (%s) failed", job_id, path)
        _local_jobs[job_id].update(status="failed", error=traceback.format_exc(limit=5))
    finally:
        _current_local_job.reset(token)


@contextmanager
def held_jobs() -> Iterator[None]:
    """While active, in-process jobs (no Redis) wait instead of running before `enqueue`
    returns; `run_held_jobs()` runs them, as a worker would a moment later. The demo uses it
    to run a job at a later moment of its story than the request that queued it."""
    token = _held_jobs.set([])
    try:
        yield
    finally:
        _held_jobs.reset(token)


def run_held_jobs() -> int:
    """Run the jobs held so far, in the order they were queued; answers how many ran."""
    held = _held_jobs.get() or []
    count = 0
    while held:
        _run_local(*held.pop(0))
        count += 1
    return count


_PENDING = "portal_jobs_after_commit"


def enqueue_after_commit(path: str, *args, owner_id: int | None = None, **kwargs) -> str:
    """Start the job `path` once the current transaction commits (dropped if it rolls back);
    answers the id the job will have, to be stored with the work that asked for it."""
    from portal.extensions import db

    job_id = new_job_id()
    pending = db.session().info.setdefault(_PENDING, [])
    pending.append((path, args, {**kwargs, "owner_id": owner_id, "job_id": job_id}))
    return job_id


@event.listens_for(Session, "after_commit")
def _start_pending_jobs(session: Session) -> None:
    if session.get_nested_transaction() is not None:  # a savepoint: the work is not committed
        return
    pending = session.info.pop(_PENDING, [])
    for path, args, kwargs in pending:
        enqueue(path, *args, **kwargs)


@event.listens_for(Session, "after_rollback")
def _drop_pending_jobs(session: Session) -> None:
    if session.get_nested_transaction() is None:
        session.info.pop(_PENDING, None)


def set_progress(percent: int, **extra) -> None:
    """Record the running job's progress (0-100) where the web side can read it."""
    percent = max(0, min(100, int(percent)))
    local_id = _current_local_job.get()
    if local_id is not None:
        _local_jobs[local_id]["meta"].update(progress=percent, **extra)
        return
    from rq import get_current_job

    job = get_current_job()
    if job is not None:
        job.meta.update(progress=percent, **extra)
        job.save_meta()


def job_status(job_id: str) -> JobStatus | None:
    """The job's status, or None when there is no such job; `JobsUnavailable` when the
    configured Redis does not answer."""
    if uses_redis():
        try:
            return _rq_job_status(job_id)
        except RedisError as exc:
            raise _unavailable(exc, "reading a job") from exc
    record = _local_jobs.get(job_id)
    if record is None:
        return None
    meta = record["meta"]
    return JobStatus(
        job_id,
        record["status"],
        int(meta.get("progress", 0)),
        record["result"],
        record["error"],
        meta,
    )


def _rq_job_status(job_id: str) -> JobStatus | None:
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    try:
        job = Job.fetch(job_id, connection=redis_connection())
    except NoSuchJobError:
        return None
    status = job.get_status(refresh=True)
    status_name = getattr(status, "value", str(status)) if status else "queued"
    meta = job.get_meta(refresh=True)
    progress = 100 if status_name == "finished" else int(meta.get("progress", 0))
    error = None
    if status_name == "failed":
        result = job.latest_result()
        error = getattr(result, "exc_string", None) or "failed"
    return JobStatus(job_id, status_name, progress, job.return_value(), error, meta)


def run_worker(app: Flask, queues: list[str], burst: bool = False) -> None:
    """The body of `flask --app wsgi worker`: an RQ worker with the scheduler."""
    global _worker_app
    from rq import Queue, Worker

    _worker_app = app
    connection = redis_connection()
    worker = Worker([Queue(name, connection=connection) for name in queues], connection=connection)
    worker.work(burst=burst, with_scheduler=True)


@bp.route("/jobs/<job_id>")
@login_required
def status(job_id: str):
    """A job's status for the progress bars; only its owner (or an admin) may read it."""
    from portal.auth.models import Role

    found = job_status(job_id)
    if found is None:
        abort(404)
    owner = found.meta.get("owner_id")
    if owner != current_user.id and not current_user.has_role(Role.ADMIN):
        abort(404)
    return jsonify(found.as_dict())


def init_app(app: Flask) -> None:
    """`JobsUnavailable` that no view turned into a message: 503, as JSON or as a page."""
    from portal.auth.permissions import wants_json

    @app.errorhandler(JobsUnavailable)
    def _jobs_unavailable(exc: JobsUnavailable):
        from portal.extensions import db

        db.session.rollback()
        if wants_json():
            body = {"error": {"code": exc.code, "message": exc.message, "fields": {}}}
            return jsonify(body), exc.status
        return render_template("error.html", status=exc.status, message=exc.message), exc.status
