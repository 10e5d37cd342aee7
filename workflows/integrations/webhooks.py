"""Webhook events: which types an audit event stands for, the body each type delivers, and
emission into the outbox (what state changes call). Subscriptions are in
`webhook_subscriptions`, the delivery with its SSRF checks in `webhook_delivery`.

Event types are derived from audit events (`event_types`). `task.created` is a documented
simplification: it accompanies every event that moves the case into a new stage other than
"ended" (including the report, which opens intake), with `task: null` and the new stage in
`data.event.stage_to`; the task row itself is opened by the flow after the event is written.

Emission writes one `WebhookDelivery` and one outbox row (channel "webhook") per matching
active subscription in the caller's transaction: nothing leaves before commit, and a
rolled-back state change sends nothing. The outbox worker then sends each one through
`webhook_delivery.webhook_deliver`, retrying with its backoff for more than a day
(`workflows.outbox.CHANNEL_MAX_ATTEMPTS`); every attempt of a delivery carries the same
`X-CityOps-Delivery` id, so receivers drop duplicates.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable

from django.db import transaction
from django.db.models import prefetch_related_objects
from django.utils import timezone

from ..models import (
    Case,
    CaseEvent,
    CaseTask,
    OutboxMessage,
    Stage,
    TaskStatus,
    WebhookDelivery,
    WebhookSubscription,
)

CHANNEL = "webhook"  # the outbox channel of deliveries
EVENT_TYPES = (
    "case.created",
    "case.stage_changed",
    "task.created",
    "task.completed",
    "sla.warning",
    "sla.breached",
    # Breach prediction (intelligence app): a task is likely to miss its due time.
    "sla.predicted_breach",
    "case.closed",
    # The 12345 hotline (never with the caller's name or phone: they are not on the case).
    "order.created",
    "order.replied",
    "order.callback",
    "order.closed",
)
# The audit action of an early warning from the breach prediction (intelligence.services.breach).
PREDICTED_BREACH_ACTION = "sla_predicted_breach"
HOTLINE_CALLBACK_ACTIONS = ("hl_satisfied", "hl_basic", "hl_unsatisfied", "hl_unreachable")
TYPES_CACHE_SECONDS = 5.0
# Event ids are uuid5(namespace, "<case event id>:<type>"): the same for every subscription.
EVENT_NAMESPACE = uuid.UUID("6f1d3c52-8a0e-4e55-9a43-2f7b0c1de9a1")


# --- which types anyone wants ------------------------------------------------------------------

_types_cache: tuple[float, frozenset[str]] | None = None


def subscribed_types_forget() -> None:
    """Drop this process's cache of subscribed types (a subscription changed)."""
    global _types_cache
    _types_cache = None


def subscribed_types() -> frozenset[str]:
    """Event types some active subscription wants, cached per process for a few seconds so
    that state changes cost no query while nobody subscribes. A subscription made in another
    process is seen at most TYPES_CACHE_SECONDS late."""
    global _types_cache
    now = time.monotonic()
    if _types_cache is None or _types_cache[0] <= now:
        lists = WebhookSubscription.objects.filter(is_active=True).values_list("events", flat=True)
        _types_cache = (now + TYPES_CACHE_SECONDS, frozenset(t for ts in lists for t in ts))
    return _types_cache[1]


# --- audit event → webhook events ---------------------------------------------------------------


def _is_outcome(event: CaseEvent) -> bool:
    task = event.task
    return (
        task is not None
        and task.status == TaskStatus.DONE
        and bool(task.outcome)
        and event.action in (task.outcome, f"{task.stage}_{task.outcome}", f"hl_{task.outcome}")
    )


