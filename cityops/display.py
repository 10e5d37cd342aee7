"""Times as people read them: in the city's time zone (settings.TIME_ZONE, or the zone a
request activated), in one readable format, e.g. "2026-12-02 06:34".

Event payloads keep ISO 8601 strings in UTC (`2026-12-01T22:34:31.787583+00:00`), fit for
machines; pages, notifications and messages show them through `when` (also the template
filter `{{ value|when }}` of workflows.templatetags.display).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format

DATETIME_FORMAT = "Y-m-d H:i"
DATE_FORMAT = "Y-m-d"
EMPTY = "—"


def as_datetime(value: Any) -> dt.datetime | None:
    """A datetime, or an ISO 8601 string of one with its offset; None for anything else."""
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and "T" in value and len(value) >= 16:
        try:
            parsed = parse_datetime(value)
        except ValueError:
            return None
        if parsed is not None and timezone.is_aware(parsed):
            return parsed
    return None


def when(value: Any) -> str:
    """A moment as local, readable time; a date as a date; blank as "—"; anything else as text."""
    if value is None or value == "":
        return EMPTY
    moment = as_datetime(value)
    if moment is not None:
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return date_format(timezone.localtime(moment), DATETIME_FORMAT)
    if isinstance(value, dt.date):
        return date_format(value, DATE_FORMAT)
    return str(value)
