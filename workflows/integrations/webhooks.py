"""Webhooks: subscriptions, case events turned into signed deliveries, and their delivery.

Emission writes one `WebhookDelivery` and one outbox row (channel "webhook") per matching
active subscription in the caller's transaction: nothing leaves before commit, and a rolled-back
state change sends nothing. The outbox worker then POSTs the stored body (`webhook_deliver`),
signed with the subscription's secret, retrying with its backoff for more than a day
(`workflows.outbox.CHANNEL_MAX_ATTEMPTS`). Every attempt of a delivery carries the same
`X-CityOps-Delivery` id, so receivers drop duplicates.

Event types are derived from audit events (`event_types`). `task.created` is a documented
simplification: it accompanies every event that moves the case into a new stage other than
"ended" (including the report, which opens intake), with `task: null` and the new stage in
`data.event.stage_to`; the task row itself is opened by the flow after the event is written.

Targets are checked against SSRF on subscribe and again before each delivery: only http(s),
and every address the host resolves to must be public unless the host is in
CITYOPS_WEBHOOK_ALLOWED_HOSTS or CITYOPS_WEBHOOK_ALLOW_PRIVATE is on. The request connects to
the address that was checked (no second lookup to rebind) and never follows redirects.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import secrets
import socket
import ssl
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, QuerySet, prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import (
    Case,
    CaseEvent,
    CaseTask,
    OutboxMessage,
    Scope,
    Stage,
    TaskStatus,
    WebhookDelivery,
    WebhookSubscription,
)
from ..outbox import PermanentError
from ..services.errors import not_found
from ..services.notifications import notify

logger = logging.getLogger(__name__)

CHANNEL = "webhook"
EVENT_TYPES = (
    "case.created",
    "case.stage_changed",
    "task.created",
    "task.completed",
    "sla.warning",
    "sla.breached",
    "case.closed",
)
DISABLE_AFTER_FAILURES = 5  # consecutive deliveries given up
TYPES_CACHE_SECONDS = 5.0
RESPONSE_READ_BYTES = 64 * 1024
ERROR_MAX_CHARS = 2000
# Event ids are uuid5(namespace, "<case event id>:<type>"): the same for every subscription.
EVENT_NAMESPACE = uuid.UUID("6f1d3c52-8a0e-4e55-9a43-2f7b0c1de9a1")


class UrlRefused(Exception):
    """The target URL may not be called (scheme, or a private / reserved address)."""


class DeliveryFailed(Exception):
    """The receiver answered with a non-2xx status: the outbox retries."""


# --- access and subscriptions -----------------------------------------------------------------


def can_manage_webhooks(user) -> bool:
    """Staff users, and API keys granted `webhooks:manage`, manage their own subscriptions."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_staff:
        return True
    key = getattr(user, "api_key", None)
    return key is not None and key.is_active and key.allows(Scope.WEBHOOKS_MANAGE)


def _check_access(actor) -> None:
    if not can_manage_webhooks(actor):
        raise PermissionDenied(_("Only staff and API keys with webhooks:manage manage webhooks."))


def _clean_events(events: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(events))
    unknown = [e for e in chosen if e not in EVENT_TYPES]
    if unknown or not chosen:
        raise ValidationError(
            {"events": _("Choose event types from: %(types)s.") % {"types": ", ".join(EVENT_TYPES)}}
        )
    return chosen


def webhook_subscribe(
    *, actor, url: str, events: Iterable[str], secret: str | None = None
) -> WebhookSubscription:
    """Subscribe the actor's URL to event types; the secret is generated when not given."""
    _check_access(actor)
    chosen = _clean_events(events)
    try:
        url_check(url)
    except UrlRefused as exc:
        raise ValidationError({"url": str(exc)}) from exc
    subscription = WebhookSubscription.objects.create(
        owner=actor, url=url, events=chosen, secret=secret or secrets.token_urlsafe(32)
    )
    _types_forget()
    return subscription


def webhook_unsubscribe(*, actor, subscription_id: int) -> None:
    """Delete one of the actor's subscriptions (with its delivery log); others' are 404."""
    subscription = webhook_subscription_get(actor=actor, subscription_id=subscription_id)
    subscription.delete()
    _types_forget()


def webhook_subscriptions(*, actor) -> QuerySet[WebhookSubscription]:
    _check_access(actor)
    return WebhookSubscription.objects.filter(owner=actor).order_by("-created_at", "-id")


