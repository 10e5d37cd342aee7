"""Webhooks: subscriptions through the API, emission in the state change's transaction, signed
delivery through the outbox to a real local receiver, retries, disabling, SSRF refusals.

Every request goes to a receiver on 127.0.0.1; SSRF tests only resolve literal addresses (and
`localhost`) and fail if anything tries to connect."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from workflows.integrations import webhooks
from workflows.integrations.keys import api_key_issue
from workflows.integrations.webhook_delivery import DISABLE_AFTER_FAILURES, UrlRefused, url_check
from workflows.integrations.webhooks import event_types, webhooks_emit_for_event
from workflows.models import (
    Case,
    CaseEvent,
    CaseTask,
    Notification,
    OutboxMessage,
    TaskStatus,
    WebhookDelivery,
    WebhookSubscription,
)
from workflows.outbox import MAX_ATTEMPTS, deliver_due, max_attempts, retry_delay
from workflows.services.escalations import sla_sweep

SECRET = "receiver-shared-secret-0123456789"


class Receiver:
    """An HTTP server on 127.0.0.1 that checks signatures, records every request, keeps each
    delivery once (by X-CityOps-Delivery) and answers 500 to the first `fail_first` requests."""

    def __init__(self) -> None:
        self.secret = SECRET
        self.fail_first = 0
        self.requests: list[dict] = []
        self.delivered: dict[str, dict] = {}
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/hooks/cityops?x=1"

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                expected = (
                    "sha256=" + hmac.new(receiver.secret.encode(), raw, hashlib.sha256).hexdigest()
                )
                signed = hmac.compare_digest(expected, self.headers["X-CityOps-Signature"] or "")
                delivery = self.headers["X-CityOps-Delivery"]
                with receiver.lock:
                    failing = len(receiver.requests) < receiver.fail_first
                    status = 500 if failing else (200 if signed else 401)
                    receiver.requests.append(
                        {
                            "delivery": delivery,
                            "event": self.headers["X-CityOps-Event"],
                            "content_type": self.headers["Content-Type"],
                            "path": self.path,
                            "signed": signed,
                            "status": status,
                        }
                    )
                    if status == 200:
                        receiver.delivered.setdefault(delivery, json.loads(raw))
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        return Handler

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(autouse=True)
def _fresh_types_cache():
    webhooks.subscribed_types_forget()
    yield
    webhooks.subscribed_types_forget()


@pytest.fixture
def receiver(settings):
    settings.CITYOPS_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.CITYOPS_WEBHOOK_TIMEOUT_SECONDS = 5
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def no_connections(monkeypatch):
    """Fail the test if anything opens a connection (SSRF checks only resolve)."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"unexpected connection to {args!r}")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


def subscribe(client: APIClient, url: str, events: list[str], **extra):
    return client.post("/api/v1/webhooks/", {"url": url, "events": events, **extra}, format="json")


def subscribed(api, receiver, events: list[str], username: str = "supervisor") -> dict:
    response = subscribe(api(username), receiver.url, events, secret=SECRET)
    assert response.status_code == 201, response.content
    return response.json()


