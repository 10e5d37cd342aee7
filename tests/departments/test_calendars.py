"""Working-time arithmetic: properties on random calendars, and hand cases on the 2026 calendar."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from departments.calendars import (
    LimitUnit,
    WorkingCalendar,
    add_working_time,
    next_working_instant,
    working_time_between,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")  # has DST: checks that clock times are read in cal.tz
LOS_ANGELES = ZoneInfo("America/Los_Angeles")  # its date is often a day behind Shanghai's
WORKING_DAY_MINUTES = 450  # 08:30–12:00 + 13:30–17:30

MID_AUTUMN_2026 = {date(2026, 9, 25), date(2026, 9, 26), date(2026, 9, 27)}
NATIONAL_DAY_2026 = {date(2026, 10, d) for d in range(1, 8)}
MAKEUP_2026 = {date(2026, 9, 20), date(2026, 10, 10)}  # Sunday and Saturday worked (调休)

# chinese_calendar's dicts hold statutory holidays and make-up working days only (not ordinary
# weekends); version 1.11 covers 2004–2026, so 2027 gets plain weekends in the property tests.
CN = WorkingCalendar.standard(
    holidays=chinese_calendar.holidays, makeup_days=chinese_calendar.workdays
)


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


def in_period(cal: WorkingCalendar, t: datetime, *, opening_counts: bool) -> bool:
    """True when ``t`` (read in cal.tz) lies in (start, end] of a period of a working day.

    With ``opening_counts`` the period's start is accepted too: [start, end].
    """
    local = t.astimezone(cal.tz)
    clock = local.time()
    return any(
        (s <= clock if opening_counts else s < clock) and clock <= e
        for s, e in cal.periods_on(local.date())
    )


# --- strategies -----------------------------------------------------------------------------

starts = st.datetimes(
    min_value=datetime(2025, 1, 1),
    max_value=datetime(2027, 12, 31, 23, 59),
    timezones=st.sampled_from([SHANGHAI, UTC, BERLIN, LOS_ANGELES]),
    allow_imaginary=False,
)
amounts = st.integers(min_value=0, max_value=20 * WORKING_DAY_MINUTES)


@st.composite
def day_periods(draw: st.DrawFn) -> tuple[tuple[time, time], ...]:
    marks = sorted(draw(st.lists(st.integers(0, 24 * 60 - 1), unique=True, max_size=6)))
    clocks = [time(m // 60, m % 60) for m in marks[: len(marks) // 2 * 2]]
    return tuple(zip(clocks[::2], clocks[1::2], strict=True))


@st.composite
def calendars(draw: st.DrawFn) -> WorkingCalendar:
    """Random week shapes, holidays and make-up days; at least one weekday works."""
    weekly = [draw(day_periods()) for _ in range(7)]
    if not any(weekly):
        weekly[draw(st.integers(0, 6))] = ((time(9), time(17)),)
    days = st.dates(date(2024, 12, 1), date(2028, 3, 1))
    holidays = draw(st.frozensets(days, max_size=40))
    return WorkingCalendar(
        tz=draw(st.sampled_from([SHANGHAI, UTC, BERLIN])),
        weekly=tuple(weekly),
        holidays=holidays,
        makeup_days=draw(st.frozensets(days, max_size=15)) - holidays,
    )


any_calendar = st.one_of(st.just(CN), calendars())


# --- the calendar itself --------------------------------------------------------------------


def test_chinese_calendar_2026_autumn_holidays_and_makeup_days():
    window = {date(2026, 9, 1) + timedelta(days=i) for i in range(61)}
    assert set(chinese_calendar.holidays) & window == MID_AUTUMN_2026 | NATIONAL_DAY_2026
    assert set(chinese_calendar.workdays) & window == MAKEUP_2026
    assert all(chinese_calendar.is_holiday(d) for d in MID_AUTUMN_2026 | NATIONAL_DAY_2026)
    assert all(chinese_calendar.is_workday(d) for d in MAKEUP_2026)
    assert [d.weekday() for d in sorted(MAKEUP_2026)] == [6, 5]  # Sunday, Saturday


def test_periods_on_holiday_makeup_weekend_and_weekday():
    assert CN.periods_on(date(2026, 10, 1)) == ()
    assert CN.periods_on(date(2026, 9, 19)) == ()  # ordinary Saturday
    assert CN.periods_on(date(2026, 9, 20)) == (
        (time(8, 30), time(12)),
        (time(13, 30), time(17, 30)),
    )
    assert CN.periods_on(date(2026, 9, 21)) == CN.periods_on(date(2026, 9, 20))
    assert not CN.is_working_day(date(2026, 9, 25))
    assert CN.is_working_day(date(2026, 10, 10))


def test_makeup_periods_default_to_first_working_weekday():
    late = ((time(10), time(16)),)
    cal = WorkingCalendar(
        weekly=((),) * 3 + (late,) * 2 + ((),) * 2, makeup_days={date(2026, 9, 19)}
    )
    assert cal.tz == SHANGHAI
    assert cal.periods_on(date(2026, 9, 19)) == late


@pytest.mark.parametrize(
    "weekly",
    [
        ((),) * 6,
        ((),) * 6 + (((time(12), time(9)),),),
        ((),) * 6 + (((time(9), time(9)),),),
        ((),) * 6 + (((time(13), time(14)), (time(9), time(10))),),
        ((),) * 6 + (((time(9), time(12)), (time(11), time(14))),),
    ],
    ids=["six-days", "end-before-start", "empty-period", "unsorted", "overlap"],
)
def test_invalid_week_is_rejected(weekly):
    with pytest.raises(ValueError):
        WorkingCalendar(weekly=weekly)


def test_day_both_holiday_and_makeup_is_rejected():
    with pytest.raises(ValueError):
        WorkingCalendar.standard(holidays={date(2026, 9, 20)}, makeup_days={date(2026, 9, 20)})


# --- properties -----------------------------------------------------------------------------


@settings(deadline=None)
@given(cal=any_calendar, start=starts, amount=amounts)
def test_working_minutes_added_are_the_working_minutes_between(cal, start, amount):
    end = add_working_time(cal, start, amount, "working_minutes")
    assert working_time_between(cal, start, end) == minutes(amount)
    assert end.tzinfo is cal.tz


@settings(deadline=None)
@given(cal=any_calendar, start=starts, a=amounts, b=amounts)
def test_add_is_strictly_monotonic_in_the_amount(cal, start, a, b):
    assume(a != b)
    low, high = sorted((a, b))
    earlier = add_working_time(cal, start, low, "working_minutes")
    assert earlier < add_working_time(cal, start, high, "working_minutes")


@settings(deadline=None)
@given(cal=any_calendar, start=starts, a=amounts, b=amounts)
def test_working_minutes_are_additive(cal, start, a, b):
    """add(add(s, a), b) == add(s, a + b) for every a, b >= 0.

    The period-end rule does not break this: when add(s, a) stops exactly at a period end
    (17:30), resuming from there skips to the next opening, which is exactly where the single
    add(s, a + b) continues. Strictly inside a period the clock simply goes on. (It would break
    if add(s, 0) jumped to the next working instant; add(s, 0) is s.)
    """
    first = add_working_time(cal, start, a, "working_minutes")
    total = add_working_time(cal, start, a + b, "working_minutes")
    assert add_working_time(cal, first, b, "working_minutes") == total


@settings(deadline=None)
@given(cal=any_calendar, a=starts, b=starts, c=starts)
def test_working_time_between_is_additive_and_bounded(cal, a, b, c):
    a, b, c = sorted((a, b, c))
    ab, bc, ac = (working_time_between(cal, x, y) for x, y in ((a, b), (b, c), (a, c)))
    assert ab + bc == ac
    assert timedelta() <= ac <= c - a
    assert working_time_between(cal, c, a) == timedelta()


@settings(deadline=None)
@given(cal=any_calendar, start=starts, amount=st.integers(1, 20 * WORKING_DAY_MINUTES))
def test_working_result_is_inside_or_at_end_of_a_period(cal, start, amount):
    result = add_working_time(cal, start, amount, "working_minutes")
    assert in_period(cal, result, opening_counts=False)


@settings(deadline=None)
@given(cal=any_calendar, t=starts)
def test_next_working_instant_is_the_first_working_instant(cal, t):
    found = next_working_instant(cal, t)
    assert found >= t
    assert working_time_between(cal, t, found) == timedelta()
    assert working_time_between(cal, found, found + minutes(1)) > timedelta()


@settings(deadline=None)
@given(start=starts, days=st.integers(0, 30))
def test_working_days_match_450_working_minutes_each_on_uniform_hours(start, days):
    """All working days of CN (make-up days too) have the same hours, so both rules agree.

    Except from the lunch break: 450·N minutes from 13:30 run out exactly at 12:00 (a period
    end), while the working-days rule keeps the clock of s' and gives 13:30 -- the next working
    instant, with no working time in between.
    """
    by_days = add_working_time(CN, start, days, "working_days")
    by_minutes = add_working_time(CN, start, days * WORKING_DAY_MINUTES, "working_minutes")
    if by_days != by_minutes:
        assert by_minutes.time() == time(12)
        assert (
            by_days
            == next_working_instant(CN, by_minutes)
            == by_minutes.replace(hour=13, minute=30)
        )
    assert working_time_between(CN, start, by_days) == minutes(days * WORKING_DAY_MINUTES)


@settings(deadline=None)
@given(cal=any_calendar, start=starts, days=st.integers(1, 30))
def test_working_days_end_inside_or_at_end_of_a_period(cal, start, days):
    """Opening counts: from the lunch break the deadline is 13:30 on day N."""
    result = add_working_time(cal, start, days, "working_days")
    assert result > start
    assert in_period(cal, result, opening_counts=True)


# --- working minutes and hours, by hand ------------------------------------------------------


def test_four_working_hours_across_the_lunch_break():
    assert add_working_time(CN, at(2026, 9, 15, 11), 4, "working_hours") == at(2026, 9, 15, 16, 30)


def test_working_hours_from_friday_land_on_makeup_sunday():
    # Fri 16:00–17:30 is 1.5 h; Saturday 09-19 is off; Sunday 09-20 works: 08:30 + 2.5 h.
    result = add_working_time(CN, at(2026, 9, 18, 16), 4, "working_hours")
    assert result == at(2026, 9, 20, 11)


def test_working_hours_across_national_day():
    # 09-30 16:00–17:30 is 1.5 h, then 10-08 08:30–12:00 3.5 h, then 13:30 + 3 h.
    result = add_working_time(CN, at(2026, 9, 30, 16), 8, "working_hours")
    assert result == at(2026, 10, 8, 16, 30)


def test_amount_used_up_at_period_end_returns_that_end():
    assert add_working_time(CN, at(2026, 9, 30, 16), 90, "working_minutes") == at(
        2026, 9, 30, 17, 30
    )
    assert add_working_time(CN, at(2026, 9, 15, 11), 60, "working_minutes") == at(2026, 9, 15, 12)
    resumed = add_working_time(CN, at(2026, 9, 30, 17, 30), 1, "working_minutes")
    assert resumed == at(2026, 10, 8, 8, 31)


def test_working_minutes_start_outside_hours_at_next_opening():
    assert add_working_time(CN, at(2026, 10, 3, 10), 30, "working_minutes") == at(2026, 10, 8, 9)
    assert add_working_time(CN, at(2026, 9, 15, 12, 15), 30, "working_minutes") == at(
        2026, 9, 15, 14
    )


def test_working_time_between_across_the_holidays():
    # Working days 09-20 (Sun), 21–24, 28–30, 10-08, 10-09, 10-10 (Sat): 11 × 450 minutes.
    assert working_time_between(CN, at(2026, 9, 19), at(2026, 10, 12)) == minutes(11 * 450)
    assert working_time_between(CN, at(2026, 9, 30, 17, 30), at(2026, 10, 8, 8, 30)) == timedelta()
    assert working_time_between(CN, at(2026, 9, 30, 16), at(2026, 10, 8, 9)) == minutes(120)


def test_working_time_between_counts_half_open_periods():
    assert working_time_between(CN, at(2026, 9, 15, 11), at(2026, 9, 15, 14)) == minutes(90)
    assert working_time_between(CN, at(2026, 9, 15, 14), at(2026, 9, 15, 11)) == timedelta()


def test_next_working_instant():
    assert next_working_instant(CN, at(2026, 9, 15, 10)) == at(2026, 9, 15, 10)
    assert next_working_instant(CN, at(2026, 9, 15, 12)) == at(2026, 9, 15, 13, 30)
    assert next_working_instant(CN, at(2026, 9, 18, 17, 30)) == at(2026, 9, 20, 8, 30)
    assert next_working_instant(CN, at(2026, 9, 30, 18)) == at(2026, 10, 8, 8, 30)


# --- working days, by hand -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (at(2026, 9, 24, 10), 1, at(2026, 9, 28, 10)),  # Thursday before Mid-Autumn
        (at(2026, 9, 30, 15), 1, at(2026, 10, 8, 15)),  # before National Day
        (at(2026, 10, 9, 16), 1, at(2026, 10, 10, 16)),  # Saturday 10-10 is a make-up day
        (at(2026, 10, 3, 10), 2, at(2026, 10, 9, 17, 30)),  # holiday: 10-08 is day 1
        (at(2026, 9, 24, 8, 30), 1, at(2026, 9, 28, 8, 30)),  # at opening = inside hours
        (at(2026, 9, 24, 7), 1, at(2026, 9, 24, 17, 30)),  # before opening: today is day 1
        (at(2026, 9, 24, 18), 1, at(2026, 9, 28, 17, 30)),  # after close: next day is day 1
        (at(2026, 9, 24, 17, 30), 1, at(2026, 9, 28, 17, 30)),  # at close: not a working instant
        (at(2026, 9, 19, 10), 1, at(2026, 9, 20, 17, 30)),  # Saturday, make-up Sunday is day 1
    ],
)
def test_working_days(start, days, expected):
    result = add_working_time(CN, start, days, LimitUnit.WORKING_DAYS)
    assert result == expected
    assert result.tzinfo is SHANGHAI


@pytest.mark.parametrize("lunch", [time(12), time(12, 30), time(13, 29)])
def test_working_days_from_the_lunch_break_keep_the_afternoon_opening(lunch):
    start = datetime.combine(date(2026, 9, 24), lunch, tzinfo=SHANGHAI)
    assert add_working_time(CN, start, 1, "working_days") == at(2026, 9, 28, 13, 30)
    assert add_working_time(CN, start, 3, "working_days") == at(2026, 9, 30, 13, 30)


def test_working_days_clamp_to_close_on_a_makeup_day_with_other_hours():
    cal = WorkingCalendar(
        weekly=WorkingCalendar.standard().weekly,
        makeup_days={date(2026, 10, 10)},
        makeup_periods=((time(9), time(12)),),
    )
    assert add_working_time(cal, at(2026, 10, 9, 16), 1, "working_days") == at(2026, 10, 10, 12)
    assert add_working_time(cal, at(2026, 10, 9, 10), 1, "working_days") == at(2026, 10, 10, 10)
    assert add_working_time(cal, at(2026, 10, 9, 9), 1, "working_days") == at(2026, 10, 10, 9)
    assert add_working_time(cal, at(2026, 10, 9, 8, 45), 1, "working_days") == at(2026, 10, 10, 12)


def test_working_days_keep_a_clock_time_at_the_end_of_a_period_on_the_target_day():
    cal = WorkingCalendar(
        weekly=WorkingCalendar.standard().weekly,
        makeup_days={date(2026, 10, 10)},
        makeup_periods=((time(9), time(11)), (time(14), time(16))),
    )
    assert add_working_time(cal, at(2026, 10, 9, 11), 1, "working_days") == at(2026, 10, 10, 11)
    assert add_working_time(cal, at(2026, 10, 9, 13, 45), 1, "working_days") == at(2026, 10, 10, 16)


def test_day_boundaries_are_read_in_the_calendar_zone():
    evening_in_la = datetime(2026, 9, 23, 20, tzinfo=LOS_ANGELES)  # 09-24 11:00 in Shanghai
    assert working_time_between(CN, at(2026, 9, 24, 8, 30), evening_in_la) == minutes(150)
    assert working_time_between(CN, evening_in_la, at(2026, 9, 24, 12)) == minutes(60)
    assert next_working_instant(CN, evening_in_la) == at(2026, 9, 24, 11)
    assert add_working_time(CN, evening_in_la, 60, "working_minutes") == at(2026, 9, 24, 12)


def test_working_days_read_clock_times_in_the_calendar_zone():
    start = datetime(2026, 9, 24, 2, tzinfo=UTC)  # 10:00 in Shanghai
    result = add_working_time(CN, start, 1, "working_days")
    assert result == at(2026, 9, 28, 10)
    assert result.tzinfo is SHANGHAI


# --- natural units, zero, errors ------------------------------------------------------------


def test_natural_units_ignore_the_calendar():
    start = at(2026, 9, 30, 15)
    assert add_working_time(CN, start, 24, "natural_hours") == at(2026, 10, 1, 15)
    assert add_working_time(CN, start, 90, "natural_minutes") == at(2026, 9, 30, 16, 30)
    utc_result = add_working_time(CN, datetime(2026, 10, 1, 0, tzinfo=UTC), 1, "natural_hours")
    assert utc_result == at(2026, 10, 1, 9)
    assert utc_result.tzinfo is SHANGHAI


def test_natural_hours_are_elapsed_time_across_dst():
    cal = WorkingCalendar.standard(tz=BERLIN)
    start = datetime(2026, 3, 28, 12, tzinfo=BERLIN)  # clocks go forward on 03-29
    assert add_working_time(cal, start, 24, "natural_hours") == datetime(
        2026, 3, 29, 13, tzinfo=BERLIN
    )


@pytest.mark.parametrize("unit", list(LimitUnit))
def test_zero_amount_returns_start(unit):
    start = datetime(2026, 10, 3, 2, 15, tzinfo=UTC)  # a holiday, outside working hours
    result = add_working_time(CN, start, 0, unit)
    assert result == start
    assert result.tzinfo is SHANGHAI


@pytest.mark.parametrize("unit", list(LimitUnit))
def test_negative_amount_is_rejected(unit):
    with pytest.raises(ValueError):
        add_working_time(CN, at(2026, 9, 15, 10), -1, unit)


def test_naive_datetimes_are_rejected():
    naive = datetime(2026, 9, 15, 10)
    with pytest.raises(ValueError):
        add_working_time(CN, naive, 1, "working_hours")
    with pytest.raises(ValueError):
        add_working_time(CN, naive, 0, "natural_hours")
    with pytest.raises(ValueError):
        working_time_between(CN, naive, at(2026, 9, 16))
    with pytest.raises(ValueError):
        next_working_instant(CN, naive)


def test_unknown_unit_is_rejected():
    with pytest.raises(ValueError):
        add_working_time(CN, at(2026, 9, 15, 10), 1, "fortnights")


@pytest.mark.parametrize("unit", ["working_minutes", "working_hours", "working_days"])
def test_calendar_without_working_days_raises_instead_of_looping(unit):
    idle = WorkingCalendar(weekly=((),) * 7)
    with pytest.raises(ValueError, match="within"):
        add_working_time(idle, at(2026, 9, 15, 10), 1, unit)
    assert add_working_time(idle, at(2026, 9, 15, 10), 0, unit) == at(2026, 9, 15, 10)
    assert working_time_between(idle, at(2026, 1, 1), at(2029, 1, 1)) == timedelta()


def test_long_silence_between_makeup_days_raises():
    idle = WorkingCalendar(
        weekly=((),) * 7, makeup_days={date(2040, 1, 2)}, makeup_periods=((time(9), time(10)),)
    )
    with pytest.raises(ValueError):
        next_working_instant(idle, at(2026, 9, 15, 10))
    assert next_working_instant(idle, at(2035, 1, 1)) == datetime(2040, 1, 2, 9, tzinfo=SHANGHAI)


def test_a_start_given_in_a_daylight_saving_zone_is_an_instant_not_a_wall_clock():
    """Found by hypothesis: Los Angeles falls back at 09:00 UTC on 2025-11-02; a UTC calendar
    must not see that hour twice (aware arithmetic within one zone is wall-clock in Python)."""
    utc = ZoneInfo("UTC")
    sunday_night = ((time(0, 0), time(9, 0)),)
    cal = WorkingCalendar(tz=utc, weekly=((),) * 6 + (sunday_night,), makeup_periods=sunday_night)
    start = datetime(2025, 11, 1, 19, 0, tzinfo=ZoneInfo("America/Los_Angeles"))  # 02:00 UTC
    assert add_working_time(cal, start, 420, "working_minutes") == datetime(
        2025, 11, 2, 9, 0, tzinfo=utc
    )
    end = datetime(2025, 11, 2, 3, 0, tzinfo=ZoneInfo("America/Los_Angeles"))  # 11:00 UTC
    assert working_time_between(cal, start, end) == timedelta(hours=7)
