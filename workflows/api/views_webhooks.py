"""API views for webhook subscriptions: subscribe, list one's own, unsubscribe, read the
delivery log. Staff users and API keys with `webhooks:manage` (the service checks)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..integrations.webhook_subscriptions import (
    webhook_deliveries,
    webhook_subscribe,
    webhook_subscriptions,
    webhook_unsubscribe,
)
from ..integrations.webhooks import EVENT_TYPES
from ..models import Scope
from .serializers import parse

DEFAULT_LOG_SIZE = 50
MAX_LOG_SIZE = 200


class WebhookSubscribeInput(serializers.Serializer):
    url = serializers.CharField(max_length=500)
    events = serializers.ListField(
        child=serializers.CharField(max_length=40), min_length=1, max_length=len(EVENT_TYPES)
    )
    secret = serializers.CharField(required=False, min_length=16, max_length=128)


class DeliveryLogQuery(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=MAX_LOG_SIZE, default=DEFAULT_LOG_SIZE)


class WebhookOutput(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField()
    events = serializers.ListField(child=serializers.CharField())
    is_active = serializers.BooleanField()
    failures_in_a_row = serializers.IntegerField()
    disabled_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class WebhookCreatedOutput(WebhookOutput):
    """The secret is shown in this response only."""

    secret = serializers.CharField()


class DeliveryOutput(serializers.Serializer):
    id = serializers.UUIDField(source="delivery_id")
    event_id = serializers.UUIDField()
    event_type = serializers.CharField()
    attempts = serializers.IntegerField()
    last_status = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField()
    delivered_at = serializers.DateTimeField(allow_null=True)
    failed_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class WebhookListView(APIView):
    """GET → the caller's subscriptions; POST {url, events, secret?} → 201 (with the secret)."""

    required_scope = Scope.WEBHOOKS_MANAGE

    @extend_schema(responses=WebhookOutput(many=True))
    def get(self, request: Request) -> Response:
        rows = webhook_subscriptions(actor=request.user)
        return Response(WebhookOutput(rows, many=True).data)

    @extend_schema(request=WebhookSubscribeInput, responses={201: WebhookCreatedOutput})
    def post(self, request: Request) -> Response:
        data = parse(WebhookSubscribeInput, request.data)
        subscription = webhook_subscribe(actor=request.user, **data)
        return Response(WebhookCreatedOutput(subscription).data, status=status.HTTP_201_CREATED)


class WebhookDetailView(APIView):
    """DELETE → 204; someone else's subscription is 404."""

    required_scope = Scope.WEBHOOKS_MANAGE

    @extend_schema(responses={204: None})
    def delete(self, request: Request, subscription_id: int) -> Response:
        webhook_unsubscribe(actor=request.user, subscription_id=subscription_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookDeliveryListView(APIView):
    """GET ?limit= → the subscription's newest deliveries, newest first."""

    required_scope = Scope.WEBHOOKS_MANAGE

    @extend_schema(parameters=[DeliveryLogQuery], responses=DeliveryOutput(many=True))
    def get(self, request: Request, subscription_id: int) -> Response:
        query = parse(DeliveryLogQuery, request.query_params)
        rows = webhook_deliveries(
            actor=request.user, subscription_id=subscription_id, limit=query["limit"]
        )
        return Response(DeliveryOutput(rows, many=True).data)