def key_client(users, scopes: list[str]) -> APIClient:
    _record, key = api_key_issue(actor=users("admin"), name="crm", scopes=scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


# --- delivery end to end -----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_reported_case_reaches_the_receiver_signed_after_commit(api, walk, receiver):
    hook = subscribed(api, receiver, ["case.created"])
    case = walk.report()
    assert receiver.requests == []  # nothing leaves before the worker runs (after commit)
    delivery = WebhookDelivery.objects.get()
    assert delivery.subscription_id == hook["id"]
    assert OutboxMessage.objects.filter(channel="webhook").count() == 1

    assert deliver_due() == 1

    [request] = receiver.requests
    assert request["signed"] and request["status"] == 200
    assert request["event"] == "case.created"
    assert request["content_type"] == "application/json"
    assert request["path"] == "/hooks/cityops?x=1"
    assert request["delivery"] == str(delivery.delivery_id)
    body = receiver.delivered[request["delivery"]]
    assert body["type"] == "case.created"
    assert body["id"] == str(delivery.event_id)
    assert body["data"]["case"]["number"] == case["number"]
    assert body["data"]["case"]["category"] == "0102"
    assert body["data"]["task"] is None
    assert body["data"]["event"] == {"action": "report", "stage_from": "", "stage_to": "intake"}
    delivery.refresh_from_db()
    assert delivery.delivered_at is not None
    assert (delivery.attempts, delivery.last_status) == (1, 200)
    assert deliver_due() == 0  # delivered once


@pytest.mark.django_db
def test_a_failed_delivery_is_retried_later_with_the_same_delivery_id(api, walk, receiver):
    subscribed(api, receiver, ["case.created"])
    receiver.fail_first = 1
    walk.report()
    assert deliver_due() == 0
    delivery = WebhookDelivery.objects.get()
    assert (delivery.attempts, delivery.last_status, delivery.delivered_at) == (1, 500, None)
    message = OutboxMessage.objects.get(channel="webhook")
    assert message.failed_at is None
    assert message.available_at > timezone.now()
    assert deliver_due() == 0  # not due yet: nothing sent
    assert len(receiver.requests) == 1

    with time_machine.travel(message.available_at + dt.timedelta(seconds=1), tick=False):
        assert deliver_due() == 1

    assert [r["status"] for r in receiver.requests] == [500, 200]
    assert {r["delivery"] for r in receiver.requests} == {str(delivery.delivery_id)}
    assert len(receiver.delivered) == 1
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and delivery.delivered_at is not None


@pytest.mark.django_db
def test_nothing_is_queued_when_the_state_change_rolls_back(api, walk, receiver, demo):
    subscribed(api, receiver, ["case.created"])
    case = Case.objects.get(pk=walk.report()["id"])
    WebhookDelivery.objects.all().delete()
    OutboxMessage.objects.all().delete()
    with pytest.raises(RuntimeError), transaction.atomic():
        webhooks_emit_for_event(CaseEvent.objects.filter(case=case).get(action="report"))
        assert WebhookDelivery.objects.count() == 1
        raise RuntimeError("the state change fails")
    assert not WebhookDelivery.objects.exists()
    assert not OutboxMessage.objects.filter(channel="webhook").exists()


@pytest.mark.django_db
def test_state_changes_cost_no_query_while_nobody_subscribes(walk, django_assert_num_queries):
    case = Case.objects.get(pk=walk.report()["id"])
    event = CaseEvent.objects.select_related("case", "task").filter(case=case).first()
    webhooks.subscribed_types()  # warm the per-process cache
    with django_assert_num_queries(0):
        assert webhooks_emit_for_event(event) == []


@pytest.mark.django_db
def test_a_completed_task_emits_completed_stage_changed_and_created(api, walk, receiver):
    subscribed(api, receiver, list(webhooks.EVENT_TYPES))
    case = walk.report()
    WebhookDelivery.objects.all().delete()
    OutboxMessage.objects.all().delete()
    walk.act("intake", case["id"], "accept")

    types = sorted(WebhookDelivery.objects.values_list("event_type", flat=True))
    assert types == ["case.stage_changed", "task.completed", "task.created"]
    assert deliver_due() == 3
    bodies = {b["type"]: b for b in receiver.delivered.values()}
    completed = bodies["task.completed"]["data"]
    assert completed["task"]["stage"] == "intake" and completed["task"]["status"] == "done"
    assert completed["event"] == {"action": "accept", "stage_from": "intake", "stage_to": "filing"}
    assert completed["case"]["stage"] == "filing"
    assert bodies["task.created"]["data"]["task"] is None
    assert bodies["task.created"]["data"]["event"]["stage_to"] == "filing"
    assert len({b["id"] for b in bodies.values()}) == 3


@pytest.mark.django_db
def test_the_sla_sweep_emits_warning_and_breach(api, walk, receiver):
    subscribed(api, receiver, ["sla.warning", "sla.breached"])
    case = walk.report()
    assert sla_sweep(now=timezone.now() + dt.timedelta(days=2)) == 3  # remind, warn, overdue
    assert sorted(WebhookDelivery.objects.values_list("event_type", flat=True)) == [
        "sla.breached",
        "sla.warning",
    ]
    deliver_due()  # the notices' emails too
    assert sorted(b["type"] for b in receiver.delivered.values()) == [
        "sla.breached",
        "sla.warning",
    ]
    for body in receiver.delivered.values():
        assert body["data"]["case"]["id"] == case["id"]
        assert body["data"]["task"]["stage"] == "intake"
        assert body["data"]["task"]["unit"]


@pytest.mark.parametrize(
    ("action", "stage_from", "stage_to", "task_outcome", "types"),
    [
        ("report", "", "intake", None, ["case.created", "task.created"]),
        ("claim", "intake", "intake", None, []),
        (
            "close",
            "closing",
            "ended",
            "close",
            ["task.completed", "case.stage_changed", "case.closed"],
        ),
        ("cancel", "handling", "ended", None, ["case.stage_changed"]),
        (
            "extension_review_approve",
            "extension_review",
            "extension_review",
            "approve",
            ["task.completed"],
        ),
        ("sla_remind", "check", "check", None, []),
        ("sla_warn", "check", "check", None, ["sla.warning"]),
        ("sla_overdue", "check", "check", None, ["sla.breached"]),
    ],
)
def test_event_types_follow_the_audit_event(action, stage_from, stage_to, task_outcome, types):
    task = None
    if task_outcome:  # an outcome event carries the task it finished
        task = CaseTask(stage=stage_from, status=TaskStatus.DONE, outcome=task_outcome)
    event = CaseEvent(action=action, stage_from=stage_from, stage_to=stage_to, task=task)
    assert event_types(event) == types


# --- retries and giving up ---------------------------------------------------------------------


def test_webhook_retries_span_more_than_a_day_and_email_keeps_its_limit():
    attempts = max_attempts("webhook")
    waited = sum((retry_delay(n) for n in range(1, attempts)), dt.timedelta())
    assert waited >= dt.timedelta(hours=24)
    assert max_attempts("email") == MAX_ATTEMPTS


def _give_up_everything_due() -> None:
    """Make the next try of every webhook message its last one, then run the worker."""
    OutboxMessage.objects.filter(channel="webhook").update(attempts=max_attempts("webhook") - 1)
    deliver_due()


@pytest.mark.django_db
def test_consecutive_given_up_deliveries_disable_and_notify_the_owner(api, walk, receiver, users):
    hook = subscribed(api, receiver, ["case.created"])
    receiver.fail_first = 10**6
    for _n in range(DISABLE_AFTER_FAILURES - 1):
        walk.report()
    _give_up_everything_due()
    subscription = WebhookSubscription.objects.get(pk=hook["id"])
    assert subscription.failures_in_a_row == DISABLE_AFTER_FAILURES - 1
    assert subscription.is_active
    assert WebhookDelivery.objects.filter(failed_at__isnull=False).count() == 4
    assert OutboxMessage.objects.filter(channel="webhook", failed_at__isnull=False).count() == 4

    walk.report()
    _give_up_everything_due()
    subscription.refresh_from_db()
    assert not subscription.is_active and subscription.disabled_at is not None
    notice = Notification.objects.get(kind="webhook_disabled")
    assert notice.user == users("supervisor")
    assert receiver.url in notice.title

    walk.report()  # a disabled subscription gets nothing more
    assert WebhookDelivery.objects.count() == DISABLE_AFTER_FAILURES


@pytest.mark.django_db
def test_a_success_resets_the_failure_count(api, walk, receiver):
    hook = subscribed(api, receiver, ["case.created"])
    WebhookSubscription.objects.filter(pk=hook["id"]).update(failures_in_a_row=3)
    walk.report()
    assert deliver_due() == 1
    assert WebhookSubscription.objects.get(pk=hook["id"]).failures_in_a_row == 0


@pytest.mark.django_db
def test_a_target_refused_at_delivery_fails_for_good_without_traffic(api, walk, receiver, settings):
    subscribed(api, receiver, ["case.created"])
    walk.report()
    settings.CITYOPS_WEBHOOK_ALLOWED_HOSTS = []  # e.g. the allow-list changed since
    assert deliver_due() == 0
    assert receiver.requests == []
    delivery = WebhookDelivery.objects.get()
    assert delivery.failed_at is not None and "private" in delivery.last_error
    assert OutboxMessage.objects.get(channel="webhook").failed_at is not None
    assert delivery.subscription.failures_in_a_row == 1


@pytest.mark.django_db
def test_deliveries_of_a_deleted_subscription_are_dropped(api, walk, receiver):
    hook = subscribed(api, receiver, ["case.created"])
    walk.report()
    assert api("supervisor").delete(f"/api/v1/webhooks/{hook['id']}/").status_code == 204
    assert deliver_due() == 1  # the outbox row is done with; nothing was sent
    assert receiver.requests == []


# --- SSRF --------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://10.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://localhost/hook",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://224.0.0.1/hook",
        "http://0.0.0.0/hook",
        "ftp://203.0.113.5/hook",
        "file:///etc/passwd",
        "http://user:pw@8.8.8.8/hook",
        "not a url",
    ],
)
def test_subscribing_to_a_private_or_odd_url_is_refused(api, demo, no_connections, url):
    response = subscribe(api("supervisor"), url, ["case.created"])
    assert response.status_code == 400, response.content
    assert list(response.json()["error"]["fields"]) == ["url"]
    assert not WebhookSubscription.objects.exists()


