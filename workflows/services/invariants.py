"""Guards that keep a case whole (issue 14): a task with a request awaiting a decision is
neither completed, returned nor released until the request is decided or withdrawn; a task
has at most one such request; a case ends only when no other task of it is open.

The guards run under the case's process lock (services.tasks._locked), so a request and a
completion of the same task cannot both pass them. `workflows.selectors.invariants` finds the
cases where these rules were broken anyway (`manage.py check_invariants`).
"""

from __future__ import annotations

from django.db.models import OuterRef, Q, Subquery
from django.utils.translation import gettext as _

from ..models import CaseRequest, CaseTask, RequestKind, RequestStatus, Stage, TaskStatus
from .errors import Conflict

OPEN_TASK = (TaskStatus.OPEN, TaskStatus.CLAIMED)
# Tasks that may carry requests: the case's handling, and the 12345 lead unit's handling and
# reply (first time and re-handling), which may ask for more time (延期) only.
REQUEST_STAGES = (Stage.HANDLING, Stage.HL_LEAD_REPLY, Stage.HL_REHANDLE)


def _outstanding(requests):
    return requests.filter(
        Q(status=RequestStatus.PENDING)
        | Q(kind=RequestKind.PARKING, status=RequestStatus.APPROVED)  # parked until resumed
    ).order_by("-created_at", "-id")


# The id of the task's outstanding request, as an annotation of the transition's locked
# re-read (services.transitions.locked_read): one statement fewer per transition.
OUTSTANDING_REQUEST = "cityops_outstanding_request"


def outstanding_request_annotation() -> Subquery:
    return Subquery(
        _outstanding(CaseRequest.objects.filter(task_id=OuterRef("pk"))).values("id")[:1]
    )


def outstanding_request(task: CaseTask) -> CaseRequest | None:
    """The task's request awaiting a decision, or its approved parking not yet resumed."""
    if task.stage not in REQUEST_STAGES:
        return None
    if hasattr(task, OUTSTANDING_REQUEST):  # read with the task, under the same lock
        request_id = getattr(task, OUTSTANDING_REQUEST)
        return None if request_id is None else CaseRequest.objects.get(pk=request_id)
    return _outstanding(CaseRequest.objects.filter(task_id=task.pk)).first()


def refuse_if_request_outstanding(task: CaseTask) -> None:
    """409 while a request about the task waits, the task is parked, or it waits for the
    reporter's information (its clock stopped for any reason)."""
    request = outstanding_request(task)
    if request is None:
        if task.paused_since is not None:
            raise Conflict(
                _(
                    "The task waits for information from the reporter: note that the "
                    "information arrived first."
                ),
                "paused",
            )
        return
    if request.status == RequestStatus.APPROVED:
        raise Conflict(_("The task is parked: the shift leader must resume it first."), "parked")
    raise Conflict(
        _(
            "A request about this task (%(kind)s) awaits a decision: wait for the decision "
            "or withdraw the request first."
        )
        % {"kind": request.get_kind_display()},
        "request_pending",
    )


def refuse_if_other_tasks_open(task: CaseTask) -> None:
    """409 when ending the case would leave another of its tasks open (e.g. a parked one)."""
    others = CaseTask.objects.filter(case_id=task.case_id, status__in=OPEN_TASK).exclude(pk=task.pk)
    if others.exists():
        raise Conflict(
            _(
                "Another task of this case is still open (for example a parked task or a "
                "request awaiting a decision): finish it before ending the case."
            ),
            "open_tasks",
        )
