"""The hotline's API (report with an API key, task actions, the public query) and where the
caller's personal data may never appear: Open311, webhook bodies, the public answer, and
lists and the API for posts that do not need it."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from rest_framework.test import APIClient

from departments.models import Role
from workflows.integrations.keys import api_key_issue
from workflows.integrations.webhook_subscriptions import webhook_subscribe
from workflows.integrations.webhooks import EVENT_TYPES, subscribed_types_forget
from workflows.models import CaseTask, Stage, TaskStatus, WebhookDelivery

from .test_hotline import hotline  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db

PHONE, NAME = "13987654321", "周八"
REPLY = {"reply": "已处理", "reply_contact": "phone", "reply_result": "solved"}


@pytest.fixture
def key_client(hotline, settings):  # noqa: F811
    settings.CITYOPS_WEBHOOK_ALLOW_PRIVATE = True
    settings.CITYOPS_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    admin = get_user_model().objects.get(username="admin")
    _record, raw = api_key_issue(
        actor=admin,
        name="12345 platform",
        scopes=["hotline:report", "cases:read"],
        unit=hotline,
        role=Role.HOTLINE_AGENT,
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def _task(order_id, stage, unit=None):
    qs = CaseTask.objects.filter(case_id=order_id, stage=stage, status=TaskStatus.OPEN)
    return (qs.filter(unit__code=unit) if unit else qs).get()


def _act(api, who, order_id, stage, outcome, unit=None, **data):
    task = _task(order_id, stage, unit)
    return api(who).post(
        f"/api/v1/hotline/tasks/{task.pk}/{outcome}/", {"data": data}, format="json"
    )


def test_report_by_api_key_then_work_it_through_the_api(key_client, api, hotline):  # noqa: F811
    admin = get_user_model().objects.get(username="admin")
    subscribed_types_forget()
    webhook_subscribe(actor=admin, url="http://127.0.0.1:9/in", events=list(EVENT_TYPES))
    # A key without the scope cannot report.
    _r, raw = api_key_issue(actor=admin, name="reader", scopes=["cases:read"])
    reader = APIClient()
    reader.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    body = {
        "category": "010101",
        "request_type": "complaint",
        "text": "垃圾没人收",
        "caller_name": NAME,
        "caller_phone": PHONE,
        "reply_channel": "sms",
    }
    assert reader.post("/api/v1/hotline/orders/", body, format="json").status_code == 403
    bad = key_client.post("/api/v1/hotline/orders/", {**body, "category": "nope"}, format="json")
    assert bad.status_code == 400
    created = key_client.post("/api/v1/hotline/orders/", body, format="json")
    assert created.status_code == 201, created.content
    order = created.json()
    assert order["caller_phone"] == PHONE and len(order["query_code"]) == 6
    oid = order["id"]
    # The wrong role: 404.
    assert _act(api, "handler_sani", oid, Stage.HL_INTAKE, "answer", answer="x").status_code == 404
    r = _act(
        api, "agent1", oid, Stage.HL_INTAKE, "dispatch", lead_unit="SANI", assist_units=["MUNI"]
    )
    assert r.status_code == 200, r.content
    # The assisting unit reads the order with the caller masked.
    muni = api("handler_muni").get(f"/api/v1/hotline/orders/{oid}/").json()
    assert muni["caller_phone"] == "139****4321" and NAME not in muni["caller_name"]
    assert _act(api, "handler_sani", oid, Stage.HL_LEAD_SIGN, "sign").status_code == 200
    r = _act(api, "handler_muni", oid, Stage.HL_ASSIST_SIGN, "return", reason_code="nonsense")
    assert r.status_code == 400
    assert _act(api, "handler_muni", oid, Stage.HL_ASSIST_SIGN, "sign").status_code == 200
    assert _act(api, "handler_sani", oid, Stage.HL_LEAD_REPLY, "reply", **REPLY).status_code == 409
    r = _act(api, "handler_muni", oid, Stage.HL_ASSIST_FEEDBACK, "feedback", feedback="ok")
    assert r.status_code == 200
    assert _act(api, "handler_sani", oid, Stage.HL_LEAD_REPLY, "reply", **REPLY).status_code == 200
    assert _act(api, "agent1", oid, Stage.HL_CALLBACK, "satisfied").status_code == 200
    # Webhooks: the order's events went out, never with the caller's name or phone.
    deliveries = list(WebhookDelivery.objects.all())
    types = {d.event_type for d in deliveries}
    assert {"order.created", "order.replied", "order.callback", "order.closed"} <= types
    for delivery in deliveries:
        assert PHONE not in delivery.body and NAME not in delivery.body
        assert PHONE[-4:] not in delivery.body.replace(order["number"], "")
    # Open311: the order as a service request, without personal data.
    for path in ("/open311/v2/requests.json", f"/open311/v2/requests/{order['number']}.json"):
        response = APIClient().get(path)
        assert PHONE not in response.content.decode() and NAME not in response.content.decode()
    # The public answer: the reply, nothing personal.
    cache.clear()
    public = APIClient().get(f"/api/v1/public/orders/{order['number']}/?code={order['query_code']}")
    assert public.status_code == 200 and public.json()["stage"] == "closed"
    assert public.json()["reply"] == "已处理"
    text = public.content.decode()
    assert PHONE not in text and NAME not in text and "handler" not in text


def test_public_api_wrong_code_is_unknown_and_rate_limited(key_client, settings):
    cache.clear()
    settings.CITYOPS_PUBLIC_QUERY_RATE = 3
    order = key_client.post(
        "/api/v1/hotline/orders/",
        {"category": "010101", "request_type": "help", "text": "x", "caller_phone": PHONE},
        format="json",
    ).json()
    client = APIClient()
    wrong = client.get(f"/api/v1/public/orders/{order['number']}/?code=999999")
    unknown = client.get("/api/v1/public/orders/2099-000001/?code=999999")
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json() == unknown.json()
    ok = client.get(f"/api/v1/public/orders/{order['number']}/?code={PHONE[-4:]}")
    assert ok.status_code == 200 and ok.json()["stage"] == "received"
    assert (
        client.get(f"/api/v1/public/orders/{order['number']}/?code={PHONE[-4:]}").status_code == 429
    )
