"""Due times: every human task gets one when it opens, from its stage's limit on the working
calendar of the case's area (district calendars override the city's).

Filing and dispatch share one window: a dispatch that follows filing inherits the filing
task's due time. Handling takes the category's limit; the case's due time is the due time of
its (latest) handling task.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings

from departments.calendars import WorkingCalendar, add_working_time
from departments.models import WorkCalendar
from departments.reference import Snapshot, reference_snapshot
from departments.selectors import calendar_record, calendar_record_for_unit, working_calendar

from ..models import Case, CaseTask, Stage

WINDOW_OF = {Stage.FILING: "filing_dispatch", Stage.DISPATCH: "filing_dispatch"}


@dataclass(frozen=True)
class Deadline:
    due_at: dt.datetime
    limit_value: int
    limit_unit: str
    calendar: WorkCalendar | None


def stage_limit(case: Case, stage: str) -> tuple[int, str]:
    """The (value, unit) limit of a stage for this case."""
    if stage == Stage.HANDLING:
        return case.category.limit_value, case.category.limit_unit
    limit = settings.CITYOPS_SLA_LIMITS[WINDOW_OF.get(stage, stage)]
    if isinstance(limit, dict):
        limit = limit.get(case.urgency) or limit["normal"]
    return int(limit[0]), str(limit[1])


def case_calendar(
    case: Case, snapshot: Snapshot | None = None
) -> tuple[WorkCalendar | None, WorkingCalendar]:
    """The calendar record of the case's area and its pure form (standard hours if none)."""
    record = calendar_record_for_unit(case.area_id or case.city_id, snapshot)
    return record, (working_calendar(record) if record else WorkingCalendar.standard())


def task_deadline(
    case: Case,
    stage: str,
    start: dt.datetime,
    previous: CaseTask | None = None,
    snapshot: Snapshot | None = None,
) -> Deadline:
    """When a task of `stage` opened at `start` is due."""
    if (
        stage == Stage.DISPATCH
        and previous is not None
        and previous.stage == Stage.FILING
        and previous.due_at is not None
    ):
        return Deadline(
            previous.due_at,
            previous.limit_value or 0,
            previous.limit_unit,
            calendar_record(previous.calendar_id, snapshot or reference_snapshot()),
        )
    value, unit = stage_limit(case, stage)
    record, calendar = case_calendar(case, snapshot)
    return Deadline(add_working_time(calendar, start, value, unit), value, unit, record)


def deadline_recompute(task: CaseTask, calendar: WorkingCalendar) -> dt.datetime | None:
    """The due time of an open task after its calendar changed: its limit, its finished
    pauses and its approved extensions, laid again on the calendar (natural limits don't
    move)."""
    from ..models import CaseRequest, RequestKind, RequestStatus

    if task.limit_value is None or not task.limit_unit.startswith("working"):
        return task.due_at
    due = add_working_time(calendar, task.created_at, task.limit_value, task.limit_unit)
    due = add_working_time(calendar, due, task.paused_minutes, "working_minutes")
    extensions = CaseRequest.objects.filter(
        task=task, kind=RequestKind.EXTENSION, status=RequestStatus.APPROVED
    ).order_by("decided_at", "id")
    for extension in extensions:
        due = add_working_time(calendar, due, extension.amount, extension.amount_unit)
    return due


def task_sla_fields(
    case: Case,
    stage: str,
    start: dt.datetime,
    previous: CaseTask | None = None,
    snapshot: Snapshot | None = None,
    deadline: Deadline | None = None,
) -> dict:
    """The SLA columns of a task opening now: due time, its limit and calendar, and the
    moment of its first escalation level (`deadline`: a due time its flow computed)."""
    from .thresholds import levels_for, next_threshold

    snapshot = snapshot or reference_snapshot()
    deadline = deadline or task_deadline(case, stage, start, previous, snapshot)
    fields = {
        "due_at": deadline.due_at,
        "limit_value": deadline.limit_value,
        "limit_unit": deadline.limit_unit,
        "calendar": deadline.calendar,
    }
    probe = CaseTask(created_at=start, thresholds_fired=0, **fields)
    calendar = (
        working_calendar(deadline.calendar) if deadline.calendar else WorkingCalendar.standard()
    )
    fields["next_threshold_at"] = next_threshold(probe, levels_for(case, snapshot), calendar)
    return fields


def deadlines_recompute(*, calendar: WorkCalendar, batch: int = 1000) -> int:
    """After a calendar change: move the due times (and next escalations) of open tasks with
    working-time limits on that calendar; returns how many moved."""
    from django.db import transaction

    from ..models import TaskStatus
    from .thresholds import levels_for, next_threshold

    pure = working_calendar(calendar)
    snapshot = reference_snapshot()
    moved = 0
    open_tasks = (
        CaseTask.objects.filter(
            calendar=calendar,
            status__in=[TaskStatus.OPEN, TaskStatus.CLAIMED],
            limit_unit__startswith="working",
        )
        .select_related("case")
        .order_by("task_id")
    )
    with transaction.atomic():
        for task in open_tasks.iterator(chunk_size=batch):
            due = deadline_recompute(task, pure)
            if due == task.due_at:
                continue
            task.due_at = due
            task.next_threshold_at = next_threshold(task, levels_for(task.case, snapshot), pure)
            task.save(update_fields=["due_at", "next_threshold_at"])
            if task.stage == Stage.HANDLING:
                Case.objects.filter(pk=task.case_id).update(due_at=due)
            moved += 1
    return moved
