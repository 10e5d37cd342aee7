"""The task page: the task with its case, the outcomes the viewer may choose, second-level
dispatch for the unit head, and what it shows of requests about the task (the clock, the
request forms, the requests still waiting, and on a review task the request it decides).

The task actions (views.tasks) and the request actions (views.requests) render it again with
their bound form when the input was not valid.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from viewflow.workflow.models import Task as FlowTask

from departments.selectors import unit_descendant_ids
from workflows.access import can_act_on_task, can_subdispatch_task

from ..flows.stages import REVIEW_STAGES
from ..forms import (
    REQUEST_FORMS,
    ExtensionRequestForm,
    OutcomeForm,
    RequestForm,
    SubdispatchForm,
    outcome_forms,
    outcome_label,
)
from ..models import (
    CaseRequest,
    CaseTask,
    LimitUnit,
    PauseReason,
    PhotoKind,
    RequestStatus,
    Stage,
    TaskStatus,
)
from ..selectors.case_search import case_point
from ..services.outcomes import allowed_outcomes
from ..shortcuts import task_or_404
from ..sla.pauses import paused_between
from .actions import service_action

Result = TypeVar("Result")

# --- requests about the task -------------------------------------------------------------------


@dataclass(frozen=True)
class Clock:
    """A task's clock as its page shows it."""

    limit: str  # "4 working hours"; "" without a time limit
    working_time: bool  # paused minutes count working time only
    paused_since: dt.datetime | None
    pause_reason: str  # PauseReason value of the running pause, "" while the clock runs
    paused_minutes: int  # finished pauses plus the running one, in the limit's terms
    pending: list[tuple[CaseRequest, str]]  # requests awaiting a decision, with their amount

    @property
    def pause_label(self) -> str:
        return PauseReason(self.pause_reason).label if self.pause_reason else ""


def amount_label(amount: int | None, unit: str) -> str:
    """An amount with its unit as the pages show it: 2 working hours."""
    if amount is None:
        return ""
    return f"{amount} {LimitUnit(unit).label if unit in LimitUnit.values else unit}"


def task_clock(task: CaseTask, now: dt.datetime) -> Clock:
    """The task's limit, pause and pending requests (the calendar loaded with the task)."""
    reason, minutes = "", task.paused_minutes
    if task.paused_since is not None:
        running = task.pauses.filter(ended_at__isnull=True).values_list("reason", flat=True)
        reason = running.first() or ""
        minutes += paused_between(task, task.paused_since, now)
    pending = (
        [
            (r, amount_label(r.amount, r.amount_unit))
            for r in task.requests.filter(status=RequestStatus.PENDING).order_by("created_at")
        ]
        if task.stage == Stage.HANDLING and task.is_open
        else []
    )
    return Clock(
        limit=amount_label(task.limit_value, task.limit_unit),
        working_time=task.limit_unit.startswith("working"),
        paused_since=task.paused_since,
        pause_reason=reason,
        paused_minutes=minutes,
        pending=pending,
    )


def decided_request(task: CaseTask) -> CaseRequest | None:
    """The request a review task decides: ReviewFlow keeps its id in the process data."""
    if task.stage not in REVIEW_STAGES:
        return None
    data = FlowTask.objects.filter(pk=task.pk).values_list("process__data", flat=True).first()
    request_id = (data or {}).get("request")
    if request_id is None:
        return None
    return (
        CaseRequest.objects.select_related(
            "requested_by", "decided_by", "task__unit", "task__owner", "task__calendar"
        )
        .filter(pk=request_id, case_id=task.case_id)
        .first()
    )


def _offered(form_class: type[RequestForm], task: CaseTask, clock: Clock, now) -> bool:
    if clock.pending:  # one request at a time (services.invariants)
        return False
    if form_class is ExtensionRequestForm:  # more time only before the due time
        return task.due_at is None or now < task.due_at
    return True


def _request_forms(
    user, task: CaseTask, clock: Clock, now, bound: RequestForm | None
) -> list[tuple[RequestForm, str]]:
    """The requests the holder of a running handling task may make, with their URLs; a form
    posted with errors is shown again in its place whatever the state."""
    holds = task.status == TaskStatus.CLAIMED and task.owner_id == user.pk
    running = holds and task.stage == Stage.HANDLING and task.paused_since is None
    forms = []
    for form_class in REQUEST_FORMS:
        if bound is not None and type(bound) is form_class:
            forms.append(bound)
        elif running and _offered(form_class, task, clock, now):
            forms.append(form_class())
    return [(f, reverse(f"workflows:task-{f.name}", args=[task.pk])) for f in forms]


