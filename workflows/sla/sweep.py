"""The SLA sweep: fire every escalation level whose moment has come, exactly once.

Due rows are claimed in batches with SELECT … FOR UPDATE SKIP LOCKED on the partial index
`casetask_sweep` (open tasks with a next escalation time), acted on, and committed per batch.
Two sweepers never take the same row: the second skips rows the first holds, and a row the
first committed no longer matches (its next escalation time moved on). The cost of a tick
grows with what is due, not with what is open.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from departments.calendars import WorkingCalendar, add_working_time
from departments.models import Role
from departments.selectors import working_calendar

from ..models import CaseEvent, CaseTask, SupervisionOrder, TaskStatus
from ..services.notifications import notify, users_holding
from .thresholds import levels_for, next_threshold

OPEN = (TaskStatus.OPEN, TaskStatus.CLAIMED)


@dataclass
class _Batch:
    """What one batch writes, gathered so that it is written in bulk."""

    now: dt.datetime
    events: list[CaseEvent] = field(default_factory=list)
    orders: list[SupervisionOrder] = field(default_factory=list)
    people: dict[tuple[str, int], list] = field(default_factory=dict)
    levels: dict[tuple[int, int | None], list[dict]] = field(default_factory=dict)

    def holders(self, role: str, unit_id: int) -> list:
        key = (role, unit_id)
        if key not in self.people:
            self.people[key] = list(users_holding(role, [unit_id]))
        return self.people[key]

    def levels_for(self, task: CaseTask) -> list[dict]:
        key = (task.case.category_id, task.case.area_id)
        if key not in self.levels:
            self.levels[key] = levels_for(task.case)
        return self.levels[key]


def _calendar(task: CaseTask) -> WorkingCalendar:
    return working_calendar(task.calendar) if task.calendar_id else WorkingCalendar.standard()


def _assignee_or_queue(task: CaseTask, batch: _Batch) -> list:
    return [task.owner] if task.owner_id else batch.holders(task.role, task.unit_id)


def _recipients(action: str, task: CaseTask, batch: _Batch) -> list:
    heads = batch.holders(Role.UNIT_HEAD, task.unit_id)
    if action == "remind":
        return _assignee_or_queue(task, batch)
    if action == "warn":
        return [*_assignee_or_queue(task, batch), *heads]
    if action == "overdue":
        return [*heads, *batch.holders(Role.SUPERVISOR, task.unit_id)]
    return batch.holders(Role.SUPERVISOR, task.case.city_id)  # leadership notice (通报)


TITLES = {
    "remind": _("Reminder: %(stage)s of case %(number)s is half way to its deadline"),
    "warn": _("Warning: %(stage)s of case %(number)s is close to its deadline"),
    "overdue": _("Overdue: %(stage)s of case %(number)s missed its deadline"),
    "leadership": _("Notice: case %(number)s is still overdue at %(stage)s"),
}


def _fire(task: CaseTask, level: dict, batch: _Batch) -> None:
    """One escalation level: the audit event, the notices, and on overdue a 督办 order."""
    action = level["action"]
    case = task.case
    batch.events.append(
        CaseEvent(
            case=case,
            task=task,
            action=f"sla_{action}",
            stage_from=task.stage,
            stage_to=task.stage,
            unit_id=task.unit_id,
            created_at=batch.now,
            payload={
                "level": task.thresholds_fired + 1,
                **level,
                "due_at": task.due_at.isoformat(),
            },
        )
    )
    title = str(TITLES.get(action, TITLES["leadership"])) % {
        "stage": task.get_stage_display(),
        "number": case.number,
    }
    notify(
        users=_recipients(action, task, batch),
        kind=f"sla_{action}",
        title=title,
        body=_("Due %(due)s.") % {"due": f"{timezone.localtime(task.due_at):%Y-%m-%d %H:%M}"},
        case=case,
    )
    if action == "overdue":
        value, unit = settings.CITYOPS_SUPERVISION_REPLY
        batch.orders.append(
            SupervisionOrder(
                case=case,
                task=task,
                unit_id=task.unit_id,
                reason=title,
                created_at=batch.now,
                reply_due_at=add_working_time(_calendar(task), batch.now, int(value), unit),
            )
        )


def _advance(task: CaseTask, batch: _Batch) -> None:
    """Fire every level of the task that is due by now, in order, then aim at the next."""
    levels, calendar = batch.levels_for(task), _calendar(task)
    while task.next_threshold_at is not None and task.next_threshold_at <= batch.now:
        if task.thresholds_fired >= len(levels):
            task.next_threshold_at = None
            break
        _fire(task, levels[task.thresholds_fired], batch)
        task.thresholds_fired += 1
        task.next_threshold_at = next_threshold(task, levels, calendar)


def _sweep_batch(now: dt.datetime, size: int) -> tuple[int, int]:
    """One batch in one transaction: (rows taken, levels fired)."""
    with transaction.atomic():
        tasks = list(
            CaseTask.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status__in=OPEN, next_threshold_at__lte=now)
            .select_related("case", "calendar", "owner")
            .order_by("next_threshold_at", "task_id")[:size]
        )
        batch = _Batch(now)
        for task in tasks:
            _advance(task, batch)
        CaseEvent.objects.bulk_create(batch.events)
        SupervisionOrder.objects.bulk_create(batch.orders)
        CaseTask.objects.bulk_update(tasks, ["thresholds_fired", "next_threshold_at"])
    return len(tasks), len(batch.events)


def sla_sweep(
    *, now: dt.datetime | None = None, batch: int = 500, budget_seconds: float = 25.0
) -> int:
    """Fire every escalation due by `now`; returns how many levels fired."""
    now = now or timezone.now()
    stop = time.monotonic() + budget_seconds
    fired = 0
    while True:
        taken, done = _sweep_batch(now, batch)
        fired += done
        if taken < batch or time.monotonic() > stop:
            return fired