def event_types(event: CaseEvent) -> list[str]:
    """The webhook event types an audit event stands for (often none)."""
    action, moved = event.action, event.stage_from != event.stage_to
    types = []
    if action == "report":
        types.append("case.created")
    if _is_outcome(event):
        types.append("task.completed")
    if moved and action != "report":
        types.append("case.stage_changed")
    if moved and event.stage_to and event.stage_to != Stage.ENDED:
        types.append("task.created")
    if action == "sla_warn":
        types.append("sla.warning")
    if action == "sla_overdue":
        types.append("sla.breached")
    if action == PREDICTED_BREACH_ACTION:
        types.append("sla.predicted_breach")
    if action == "close":
        types.append("case.closed")
    if action == "hl_report":
        types.append("order.created")
    if action == "hl_reply":
        types.append("order.replied")
    if action in HOTLINE_CALLBACK_ACTIONS:
        types.append("order.callback")
    if action.startswith("hl_") and moved and event.stage_to == Stage.ENDED:
        types.append("order.closed")
    return types


def _case_data(case: Case) -> dict:
    return {
        "id": case.pk,
        "number": case.number,
        "stage": case.stage,
        "status": case.status,
        "category": case.category.code if case.category_id else None,
        "responsible_unit": case.responsible_unit.code if case.responsible_unit_id else None,
    }


def _task_data(task: CaseTask) -> dict:
    return {"id": task.pk, "stage": task.stage, "unit": task.unit.code, "status": task.status}


def event_body(event: CaseEvent, event_type: str) -> tuple[uuid.UUID, str]:
    """The event id and the JSON body delivered for one type of one audit event."""
    event_id = uuid.uuid5(EVENT_NAMESPACE, f"{event.pk}:{event_type}") if event.pk else uuid.uuid4()
    task = event.task if event_type != "task.created" else None
    body = {
        "id": str(event_id),
        "type": event_type,
        "created_at": event.created_at.isoformat(),
        "data": {
            "case": _case_data(event.case),
            "task": _task_data(task) if task is not None else None,
            "event": {
                "action": event.action,
                "stage_from": event.stage_from,
                "stage_to": event.stage_to,
            },
        },
    }
    if event_type == "sla.predicted_breach":  # the probability and its reason
        body["data"]["prediction"] = event.payload
    return event_id, json.dumps(body, ensure_ascii=False, separators=(",", ":"))


# --- emission -----------------------------------------------------------------------------------


def webhooks_emit_for_event(event: CaseEvent) -> list[WebhookDelivery]:
    """Queue the deliveries of one audit event (see `webhooks_emit_for_events`)."""
    return webhooks_emit_for_events([event])


def webhooks_emit_for_events(events: Iterable[CaseEvent]) -> list[WebhookDelivery]:
    """One delivery and one outbox row per (event type, matching active subscription), in the
    caller's transaction; no query at all while nobody subscribes to the events' types."""
    wanted = subscribed_types()
    if not wanted:
        return []
    typed = [(e, t) for e in events for t in event_types(e) if t in wanted]
    if not typed:
        return []
    subscriptions = list(WebhookSubscription.objects.filter(is_active=True).only("id", "events"))
    pairs = [(e, t, s) for e, t in typed for s in subscriptions if t in s.events]
    if not pairs:
        return []
    _prefetch([e for e, _t, _s in pairs])
    now, bodies, deliveries = timezone.now(), {}, []
    for event, event_type, subscription in pairs:
        key = (id(event), event_type)
        if key not in bodies:
            bodies[key] = event_body(event, event_type)
        event_id, body = bodies[key]
        deliveries.append(
            WebhookDelivery(
                subscription=subscription,
                delivery_id=uuid.uuid4(),
                event_id=event_id,
                event_type=event_type,
                body=body,
                created_at=now,
            )
        )
    with transaction.atomic(savepoint=False):
        WebhookDelivery.objects.bulk_create(deliveries)
        OutboxMessage.objects.bulk_create(
            OutboxMessage(
                channel=CHANNEL,
                payload={"delivery": str(d.delivery_id)},
                target=f"{CHANNEL}:{d.subscription_id}",
                created_at=now,
                available_at=now,
            )
            for d in deliveries
        )
    return deliveries


def _prefetch(events: list[CaseEvent]) -> None:
    """Load what the bodies name, in one query per relation (skips what is loaded)."""
    cases = list({id(e.case): e.case for e in events}.values())
    prefetch_related_objects(cases, "category", "responsible_unit")
    tasks = list({id(e.task): e.task for e in events if e.task is not None}.values())
    prefetch_related_objects(tasks, "unit")