def test_url_check_allows_public_addresses_and_the_allow_list(settings, no_connections):
    settings.CITYOPS_WEBHOOK_ALLOWED_HOSTS = []
    settings.CITYOPS_WEBHOOK_ALLOW_PRIVATE = False
    target = url_check("https://8.8.8.8/a/b?c=d")
    assert (target.host, target.port, target.path) == ("8.8.8.8", 443, "/a/b?c=d")
    with pytest.raises(UrlRefused):
        url_check("http://127.0.0.1:9/")
    settings.CITYOPS_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    assert url_check("http://127.0.0.1:9/").addresses == ("127.0.0.1",)
    with pytest.raises(UrlRefused):
        url_check("http://10.0.0.1/")  # only the listed host
    settings.CITYOPS_WEBHOOK_ALLOW_PRIVATE = True
    assert url_check("http://10.0.0.1/").port == 80


# --- API ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_subscribe_generates_a_secret_shown_once(api, receiver):
    response = subscribe(api("supervisor"), receiver.url, ["case.created", "case.closed"])
    assert response.status_code == 201, response.content
    created = response.json()
    assert len(created["secret"]) >= 32
    assert created["events"] == ["case.created", "case.closed"] and created["is_active"]
    assert WebhookSubscription.objects.get().secret == created["secret"]
    listed = api("supervisor").get("/api/v1/webhooks/").json()
    assert [h["id"] for h in listed] == [created["id"]]
    assert "secret" not in listed[0]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("events", "field"),
    [(["case.created", "case.exploded"], "events"), ([], "events"), ("case.created", "events")],
)
def test_unknown_or_missing_event_types_are_400(api, receiver, events, field):
    response = subscribe(api("supervisor"), receiver.url, events)
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]


