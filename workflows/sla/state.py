"""SLA state of a task or case at a moment: due time, share of the allotted time used, and
on_track / at_risk / overdue / paused / met / missed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings

from departments.calendars import WorkingCalendar, working_time_between
from departments.selectors import working_calendar

from ..models import Case, CaseStatus, CaseTask, Stage, TaskStatus


@dataclass(frozen=True)
class SlaSnapshot:
    due_at: dt.datetime | None
    used_percent: int | None
    state: str | None  # None: no due time


NONE = SlaSnapshot(None, None, None)


def _calendar(task: CaseTask) -> WorkingCalendar:
    return working_calendar(task.calendar) if task.calendar_id else WorkingCalendar.standard()


def _used(task: CaseTask, until: dt.datetime) -> float:
    """Percent of the allotted time used by `until`; pauses count as neither."""
    start, due, paused = task.created_at, task.due_at, dt.timedelta(minutes=task.paused_minutes)
    if task.limit_unit.startswith("working"):
        calendar = _calendar(task)
        allotted = working_time_between(calendar, start, due) - paused
        used = working_time_between(calendar, start, until) - paused
    else:
        allotted, used = due - start - paused, until - start - paused
    if allotted.total_seconds() <= 0:
        return 100.0 if until >= due else 0.0
    return max(0.0, 100 * (used / allotted))


def task_sla(task: CaseTask, now: dt.datetime) -> SlaSnapshot:
    """The task's SLA at `now` (the calendar must be loaded with the task: select_related)."""
    if task.due_at is None:
        return NONE
    if task.status in (TaskStatus.DONE, TaskStatus.CANCELLED):
        end = task.finished_at or now
        return _snapshot(task.due_at, _used(task, end), "met" if end <= task.due_at else "missed")
    if task.paused_since is not None:
        return _snapshot(task.due_at, _used(task, task.paused_since), "paused")
    return _running(task.due_at, _used(task, now), now)


def _snapshot(due_at: dt.datetime, used: float, state: str | None) -> SlaSnapshot:
    return SlaSnapshot(due_at, int(used), state)  # whole percent, rounded down


def _running(due_at: dt.datetime, used: float, now: dt.datetime) -> SlaSnapshot:
    if now >= due_at:
        return _snapshot(due_at, used, "overdue")
    at_risk = used >= settings.CITYOPS_SLA_AT_RISK_PERCENT
    return _snapshot(due_at, used, "at_risk" if at_risk else "on_track")


def case_sla(case: Case, now: dt.datetime) -> SlaSnapshot:
    """The case against its overall due time (set when it is dispatched), in natural time."""
    if case.due_at is None:
        return NONE
    end = case.closed_at if not case.is_open else now
    allotted = (case.due_at - case.created_at).total_seconds()
    used = 100 * (end - case.created_at).total_seconds() / allotted if allotted > 0 else 100.0
    if case.status == CaseStatus.CLOSED:
        return _snapshot(case.due_at, used, "met" if end <= case.due_at else "missed")
    if not case.is_open:
        return _snapshot(case.due_at, used, None)
    if (
        case.stage == Stage.HANDLING
        and case.tasks.filter(
            stage=Stage.HANDLING,
            status__in=[TaskStatus.OPEN, TaskStatus.CLAIMED],
            paused_since__isnull=False,
        ).exists()
    ):
        return _snapshot(case.due_at, used, "paused")
    return _running(case.due_at, used, now)
