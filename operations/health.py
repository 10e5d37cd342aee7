"""The checks behind /healthz: the database answers, the broker answers (when one is
configured), and the SLA sweep ran recently (a stopped beat, worker or in-process loop shows
here first: deadlines would silently stop escalating)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection
from django.utils import timezone

from .runs import last_success

SWEEP_JOB = "sla-sweep"


@dataclass
class Check:
    ok: bool
    detail: dict = field(default_factory=dict)


def database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return Check(False, {"error": type(exc).__name__})
    return Check(True)


def broker() -> Check:
    url = settings.CELERY_BROKER_URL
    if not url:
        return Check(True, {"configured": False})
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=2, transport_options={"max_retries": 0}) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            conn.default_channel  # noqa: B018  (opens the channel: a real round trip)
    except Exception as exc:
        return Check(False, {"configured": True, "error": type(exc).__name__})
    return Check(True, {"configured": True})


def sweep_max_age() -> float:
    configured = getattr(settings, "CITYOPS_HEALTH_SWEEP_MAX_AGE_SECONDS", None)
    if configured:
        return float(configured)
    return max(3 * settings.CITYOPS_SWEEP_INTERVAL_SECONDS, 120.0)


def sweep() -> Check:
    limit = sweep_max_age()
    try:
        last = last_success(SWEEP_JOB)
    except Exception as exc:
        return Check(False, {"error": type(exc).__name__, "max_age_seconds": limit})
    if last is None:
        return Check(False, {"last_success": None, "max_age_seconds": limit})
    age = (timezone.now() - last).total_seconds()
    return Check(
        age <= limit,
        {"last_success": last.isoformat(), "age_seconds": round(age, 1), "max_age_seconds": limit},
    )


def health() -> tuple[bool, dict]:
    checks = {"database": database(), "broker": broker(), "sla_sweep": sweep()}
    ok = all(c.ok for c in checks.values())
    body = {
        "status": "ok" if ok else "fail",
        "checks": {name: {"ok": c.ok, **c.detail} for name, c in checks.items()},
    }
    return ok, body
