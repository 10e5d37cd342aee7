"""Celery app: worker and beat in production (without a broker the demo runs periodic work
in-process, see cityops.periodic)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cityops.settings")

app = Celery("cityops")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="cityops.run_periodic", ignore_result=True)
def run_periodic(name: str) -> None:
    from .periodic import run_job

    run_job(name)


@app.on_after_finalize.connect
def _schedule_periodic(sender, **kwargs) -> None:
    from .periodic import registered_jobs

    for job in registered_jobs():
        sender.add_periodic_task(job.seconds, run_periodic.s(job.name), name=job.name)
