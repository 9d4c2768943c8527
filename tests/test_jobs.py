"""Background jobs: in-process without Redis, RQ with a burst worker on real Redis."""

from __future__ import annotations

import pytest

from portal import create_app, jobs
from tests.conftest import IsolatedClient, login, redis_url, test_config


def test_without_redis_a_job_runs_in_process_before_enqueue_returns(app, world):
    with app.test_request_context():
        job_id = jobs.enqueue("tests.job_samples:count_stations", "East", owner_id=1)
        status = jobs.job_status(job_id)
    assert status.status == "finished"
    assert status.result == 1  # ST-A is in the East, ST-B in the North
    assert status.progress == 100


def test_a_failing_in_process_job_is_recorded_as_failed_with_its_error(app, world):
    with app.test_request_context():
        job_id = jobs.enqueue("tests.job_samples:fail_halfway")
        status = jobs.job_status(job_id)
    assert status.status == "failed"
    assert "the job broke on purpose" in status.error
    assert status.progress == 40


def test_held_in_process_jobs_wait_queued_until_they_are_run(app, world):
    with app.test_request_context(), jobs.held_jobs():
        job_id = jobs.enqueue("tests.job_samples:count_stations", "East", owner_id=1)
        assert jobs.job_status(job_id).status == "queued"
        assert jobs.run_held_jobs() == 1
        status = jobs.job_status(job_id)
        assert jobs.run_held_jobs() == 0  # each held job runs once
    assert (status.status, status.result, status.progress) == ("finished", 1, 100)


def test_only_the_owner_reads_a_jobs_progress(app, client, world, login_as):
    owner = world.users["finance"]
    with app.test_request_context():
        job_id = jobs.enqueue("tests.job_samples:count_stations", "East", owner_id=owner.id)
    login_as("finance")
    body = client.get(f"/jobs/{job_id}").get_json()
    assert body == {"id": job_id, "status": "finished", "progress": 100, "error": None}
    client.post("/logout")
    login_as("auditor")
    assert client.get(f"/jobs/{job_id}").status_code == 404
    assert client.get("/jobs/no-such-job").status_code == 404


@pytest.fixture
def redis_app(database_url):
    url = redis_url()
    if url is None:
        pytest.skip("Redis is not reachable here; CI always has it")
    from redis import Redis

    with Redis.from_url(url) as client:
        client.flushdb()
    app = create_app(test_config(database_url, REDIS_URL=url))
    app.test_client_class = IsolatedClient
    yield app
    if "portal_redis" in app.extensions:
        app.extensions["portal_redis"].close()


def _run_burst_worker(app):
    from rq import Queue, SimpleWorker

    with app.app_context():
        connection = jobs.redis_connection()
        worker = SimpleWorker([Queue("default", connection=connection)], connection=connection)
        worker.work(burst=True)


@pytest.mark.redis
def test_with_redis_a_job_waits_for_a_worker_and_reports_its_result(redis_app, world):
    with redis_app.test_request_context():
        job_id = jobs.enqueue("tests.job_samples:count_stations", "North", owner_id=7)
        assert jobs.job_status(job_id).status == "queued"
        assert jobs.job_status(job_id).progress == 0
    _run_burst_worker(redis_app)
    with redis_app.app_context():
        status = jobs.job_status(job_id)
    assert status.status == "finished"
    assert status.result == 1
    assert status.progress == 100
    assert status.meta["step"] == "counting"
    assert status.meta["owner_id"] == 7


@pytest.mark.redis
def test_with_redis_a_failing_job_is_retried_not_swallowed(redis_app, world):
    with redis_app.test_request_context():
        job_id = jobs.enqueue("tests.job_samples:fail_halfway")
    _run_burst_worker(redis_app)
    with redis_app.app_context():
        status = jobs.job_status(job_id)
    # RQ's Retry puts it back on the schedule; the progress it reached stays readable.
    assert status.status == "scheduled"
    assert status.progress == 40


@pytest.mark.redis
def test_with_redis_the_progress_endpoint_reads_the_queue(redis_app, world):
    client = redis_app.test_client()
    assert login(client, "finance").status_code == 302
    with redis_app.test_request_context():
        job_id = jobs.enqueue(
            "tests.job_samples:count_stations", "East", owner_id=world.users["finance"].id
        )
    assert client.get(f"/jobs/{job_id}").get_json()["status"] == "queued"
    _run_burst_worker(redis_app)
    assert client.get(f"/jobs/{job_id}").get_json()["progress"] == 100


def test_the_worker_command_needs_redis(app):
    result = app.test_cli_runner().invoke(args=["worker", "--burst"])
    assert result.exit_code == 2
    assert "REDIS_URL is not set" in result.output


@pytest.mark.redis
def test_the_worker_command_runs_queued_jobs(redis_app, world):
    with redis_app.test_request_context():
        job_id = jobs.enqueue("tests.job_samples:count_stations", "East")
    try:
        with redis_app.app_context():  # the CLI uses the app context it finds
            result = redis_app.test_cli_runner().invoke(args=["worker", "--burst"])
    finally:
        jobs._worker_app = None
    assert result.exit_code == 0, result.output
    with redis_app.app_context():
        assert jobs.job_status(job_id).status == "finished"