def task_request_context(user, task: CaseTask, *, bound: RequestForm | None = None) -> dict:
    """The task page's clock, request forms and decided request."""
    now = timezone.now()
    clock = task_clock(task, now)
    holds = task.status == TaskStatus.CLAIMED and task.owner_id == user.pk
    review = decided_request(task)
    return {
        "clock": clock,
        "request_forms": _request_forms(user, task, clock, now, bound),
        "too_late_for_more_time": holds
        and task.stage == Stage.HANDLING
        and task.paused_since is None
        and task.due_at is not None
        and now >= task.due_at,
        "can_note_info": holds and clock.pause_reason == PauseReason.WAITING_INFO,
        "review_request": review,
        "review_amount": amount_label(review.amount, review.amount_unit) if review else "",
    }


# --- the page and the actions on it ---------------------------------------------------------------


def sub_unit_ids(task: CaseTask) -> set[int]:
    responsible = task.case.responsible_unit_id
    return unit_descendant_ids([responsible]) - {responsible} if responsible else set()


def _subdispatch_offer(user, task: CaseTask) -> SubdispatchForm | None:
    """The second-level dispatch form, shown to the unit head of an open handling task."""
    if task.stage != Stage.HANDLING or task.status != TaskStatus.OPEN:
        return None
    if not can_subdispatch_task(user, task):
        return None
    return SubdispatchForm(sub_unit_ids=sub_unit_ids(task))


def render_task_page(
    request: HttpRequest,
    task: CaseTask,
    *,
    form: OutcomeForm | SubdispatchForm | RequestForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """The page of a task the viewer may see; a bound form (posted with errors: an outcome,
    second-level dispatch or a request) is shown in its place."""
    bound = form if isinstance(form, OutcomeForm) else None
    subdispatch = form if isinstance(form, SubdispatchForm) else None
    request_form = form if isinstance(form, RequestForm) else None
    names = allowed_outcomes(request.user, task)
    forms = [
        bound if bound and bound.outcome_name == f.outcome_name else f
        for f in outcome_forms(task, names)
    ]
    context = {
        "task": task,
        "case": task.case,
        "outcome_label": outcome_label(task.stage, task.outcome) if task.outcome else "",
        "outcome_forms": forms,
        # A bound form whose outcome is not offered here (e.g. posted by someone not holding
        # the task): its errors still have to be shown.
        "stray_form": bound if bound is not None and bound.outcome_name not in names else None,
        "can_claim": task.status == TaskStatus.OPEN and can_act_on_task(request.user, task),
        "holds": task.status == TaskStatus.CLAIMED and task.owner_id == request.user.pk,
        "subdispatch_form": subdispatch or _subdispatch_offer(request.user, task),
        "photos": [p for p in task.case.attachments.all() if p.kind == PhotoKind.BEFORE],
        "point": case_point(task.case),
        **task_request_context(request.user, task, bound=request_form),
    }
    return render(request, "workflows/task_detail.html", context, status=status)


def task_action(
    request: HttpRequest,
    task: CaseTask,
    call: Callable[[], Result],
    *,
    success: str | Callable[[Result], str],
    form: OutcomeForm | SubdispatchForm | RequestForm | None = None,
    then: str | None = None,
    back: str | None = None,
) -> HttpResponse:
    """An action on the task from its page (views.actions.service_action): input errors show
    the page again with the form, a refusal is a message; both `then` (after success) and
    `back` (after a refusal) default to the task's page."""
    here = reverse("workflows:task", args=[task.pk])
    return service_action(
        request,
        call,
        form=form,
        invalid=lambda: render_task_page(request, task, form=form, status=400),
        success=success,
        then=then or here,
        back=back or here,
    )


def task_service_action(
    request: HttpRequest,
    task_id: int,
    service: Callable[..., Result],
    *,
    success: str | Callable[[Result], str],
    then: str | None = None,
    back: str | None = None,
) -> HttpResponse:
    """`service(actor=…, task=…)` on a task the user may see, as `task_action` (the actions
    that take no input: claim, release, information received)."""
    task = task_or_404(request.user, task_id)
    return task_action(
        request,
        task,
        lambda: service(actor=request.user, task=task),
        success=success,
        then=then,
        back=back,
    )
