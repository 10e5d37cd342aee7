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
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


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
    import_string(job.func)()


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
            import_string(job.func)()
        except Exception:  # the loop must outlive one failed run; the next run retries
            logger.exception("periodic job %s failed", job.name)
        finally:
            close_old_connections()
