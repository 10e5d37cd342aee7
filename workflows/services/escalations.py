"""Escalations: the SLA sweep fires every escalation level whose moment has come, exactly
once, and does what each level says: the audit event (with its webhooks, sla.warning /
sla.breached), the notices, and on overdue a supervision order (督办).

What is due and when the next level falls is pure calculation in workflows.sla.thresholds
(`levels_due`, `next_threshold`); this module only changes state.

Due rows are claimed in batches with SELECT … FOR UPDATE SKIP LOCKED on the partial index
`casetask_sweep` (open tasks with a next escalation time), acted on, and committed per batch.
Two sweepers never take the same row: the second skips rows the first holds, and a row the
first committed no longer matches (its next escalation time moved on). The cost of a tick
grows with what is due, not with what is open.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cityops import display
from departments.calendars import WorkingCalendar, add_working_time
from departments.models import Role
from departments.selectors import working_calendar

from ..models import CaseEvent, CaseStatus, CaseTask, Stage, SupervisionOrder, TaskStatus
from ..sla.thresholds import levels_due, levels_resolver
from ..sql.escalations import escalation_progress_write
from .events import event_new, events_record_many
from .notifications import Notice, notify_many, users_holding

OPEN = (TaskStatus.OPEN, TaskStatus.CLAIMED)


@dataclass
class _Sweep:
    """What one sweep call reads once (rules, recipients) and what a batch writes in bulk."""

    now: dt.datetime
    resolve: Callable | None = None  # read on first need: an empty tick is one statement
    people: dict[tuple[str, int], list] = field(default_factory=dict)
    levels: dict[tuple[int, int | None], list[dict]] = field(default_factory=dict)
    events: list[CaseEvent] = field(default_factory=list)
    orders: list[SupervisionOrder] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)

    def holders(self, role: str, unit_id: int) -> list:
        key = (role, unit_id)
        if key not in self.people:
            self.people[key] = list(users_holding(role, [unit_id]).values_list("pk", flat=True))
        return self.people[key]

    def levels_for(self, task: CaseTask) -> list[dict]:
        key = (task.case.category_id, task.case.area_id)
        if key not in self.levels:
            if self.resolve is None:
                self.resolve = levels_resolver()
            self.levels[key] = self.resolve(*key)
        return self.levels[key]

    def flush(self) -> int:
        """Write the batch's events, orders and notices; returns how many levels fired."""
        fired = len(self.events)
        events_record_many(self.events)  # with their webhooks: sla.warning / sla.breached
        SupervisionOrder.objects.bulk_create(self.orders)
        notify_many(self.notices)
        self.events, self.orders, self.notices = [], [], []
        return fired


def _calendar(task: CaseTask) -> WorkingCalendar:
    return working_calendar(task.calendar) if task.calendar_id else WorkingCalendar.standard()


def _assignee_or_queue(task: CaseTask, batch: _Sweep) -> list:
    return [task.owner_id] if task.owner_id else batch.holders(task.role, task.unit_id)


def _recipients(action: str, task: CaseTask, batch: _Sweep) -> list:
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


def _fire(task: CaseTask, number: int, level: dict, batch: _Sweep) -> None:
    """One escalation level: the audit event, the notices, and on overdue a 督办 order."""
    action = level["action"]
    case = task.case
    batch.events.append(
        event_new(
            case=case,
            task=task,
            action=f"sla_{action}",
            stage_from=task.stage,
            stage_to=task.stage,
            unit_id=task.unit_id,
            created_at=batch.now,
            payload={"level": number, **level, "due_at": task.due_at.isoformat()},
        )
    )
    title = str(TITLES.get(action, TITLES["leadership"])) % {
        "stage": Stage(task.stage).label,  # get_stage_display hashes every choice per call
        "number": case.number,
    }
    due = display.when(task.due_at)
    batch.notices.append(
        Notice(
            users=tuple(_recipients(action, task, batch)),
            kind=f"sla_{action}",
            title=title,
            body=_("Due %(due)s.") % {"due": due},
            case=case,
        )
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


def _advance(task: CaseTask, batch: _Sweep) -> None:
    """Fire every level of the task that is due by now, in order, then aim at the next."""
    for number, level in levels_due(task, batch.levels_for(task), _calendar(task), batch.now):
        _fire(task, number, level, batch)


def _claim(now: dt.datetime, size: int) -> list[CaseTask]:
    """Lock up to `size` due rows, earliest first, skipping rows another sweeper holds.

    Ids first (an ordered walk of `casetask_sweep`), then the rows with their case by key, so
    a backlog never makes the planner sort every due row with its joins.
    """
    ids = list(
        CaseTask.objects.select_for_update(skip_locked=True)
        .filter(status__in=OPEN, next_threshold_at__lte=now)
        .order_by("next_threshold_at", "task_id")
        .values_list("task_id", flat=True)[:size]
    )
    rows = CaseTask.objects.filter(task_id__in=ids).select_related("case", "calendar")
    return sorted(rows, key=lambda t: (t.next_threshold_at, t.task_id))


def _sweep_batch(sweep: _Sweep, size: int) -> tuple[int, int]:
    """One batch in one transaction: (rows taken, levels fired)."""
    with transaction.atomic():
        tasks = _claim(sweep.now, size)
        for task in tasks:
            if task.case.status != CaseStatus.OPEN:  # an ended case never escalates
                task.next_threshold_at = None
                continue
            _advance(task, sweep)
        fired = sweep.flush()
        escalation_progress_write(tasks)
    return len(tasks), fired


def sla_sweep(
    *, now: dt.datetime | None = None, batch: int = 500, budget_seconds: float = 25.0
) -> int:
    """Fire every escalation due by `now`; returns how many levels fired."""
    sweep = _Sweep(now or timezone.now())
    stop = time.monotonic() + budget_seconds
    fired = 0
    while True:
        taken, done = _sweep_batch(sweep, batch)
        fired += done
        if taken < batch or time.monotonic() > stop:
            return fired
