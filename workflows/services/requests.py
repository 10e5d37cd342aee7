"""Requests about a handling task: more time (延期), parking (挂账), waiting for the reporter.
A 12345 order's lead unit may ask for more time on its reply task too (its hotline centre's
shift leader decides the first request).

An extension request stops the task's clock until it is decided; the shift leader decides a
case's first request, the supervisor any later one. Parking stops the clock once approved,
until the shift leader resumes. Waiting for information stops it until the handler resumes.
Decisions are review tasks (ReviewFlow) completed through `task_complete`.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from cityops.compiled_queries import save_fields
from departments.access import centre_ids
from departments.models import Role

from ..flows.stages import REVIEW_STAGES
from ..models import (
    CaseRequest,
    CaseTask,
    HotlineOrder,
    PauseInterval,
    PauseReason,
    RequestKind,
    RequestStatus,
    Stage,
    TaskStatus,
)
from ..models.hotline import HOTLINE_STAGES
from ..sla.pauses import pause_end, pause_start
from .errors import Conflict
from .events import task_event
from .invariants import OPEN_TASK, REQUEST_STAGES, outstanding_request
from .transitions import flow_start, process_cancel, task_actor_check, task_locked

EXTENSION_UNITS = ("natural_hours", "working_hours", "working_days")
MAX_EXTENSION = {"natural_hours": 24 * 30, "working_hours": 8 * 60, "working_days": 60}


def _held_handling_task(actor, task: CaseTask, now, kind: str = "") -> None:
    """The actor holds an open, running handling task (checked under the case lock); a 12345
    lead unit's reply task may ask for more time too."""
    extendable = kind == RequestKind.EXTENSION and task.stage in REQUEST_STAGES
    if task.stage != Stage.HANDLING and not extendable:
        raise Conflict(_("Only a handling task can ask for this."), "not_allowed")
    if task.status != TaskStatus.CLAIMED or task.owner_id != actor.pk:
        raise Conflict(_("Claim the task first."), "not_holder")
    if task.paused_since is not None:
        raise Conflict(_("The task's clock is already stopped."), "paused")
    waiting = outstanding_request(task)
    if waiting is not None:  # one request at a time (a pending parking leaves the clock on)
        raise Conflict(
            _("A request about this task (%(kind)s) already awaits a decision.")
            % {"kind": waiting.get_kind_display()},
            "pending",
        )


def _required_reason(reason) -> str:
    if not (reason or "").strip():
        raise ValidationError({"reason": _("This field is required.")})
    return reason.strip()


def _clean_extension(amount, unit: str, reason: str) -> tuple[int, str, str]:
    errors = {}
    if unit not in EXTENSION_UNITS:
        errors["unit"] = _("Choose one of: %(units)s.") % {"units": ", ".join(EXTENSION_UNITS)}
    elif not isinstance(amount, int) or not 0 < amount <= MAX_EXTENSION[unit]:
        errors["amount"] = _("A whole number from 1 to %(max)d.") % {"max": MAX_EXTENSION[unit]}
    if not (reason or "").strip():
        errors["reason"] = _("This field is required.")
    if errors:
        raise ValidationError(errors)
    return amount, unit, reason.strip()


def _extension_decider(task: CaseTask, now) -> tuple[str, int]:
    """Not after the due time; the shift leader decides a case's first request, the
    supervisor any later one."""
    if task.due_at is not None and now >= task.due_at:
        raise Conflict(_("The due time has passed: too late to ask for more time."), "overdue")
    if not CaseRequest.objects.filter(case=task.case, kind=RequestKind.EXTENSION).exists():
        if task.stage in HOTLINE_STAGES:  # a 12345 order: its hotline centre decides
            return Role.SHIFT_LEADER, HotlineOrder.objects.get(pk=task.case_id).centre_id
        return Role.SHIFT_LEADER, centre_ids(task.case.city_id)[0]
    return Role.SUPERVISOR, task.case.city_id


