"""Due times from the flow, with frozen time, on the demo city's real 2026 calendar."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model

from departments.demo import seed_accounts, seed_organisation
from departments.models import CalendarDay, DayKind, Unit
from workflows.models import CaseTask, Category, CategoryScheme, TaskStatus
from workflows.services.cases import CaseReport, case_report
from workflows.services.outcomes import task_complete
from workflows.services.tasks import task_claim
from workflows.sla.state import task_sla

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH)


@pytest.fixture
def city():
    org = seed_organisation()
    seed_accounts("pw")
    scheme = CategoryScheme.objects.create(code="T")
    org.city.category_scheme = scheme
    org.city.save()
    return org


def category(value, unit, urgency="normal"):
    return Category.objects.create(
        scheme=CategoryScheme.objects.get(code="T"),
        kind="event",
        major_code="01",
        major_name="m",
        code=f"01{Category.objects.count():02d}",
        name="c",
        default_unit=Unit.objects.get(code="SANI"),
        limit_value=value,
        limit_unit=unit,
        urgency=urgency,
    )


def user(name):
    return get_user_model().objects.get(username=name)


def open_task(case):
    return CaseTask.objects.get(case=case, status=TaskStatus.OPEN)


def step(case, username, outcome, when):
    with time_machine.travel(when, tick=False):
        task = task_claim(actor=user(username), task=open_task(case))
        task_complete(actor=user(username), task=task, outcome=outcome)
    return open_task(case)


def report(cat, when):
    with time_machine.travel(when, tick=False):
        return case_report(
            actor=user("inspector"),
            report=CaseReport(
                category=cat.pk, description="d", source="inspector", grid="D01-S01-C1-G1"
            ),
        )


def dispatched_at(cat, when):
    """Report, accept, file just before `when`, dispatch at `when`: the handling task."""
    case = report(cat, when - dt.timedelta(minutes=3))
    step(case, "intake", "accept", when - dt.timedelta(minutes=2))
    step(case, "shiftlead", "file", when - dt.timedelta(minutes=1))
    return step(case, "dispatcher", "dispatch", when), case


def test_command_centre_limits_in_natural_minutes(city):
    normal, urgent = category(4, "working_hours"), category(4, "working_hours", "urgent")
    for cat, window in ((normal, 30), (urgent, 10)):
        case = report(cat, at(2026, 10, 3, 22, 0))  # a holiday night: natural time runs
        assert open_task(case).due_at == at(2026, 10, 3, 22, 30)  # intake: 30 min
        filing = step(case, "intake", "accept", at(2026, 10, 3, 22, 5))
        assert filing.due_at == at(2026, 10, 3, 22, 5 + window)
        # Dispatch shares filing's window: it is due when filing was.
        dispatch = step(case, "shiftlead", "file", at(2026, 10, 3, 22, 6))
        assert dispatch.due_at == filing.due_at


@pytest.mark.parametrize(
    "start, expected",
    [
        (at(2026, 9, 22, 11, 0), at(2026, 9, 22, 16, 30)),  # across the lunch break
        (at(2026, 9, 18, 16, 0), at(2026, 9, 20, 11, 0)),  # Friday → make-up Sunday 09-20
        (at(2026, 9, 30, 16, 0), at(2026, 10, 8, 11, 0)),  # across National Day
        (at(2026, 10, 9, 16, 0), at(2026, 10, 10, 11, 0)),  # → make-up Saturday 10-10
        (at(2026, 10, 10, 16, 0), at(2026, 10, 12, 11, 0)),  # make-up Saturday → Monday
        (at(2026, 10, 3, 10, 0), at(2026, 10, 8, 14, 0)),  # on the holiday: from 10-08 08:30
    ],
)
def test_working_hour_limits(city, start, expected):
    handling, case = dispatched_at(category(4, "working_hours"), start)
    assert handling.due_at == expected
    case.refresh_from_db()
    assert case.due_at == expected


@pytest.mark.parametrize(
    "start, expected",
    [
        (at(2026, 9, 24, 10, 0), at(2026, 9, 28, 10, 0)),  # over Mid-Autumn
        (at(2026, 9, 30, 15, 0), at(2026, 10, 8, 15, 0)),  # over National Day
        (at(2026, 10, 9, 16, 0), at(2026, 10, 10, 16, 0)),  # make-up Saturday counts
        (at(2026, 10, 5, 9, 0), at(2026, 10, 8, 17, 30)),  # outside hours: end of day 1
        (at(2026, 11, 20, 12, 30), at(2026, 11, 23, 13, 30)),  # lunch: same clock as 13:30
    ],
)
def test_working_day_limits(city, start, expected):
    handling, _case = dispatched_at(category(1, "working_days"), start)
    assert handling.due_at == expected


def test_state_moves_from_on_track_to_at_risk_to_overdue(city):
    handling, _case = dispatched_at(category(4, "working_hours"), at(2026, 9, 22, 11, 0))
    # 4 working hours: 11:00–12:00 and 13:30–16:30; 75 % (180 min) used at 15:30.
    assert task_sla(handling, at(2026, 9, 22, 11, 30)).state == "on_track"
    assert task_sla(handling, at(2026, 9, 22, 13, 0)).used_percent == 25  # lunch: clock stops
    assert task_sla(handling, at(2026, 9, 22, 15, 29)).state == "on_track"
    assert task_sla(handling, at(2026, 9, 22, 15, 30)).state == "at_risk"
    assert task_sla(handling, at(2026, 9, 22, 16, 30)).state == "overdue"


def test_done_tasks_are_met_or_missed(city):
    handling, _case = dispatched_at(category(4, "working_hours"), at(2026, 9, 22, 11, 0))
    handling.status, handling.finished_at = TaskStatus.DONE, at(2026, 9, 22, 16, 0)
    assert task_sla(handling, at(2026, 9, 23, 9, 0)).state == "met"
    handling.finished_at = at(2026, 9, 23, 9, 0)
    assert task_sla(handling, at(2026, 9, 23, 9, 0)).state == "missed"


def test_a_district_holiday_moves_new_due_times(city):
    CalendarDay.objects.create(
        calendar=city.city.calendar, date=dt.date(2026, 9, 23), kind=DayKind.HOLIDAY, name="local"
    )
    from departments.services import calendar_touch

    calendar_touch(calendar=city.city.calendar)
    handling, _case = dispatched_at(category(4, "working_hours"), at(2026, 9, 22, 16, 0))
    assert handling.due_at == at(2026, 9, 24, 11, 0)


def test_a_calendar_change_moves_open_due_times(city):
    handling, case = dispatched_at(category(4, "working_hours"), at(2026, 9, 22, 16, 0))
    assert handling.due_at == at(2026, 9, 23, 11, 0)
    calendar = city.city.calendar
    CalendarDay.objects.create(
        calendar=calendar, date=dt.date(2026, 9, 23), kind=DayKind.HOLIDAY, name="typhoon day"
    )
    from departments.services import calendar_touch

    calendar_touch(calendar=calendar)
    handling.refresh_from_db()
    case.refresh_from_db()
    assert handling.due_at == case.due_at == at(2026, 9, 24, 11, 0)
    # The first escalation (50 % = 2 working hours) moved with it.
    assert handling.next_threshold_at == at(2026, 9, 24, 9, 0)
