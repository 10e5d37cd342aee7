"""Recording the periodic jobs' runs (one upserted row per job) and reading them back."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import DatabaseError

from .models import PeriodicRun

logger = logging.getLogger(__name__)


def record_run(
    sender=None,
    *,
    name: str,
    started_at: datetime,
    finished_at: datetime,
    error: str = "",
    **kwargs,
) -> None:
    """Receiver of cityops.periodic.job_finished. A failure to record never fails the job."""
    defaults = {
        "started_at": started_at,
        "finished_at": finished_at,
        "ok": not error,
        "error": error[:2000],
    }
    if not error:
        defaults["last_ok_at"] = finished_at
    try:
        PeriodicRun.objects.update_or_create(name=name, defaults=defaults)
    except DatabaseError:
        logger.exception("could not record the run of periodic job %s", name)


def last_success(name: str) -> datetime | None:
    return PeriodicRun.objects.filter(name=name).values_list("last_ok_at", flat=True).first()
