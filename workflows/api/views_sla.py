"""API views for supervision: the SLA board, the breach list, supervision orders (督办).

Users without a supervisor, admin or unit head post get 404 (not 403) on the board, breach
and order lists, like every object that is not theirs: the API does not say what exists.
The serializers are here while only these views use them.
"""

from __future__ import annotations

from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..models import SupervisionOrder
from ..selectors.sla import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    board_counts,
    board_totals,
    breaches,
    order_for_user,
    order_is_late,
    order_page,
)
from ..services.supervision import order_issue, order_reply
from ..shortcuts import case_or_404, require_board
from ..sla.state import task_sla
from .pagination import cursor_field, limit_field, page_response
from .schema import page_of
from .serializers import MAX_ID, TEXT_MAX, UnitOutput, parse

# --- input -----------------------------------------------------------------------------------


def _id() -> serializers.IntegerField:
    return serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)


class BoardQuery(serializers.Serializer):
    category = _id()
    area = _id()
    since = serializers.DateTimeField(required=False)  # reported at or after
    until = serializers.DateTimeField(required=False)  # reported before


class BreachQuery(serializers.Serializer):
    unit = _id()
    category = _id()
    area = _id()
    cursor = cursor_field()
    limit = limit_field(default=DEFAULT_PAGE_SIZE, maximum=MAX_PAGE_SIZE)


class PageQuery(serializers.Serializer):
    cursor = cursor_field()
    limit = limit_field(default=DEFAULT_PAGE_SIZE, maximum=MAX_PAGE_SIZE)


class OrderIssueInput(serializers.Serializer):
    # Required (and judged) by the service, which says so as a field error.
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=TEXT_MAX
    )
    reply_due_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class OrderReplyInput(serializers.Serializer):
    reply = serializers.CharField(required=False, allow_blank=True, default="", max_length=TEXT_MAX)


# --- output ----------------------------------------------------------------------------------


class CaseRefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()


class UnitRowOutput(serializers.Serializer):
    unit = UnitOutput()
    open = serializers.IntegerField()
    at_risk = serializers.IntegerField()
    overdue = serializers.IntegerField()
    paused = serializers.IntegerField()
    supervised = serializers.IntegerField()


class BreachOutput(serializers.Serializer):
    """A task past its due time; context: `now`."""

    task = serializers.IntegerField(source="task_id")
    case = CaseRefOutput()
    stage = serializers.CharField()
    unit = serializers.CharField(source="unit.code")
    due_at = serializers.DateTimeField()
    overdue_seconds = serializers.SerializerMethodField()
    owner = serializers.CharField(source="owner.username", allow_null=True)
    sla_state = serializers.SerializerMethodField()
    open_orders = serializers.IntegerField()

    def get_overdue_seconds(self, task) -> int:
        return max(0, int((self.context["now"] - task.due_at).total_seconds()))

    def get_sla_state(self, task) -> str | None:
        return task_sla(task, self.context["now"]).state


class OrderOutput(serializers.Serializer):
    id = serializers.IntegerField()
    case = CaseRefOutput()
    task = serializers.IntegerField(source="task_id", allow_null=True)
    unit = UnitOutput()
    issued_by = serializers.CharField(source="issued_by.username", allow_null=True)
    reason = serializers.CharField()
    reply_due_at = serializers.DateTimeField()
    status = serializers.CharField()
    late = serializers.SerializerMethodField()
    reply = serializers.CharField()
    replied_by = serializers.CharField(source="replied_by.username", allow_null=True)
    replied_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()

    def get_late(self, order: SupervisionOrder) -> bool:
        """Awaiting a reply past its reply due time, or replied after it."""
        return order_is_late(order)


# --- views -----------------------------------------------------------------------------------


class BoardView(APIView):
    """GET ?category=&area=&since=&until= → {"results": [per unit counts], "totals", "as_of"}.
    `area` includes the areas below it; since/until bound the case's report time."""

    @extend_schema(
        parameters=[BoardQuery],
        responses=inline_serializer(
            name="Board",
            fields={
                "results": UnitRowOutput(many=True),
                "totals": serializers.DictField(child=serializers.IntegerField()),
                "as_of": serializers.DateTimeField(),
            },
        ),
    )
    def get(self, request: Request) -> Response:
        require_board(request.user)
        query = parse(BoardQuery, request.query_params)
        now = timezone.now()
        rows = board_counts(
            request.user,
            category_id=query.get("category"),
            area_id=query.get("area"),
            since=query.get("since"),
            until=query.get("until"),
            now=now,
        )
        return Response(
            {
                "results": UnitRowOutput(rows, many=True).data,
                "totals": board_totals(rows),
                "as_of": serializers.DateTimeField().to_representation(now),
            }
        )


class BreachListView(APIView):
    """GET ?unit=&category=&area=&cursor=&limit= → {"results": [...], "next": url|null}, the
    most overdue first."""

    @extend_schema(parameters=[BreachQuery], responses=page_of("BreachPage", BreachOutput))
    def get(self, request: Request) -> Response:
        require_board(request.user)
        query = parse(BreachQuery, request.query_params)
        now = timezone.now()
        return page_response(
            request,
            query,
            lambda cursor: breaches(
                request.user,
                unit_id=query.get("unit"),
                category_id=query.get("category"),
                area_id=query.get("area"),
                cursor=cursor,
                limit=query["limit"],
                now=now,
            ),
            lambda rows: BreachOutput(rows, many=True, context={"now": now}).data,
        )


class OrderListView(APIView):
    """GET ?cursor=&limit= → the user's orders: awaiting a reply first, then replied."""

    @extend_schema(parameters=[PageQuery], responses=page_of("OrderPage", OrderOutput))
    def get(self, request: Request) -> Response:
        require_board(request.user)
        query = parse(PageQuery, request.query_params)
        return page_response(
            request,
            query,
            lambda cursor: order_page(request.user, cursor=cursor, limit=query["limit"]),
            lambda rows: OrderOutput(rows, many=True).data,
        )


class CaseSuperviseView(APIView):
    """POST {reason, reply_due_at} → 201 with the order (to the case's responsible unit)."""

    @extend_schema(request=OrderIssueInput, responses={201: OrderOutput})
    def post(self, request: Request, case_id: int) -> Response:
        case = case_or_404(request.user, case_id)
        data = parse(OrderIssueInput, request.data)
        order = order_issue(actor=request.user, case=case, **data)
        return Response(OrderOutput(order).data, status=status.HTTP_201_CREATED)


class OrderReplyView(APIView):
    """POST {reply} → the replied order (the head of the order's unit, once)."""

    @extend_schema(request=OrderReplyInput, responses=OrderOutput)
    def post(self, request: Request, order_id: int) -> Response:
        order = order_for_user(request.user, order_id)
        if order is None:
            raise Http404
        data = parse(OrderReplyInput, request.data)
        order = order_reply(actor=request.user, order=order, reply=data["reply"])
        return Response(OrderOutput(order).data)
