"""Evaluation periods in the city's time zone: day, ISO week, month, quarter, year, custom."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

KINDS = ("day", "week", "month", "quarter", "year", "custom")


class PeriodError(ValueError):
    pass


@dataclass(frozen=True)
class Period:
    kind: str
    start: dt.date  # first day
    end: dt.date  # last day (inclusive)

    @property
    def key(self) -> str:
        s = self.start
        return {
            "day": s.isoformat(),
            "week": "{}-W{:02d}".format(*s.isocalendar()[:2]),
            "month": f"{s:%Y-%m}",
            "quarter": f"{s.year}-Q{(s.month - 1) // 3 + 1}",
            "year": str(s.year),
        }.get(self.kind, f"{self.start.isoformat()}..{self.end.isoformat()}")

    @property
    def end_instant(self) -> dt.datetime:
        """The instant the period ends (the next day's midnight, city time)."""
        tz = ZoneInfo(settings.TIME_ZONE)
        return dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), tz)

    @property
    def start_instant(self) -> dt.datetime:
        return dt.datetime.combine(self.start, dt.time(), ZoneInfo(settings.TIME_ZONE))

    def previous(self) -> Period:
        return (
            period_containing(self.kind, self.start - dt.timedelta(days=1))
            if (self.kind != "custom")
            else Period(
                "custom",
                self.start - (self.end - self.start) - dt.timedelta(days=1),
                self.start - dt.timedelta(days=1),
            )
        )


def today() -> dt.date:
    return timezone.localdate()


def period_containing(kind: str, day: dt.date) -> Period:
    if kind == "day":
        return Period(kind, day, day)
    if kind == "week":
        start = day - dt.timedelta(days=day.weekday())
        return Period(kind, start, start + dt.timedelta(days=6))
    if kind == "month":
        start = day.replace(day=1)
    elif kind == "quarter":
        start = day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    elif kind == "year":
        start = day.replace(month=1, day=1)
    else:
        raise PeriodError(_("Unknown period kind."))
    months = {"month": 1, "quarter": 3, "year": 12}[kind]
    y, m = divmod(start.month - 1 + months, 12)
    return Period(kind, start, dt.date(start.year + y, m + 1, 1) - dt.timedelta(days=1))


def period_parse(kind: str, value: str | None = None, start=None, end=None) -> Period:
    """A period from its kind and key ("2026-11", "2026-W45", "2026-Q4", "2026", "2026-11-03"),
    or a custom range; without a key, the current one. PeriodError on bad input."""
    kind = kind or "month"
    try:
        if kind == "custom":
            a, b = dt.date.fromisoformat(str(start)), dt.date.fromisoformat(str(end))
            if b < a or (b - a).days > 3660:
                raise PeriodError(_("The range must end after it starts (at most ten years)."))
            return Period("custom", a, b)
        if kind not in KINDS:
            raise PeriodError(_("Unknown period kind."))
        if not value:
            return period_containing(kind, today())
        if kind == "day":
            day = dt.date.fromisoformat(value)
        elif kind == "week":
            year, week = value.split("-W")
            day = dt.date.fromisocalendar(int(year), int(week), 1)
        elif kind == "month":
            day = dt.date.fromisoformat(value + "-01")
        elif kind == "quarter":
            year, q = value.split("-Q")
            if not 1 <= int(q) <= 4:
                raise ValueError(q)
            day = dt.date(int(year), int(q) * 3 - 2, 1)
        else:
            day = dt.date(int(value), 1, 1)
        return period_containing(kind, day)
    except (ValueError, TypeError) as exc:
        if isinstance(exc, PeriodError):
            raise
        raise PeriodError(_("Not a valid period: %(value)s") % {"value": value or start}) from exc


def periods_between(kind: str, first: dt.date, last: dt.date) -> list[Period]:
    """The consecutive periods of a kind covering [first, last]."""
    out, day = [], first
    while day <= last:
        p = period_containing(kind, day)
        out.append(p)
        day = p.end + dt.timedelta(days=1)
    return out
