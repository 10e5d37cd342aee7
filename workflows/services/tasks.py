"""Task state changes: open (from the flow), claim, release, complete, second-level dispatch.

Each public service checks the actor through workflows.access first, then takes the case's
process lock (SELECT … FOR UPDATE via viewflow), re-reads the task, changes state and writes
the audit event in the same transaction.
"""

from __future__ import annotations

from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _
from viewflow.workflow.status import STATUS

from cityops.compiled_queries import CompiledGet, insert, save_fields
from departments.access import centre_ids
from departments.models import UnitKind
from departments.reference import GENERATION_SQL, Snapshot, reference_snapshot
from departments.selectors import unit_descendant_ids
from workflows import access

from ..flows.stages import REVIEW_STAGES, STAGES
from ..models import Case, CaseTask, Stage, TaskStatus
from ..sla.deadlines import task_sla_fields
from .errors import Conflict, not_found
from .events import task_event
from .rework import rework_assign, rework_previous
from .routing import route_suggest


def _task_unit_id(case: Case, stage: str, snapshot: Snapshot) -> int:
    lives_in = STAGES[stage].lives_in
    if lives_in == "centre":
        return centre_ids(case.city_id, snapshot)[0]
    if lives_in == "responsible":
        return case.responsible_unit_id
    units, area_id = snapshot.units, case.area_id
    if area_id is not None and units.kind_of.get(area_id) == UnitKind.COMMUNITY:
        return units.parent_of[area_id] or area_id  # inspectors work by street
    return area_id or case.city_id


def task_open(*, activation) -> CaseTask:
    """Called by the flow when a human task is created: index it for the task lists."""
    process = activation.process
    case = getattr(process, "cityops_case", None) or Case.objects.select_related(
        "area", "category__default_unit"
    ).get(pk=process.data["case"])
    snapshot = getattr(process, "cityops_reference", None) or reference_snapshot()
    stage = activation.flow_task.name
    payload = route_suggest(case, snapshot).as_payload() if stage == Stage.DISPATCH else {}
    start = activation.task.created
    previous = getattr(process, "cityops_previous", None)
    # A failed check: the rework goes back to whoever did the work (services.rework).
    rework_of = (
        rework_previous(case)
        if stage == Stage.HANDLING and previous is not None and previous.stage == Stage.CHECK
        else None
    )
    task = CaseTask(
        task=activation.task,
        case=case,
        stage=stage,
        role=process.data.get("role") or STAGES[stage].role,
        unit_id=rework_of.unit_id
        if rework_of
        else process.data.get("unit") or _task_unit_id(case, stage, snapshot),
        created_at=start,
        payload=payload,
        **task_sla_fields(case, stage, start, previous, snapshot),
    )
    insert(task)
    if rework_of is not None:
        rework_assign(task=task, flow_task=activation.task, previous=rework_of)
    if stage in REVIEW_STAGES:
        return task
    case.stage = stage
    if stage == Stage.HANDLING:
        case.due_at = task.due_at
    if getattr(process, "cityops_case", None) is None:
        case.save(update_fields=["stage", "due_at", "updated_at"])
    return task


# The re-read under the lock: the task, its flow task and process, the case, its category with
# the category's default unit (routing), and the reference-data generation
# (departments.reference); compiled once per thread.
_LOCKED_READ = CompiledGet(
    lambda pk: (
        CaseTask.objects.select_related("task__process", "case__category__default_unit")
        .annotate(reference_generation=RawSQL(f"({GENERATION_SQL})", ()))
        .filter(pk=pk)
    )
)


@contextmanager
def _locked(task: CaseTask):
    """Lock the case's process, then yield fresh copies of the task and its viewflow task."""
    from ..flows import CaseFlow

    # The lock opens the transaction (SELECT … FOR UPDATE on the process row): everything
    # below commits or rolls back together. One query fetches what the transition needs.
    with CaseFlow.lock(task.case.process_id):
        fresh = _LOCKED_READ.get(task.pk)
        flow_task = fresh.task
        flow_task.process.cityops_case = fresh.case
        flow_task.process.cityops_previous = fresh
        flow_task.process.cityops_reference = reference_snapshot(fresh.reference_generation)
        yield fresh, flow_task


def _check_actor(actor, task: CaseTask) -> None:
    if not access.can_act_on_task(actor, task):
        raise not_found()


def task_claim(*, actor, task: CaseTask) -> CaseTask:
    """Take an open task from the queue into the actor's inbox; exactly one claimer wins."""
    _check_actor(actor, task)
    with _locked(task) as (task, flow_task):
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
    _check_actor(actor, task)
    with _locked(task) as (task, flow_task):
        if task.status != TaskStatus.CLAIMED or task.owner_id != actor.pk:
            raise Conflict(_("You do not hold this task."), "not_holder")
        flow_task.flow_task.activation_class(flow_task).unassign()
        task.status, task.owner, task.claimed_at = TaskStatus.OPEN, None, None
        task.save(update_fields=["status", "owner", "claimed_at"])
        task_event(
            task=task,
            action="release",
            actor=actor,
        )
    return task


def task_subdispatch(*, actor, task: CaseTask, unit) -> CaseTask:
    """Second-level dispatch (二级派遣): the unit head moves an unclaimed handling task to a
    sub-unit of the responsible unit."""
    scope = access.staff_scope(actor)
    if not (access.can_act_on_task(actor, task) or scope.holds(task.unit_id, "unit_head")):
        raise not_found()
    if task.stage != Stage.HANDLING or not scope.holds(task.unit_id, "unit_head"):
        raise Conflict(
            _("Only the unit head may dispatch a handling task to a sub-unit."), "not_allowed"
        )
    with _locked(task) as (task, _flow_task):
        below = unit_descendant_ids([task.case.responsible_unit_id]) - {
            task.case.responsible_unit_id
        }
        if unit.pk not in below:
            raise ValidationError({"unit": _("Choose a sub-unit of the responsible unit.")})
        if task.status != TaskStatus.OPEN:
            raise Conflict(_("Release the task before dispatching it to a sub-unit."), "task_taken")
        from_unit = task.unit_id
        task.unit = unit
        task.save(update_fields=["unit"])
        task_event(
            task=task,
            action="subdispatch",
            actor=actor,
            unit_id=unit.pk,
            payload={"from_unit": from_unit, "to_unit": unit.pk},
        )
    return task
