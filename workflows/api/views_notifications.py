"""API views for the user's notifications: the list (cursor-paginated) and marking read."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..services.notifications import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    notification_page,
    notifications_mark_read,
    unread_count,
)
from .pagination import cursor_field, limit_field, page_response
from .schema import page_of
from .serializers import MAX_ID, parse

MAX_IDS = 1000


class NotificationListQuery(serializers.Serializer):
    cursor = cursor_field()
    limit = limit_field(default=DEFAULT_PAGE_SIZE, maximum=MAX_PAGE_SIZE)


class NotificationReadInput(serializers.Serializer):
    """{"ids": [...]} marks those; {} marks every unread notification."""

    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        allow_empty=True,
        max_length=MAX_IDS,
    )


class NotificationCaseOutput(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()


class NotificationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    title = serializers.CharField()
    body = serializers.CharField()
    case = NotificationCaseOutput(allow_null=True)
    created_at = serializers.DateTimeField()
    read = serializers.SerializerMethodField()

    def get_read(self, notification) -> bool:
        return notification.read_at is not None


class NotificationListView(APIView):
    """GET ?cursor=&limit= → {"results": [...], "next": url|null, "unread": n}."""

    @extend_schema(
        parameters=[NotificationListQuery],
        responses=page_of(
            "NotificationPage", NotificationOutput, unread=serializers.IntegerField()
        ),
    )
    def get(self, request: Request) -> Response:
        query = parse(NotificationListQuery, request.query_params)
        return page_response(
            request,
            query,
            lambda cursor: notification_page(request.user, cursor, query["limit"]),
            lambda rows: NotificationOutput(rows, many=True).data,
            unread=unread_count(request.user),
        )


class NotificationReadView(APIView):
    """POST {"ids": [..]} or {} → {"marked": n}: only the caller's own notifications."""

    @extend_schema(
        request=NotificationReadInput,
        responses=inline_serializer(name="Marked", fields={"marked": serializers.IntegerField()}),
    )
    def post(self, request: Request) -> Response:
        data = parse(NotificationReadInput, request.data)
        marked = notifications_mark_read(actor=request.user, ids=data.get("ids"))
        return Response({"marked": marked})
