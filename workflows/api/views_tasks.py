"""API views for task lists and task actions: claim, release, complete, second-level dispatch."""

from __future__ import annotations

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from departments.models import Unit

from ..models import CaseTask
from ..selectors.task_rows import TaskRow, task_row, task_row_for_user, task_rows
from ..selectors.tasks import BadCursor, task_to_act_on
from ..services.outcomes import task_complete
from ..services.requests import extension_request, info_received, info_wait, parking_request
from ..services.tasks import task_claim, task_release, task_subdispatch
from .schema import json_or_multipart, page_of
from .serializers import (
    MAX_ID,
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


def _task_or_404(user, task_id: int) -> CaseTask:
    """The task to act on (with its case, which the services lock through), or 404."""
    task = task_to_act_on(user, task_id)
    if task is None:
        raise Http404
    return task


def _unit(ref: str) -> Unit:
    """A unit given by id or by code (shape only: whether it may be chosen is the service's)."""
    ref = ref.strip()
    units = Unit.objects.filter(is_active=True)
    if ref.isascii() and ref.isdigit():
        unit = units.filter(pk=int(ref)).first() if int(ref) <= MAX_ID else None
    else:
        unit = units.filter(code=ref).first()
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
        try:
            page = task_rows(
                request.user, query["scope"], query.get("cursor") or None, query["limit"]
            )
        except BadCursor as exc:
            raise serializers.ValidationError(
                {"cursor": [_("This cursor is not valid: start from the first page.")]}
            ) from exc
        next_url = None
        if page.next_cursor:
            next_url = replace_query_param(request.build_absolute_uri(), "cursor", page.next_cursor)
        now = timezone.now()
        results = [task_row_output(row, user=request.user, now=now) for row in page.rows]
        return Response({"results": results, "next": next_url})


class TaskDetailView(APIView):
    required_scope = "tasks:act"

    @extend_schema(responses=TaskOutput)
    def get(self, request: Request, task_id: int) -> Response:
        row = task_row_for_user(request.user, task_id)
        if row is None:
            raise Http404
        return task_response(request, row)


class TaskClaimView(APIView):
    required_scope = "tasks:act"

    @extend_schema(request=None, responses=TaskOutput)
    def post(self, request: Request, task_id: int) -> Response:
        task = task_claim(actor=request.user, task=_task_or_404(request.user, task_id))
        return task_response(request, task)


class TaskReleaseView(APIView):
    required_scope = "tasks:act"

    @extend_schema(request=None, responses=TaskOutput)
    def post(self, request: Request, task_id: int) -> Response:
        task = task_release(actor=request.user, task=_task_or_404(request.user, task_id))
        return task_response(request, task)


class TaskCompleteView(APIView):
    """POST (JSON or multipart with repeated `photos`) {outcome, result, reason, …}."""

    required_scope = "tasks:act"

    @extend_schema(request=json_or_multipart(TaskCompleteInput), responses=TaskOutput)
    def post(self, request: Request, task_id: int) -> Response:
        task = _task_or_404(request.user, task_id)
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
        task = _task_or_404(request.user, task_id)  # includes the head of the task's unit
        unit = _unit(parse(TaskSubdispatchInput, request.data)["unit"])
        task = task_subdispatch(actor=request.user, task=task, unit=unit)
        return task_response(request, task)


class TaskExtensionView(APIView):
    """POST {amount, unit, reason}: the handler asks for more time (the clock stops until the
    shift leader, or the supervisor for a later request, decides)."""

    required_scope = "tasks:act"

    @extend_schema(request=ExtensionInput, responses={201: RequestOutput})
    def post(self, request: Request, task_id: int) -> Response:
        task = _task_or_404(request.user, task_id)
        data = parse(ExtensionInput, request.data)
        made = extension_request(actor=request.user, task=task, **data)
        return Response(RequestOutput(made).data, status=201)


class TaskParkingView(APIView):
    """POST {reason}: the handler asks to park the case (挂账); the shift leader decides."""

    required_scope = "tasks:act"

    @extend_schema(request=ReasonInput, responses={201: RequestOutput})
    def post(self, request: Request, task_id: int) -> Response:
        task = _task_or_404(request.user, task_id)
        reason = parse(ReasonInput, request.data)["reason"]
        made = parking_request(actor=request.user, task=task, reason=reason)
        return Response(RequestOutput(made).data, status=201)


class TaskWaitInfoView(APIView):
    """POST {reason}: waiting for information from the reporter stops the clock."""

    required_scope = "tasks:act"

    @extend_schema(request=ReasonInput, responses=TaskOutput)
    def post(self, request: Request, task_id: int) -> Response:
        task = _task_or_404(request.user, task_id)
        reason = parse(ReasonInput, request.data)["reason"]
        return task_response(request, info_wait(actor=request.user, task=task, reason=reason))


class TaskInfoReceivedView(APIView):
    """POST: the information arrived; the clock runs again."""

    required_scope = "tasks:act"

    @extend_schema(request=None, responses=TaskOutput)
    def post(self, request: Request, task_id: int) -> Response:
        task = _task_or_404(request.user, task_id)
        return task_response(request, info_received(actor=request.user, task=task))
