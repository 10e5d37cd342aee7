"""Stopping and restarting a task's clock. While paused the task does not escalate; on
resume its due time moves by exactly the paused time (working time for working limits)."""

from __future__ import annotations

import datetime as dt

from departments.calendars import WorkingCalendar, add_working_time, working_time_between
from departments.selectors import working_calendar

from ..models import CaseTask, PauseInterval, Stage
from .thresholds import levels_for, next_threshold


def task_calendar(task: CaseTask) -> WorkingCalendar:
    return working_calendar(task.calendar) if task.calendar_id else WorkingCalendar.standard()


def _working(task: CaseTask) -> bool:
    return task.limit_unit.startswith("working")


def paused_between(task: CaseTask, start: dt.datetime, end: dt.datetime) -> int:
    """Minutes between two instants in the task's terms (working or natural)."""
    if _working(task):
        span = working_time_between(task_calendar(task), start, end)
    else:
        span = max(end - start, dt.timedelta(0))
    return int(span.total_seconds() // 60)


def shift_by(task: CaseTask, when: dt.datetime, minutes: int) -> dt.datetime:
    unit = "working_minutes" if _working(task) else "natural_minutes"
    return add_working_time(task_calendar(task), when, minutes, unit)


def pause_start(*, task: CaseTask, reason: str, now: dt.datetime) -> PauseInterval:
    """Stop the clock (the caller holds the case lock and saves nothing else of the task)."""
    task.paused_since = now
    task.next_threshold_at = None
    task.save(update_fields=["paused_since", "next_threshold_at"])
    return PauseInterval.objects.create(
        case_id=task.case_id, task=task, reason=reason, started_at=now
    )


def pause_end(
    *, task: CaseTask, now: dt.datetime, extra: tuple[int, str] | None = None
) -> PauseInterval | None:
    """Restart the clock: due time += paused time (+ an approved extension's amount)."""
    interval = PauseInterval.objects.filter(task=task, ended_at__isnull=True).first()
    if task.paused_since is None or interval is None:
        return None
    minutes = paused_between(task, task.paused_since, now)
    interval.ended_at, interval.paused_minutes = now, minutes
    interval.save(update_fields=["ended_at", "paused_minutes"])
    if task.due_at is not None:
        task.due_at = shift_by(task, task.due_at, minutes)
        if extra is not None:
            task.due_at = add_working_time(task_calendar(task), task.due_at, *extra)
    task.paused_minutes += minutes
    task.paused_since = None
    task.next_threshold_at = next_threshold(task, levels_for(task.case), task_calendar(task))
    task.save(update_fields=["due_at", "paused_minutes", "paused_since", "next_threshold_at"])
    if task.stage in (Stage.HANDLING, Stage.HL_LEAD_REPLY):  # the case's due time is theirs
        task.case.due_at = task.due_at
        task.case.save(update_fields=["due_at", "updated_at"])
    return interval
