"""Task state changes: claim, release, second-level dispatch (completing: outcomes.py).

Each public service checks the actor through workflows.access first, then takes the case's
process lock and re-reads the task (services.transitions.task_locked), changes state and
writes the audit event in the same transaction.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from viewflow.workflow.status import STATUS

from cityops.compiled_queries import save_fields
from departments.selectors import unit_descendant_ids
from workflows import access

from ..models import CaseTask, Stage, TaskStatus
from .errors import Conflict, not_found
from .events import task_event
from .invariants import refuse_if_request_outstanding
from .transitions import task_actor_check, task_locked


def task_claim(*, actor, task: CaseTask) -> CaseTask:
    """Take an open task from the queue into the actor's inbox; exactly one claimer wins."""
    task_actor_check(actor, task)
    with task_locked(task) as (task, flow_task):
        if task.status == TaskStatus.CLAIMED and task.owner_id == actor.pk:
            raise Conflict(_("You already hold this task."), "task_already_yours")
        if task.status != TaskStatus.OPEN or flow_task.status != STATUS.NEW:
            raise Conflict(_("The task has already been taken."), "task_taken")
        # What viewflow's assign() writes (owner, ASSIGNED), without re-saving every column.
        flow_task.owner, flow_task.status = actor, STATUS.ASSIGNED
        save_fields(flow_task, ["owner", "status"])
        task.status, task.owner, task.claimed_at = TaskStatus.CLAIMED, actor, timezone.now()
        save_fields(task, ["status", "owner", "claimed_at"])
        task_event(
            task=task,
            action="claim",
            actor=actor,
        )
    return task


def task_release(*, actor, task: CaseTask) -> CaseTask:
    """Put a claimed task back in its queue."""
    task_actor_check(actor, task)
    with task_locked(task) as (task, flow_task):
        if task.status != TaskStatus.CLAIMED or task.owner_id != actor.pk:
            raise Conflict(_("You do not hold this task."), "not_holder")
        refuse_if_request_outstanding(task)
        # What viewflow's unassign() writes (no owner, NEW), without re-saving every column.
        flow_task.owner, flow_task.status = None, STATUS.NEW
        save_fields(flow_task, ["owner", "status"])
        task.status, task.owner, task.claimed_at = TaskStatus.OPEN, None, None
        save_fields(task, ["status", "owner", "claimed_at"])
        task_event(
            task=task,
            action="release",
            actor=actor,
        )
    return task


def task_subdispatch(*, actor, task: CaseTask, unit) -> CaseTask:
    """Second-level dispatch (二级派遣): the unit head moves an unclaimed handling task to a
    sub-unit of the responsible unit."""
    head = access.can_subdispatch_task(actor, task)
    if not (access.can_act_on_task(actor, task) or head):
        raise not_found()
    if task.stage != Stage.HANDLING or not head:
        raise Conflict(
            _("Only the unit head may dispatch a handling task to a sub-unit."), "not_allowed"
        )
    with task_locked(task) as (task, _flow_task):
        below = unit_descendant_ids([task.case.responsible_unit_id]) - {
            task.case.responsible_unit_id
        }
        if unit.pk not in below:
            raise ValidationError({"unit": _("Choose a sub-unit of the responsible unit.")})
        if task.status != TaskStatus.OPEN:
            raise Conflict(_("Release the task before dispatching it to a sub-unit."), "task_taken")
        from_unit = task.unit_id
        task.unit = unit
        save_fields(task, ["unit"])
        task_event(
            task=task,
            action="subdispatch",
            actor=actor,
            unit_id=unit.pk,
            payload={"from_unit": from_unit, "to_unit": unit.pk},
        )
    return task
