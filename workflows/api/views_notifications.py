"""API views for the user's notifications: the list (cursor-paginated) and marking read."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from ..services.notifications import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    BadCursor,
    notification_page,
    notifications_mark_read,
    unread_count,
)
from .schema import page_of
from .serializers import MAX_ID, parse

MAX_IDS = 1000


class NotificationListQuery(serializers.Serializer):
    cursor = serializers.CharField(required=False, allow_blank=True, max_length=200)
    limit = serializers.IntegerField(
        min_value=1, max_value=MAX_PAGE_SIZE, default=DEFAULT_PAGE_SIZE
    )


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
        try:
            page = notification_page(request.user, query.get("cursor") or None, query["limit"])
        except BadCursor as exc:
            raise serializers.ValidationError(
                {"cursor": [_("This cursor is not valid: start from the first page.")]}
            ) from exc
        next_url = None
        if page.next_cursor:
            next_url = replace_query_param(request.build_absolute_uri(), "cursor", page.next_cursor)
        return Response(
            {
                "results": NotificationOutput(page.rows, many=True).data,
                "next": next_url,
                "unread": unread_count(request.user),
            }
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
