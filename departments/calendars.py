"""Working-time arithmetic on a Chinese working calendar (工作日历: 法定节假日 and 调休).

Pure functions, no database. A :class:`WorkingCalendar` gives the working periods of every
day; the functions below add a time limit (时限) to a start instant and measure the working
time between two instants. Day boundaries and clock times are read in the calendar's time
zone whatever the zone of the input; every returned datetime is aware and in ``cal.tz``.

Rules
-----
* Working time is the union of half-open periods ``[start, end)``: a period's end is not a
  working instant, so the next working instant after 12:00 is 13:30.
* Natural units (``natural_minutes``, ``natural_hours``) ignore the calendar: elapsed time.
* Working minutes/hours are consumed across working periods from ``start``; outside working
  hours the clock starts at the next working instant. An amount used up exactly at a
  period's end yields that end (17:30, not 08:30 the next morning).
* Working days: let ``s'`` be the first working instant at or after ``start``.

  - If ``start`` was inside working hours (``s' == start``), or ``s'`` is not the opening of
    its day (``start`` was in a break such as lunch, so ``s'`` is 13:30), the deadline is the
    clock time of ``s'`` on the N-th working day after ``s'``'s date. If that clock time is
    not inside or at the end of a period on that day (a make-up day with other hours), it is
    clamped to the end of that day's last period.
  - Otherwise ``start`` was before the day opened (early morning, after the previous close,
    a weekend or a holiday): the deadline is the close of the N-th working day, counting
    ``s'``'s date as day 1. So a report on Saturday + 1 working day is due Monday 17:30.

* An amount of 0 returns ``start`` unchanged (in ``cal.tz``); a negative amount or a naive
  datetime is a ``ValueError``.
* A calendar without any working day within ``MAX_SEARCH_DAYS`` of the start raises
  ``ValueError`` instead of searching forever.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
MAX_SEARCH_DAYS = 3700
ONE_DAY = timedelta(days=1)

Period = tuple[time, time]
DayPeriods = tuple[Period, ...]

STANDARD_DAY: DayPeriods = ((time(8, 30), time(12, 0)), (time(13, 30), time(17, 30)))


class LimitUnit(StrEnum):
    NATURAL_MINUTES = "natural_minutes"
    NATURAL_HOURS = "natural_hours"
    WORKING_MINUTES = "working_minutes"
    WORKING_HOURS = "working_hours"
    WORKING_DAYS = "working_days"


def _validate_periods(periods: DayPeriods, label: str) -> None:
    """Periods must be naive times, each start < end, sorted and not overlapping."""
    previous_end: time | None = None
    for start, end in periods:
        if start.tzinfo is not None or end.tzinfo is not None:
            raise ValueError(f"{label}: period times must be naive clock times")
        if not start < end:
            raise ValueError(f"{label}: period {start}-{end} does not start before it ends")
        if previous_end is not None and start < previous_end:
            raise ValueError(f"{label}: periods are unsorted or overlap at {start}")
        previous_end = end


@dataclass(frozen=True, kw_only=True)
class WorkingCalendar:
    """Working periods per weekday, with public holidays off and make-up days (调休) on."""

    tz: ZoneInfo = SHANGHAI
    weekly: tuple[DayPeriods, ...]
    holidays: frozenset[date] = frozenset()
    makeup_days: frozenset[date] = frozenset()
    makeup_periods: DayPeriods | None = None

    def __post_init__(self) -> None:
        weekly = tuple(tuple(day) for day in self.weekly)
        if len(weekly) != 7:
            raise ValueError(f"weekly needs 7 entries (Monday first), got {len(weekly)}")
        for weekday, periods in enumerate(weekly):
            _validate_periods(periods, f"weekday {weekday}")
        makeup_periods = self.makeup_periods
        if makeup_periods is None:
            makeup_periods = next((periods for periods in weekly if periods), ())
        makeup_periods = tuple(makeup_periods)
        _validate_periods(makeup_periods, "makeup_periods")
        holidays, makeup_days = frozenset(self.holidays), frozenset(self.makeup_days)
        if both := holidays & makeup_days:
            raise ValueError(f"days both holiday and make-up day: {sorted(both)}")
        object.__setattr__(self, "weekly", weekly)
        object.__setattr__(self, "makeup_periods", makeup_periods)
        object.__setattr__(self, "holidays", holidays)
        object.__setattr__(self, "makeup_days", makeup_days)

    @classmethod
    def standard(
        cls,
        holidays: Iterable[date] = (),
        makeup_days: Iterable[date] = (),
        tz: ZoneInfo = SHANGHAI,
    ) -> WorkingCalendar:
        """Monday to Friday 08:30–12:00 and 13:30–17:30; make-up days keep those hours."""
        return cls(
            tz=tz,
            weekly=(STANDARD_DAY,) * 5 + ((),) * 2,
            holidays=frozenset(holidays),
            makeup_days=frozenset(makeup_days),
        )

    def periods_on(self, d: date) -> DayPeriods:
        """The working periods of day ``d``; empty on a day off."""
        if d in self.holidays:
            return ()
        if d in self.makeup_days:
            return self.makeup_periods or ()
        return self.weekly[d.weekday()]

    def is_working_day(self, d: date) -> bool:
        """A day is a working day when it has at least one working period."""
        return bool(self.periods_on(d))


# --- instants -------------------------------------------------------------------------------


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")


def _local_date(cal: WorkingCalendar, t: datetime) -> date:
    return t.astimezone(cal.tz).date()


def _instant(cal: WorkingCalendar, d: date, clock: time) -> datetime:
    """The UTC instant of wall-clock ``clock`` on day ``d`` in the calendar's zone."""
    return datetime.combine(d, clock, tzinfo=cal.tz).astimezone(UTC)


