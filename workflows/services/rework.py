"""Rework (返工) goes back to the handler who did the work: when a check fails, the new
handling task opens in that handler's inbox, already theirs, unless they have left the unit
(then it waits in the unit's queue as any other handling task)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from viewflow.workflow.status import STATUS

from cityops.compiled_queries import save_fields
from workflows import access

from ..models import Case, CaseTask, Stage, TaskStatus
from .events import task_event
from .notifications import notify


def rework_previous(case: Case) -> CaseTask | None:
    """The handling task whose work the failed check refused: the latest one finished as
    done, if its handler may still take the rework (see access.may_take_rework)."""
    last = (
        CaseTask.objects.filter(case=case, stage=Stage.HANDLING, status=TaskStatus.DONE)
        .filter(outcome="done")
        .select_related("owner")
        .order_by("-finished_at", "-task_id")
        .first()
    )
    if last is None or last.owner is None or not access.may_take_rework(last.owner, last):
        return None
    return last


def rework_assign(*, task: CaseTask, flow_task, previous: CaseTask) -> CaseTask:
    """Hand the just-opened rework task to `previous`'s handler: their inbox, not the queue
    (the system acts: it is recorded as an event without an actor)."""
    handler = previous.owner
    # What viewflow's assign() writes, as task_claim does.
    flow_task.owner, flow_task.status = handler, STATUS.ASSIGNED
    save_fields(flow_task, ["owner", "status"])
    task.status, task.owner, task.claimed_at = TaskStatus.CLAIMED, handler, task.created_at
    save_fields(task, ["status", "owner", "claimed_at"])
    task_event(
        task=task,
        action="rework_assign",
        actor=None,
        payload={"owner": handler.get_username(), "previous_task": previous.pk},
    )
    notify(
        users=[handler],
        kind="rework",
        title=_("Rework on case %(number)s is in your inbox") % {"number": task.case.number},
        case=task.case,
        email=False,
    )
    return task
