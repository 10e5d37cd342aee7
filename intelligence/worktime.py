"""Working time for many instants at once: a calendar's working periods over a span of days
laid out as arrays, so that "working minutes from a fixed origin to t" is one binary search.

Pure numpy, no database. The durations it gives equal `departments.calendars.
working_time_between` (tested against it); the breach model measures thousands of past and
open tasks per sweep, where the day-by-day walk of that function would dominate.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from departments.calendars import WorkingCalendar


class WorkingClock:
    """Working minutes elapsed since the start of `first` (calendar days, in the calendar's
    zone) at any instant up to the end of `last`; instants outside are clamped."""

    def __init__(self, calendar: WorkingCalendar, first: dt.date, last: dt.date) -> None:
        starts, ends = [], []
        day = first
        while day <= last:
            for start, end in calendar.periods_on(day):
                starts.append(dt.datetime.combine(day, start, tzinfo=calendar.tz).timestamp())
                ends.append(dt.datetime.combine(day, end, tzinfo=calendar.tz).timestamp())
            day += dt.timedelta(days=1)
        self.starts = np.asarray(starts, dtype=float)
        self.ends = np.asarray(ends, dtype=float)
        lengths = self.ends - self.starts
        # Working seconds before each period starts.
        self.before = np.concatenate(([0.0], np.cumsum(lengths)[:-1])) if starts else np.zeros(0)
        self.lengths = lengths

    def minutes_at(self, seconds: np.ndarray) -> np.ndarray:
        """Working minutes from the origin to each instant (epoch seconds)."""
        seconds = np.asarray(seconds, dtype=float)
        if self.starts.size == 0:
            return np.zeros_like(seconds)
        i = np.searchsorted(self.starts, seconds, side="right") - 1
        inside = np.clip(seconds - self.starts[np.maximum(i, 0)], 0, self.lengths[np.maximum(i, 0)])
        return np.where(i < 0, 0.0, self.before[np.maximum(i, 0)] + inside) / 60.0

    def between(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Working minutes in [a, b) (zero when b <= a)."""
        return np.maximum(self.minutes_at(b) - self.minutes_at(a), 0.0)

    def instant_at(self, minutes: np.ndarray) -> np.ndarray:
        """The first instant (epoch seconds) at which `minutes` working minutes from the origin
        are used: the inverse of `minutes_at` (an amount used up at a period's end gives that
        end, as `add_working_time` does)."""
        seconds = np.asarray(minutes, dtype=float) * 60.0
        if self.starts.size == 0:
            return np.full_like(seconds, np.nan)
        i = np.searchsorted(self.before, seconds, side="left") - 1
        i = np.clip(i, 0, len(self.starts) - 1)
        return self.starts[i] + np.minimum(seconds - self.before[i], self.lengths[i])
