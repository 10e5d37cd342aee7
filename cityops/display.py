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
from django.utils.translation import get_language_info

# The language picker names each language in itself (an endonym is never translated).
LANGUAGE_NAMES = {"zh-hans": "中文", "en": "English"}
# Digits only, the same in every language: strftime, not Django's date_format, which looks the
# format up through the active locale on each call (a tenth of a millisecond; the SLA sweep
# formats one due time per level fired).
DATETIME_FORMAT = "%Y-%m-%d %H:%M"
DATE_FORMAT = "%Y-%m-%d"
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
        return timezone.localtime(moment).strftime(DATETIME_FORMAT)
    if isinstance(value, dt.date):
        return value.strftime(DATE_FORMAT)
    return str(value)


def language_name(code: str) -> str:
    """A language as its speakers call it: 中文, English (else Django's local name)."""
    if code in LANGUAGE_NAMES:
        return LANGUAGE_NAMES[code]
    try:
        return get_language_info(code)["name_local"]
    except KeyError:
        return code