def _day_instants(cal: WorkingCalendar, d: date) -> Iterator[tuple[datetime, datetime]]:
    """The periods of day ``d`` as UTC instants, kept ordered even across a DST change."""
    previous_end: datetime | None = None
    for start, end in cal.periods_on(d):
        begin, finish = _instant(cal, d, start), _instant(cal, d, end)
        if previous_end is not None:
            begin = max(begin, previous_end)
        if begin < finish:
            yield begin, finish
            previous_end = finish


def _instants_from(cal: WorkingCalendar, d: date) -> Iterator[tuple[datetime, datetime]]:
    """Working periods as UTC instants from day ``d`` on; ValueError after a long idle run."""
    idle_days = 0
    while idle_days <= MAX_SEARCH_DAYS:
        found = False
        for period in _day_instants(cal, d):
            found = True
            yield period
        idle_days = 0 if found else idle_days + 1
        d += ONE_DAY
    raise ValueError(f"no working time within {MAX_SEARCH_DAYS} days: check the calendar")


def _working_day_after(cal: WorkingCalendar, d: date, n: int) -> date:
    """The n-th working day after ``d`` (``d`` itself for n == 0)."""
    idle_days = 0
    while n > 0:
        d += ONE_DAY
        if cal.is_working_day(d):
            n, idle_days = n - 1, 0
        else:
            idle_days += 1
            if idle_days > MAX_SEARCH_DAYS:
                raise ValueError(f"no working day within {MAX_SEARCH_DAYS} days")
    return d


# --- public functions -----------------------------------------------------------------------


def next_working_instant(cal: WorkingCalendar, t: datetime) -> datetime:
    """The first working instant at or after ``t`` (``t`` itself inside working hours)."""
    _require_aware(t, "t")
    t = t.astimezone(UTC)  # aware arithmetic within one zone is wall-clock: work in UTC
    for start, end in _instants_from(cal, _local_date(cal, t)):
        if t < end:
            return max(start, t).astimezone(cal.tz)
    raise AssertionError("unreachable: _instants_from ends by raising")  # pragma: no cover


def working_time_between(cal: WorkingCalendar, a: datetime, b: datetime) -> timedelta:
    """The working time inside ``[a, b)``; zero when ``b <= a``."""
    _require_aware(a, "a")
    _require_aware(b, "b")
    a, b = a.astimezone(UTC), b.astimezone(UTC)  # differences in one DST zone are wall-clock
    total = timedelta()
    if b <= a:
        return total
    d, last = _local_date(cal, a), _local_date(cal, b)
    while d <= last:
        for start, end in _day_instants(cal, d):
            overlap = min(end, b) - max(start, a)
            if overlap > timedelta():
                total += overlap
        d += ONE_DAY
    return total


def add_working_time(cal: WorkingCalendar, start: datetime, amount: int, unit: str) -> datetime:
    """The deadline ``amount`` ``unit``s after ``start`` (rules in the module docstring)."""
    _require_aware(start, "start")
    start = start.astimezone(UTC)  # `start + timedelta` in a DST zone is wall-clock arithmetic
    unit = LimitUnit(unit)
    if amount < 0:
        raise ValueError(f"amount must not be negative, got {amount}")
    if amount == 0:
        return start.astimezone(cal.tz)
    if unit is LimitUnit.NATURAL_MINUTES:
        return _add_natural(cal, start, timedelta(minutes=amount))
    if unit is LimitUnit.NATURAL_HOURS:
        return _add_natural(cal, start, timedelta(hours=amount))
    if unit is LimitUnit.WORKING_MINUTES:
        return _add_working(cal, start, timedelta(minutes=amount))
    if unit is LimitUnit.WORKING_HOURS:
        return _add_working(cal, start, timedelta(hours=amount))
    return _add_working_days(cal, start, amount)


def _add_natural(cal: WorkingCalendar, start: datetime, amount: timedelta) -> datetime:
    """Elapsed time: computed in UTC so that a DST change does not shift the result."""
    return (start.astimezone(UTC) + amount).astimezone(cal.tz)


def _add_working(cal: WorkingCalendar, start: datetime, amount: timedelta) -> datetime:
    """Consume ``amount`` period by period; ending exactly at a period end returns that end."""
    remaining = amount
    for period_start, period_end in _instants_from(cal, _local_date(cal, start)):
        if period_end <= start:
            continue
        begin = max(period_start, start)
        available = period_end - begin
        if remaining <= available:
            return (begin + remaining).astimezone(cal.tz)
        remaining -= available
    raise AssertionError("unreachable: _instants_from ends by raising")  # pragma: no cover


def _add_working_days(cal: WorkingCalendar, start: datetime, days: int) -> datetime:
    """Same clock time N working days on, or the close of day N when work had not begun."""
    first = next_working_instant(cal, start)
    first_day, clock = first.date(), first.time()
    opening = cal.periods_on(first_day)[0][0]
    if first == start or clock != opening:
        return _clock_on(cal, _working_day_after(cal, first_day, days), clock)
    return _close_of(cal, _working_day_after(cal, first_day, days - 1))


def _clock_on(cal: WorkingCalendar, d: date, clock: time) -> datetime:
    """``clock`` on working day ``d`` if inside or at the end of a period, else ``d``'s close."""
    if any(start <= clock <= end for start, end in cal.periods_on(d)):
        return _instant(cal, d, clock).astimezone(cal.tz)
    return _close_of(cal, d)


def _close_of(cal: WorkingCalendar, d: date) -> datetime:
    """The end of the last working period of working day ``d``."""
    return _instant(cal, d, cal.periods_on(d)[-1][1]).astimezone(cal.tz)