def _parking_decider(task: CaseTask, now) -> tuple[str, int]:
    """The shift leader decides (one request at a time: `_held_handling_task`)."""
    return Role.SHIFT_LEADER, centre_ids(task.case.city_id)[0]


def _request_review(
    *, actor, task: CaseTask, kind: str, reason: str, said: dict, **fields
) -> CaseRequest:
    """What an extension and a parking request share, under the case lock: the actor holds
    the running handling task, the request's own check names who decides, the request row
    (an extension stops the clock), the review task of whoever decides, and the event."""
    decider, pause = {
        RequestKind.EXTENSION: (_extension_decider, PauseReason.EXTENSION),
        RequestKind.PARKING: (_parking_decider, None),
    }[kind]
    now = timezone.now()
    with task_locked(task) as (task, _flow_task):
        _held_handling_task(actor, task, now, kind)
        role, unit_id = decider(task, now)
        request = CaseRequest.objects.create(
            case=task.case,
            task=task,
            kind=kind,
            reason=reason,
            requested_by=actor,
            created_at=now,
            **fields,
        )
        if pause is not None:
            pause_start(task=task, reason=pause, now=now)
        flow_start(
            "review", f"start_{kind}", case=task.case, request=request, role=role, unit_id=unit_id
        )
        if kind == RequestKind.EXTENSION:
            said = {**said, "decided_by": role}
        task_event(task=task, action=f"{kind}_request", actor=actor, payload=said)
    return request


def extension_request(*, actor, task: CaseTask, amount, unit: str, reason: str) -> CaseRequest:
    """The handler asks for more time before the due time; the clock stops meanwhile."""
    task_actor_check(actor, task)
    amount, unit, reason = _clean_extension(amount, unit, reason)
    return _request_review(
        actor=actor,
        task=task,
        kind=RequestKind.EXTENSION,
        reason=reason,
        said={"amount": amount, "amount_unit": unit, "reason": reason},
        amount=amount,
        amount_unit=unit,
    )


def parking_request(*, actor, task: CaseTask, reason: str) -> CaseRequest:
    """The handler asks to park the case (挂账): it cannot be handled for now."""
    task_actor_check(actor, task)
    reason = _required_reason(reason)
    return _request_review(
        actor=actor, task=task, kind=RequestKind.PARKING, reason=reason, said={"reason": reason}
    )


def info_wait(*, actor, task: CaseTask, reason: str) -> CaseTask:
    """The handler waits for information from the reporter; the clock stops."""
    task_actor_check(actor, task)
    reason = _required_reason(reason)
    now = timezone.now()
    with task_locked(task) as (task, _flow_task):
        _held_handling_task(actor, task, now)
        pause_start(task=task, reason=PauseReason.WAITING_INFO, now=now)
        task_event(
            task=task,
            action="wait_info",
            actor=actor,
            payload={"reason": reason},
        )
    return task


def info_received(*, actor, task: CaseTask) -> CaseTask:
    """The information arrived: the clock runs again, the due time moved by the wait."""
    task_actor_check(actor, task)
    now = timezone.now()
    with task_locked(task) as (task, _flow_task):
        interval = PauseInterval.objects.filter(task=task, ended_at__isnull=True).first()
        if interval is None or interval.reason != PauseReason.WAITING_INFO:
            raise Conflict(_("The task is not waiting for information."), "not_waiting")
        if task.owner_id != actor.pk:
            raise Conflict(_("You do not hold this task."), "not_holder")
        ended = pause_end(task=task, now=now)
        task_event(
            task=task,
            action="info_received",
            actor=actor,
            payload={"paused_minutes": ended.paused_minutes, "due_at": task.due_at},
        )
    return task


def _reviews_cancel(case_id: int, request_ids: set[int] | None, now) -> int:
    """End the open review tasks of the case (of `request_ids` only, unless None) and their
    review processes; returns how many tasks ended."""
    reviews = CaseTask.objects.filter(
        case_id=case_id, stage__in=REVIEW_STAGES, status__in=OPEN_TASK
    ).select_related("task__process")
    ended = [
        r
        for r in reviews
        if request_ids is None or r.task.process.data.get("request") in request_ids
    ]
    for review in ended:
        process_cancel(review.task.process)
    CaseTask.objects.filter(pk__in=[r.pk for r in ended]).update(
        status=TaskStatus.CANCELLED, finished_at=now, next_threshold_at=None
    )
    return len(ended)