def webhook_subscription_get(*, actor, subscription_id: int) -> WebhookSubscription:
    subscription = webhook_subscriptions(actor=actor).filter(pk=subscription_id).first()
    if subscription is None:
        raise not_found()
    return subscription


def webhook_deliveries(*, actor, subscription_id: int, limit: int = 50) -> list[WebhookDelivery]:
    """The newest deliveries of one of the actor's subscriptions (the delivery log)."""
    subscription = webhook_subscription_get(actor=actor, subscription_id=subscription_id)
    rows = subscription.deliveries.defer("body").order_by("-created_at", "-id")
    return list(rows[:limit])


def webhook_enable(*, actor, subscription: WebhookSubscription) -> WebhookSubscription:
    """Re-enable a subscription disabled after failures (admin): it starts a clean count."""
    subscription.is_active, subscription.disabled_at = True, None
    subscription.failures_in_a_row = 0
    subscription.save(update_fields=["is_active", "disabled_at", "failures_in_a_row"])
    _types_forget()
    return subscription


# --- emission ----------------------------------------------------------------------------------

_types_cache: tuple[float, frozenset[str]] | None = None


def _types_forget() -> None:
    global _types_cache
    _types_cache = None


def _subscribed_types() -> frozenset[str]:
    """Event types some active subscription wants, cached per process for a few seconds so
    that state changes cost no query while nobody subscribes. A subscription made in another
    process is seen at most TYPES_CACHE_SECONDS late."""
    global _types_cache
    now = time.monotonic()
    if _types_cache is None or _types_cache[0] <= now:
        lists = WebhookSubscription.objects.filter(is_active=True).values_list("events", flat=True)
        _types_cache = (now + TYPES_CACHE_SECONDS, frozenset(t for ts in lists for t in ts))
    return _types_cache[1]


