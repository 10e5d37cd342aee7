"""State changes of the organisation: calendars seeded, edited and confirmed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import chinese_calendar
import holidays as holidays_lib
from django.db import transaction
from django.utils import timezone

from .models import CalendarDay, CalendarYear, DayKind, Unit, WorkCalendar, WorkingPeriod
from .reference import reference_changed
from .signals import calendar_changed

STANDARD_PERIODS = ((dt.time(8, 30), dt.time(12, 0)), (dt.time(13, 30), dt.time(17, 30)))
SOURCE_CHINESE_CALENDAR = "chinese-calendar"
SOURCE_PROJECTED = "holidays (projected)"


def chinese_calendar_years() -> range:
    """Years for which the chinese-calendar package has the State Council's schedule."""
    years = [d.year for d in chinese_calendar.holidays]
    return range(min(years), max(years) + 1)


@dataclass(frozen=True)
class SeededYear:
    year: int
    provisional: bool
    holidays: int
    makeup_days: int


def calendar_create(*, unit: Unit, name: str, periods=STANDARD_PERIODS) -> WorkCalendar:
    """A calendar for a city or district with the same working hours Monday to Friday."""
    with transaction.atomic():
        calendar, _ = WorkCalendar.objects.get_or_create(unit=unit, defaults={"name": name})
        if not calendar.periods.exists():
            WorkingPeriod.objects.bulk_create(
                WorkingPeriod(calendar=calendar, weekday=wd, start=s, end=e)
                for wd in range(5)
                for s, e in periods
            )
            reference_changed()  # bulk_create sends no save signals
    return calendar


# The `holidays` package's English names, as chinese-calendar (and HOLIDAY_NAMES) spell them.
_PROJECTED_NAMES = {
    "Chinese New Year (Spring Festival)": "Spring Festival",
    "Chinese New Year's Eve": "Spring Festival Eve",
    "Labor Day": "Labour Day",
    "Tomb-Sweeping Day": "Tomb-sweeping Day",
    "Mid-Autumn Festival": "Mid-autumn Festival",
}


def _projected_name(name: str) -> str:
    """One name per holiday: a day in lieu ("(observed)") is named after its holiday."""
    name = name.removesuffix(" (observed)")
    return _PROJECTED_NAMES.get(name, name)


def _days_for_year(year: int) -> tuple[dict[dt.date, str], dict[dt.date, str], bool]:
    if year in chinese_calendar_years():
        off = {d: str(n) for d, n in chinese_calendar.holidays.items() if d.year == year}
        on = {d: str(n) for d, n in chinese_calendar.workdays.items() if d.year == year}
        return off, on, False
    projected = holidays_lib.China(years=year, language="en_US")
    return {d: _projected_name(str(n)) for d, n in projected.items()}, {}, True


def calendar_seed_year(*, calendar: WorkCalendar, year: int) -> SeededYear:
    """Load a year's holidays and make-up days; years past chinese-calendar are provisional.

    A year an admin has confirmed is left as it is.
    """
    with transaction.atomic():
        record = CalendarYear.objects.select_for_update().filter(calendar=calendar, year=year)
        existing = record.first()
        if existing and not existing.provisional:
            days = calendar.days.filter(date__year=year)
            return SeededYear(
                year,
                False,
                days.filter(kind=DayKind.HOLIDAY).count(),
                days.filter(kind=DayKind.WORKDAY).count(),
            )
        off, on, provisional = _days_for_year(year)
        calendar.days.filter(date__year=year).delete()
        CalendarDay.objects.bulk_create(
            [
                CalendarDay(calendar=calendar, date=d, kind=DayKind.HOLIDAY, name=n)
                for d, n in sorted(off.items())
            ]
            + [
                CalendarDay(calendar=calendar, date=d, kind=DayKind.WORKDAY, name=n)
                for d, n in sorted(on.items())
            ]
        )
        CalendarYear.objects.update_or_create(
            calendar=calendar,
            year=year,
            defaults={
                "provisional": provisional,
                "source": SOURCE_PROJECTED if provisional else SOURCE_CHINESE_CALENDAR,
            },
        )
        calendar_touch(calendar=calendar)
    return SeededYear(year, provisional, len(off), len(on))


def calendar_seed(*, calendar: WorkCalendar, years: Iterable[int]) -> list[SeededYear]:
    return [calendar_seed_year(calendar=calendar, year=y) for y in years]


def calendar_year_confirm(*, year: CalendarYear, actor) -> CalendarYear:
    """An admin confirms a year's days match the published schedule; the warning stops."""
    year.provisional = False
    year.confirmed_by = actor
    year.confirmed_at = timezone.now()
    year.save(update_fields=["provisional", "confirmed_by", "confirmed_at"])
    calendar_touch(calendar=year.calendar)
    return year


def calendar_touch(*, calendar: WorkCalendar) -> None:
    """Mark a calendar changed so cached copies (and open due times) are recomputed."""
    calendar.save(update_fields=["updated_at"])
    calendar_changed.send(sender=WorkCalendar, calendar=calendar)