def request_withdraw(*, actor, task: CaseTask) -> CaseTask:
    """The handler withdraws their request awaiting a decision: its review task ends, and an
    extension request's stopped clock runs again (the due time moved by the wait)."""
    task_actor_check(actor, task)
    now = timezone.now()
    with task_locked(task) as (task, _flow_task):
        if task.status != TaskStatus.CLAIMED or task.owner_id != actor.pk:
            raise Conflict(_("You do not hold this task."), "not_holder")
        request = CaseRequest.objects.filter(task=task, status=RequestStatus.PENDING).first()
        if request is None:
            raise Conflict(_("No request about this task awaits a decision."), "not_pending")
        _reviews_cancel(task.case_id, {request.pk}, now)
        if request.kind == RequestKind.EXTENSION:
            pause_end(task=task, now=now)
        request.status, request.decided_at = RequestStatus.WITHDRAWN, now
        request.save(update_fields=["status", "decided_at"])
        task_event(
            task=task,
            action="request_withdraw",
            actor=actor,
            payload={"request": request.pk, "kind": request.kind},
        )
    return task


def requests_end_with_case(*, case_id: int, now) -> None:
    """The case is cancelled (the caller holds its lock): its pending requests end with it,
    their review tasks and processes too, and every stopped clock of its tasks stops for good."""
    _reviews_cancel(case_id, None, now)
    CaseRequest.objects.filter(case_id=case_id, status=RequestStatus.PENDING).update(
        status=RequestStatus.CANCELLED, decided_at=now
    )
    PauseInterval.objects.filter(case_id=case_id, ended_at__isnull=True).update(ended_at=now)
    CaseTask.objects.filter(case_id=case_id, paused_since__isnull=False).update(
        paused_since=None, next_threshold_at=None
    )


def review_apply(*, review: CaseTask, outcome: str, process_data: dict, actor, now) -> dict:
    """A review task's decision applied to the request and the handling task it concerns
    (the caller holds the case lock); returns what the audit event should say."""
    request = CaseRequest.objects.select_related("task__case", "task__calendar").get(
        pk=process_data["request"]
    )
    handling = request.task
    handling.case = review.case  # one object for the case, saved once by the caller too
    if review.stage == Stage.PARKED:  # resume after parking
        ended = pause_end(task=handling, now=now)
        request.status = RequestStatus.RESUMED
        said = {"paused_minutes": ended.paused_minutes if ended else 0}
    elif outcome == "approve" and request.kind == RequestKind.PARKING:
        pause_start(task=handling, reason=PauseReason.PARKED, now=now)
        request.status, said = RequestStatus.APPROVED, {}
    elif request.kind == RequestKind.EXTENSION:
        approved = outcome == "approve"
        extra = (request.amount, request.amount_unit) if approved else None
        pause_end(task=handling, now=now, extra=extra)
        request.status = RequestStatus.APPROVED if approved else RequestStatus.REJECTED
        if approved:
            handling.case.extension_count += 1
            save_fields(handling.case, ["extension_count", "updated_at"])
        if approved and handling.stage == Stage.HL_LEAD_REPLY:  # later reply tasks keep it
            HotlineOrder.objects.filter(pk=handling.case_id).update(handling_due_at=handling.due_at)
        said = {"amount": request.amount, "amount_unit": request.amount_unit} if approved else {}
    else:
        request.status, said = RequestStatus.REJECTED, {}
    if request.status != RequestStatus.RESUMED:
        request.decided_by, request.decided_at = actor, now
    save_fields(request, ["status", "decided_by", "decided_at"])
    return {
        "request": request.pk,
        "kind": request.kind,
        **said,
        "due_at": handling.due_at.isoformat() if handling.due_at else None,
    }
