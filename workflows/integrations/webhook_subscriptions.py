"""Webhook subscriptions: subscribe (the URL passes the SSRF check first), unsubscribe, list
one's own, read a subscription's delivery log, and re-enable one disabled after failures.

Each caller manages only their own subscriptions; someone else's is "not found".
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from workflows import access

from ..models import WebhookDelivery, WebhookSubscription
from ..services.errors import not_found
from .webhook_delivery import UrlRefused, url_check
from .webhooks import EVENT_TYPES, subscribed_types_forget


def _check_access(actor) -> None:
    if not access.can_manage_webhooks(actor):
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
    subscribed_types_forget()
    return subscription


def webhook_unsubscribe(*, actor, subscription_id: int) -> None:
    """Delete one of the actor's subscriptions (with its delivery log); others' are 404."""
    subscription = webhook_subscription_get(actor=actor, subscription_id=subscription_id)
    subscription.delete()
    subscribed_types_forget()


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
    subscribed_types_forget()
    return subscription
