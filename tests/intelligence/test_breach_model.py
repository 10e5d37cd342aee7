"""The breach model on arrays where the answer is known, and the working clock against the
calendar's own arithmetic."""

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from departments.calendars import WorkingCalendar, working_time_between
from intelligence.breach_model import PRIOR_WEIGHT, BreachModel, Groups, backlog_at, score
from intelligence.worktime import WorkingClock

SH = ZoneInfo("Asia/Shanghai")


def groups(n, unit=1, category=1, stage=4, working=True):
    return Groups.of(np.full(n, working), np.full(n, stage), np.full(n, unit), np.full(n, category))


def fit(durations, unit=1, backlog=None):
    durations = np.asarray(durations, dtype=float)
    n = len(durations)
    keys = np.full(n, unit * 64 + 4)
    return BreachModel.fit(
        groups(n, unit), durations, keys, np.zeros(n) if backlog is None else backlog
    )


def one(model, used, left, backlog=0, unit=1):
    return score(
        model,
        groups(1, unit),
        np.array([unit * 64 + 4]),
        np.array([used]),
        np.array([left]),
        np.array([backlog]),
    )


def test_the_probability_is_the_share_of_past_tasks_still_running_that_ran_too_long():
    # 100 past tasks: 60 took 2 h, 40 took 8 h. A task 1 h in with 3 h left (4 h allowance):
    # all 100 were still running at 1 h, 40 ran past 4 h. Every level holds the same 100
    # tasks, so the shrinkage towards the coarser level keeps 0.4 from the second level on.
    model = fit([120] * 60 + [480] * 40)
    p = one(model, used=60, left=180).probability[0]
    first = (40 + PRIOR_WEIGHT * 0.5) / (100 + PRIOR_WEIGHT)
    expected = first
    for _ in range(3):
        expected = (40 + PRIOR_WEIGHT * expected) / (100 + PRIOR_WEIGHT)
    assert p == pytest.approx(expected)
    assert 0.40 < p < 0.41
    # 3 h in, 1 h left: only the 40 long ones still ran, all of them too long.
    assert one(model, used=180, left=60).probability[0] > 0.99
    # Everything finishes in 2 h: a task with 5 h allowance is safe.
    assert one(fit([120] * 100), used=10, left=290).probability[0] < 0.01


def test_the_reason_names_the_finest_group_with_enough_history_and_its_median():
    model = fit([60, 120, 180] * 10)
    s = one(model, used=0, left=150)
    assert s.basis[0] == 3 and s.samples[0] == 30 and s.typical[0] == 120
    # Another unit of the same stage: the stage group explains it.
    other = one(model, used=0, left=150, unit=2)
    assert other.basis[0] == 1 and other.samples[0] == 30


def test_a_larger_backlog_than_usual_stretches_the_durations():
    # Usual backlog 3; past tasks took 100 minutes; 120 minutes allowance.
    model = fit([100] * 50, backlog=np.full(50, 3))
    calm = one(model, used=0, left=120, backlog=3).probability[0]
    busy = one(model, used=0, left=120, backlog=15).probability[0]  # stretch 2: 200 min
    assert calm < 0.05 and busy > 0.95


def test_no_history_is_a_coin_toss():
    model = fit([])
    assert one(model, used=10, left=10).probability[0] == 0.5


def test_backlog_at_counts_tasks_open_at_each_instant():
    created = np.array([0.0, 10.0, 20.0, 5.0])
    finished = np.array([15.0, np.nan, 25.0, 6.0])
    keys = np.array([1, 1, 1, 2])
    at = np.array([0.0, 12.0, 16.0, 21.0, 5.5])
    at_keys = np.array([1, 1, 1, 1, 2])
    assert backlog_at(created, finished, keys, at, at_keys).tolist() == [1, 2, 1, 2, 1]


def test_the_working_clock_agrees_with_the_calendar():
    cal = WorkingCalendar.standard(
        holidays=[dt.date(2026, 10, 1)], makeup_days=[dt.date(2026, 9, 27)]
    )
    clock = WorkingClock(cal, dt.date(2026, 9, 20), dt.date(2026, 10, 12))
    rng = np.random.default_rng(1)
    base = dt.datetime(2026, 9, 21, tzinfo=SH).timestamp()
    a = base + rng.uniform(0, 14 * 86400, 200)
    b = a + rng.uniform(0, 5 * 86400, 200)
    got = clock.between(a, b)
    for x, y, minutes in zip(a, b, got, strict=True):
        expected = working_time_between(
            cal, dt.datetime.fromtimestamp(x, SH), dt.datetime.fromtimestamp(y, SH)
        )
        assert minutes == pytest.approx(expected.total_seconds() / 60, abs=1e-6)


def test_instant_at_inverts_the_clock_like_add_working_time():
    from departments.calendars import add_working_time

    cal = WorkingCalendar.standard()
    clock = WorkingClock(cal, dt.date(2026, 9, 20), dt.date(2026, 10, 20))
    start = dt.datetime(2026, 9, 22, 9, 0, tzinfo=SH)
    for amount in (1, 30, 180, 210, 211, 450, 2000):
        want = add_working_time(cal, start, amount, "working_minutes")
        got = clock.instant_at(clock.minutes_at(np.array([start.timestamp()])) + amount)[0]
        assert got == want.timestamp(), amount
