"""Requests about a handling task, made from its page: more time (延期), parking (挂账),
waiting for the reporter, and noting that the information arrived. Also what the task page
shows of them: the task's clock, the requests still waiting, and on a review task the request
it decides (the decisions themselves are the review task's ordinary outcomes)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from viewflow.workflow.models import Task as FlowTask

from ..flows.stages import REVIEW_STAGES
from ..forms import (
    REQUEST_FORMS,
    ExtensionRequestForm,
    InfoWaitForm,
    ParkingRequestForm,
    RequestForm,
    add_service_errors,
)
from ..models import (
    CaseRequest,
    CaseTask,
    LimitUnit,
    PauseReason,
    RequestKind,
    RequestStatus,
    Stage,
    TaskStatus,
)
from ..selectors.tasks import task_for_user
from ..services.errors import Conflict
from ..services.requests import extension_request, info_received, info_wait, parking_request
from ..sla.pauses import paused_between

# --- what the task page shows -----------------------------------------------------------------


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
    if form_class is ExtensionRequestForm:  # more time only before the due time
        return task.due_at is None or now < task.due_at
    if form_class is ParkingRequestForm:  # one parking request at a time
        return not any(r.kind == RequestKind.PARKING for r, _amount in clock.pending)
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
    """The task page's clock, request forms and decided request (tasks._task_page adds these
    to its context)."""
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


# --- the requests ---------------------------------------------------------------------------


def _task_or_404(user, task_id: int) -> CaseTask:
    task = task_for_user(user, task_id)
    if task is None:
        raise Http404
    return task


def _when(moment: dt.datetime | None) -> str:
    return date_format(timezone.localtime(moment), "Y-m-d H:i") if moment else "—"


def _post(request: HttpRequest, task_id: int, form_class: type[RequestForm], service, said):
    """Parse the form, call the service; errors go back on the task page (400), conflicts
    as a message. `said(result)` is the success message."""
    from .tasks import _task_page  # the task page includes these forms

    task = _task_or_404(request.user, task_id)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            result = service(actor=request.user, task=task, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        except Conflict as exc:
            messages.error(request, exc.message)
            return redirect("workflows:task", task_id=task.pk)
        else:
            messages.success(request, said(result))
            return redirect("workflows:task", task_id=task.pk)
    return _task_page(request, task, request_form=form, status=400)


@login_required
@require_POST
def task_extension_view(request: HttpRequest, task_id: int) -> HttpResponse:
    return _post(
        request,
        task_id,
        ExtensionRequestForm,
        extension_request,
        lambda r: (
            _("Asked for %(amount)s more: the clock stands still until it is decided.")
            % {"amount": amount_label(r.amount, r.amount_unit)}
        ),
    )


@login_required
@require_POST
def task_parking_view(request: HttpRequest, task_id: int) -> HttpResponse:
    return _post(
        request,
        task_id,
        ParkingRequestForm,
        parking_request,
        lambda r: _("Parking requested: the shift leader decides."),
    )


@login_required
@require_POST
def task_waiting_info_view(request: HttpRequest, task_id: int) -> HttpResponse:
    return _post(
        request,
        task_id,
        InfoWaitForm,
        info_wait,
        lambda t: _("Waiting for the reporter: the clock stands still."),
    )


@login_required
@require_POST
def task_info_received_view(request: HttpRequest, task_id: int) -> HttpResponse:
    task = _task_or_404(request.user, task_id)
    try:
        task = info_received(actor=request.user, task=task)
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Information received: the clock runs again, due %(due)s.")
            % {"due": _when(task.due_at)},
        )
    return redirect("workflows:task", task_id=task.pk)
