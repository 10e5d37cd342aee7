"""Periodic work (SLA sweeps, outbox delivery): one registry, two runners.

With a broker, Celery beat sends `cityops.run_periodic(name)` on each job's interval. Without
one (the local demo), `InProcessLoop` runs the same jobs in a daemon thread of the web process.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import close_old_connections
from django.dispatch import Signal
from django.utils import timezone
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

# Sent after every run of a job, by both runners: name, started_at, finished_at, error ("" when
# it succeeded). The operations app records it (the last sweep's age is part of /healthz).
job_finished = Signal()


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    func: str  # dotted path of a callable taking no arguments
    seconds: float


def registered_jobs() -> list[PeriodicJob]:
    """The periodic jobs, with intervals from settings."""
    return [PeriodicJob(**job) for job in getattr(settings, "CITYOPS_PERIODIC_JOBS", [])]


def run_job(name: str) -> None:
    job = next(j for j in registered_jobs() if j.name == name)
    run_recorded(job)


def run_recorded(job: PeriodicJob) -> None:
    """Run the job, then send job_finished (also when it failed; the exception propagates)."""
    started_at = timezone.now()
    error = ""
    try:
        import_string(job.func)()
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        job_finished.send(
            sender=PeriodicJob,
            name=job.name,
            started_at=started_at,
            finished_at=timezone.now(),
            error=error,
        )


class InProcessLoop(threading.Thread):
    """Runs every registered job on its interval inside this process."""

    def __init__(self, jobs: list[PeriodicJob] | None = None, tick: float = 1.0) -> None:
        super().__init__(name="cityops-periodic", daemon=True)
        self.jobs = jobs if jobs is not None else registered_jobs()
        self.tick = tick
        self.stopped = threading.Event()

    def run(self) -> None:
        next_run = {job.name: 0.0 for job in self.jobs}
        while not self.stopped.is_set():
            now = time.monotonic()
            for job in self.jobs:
                if now >= next_run[job.name]:
                    next_run[job.name] = now + job.seconds
                    self._run_one(job)
            self.stopped.wait(self.tick)

    def _run_one(self, job: PeriodicJob) -> None:
        close_old_connections()
        try:
            run_recorded(job)
        except Exception:  # the loop must outlive one failed run; the next run retries
            logger.exception("periodic job %s failed", job.name)
        finally:
            close_old_connections()
