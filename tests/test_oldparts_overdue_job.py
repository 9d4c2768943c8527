"""The overdue check runs from the CLI (embedded default) and as a self-scheduling RQ job."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.factories import ClaimFactory, Fleet, old_parts


@pytest.fixture
def approved_part(world, db_session):
    (part,) = old_parts(ClaimFactory(fleet=Fleet.build(world), with_old_parts=True, units=1))
    return part


def test_the_cli_marks_overdue_as_of_a_given_day(app, approved_part):
    runner = app.test_cli_runner()
    late = (date.today() + timedelta(days=31)).isoformat()
    result = runner.invoke(args=["oldparts", "mark-overdue", "--today", date.today().isoformat()])
    assert "0 old part(s)" in result.output
    result = runner.invoke(args=["oldparts", "mark-overdue", "--today", late])
    assert result.exit_code == 0, result.output
    assert f"1 old part(s) marked overdue as of {late}" in result.output
    assert approved_part.overdue_at is not None
    bad = runner.invoke(args=["oldparts", "mark-overdue", "--today", "soon"])
    assert bad.exit_code == 2


@pytest.mark.redis
def test_the_job_schedules_the_next_day_once_whatever_the_number_of_workers(database_url):
    from redis import Redis
    from rq import Queue
    from rq.registry import ScheduledJobRegistry

    from portal import create_app
    from portal.oldparts.tasks import schedule_next
    from tests.conftest import redis_url, test_config

    url = redis_url()
    if url is None:
        pytest.skip("Redis is not reachable here; CI always has it")
    app = create_app(test_config(database_url, REDIS_URL=url))
    with app.app_context(), Redis.from_url(url) as client:
        client.flushdb()
        day = date.today() + timedelta(days=1)
        first = schedule_next(day)
        second = schedule_next(day)  # a second worker starting
        registry = ScheduledJobRegistry(queue=Queue("default", connection=client))
        assert first == second == f"oldparts-overdue-{day.isoformat()}"
        assert registry.get_job_ids() == [first]
        app.extensions["portal_redis"].close()