@pytest.mark.django_db
def test_a_short_secret_is_400(api, receiver):
    response = subscribe(api("supervisor"), receiver.url, ["case.created"], secret="short")
    assert response.status_code == 400
    assert "secret" in response.json()["error"]["fields"]


@pytest.mark.django_db
def test_subscriptions_are_private_to_their_owner(api, receiver):
    hook = subscribed(api, receiver, ["case.created"])
    other = api("admin")
    assert other.get("/api/v1/webhooks/").json() == []
    assert other.delete(f"/api/v1/webhooks/{hook['id']}/").status_code == 404
    assert other.get(f"/api/v1/webhooks/{hook['id']}/deliveries/").status_code == 404
    assert api("supervisor").delete("/api/v1/webhooks/999999/").status_code == 404
    assert api("supervisor").delete(f"/api/v1/webhooks/{hook['id']}/").status_code == 204
    assert not WebhookSubscription.objects.exists()


@pytest.mark.django_db
def test_the_delivery_log_lists_attempts_and_outcomes(api, walk, receiver):
    hook = subscribed(api, receiver, ["case.created"])
    receiver.fail_first = 1
    walk.report()
    walk.report()
    deliver_due()  # the first fails (500), the second is delivered
    response = api("supervisor").get(f"/api/v1/webhooks/{hook['id']}/deliveries/")
    assert response.status_code == 200, response.content
    log = response.json()
    assert len(log) == 2
    assert set(log[0]) == {
        "id",
        "event_id",
        "event_type",
        "attempts",
        "last_status",
        "last_error",
        "delivered_at",
        "failed_at",
        "created_at",
    }
    assert sorted(row["last_status"] for row in log) == [200, 500]
    assert all(row["attempts"] == 1 and row["event_type"] == "case.created" for row in log)
    limited = api("supervisor").get(f"/api/v1/webhooks/{hook['id']}/deliveries/?limit=1")
    assert len(limited.json()) == 1


@pytest.mark.django_db
def test_non_staff_users_may_not_manage_webhooks(api, receiver):
    response = subscribe(api("inspector"), receiver.url, ["case.created"])
    assert response.status_code == 403
    assert api("inspector").get("/api/v1/webhooks/").status_code == 403


@pytest.mark.django_db
def test_a_key_needs_the_webhooks_manage_scope(users, receiver):
    without = key_client(users, ["cases:read"])
    assert subscribe(without, receiver.url, ["case.created"]).status_code == 403
    assert without.get("/api/v1/webhooks/").status_code == 403

    _record, key = api_key_issue(actor=users("admin"), name="hooks", scopes=["webhooks:manage"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    response = subscribe(client, receiver.url, ["case.created"])
    assert response.status_code == 201, response.content
    assert WebhookSubscription.objects.get().owner == _record.user
    assert len(client.get("/api/v1/webhooks/").json()) == 1


def test_anonymous_requests_are_401(client, db):
    assert client.get("/api/v1/webhooks/").status_code == 401
