"""Periodic work is registered once and runs the same way under Celery beat and in-process."""

import pytest

from cityops.periodic import InProcessLoop, registered_jobs, run_job


@pytest.mark.django_db
def test_jobs_are_registered_for_celery_beat():
    from cityops.celery import app

    app.loader.import_default_modules()
    app.finalize()
    schedule = app.conf.beat_schedule
    assert {"outbox-deliver", "sla-sweep"} <= {j.name for j in registered_jobs()}
    assert {"outbox-deliver", "sla-sweep"} <= set(schedule)
    assert schedule["sla-sweep"]["task"] == "cityops.run_periodic"


@pytest.mark.django_db
def test_a_job_runs_by_name():
    run_job("sla-sweep")
    run_job("outbox-deliver")


@pytest.mark.django_db(transaction=True)
def test_in_process_loop_runs_each_job_and_survives_a_failure(settings):
    settings.CITYOPS_PERIODIC_JOBS = [
        {"name": "boom", "func": "tests.test_periodic._boom", "seconds": 0.01},
        {"name": "count", "func": "tests.test_periodic._count", "seconds": 0.01},
    ]
    _CALLS.clear()
    loop = InProcessLoop(tick=0.01)
    loop.start()
    import time

    time.sleep(0.3)
    loop.stopped.set()
    loop.join(timeout=2)
    calls = list(_CALLS)
    assert calls.count("count") >= 2  # kept running after "boom" raised


_CALLS: list[str] = []


def _boom():
    raise RuntimeError("boom")


def _count():
    _CALLS.append("count")
