"""API of the 12345 hotline: report an order with the caller's data (API keys with the scope
`hotline:report`, or agents), read an order (the caller masked unless the reader's post needs
it), act on a hotline task with an outcome, and the citizens' public progress query."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import Throttled
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from departments.models import Unit, UnitKind
from workflows import access

from ..integrations.throttling import public_query_allowed
from ..models import HotlineOrder, ReplyChannel, RequestType, Urgency
from ..selectors.hotline import (
    caller_for,
    order_for_user,
    order_public,
    order_tasks,
    public_progress,
)
from ..selectors.lookups import unit_by_ref
from ..services.hotline import OrderReport, hotline_categories, hotline_complete, order_report
from ..shortcuts import task_or_404
from .serializers import parse


class HotlineOrderInput(serializers.Serializer):
    centre = serializers.CharField(required=False, help_text="Hotline centre id or code")
    category = serializers.CharField(help_text="Hotline category id or code (小类)")
    request_type = serializers.ChoiceField(choices=RequestType.choices)
    text = serializers.CharField()
    caller_name = serializers.CharField(required=False, allow_blank=True, max_length=80)
    caller_phone = serializers.CharField(required=False, allow_blank=True, max_length=20)
    urgency = serializers.ChoiceField(choices=Urgency.choices, default=Urgency.NORMAL)
    reply_channel = serializers.ChoiceField(choices=ReplyChannel.choices, default="phone")
    reply_address = serializers.CharField(required=False, allow_blank=True, max_length=120)
    address = serializers.CharField(required=False, allow_blank=True, max_length=255)
    lat = serializers.FloatField(required=False, min_value=-90, max_value=90)
    lng = serializers.FloatField(required=False, min_value=-180, max_value=180)


class HotlineOrderOutput(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    query_code = serializers.CharField(required=False)
    request_type = serializers.CharField()
    category = serializers.CharField()
    stage = serializers.CharField()
    status = serializers.CharField()
    caller_name = serializers.CharField(help_text="Masked unless the reader's post needs it")
    caller_phone = serializers.CharField(help_text="Masked (138****1234) unless needed")
    lead_unit = serializers.CharField(allow_null=True)
    reply = serializers.CharField()
    satisfaction = serializers.CharField()
    open_tasks = serializers.ListField(child=serializers.DictField())


class HotlineOutcomeInput(serializers.Serializer):
    data = serializers.DictField(required=False, help_text="The outcome's fields")


class PublicOrderOutput(serializers.Serializer):
    number = serializers.CharField()
    stage = serializers.CharField(help_text="received · dispatched · handling · replied · closed")
    status = serializers.CharField()
    reported_at = serializers.DateTimeField()
    dispatched_at = serializers.DateTimeField(allow_null=True)
    replied_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    reply = serializers.CharField()
    answer = serializers.CharField()


def order_body(user, order: HotlineOrder, *, with_code: bool = False) -> dict:
    caller = caller_for(user, order)
    body = {
        "id": order.pk,
        "number": order.case.number,
        "request_type": order.request_type,
        "category": order.case.category.code,
        "stage": order.case.stage,
        "status": order.case.status,
        "caller_name": caller.name,
        "caller_phone": caller.phone,
        "lead_unit": order.lead_unit.code if order.lead_unit_id else None,
        "reply": order.reply_text,
        "satisfaction": order.satisfaction,
        "open_tasks": [
            {"id": t.pk, "stage": t.stage, "unit": t.unit.code, "due_at": t.due_at}
            for t in order_tasks(order)
            if t.is_open
        ],
    }
    if with_code:
        body["query_code"] = order.query_code
    return body


def _centre(user, ref) -> Unit:
    centres = Unit.objects.filter(kind=UnitKind.HOTLINE, is_active=True)
    if ref:
        centre = unit_by_ref(ref, queryset=centres)
    else:
        held = access.agent_centre_ids(user)
        centre = centres.filter(pk__in=held).order_by("code").first()
    if centre is None:
        raise serializers.ValidationError({"centre": ["Unknown hotline centre."]})
    return centre


class HotlineOrderReportView(APIView):
    """POST → 201 with the new order and its query code (for the citizen)."""

    required_scope = "hotline:report"

    @extend_schema(request=HotlineOrderInput, responses={201: HotlineOrderOutput})
    def post(self, request: Request) -> Response:
        data = parse(HotlineOrderInput, request.data)
        ref = data["category"].strip()  # a code (digits too: "010101") or an id
        categories = hotline_categories()
        category = categories.filter(code=ref).first() or unit_by_ref(ref, queryset=categories)
        if category is None:
            raise serializers.ValidationError({"category": ["Unknown hotline category."]})
        order = order_report(
            actor=request.user,
            report=OrderReport(
                centre=_centre(request.user, data.get("centre")),
                category=category,
                request_type=data["request_type"],
                text=data["text"],
                caller_name=data.get("caller_name", ""),
                caller_phone=data.get("caller_phone", ""),
                urgency=data["urgency"],
                reply_channel=data["reply_channel"],
                reply_address=data.get("reply_address", ""),
                address=data.get("address", ""),
                lat=data.get("lat"),
                lng=data.get("lng"),
            ),
        )
        body = order_body(request.user, order, with_code=True)
        return Response(body, status=status.HTTP_201_CREATED)


class HotlineOrderDetailView(APIView):
    required_scope = "cases:read"

    @extend_schema(responses=HotlineOrderOutput)
    def get(self, request: Request, case_id: int) -> Response:
        order = order_for_user(request.user, case_id)
        if order is None:
            raise Http404
        return Response(order_body(request.user, order))


class HotlineTaskActionView(APIView):
    """POST {data: {…}} → the order after the outcome (sign, return with reason_code, reply,
    feedback, accept/reject, callback outcomes …)."""

    required_scope = "tasks:act"

    @extend_schema(request=HotlineOutcomeInput, responses=HotlineOrderOutput)
    def post(self, request: Request, task_id: int, outcome: str) -> Response:
        task = task_or_404(request.user, task_id)
        data = parse(HotlineOutcomeInput, request.data).get("data") or {}
        hotline_complete(actor=request.user, task=task, outcome=outcome, data=data)
        order = order_for_user(request.user, task.case_id)
        if order is None:
            raise Http404
        return Response(order_body(request.user, order))


class PublicOrderView(APIView):
    """The citizens' progress query: no login; the query code (or the phone's last four
    digits) in `code`; a wrong code answers like an unknown number (404); rate-limited per
    client address. No names, no phones, no internal notes."""

    authentication_classes = ()
    permission_classes = ()
    throttle_classes = ()

    @extend_schema(
        parameters=[OpenApiParameter("code", str, required=True)],
        responses=PublicOrderOutput,
        auth=[],
    )
    def get(self, request: Request, number: str) -> Response:
        if not public_query_allowed(request.META.get("REMOTE_ADDR", "?")):
            raise Throttled(wait=60)
        order = order_public(number, request.query_params.get("code", ""))
        if order is None:
            raise Http404
        progress = public_progress(order)
        return Response(
            PublicOrderOutput(
                {
                    "number": progress.number,
                    "stage": progress.stage,
                    "status": progress.status,
                    "reported_at": progress.reported_at,
                    "dispatched_at": progress.dispatched_at,
                    "replied_at": progress.replied_at,
                    "closed_at": progress.closed_at,
                    "reply": progress.reply,
                    "answer": progress.answer,
                }
            ).data
        )
