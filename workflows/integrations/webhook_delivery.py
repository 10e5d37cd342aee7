"""Webhook delivery, the outbox's "webhook" channel: SSRF checks, the POST to the checked
address, the signature, and disabling a subscription after failures.

Targets are checked against SSRF on subscribe and again before each delivery: only http(s),
and every address the host resolves to must be public unless the host is in
CITYOPS_WEBHOOK_ALLOWED_HOSTS or CITYOPS_WEBHOOK_ALLOW_PRIVATE is on. The request connects to
the address that was checked (no second lookup to rebind) and never follows redirects.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import http.client
import ipaddress
import logging
import socket
import ssl
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import WebhookDelivery, WebhookSubscription
from ..services.notifications import notify
from .errors import PermanentError
from .webhooks import subscribed_types_forget

logger = logging.getLogger(__name__)

DISABLE_AFTER_FAILURES = 5  # consecutive deliveries given up
RESPONSE_READ_BYTES = 64 * 1024
ERROR_MAX_CHARS = 2000


class UrlRefused(Exception):
    """The target URL may not be called (scheme, or a private / reserved address)."""


class DeliveryFailed(Exception):
    """The receiver answered with a non-2xx status: the outbox retries."""


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


# --- the request -------------------------------------------------------------------------------


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


# --- one delivery ------------------------------------------------------------------------------

BREAKER_FAILURES = 5  # failed attempts in a row that pause a subscription …
BREAKER_COOL_OFF = dt.timedelta(minutes=1)  # … for this long (then one more try)


@dataclass
class Prepared:
    """One attempt of a delivery, read from the database: `send()` touches no database (the
    outbox calls it with no transaction open, in a thread of its pool)."""

    delivery: WebhookDelivery
    url: str
    body: bytes
    headers: dict[str, str]
    final: bool

    def send(self) -> int:
        """Check the URL and POST once; the status, or raises (UrlRefused, OSError …)."""
        return _post(url_check(self.url), self.body, self.headers)


def webhook_prepare(*, payload: dict, final: bool) -> Prepared | None:
    """Read what one attempt sends; None when nothing is to be sent (unsubscribed since,
    the log gone with it, or already delivered). `final`: the last attempt."""
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
        return None
    subscription = delivery.subscription
    if not subscription.is_active:
        _record(delivery, None, "subscription disabled", timezone.now(), failed=True)
        raise PermanentError("webhook subscription disabled")
    body = delivery.body.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "CityOps-Webhooks/1",
        "X-CityOps-Event": delivery.event_type,
        "X-CityOps-Delivery": str(delivery.delivery_id),
        "X-CityOps-Signature": signature(subscription.secret, body),
    }
    return Prepared(delivery, subscription.url, body, headers, final)


def webhook_record(prepared: Prepared, outcome: int | BaseException) -> None:
    """Record the attempt's outcome (a status, or what `send` raised) in the delivery log and
    the subscription's circuit breaker; raises for the outbox to retry or give up."""
    delivery, now = prepared.delivery, timezone.now()
    if isinstance(outcome, UrlRefused):
        _fail(delivery, None, outcome, now, final=True)
        raise PermanentError(str(outcome)) from outcome
    if isinstance(outcome, BaseException):
        _fail(delivery, None, outcome, now, final=prepared.final)
        raise outcome
    if not 200 <= outcome < 300:
        exc = DeliveryFailed(f"HTTP {outcome}")
        _fail(delivery, outcome, exc, now, final=prepared.final)
        raise exc
    _record(delivery, outcome, "", now, failed=False, delivered=True)
    subscription = delivery.subscription
    if subscription.failures_in_a_row or subscription.attempts_failed_in_a_row:
        WebhookSubscription.objects.filter(pk=subscription.pk).update(
            failures_in_a_row=0, attempts_failed_in_a_row=0, paused_until=None
        )


def webhook_deliver(*, payload: dict, final: bool) -> None:
    """Send one delivery at once (prepare, send, record). Raises to have the outbox retry;
    `final` says this is the last attempt, after which the delivery is given up."""
    prepared = webhook_prepare(payload=payload, final=final)
    if prepared is None:
        return
    try:
        outcome: int | BaseException = prepared.send()
    except (UrlRefused, OSError, http.client.HTTPException) as exc:
        outcome = exc
    webhook_record(prepared, outcome)


def paused_subscription_ids(now) -> list[int]:
    """Subscriptions whose circuit breaker is open: nothing is sent to them until it cools."""
    return list(
        WebhookSubscription.objects.filter(paused_until__gt=now).values_list("pk", flat=True)
    )


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


def _fail(delivery: WebhookDelivery, status, exc: BaseException, now, *, final: bool) -> None:
    """Record a failed attempt (the breaker counts it); on the last one, count it against the
    subscription."""
    _record(delivery, status, f"{type(exc).__name__}: {exc}", now, failed=final)
    _breaker_count(delivery.subscription_id, now)
    if final:
        _count_failure(delivery.subscription, now)


def _breaker_count(subscription_id: int, now) -> None:
    """One more failed attempt in a row; BREAKER_FAILURES of them pause the subscription for
    BREAKER_COOL_OFF, so that a failing receiver does not take the workers' time."""
    rows = WebhookSubscription.objects.filter(pk=subscription_id)
    rows.update(attempts_failed_in_a_row=F("attempts_failed_in_a_row") + 1)
    rows.filter(attempts_failed_in_a_row__gte=BREAKER_FAILURES).update(
        paused_until=now + BREAKER_COOL_OFF
    )


def _count_failure(subscription: WebhookSubscription, now) -> None:
    """A given-up delivery; DISABLE_AFTER_FAILURES in a row disable the subscription and
    tell its owner (the conditional update makes one worker do it once)."""
    rows = WebhookSubscription.objects.filter(pk=subscription.pk)
    rows.update(failures_in_a_row=F("failures_in_a_row") + 1)
    count = rows.values_list("failures_in_a_row", flat=True).first() or 0
    if count < DISABLE_AFTER_FAILURES:
        return
    if rows.filter(is_active=True).update(is_active=False, disabled_at=now):
        subscribed_types_forget()
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