def _is_outcome(event: CaseEvent) -> bool:
    task = event.task
    return (
        task is not None
        and task.status == TaskStatus.DONE
        and bool(task.outcome)
        and event.action in (task.outcome, f"{task.stage}_{task.outcome}")
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
    if action == "close":
        types.append("case.closed")
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
    return event_id, json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def webhooks_emit_for_event(event: CaseEvent) -> list[WebhookDelivery]:
    """Queue the deliveries of one audit event (see `webhooks_emit_for_events`)."""
    return webhooks_emit_for_events([event])


def webhooks_emit_for_events(events: Iterable[CaseEvent]) -> list[WebhookDelivery]:
    """One delivery and one outbox row per (event type, matching active subscription), in the
    caller's transaction; no query at all while nobody subscribes to the events' types."""
    wanted = _subscribed_types()
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


# --- SSRF checks -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]


def _trusted(host: str) -> bool:
    allowed = {h.lower() for h in settings.CITYOPS_WEBHOOK_ALLOWED_HOSTS}
    return settings.CITYOPS_WEBHOOK_ALLOW_PRIVATE or host.lower() in allowed


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def url_check(url: str) -> Target:
    """Resolve the URL's host and refuse what it may not call (`UrlRefused`); a host that
    does not resolve is refused too. Resolution only: nothing is sent."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UrlRefused(_("Use an http or https URL with a host name."))
    if parts.username or parts.password:
        raise UrlRefused(_("Do not put credentials in the URL: requests are signed."))
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (ValueError, UnicodeError, OSError) as exc:
        raise UrlRefused(_("The URL's host cannot be resolved.")) from exc
    addresses = tuple(dict.fromkeys(str(info[4][0]) for info in infos))
    if not _trusted(parts.hostname) and not all(_public(a) for a in addresses):
        raise UrlRefused(_("The URL points to a private or reserved address."))
    path = parts.path or "/"
    return Target(
        parts.scheme,
        parts.hostname,
        port,
        f"{path}?{parts.query}" if parts.query else path,
        addresses,
    )


# --- delivery ----------------------------------------------------------------------------------


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked addresses, not to a fresh lookup of the host name."""

    def __init__(self, host: str, port: int, *, addresses: tuple[str, ...], timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._addresses = addresses

    def _connect_pinned(self) -> socket.socket:
        error: OSError | None = None
        for address in self._addresses:
            try:
                return socket.create_connection((address, self.port), self.timeout)
            except OSError as exc:
                error = exc
        raise error or OSError("no address to connect to")

    def connect(self) -> None:
        self.sock = self._connect_pinned()


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    default_port = http.client.HTTPS_PORT

    def connect(self) -> None:
        context = ssl.create_default_context()
        self.sock = context.wrap_socket(self._connect_pinned(), server_hostname=self.host)


def _post(target: Target, body: bytes, headers: dict[str, str]) -> int:
    """POST once; the response status (redirects are not followed)."""
    cls = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    timeout = float(settings.CITYOPS_WEBHOOK_TIMEOUT_SECONDS)
    connection = cls(target.host, target.port, addresses=target.addresses, timeout=timeout)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(RESPONSE_READ_BYTES)
        return response.status
    finally:
        connection.close()


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_deliver(*, payload: dict, final: bool) -> None:
    """Send one delivery (the outbox's "webhook" channel). Raises to have the outbox retry;
    `final` says this is the last attempt, after which the delivery is given up."""
    try:
        delivery_id = uuid.UUID(str(payload["delivery"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise PermanentError(f"bad webhook payload: {exc!r}") from exc
    delivery = (
        WebhookDelivery.objects.select_related("subscription", "subscription__owner")
        .filter(delivery_id=delivery_id)
        .first()
    )
    if delivery is None or delivery.delivered_at is not None:
        return  # unsubscribed since (the log went with it), or already sent
    subscription = delivery.subscription
    now = timezone.now()
    if not subscription.is_active:
        _record(delivery, None, "subscription disabled", now, failed=True)
        raise PermanentError("webhook subscription disabled")
    body = delivery.body.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "CityOps-Webhooks/1",
        "X-CityOps-Event": delivery.event_type,
        "X-CityOps-Delivery": str(delivery.delivery_id),
        "X-CityOps-Signature": signature(subscription.secret, body),
    }
    try:
        status = _post(url_check(subscription.url), body, headers)
    except UrlRefused as exc:
        _fail(delivery, None, exc, now, final=True)
        raise PermanentError(str(exc)) from exc
    except (OSError, http.client.HTTPException) as exc:
        _fail(delivery, None, exc, now, final=final)
        raise
    if not 200 <= status < 300:
        exc = DeliveryFailed(f"HTTP {status}")
        _fail(delivery, status, exc, now, final=final)
        raise exc
    _record(delivery, status, "", now, failed=False, delivered=True)
    if subscription.failures_in_a_row:
        WebhookSubscription.objects.filter(pk=subscription.pk).update(failures_in_a_row=0)


def _record(
    delivery: WebhookDelivery,
    status: int | None,
    error: str,
    now,
    *,
    failed: bool,
    delivered: bool = False,
) -> None:
    delivery.attempts += 1
    delivery.last_status, delivery.last_error = status, error[:ERROR_MAX_CHARS]
    delivery.failed_at = now if failed else None
    delivery.delivered_at = now if delivered else None
    delivery.save(
        update_fields=["attempts", "last_status", "last_error", "failed_at", "delivered_at"]
    )


def _fail(delivery: WebhookDelivery, status, exc: Exception, now, *, final: bool) -> None:
    """Record a failed attempt; on the last one, count it against the subscription."""
    _record(delivery, status, f"{type(exc).__name__}: {exc}", now, failed=final)
    if final:
        _count_failure(delivery.subscription, now)


def _count_failure(subscription: WebhookSubscription, now) -> None:
    """A given-up delivery; DISABLE_AFTER_FAILURES in a row disable the subscription and
    tell its owner (the conditional update makes one worker do it once)."""
    rows = WebhookSubscription.objects.filter(pk=subscription.pk)
    rows.update(failures_in_a_row=F("failures_in_a_row") + 1)
    count = rows.values_list("failures_in_a_row", flat=True).first() or 0
    if count < DISABLE_AFTER_FAILURES:
        return
    if rows.filter(is_active=True).update(is_active=False, disabled_at=now):
        _types_forget()
        notify(
            users=[subscription.owner],
            kind="webhook_disabled",
            title=_("Webhook disabled: %(url)s") % {"url": subscription.url},
            body=_(
                "%(count)s deliveries in a row failed, so no more are sent. Fix the receiver "
                "and subscribe again."
            )
            % {"count": count},
        )
