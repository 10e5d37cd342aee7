"""API views for task lists and task actions: claim, release, complete, second-level dispatch."""

from __future__ import annotations

from collections.abc import Callable

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from departments.models import Unit

from ..models import CaseTask
from ..selectors.lookups import unit_by_ref
from ..services.outcomes import task_complete
from ..services.requests import (
    extension_request,
    info_received,
    info_wait,
    parking_request,
    request_withdraw,
)
from ..services.tasks import task_claim, task_release, task_subdispatch
from ..shortcuts import task_to_act_on_or_404
from ..sql.task_rows import TaskRow, task_row, task_row_for_user, task_rows
from .pagination import page_response
from .schema import json_or_multipart, page_of
from .serializers import (
    ExtensionInput,
    ReasonInput,
    RequestOutput,
    TaskCompleteInput,
    TaskListQuery,
    TaskOutput,
    TaskSubdispatchInput,
    parse,
    task_row_output,
)


def task_response(request: Request, task: CaseTask | TaskRow) -> Response:
    """The task as it is now (after the action), read as one row."""
    row = task if isinstance(task, TaskRow) else task_row(task.pk)
    return Response(task_row_output(row, user=request.user, now=timezone.now()))


def _unit(ref: str) -> Unit:
    """A unit given by id or by code (shape only: whether it may be chosen is the service's)."""
    unit = unit_by_ref(ref)
    if unit is None:
        raise serializers.ValidationError({"unit": [_("Unknown unit.")]})
    return unit


class TaskListView(APIView):
    """GET ?scope=inbox|queue|done&cursor=&limit= → {"results": [...], "next": url|null}."""

    required_scope = "tasks:act"

    @extend_schema(
        operation_id="tasks_list",
        parameters=[TaskListQuery],
        responses=page_of("TaskPage", TaskOutput),
    )
    def get(self, request: Request) -> Response:
        query = parse(TaskListQuery, request.query_params)
        now = timezone.now()
        return page_response(
            request,
            query,
            lambda cursor: task_rows(request.user, query["scope"], cursor, query["limit"]),
            lambda rows: [task_row_output(row, user=request.user, now=now) for row in rows],
        )


class TaskDetailView(APIView):
    required_scope = "tasks:act"

    @extend_schema(responses=TaskOutput)
    def get(self, request: Request, task_id: int) -> Response:
        row = task_row_for_user(request.user, task_id)
        if row is None:
            raise Http404
        return task_response(request, row)


class TaskActionView(APIView):
    # POST without a body: `service(actor=…, task=…)` acts on the task, the answer is the task
    # as it is now. (A comment, not a docstring: the schema would show it for every action.)
    required_scope = "tasks:act"
    service: Callable[..., CaseTask]

    @extend_schema(request=None, responses=TaskOutput)
    def post(self, request: Request, task_id: int) -> Response:
        task = task_to_act_on_or_404(request.user, task_id)
        return task_response(request, self.service(actor=request.user, task=task))


class TaskClaimView(TaskActionView):
    service = staticmethod(task_claim)


class TaskReleaseView(TaskActionView):
    service = staticmethod(task_release)


class TaskCompleteView(APIView):
    """POST (JSON or multipart with repeated `photos`) {outcome, result, reason, …}."""

    required_scope = "tasks:act"

    @extend_schema(request=json_or_multipart(TaskCompleteInput), responses=TaskOutput)
    def post(self, request: Request, task_id: int) -> Response:
        task = task_to_act_on_or_404(request.user, task_id)
        data = parse(TaskCompleteInput, request.data)
        fields = {name: data[name] for name in TaskCompleteInput.DATA_FIELDS if data.get(name)}
        task = task_complete(
            actor=request.user,
            task=task,
            outcome=data["outcome"],
            data=fields,
            photos=data["photos"],
        )
        return task_response(request, task)


class TaskSubdispatchView(APIView):
    """POST {unit: code or id}: the unit head sends a handling task to a sub-unit."""

    required_scope = "tasks:act"

    @extend_schema(request=TaskSubdispatchInput, responses=TaskOutput)
    def post(self, request: Request, task_id: int) -> Response:
        task = task_to_act_on_or_404(request.user, task_id)  # includes the head of the task's unit
        unit = _unit(parse(TaskSubdispatchInput, request.data)["unit"])
        task = task_subdispatch(actor=request.user, task=task, unit=unit)
        return task_response(request, task)


class TaskExtensionView(APIView):
    """POST {amount, unit, reason}: the handler asks for more time (the clock stops until the
    shift leader, or the supervisor for a later request, decides)."""

    required_scope = "tasks:act"

    @extend_schema(request=ExtensionInput, responses={201: RequestOutput})
    def post(self, request: Request, task_id: int) -> Response:
        task = task_to_act_on_or_404(request.user, task_id)
        data = parse(ExtensionInput, request.data)
        made = extension_request(actor=request.user, task=task, **data)
        return Response(RequestOutput(made).data, status=201)


class TaskParkingView(APIView):
    """POST {reason}: the handler asks to park the case (挂账); the shift leader decides."""

    required_scope = "tasks:act"

    @extend_schema(request=ReasonInput, responses={201: RequestOutput})
    def post(self, request: Request, task_id: int) -> Response:
        task = task_to_act_on_or_404(request.user, task_id)
        reason = parse(ReasonInput, request.data)["reason"]
        made = parking_request(actor=request.user, task=task, reason=reason)
        return Response(RequestOutput(made).data, status=201)


class TaskWaitInfoView(APIView):
    """POST {reason}: waiting for information from the reporter stops the clock."""

    required_scope = "tasks:act"

    @extend_schema(request=ReasonInput, responses=TaskOutput)
    def post(self, request: Request, task_id: int) -> Response:
        task = task_to_act_on_or_404(request.user, task_id)
        reason = parse(ReasonInput, request.data)["reason"]
        return task_response(request, info_wait(actor=request.user, task=task, reason=reason))


class TaskInfoReceivedView(TaskActionView):
    """POST: the information arrived; the clock runs again."""

    service = staticmethod(info_received)


class TaskWithdrawRequestView(TaskActionView):
    """POST: the handler withdraws their request awaiting a decision (its review ends)."""

    service = staticmethod(request_withdraw)
