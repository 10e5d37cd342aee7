"""The outbox worker: delivers the side effects that state changes wrote as rows.

`deliver_due` claims due rows in batches (`SELECT … FOR UPDATE SKIP LOCKED`, one transaction
per batch), delivers each through its channel and marks it delivered in the same transaction.
Several workers can run at once: a row locked by one is skipped by the others. A failed
delivery is retried with exponential backoff (30 s, 1 min, 2 min, … capped at 1 h); after
MAX_ATTEMPTS failures (or the channel's own limit in CHANNEL_MAX_ATTEMPTS) the row is given up
(`failed_at`) and logged. A row with a channel we do not know, or a payload we cannot read, is
given up at once. A channel says "never retry" by raising `integrations.errors.PermanentError`.
The worker imports its channels downwards (email here, webhooks from
`integrations.webhook_delivery`); the channels know nothing of the worker.

Delivery is **at least once**, not exactly once: a worker killed after a message left (or a
database error while marking the batch) rolls the batch back, and the next run sends those
messages again. Email tolerates the rare duplicate; webhooks carry a delivery id
(`X-CityOps-Delivery`, the same on every attempt) so that receivers can drop duplicates.

SQLite ignores the row locks; the demo runs a single in-process worker, so that is fine.
Runs as the periodic job "outbox-deliver" (Celery beat in production, the in-process loop of
`manage.py serve` in the demo).
"""

from __future__ import annotations

import datetime as dt
import logging
import time

from django.core import mail
from django.db import transaction
from django.utils import timezone

from .integrations.errors import PermanentError
from .integrations.sms import sms_deliver
from .integrations.webhook_delivery import webhook_deliver
from .models import OutboxMessage

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 12  # ≈ 8 h of backoff: enough for a mail server
# Webhook receivers are other organisations' systems: keep trying for more than a day
# (7 short retries ≈ 1 h, then hourly: 40 attempts ≈ 33 h).
CHANNEL_MAX_ATTEMPTS = {"webhook": 40}
FIRST_RETRY = dt.timedelta(seconds=30)
LONGEST_RETRY = dt.timedelta(hours=1)
TIME_BUDGET_SECONDS = 10.0
ERROR_MAX_CHARS = 2000


def max_attempts(channel: str) -> int:
    """How many failed attempts give a message of the channel up."""
    return CHANNEL_MAX_ATTEMPTS.get(channel, MAX_ATTEMPTS)


def retry_delay(attempts: int) -> dt.timedelta:
    """Wait before the next try after `attempts` failures: 30 s × 2^(attempts-1), ≤ 1 h."""
    if attempts >= 8:  # 30 s × 2^7 already exceeds the cap; avoid huge powers
        return LONGEST_RETRY
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)


class _Channels:
    """Delivers one batch's messages, reusing one mail connection for the batch."""

    def __init__(self) -> None:
        self._mail = None

    def send(self, message: OutboxMessage) -> None:
        if message.channel == "email":
            self._email(message.payload)
        elif message.channel == "webhook":
            final = message.attempts + 1 >= max_attempts(message.channel)
            webhook_deliver(payload=message.payload, final=final)
        elif message.channel == "sms":
            sms_deliver(payload=message.payload)
        else:
            raise PermanentError(f"unknown channel {message.channel!r}")

    def _email(self, payload: dict) -> None:
        try:
            to, subject, body = list(payload["to"]), payload["subject"], payload["body"]
        except (KeyError, TypeError) as exc:
            raise PermanentError(f"bad email payload: {exc!r}") from exc
        if self._mail is None:
            self._mail = mail.get_connection()
        try:
            self._mail.open()  # inside the message's try: a refused connection is its failure
            mail.EmailMessage(subject=subject, body=body, to=to, connection=self._mail).send()
        except Exception:
            self.close()  # the next message reconnects instead of reusing a broken session
            raise

    def close(self) -> None:
        connection, self._mail = self._mail, None
        if connection is not None:
            try:
                connection.close()
            except Exception:  # a failed QUIT changes nothing about what was sent
                logger.warning("closing the mail connection failed", exc_info=True)


def _failed(message: OutboxMessage, exc: Exception, now: dt.datetime) -> None:
    """Record a failed try on the row: retry later, or give up."""
    message.attempts += 1
    message.last_error = f"{type(exc).__name__}: {exc}"[:ERROR_MAX_CHARS]
    if isinstance(exc, PermanentError) or message.attempts >= max_attempts(message.channel):
        message.failed_at = now
        logger.error(
            "outbox: gave up %s #%s after %s attempt(s): %s",
            message.channel,
            message.pk,
            message.attempts,
            message.last_error,
        )
    else:
        message.available_at = now + retry_delay(message.attempts)
        logger.warning(
            "outbox: %s #%s failed (attempt %s), retry at %s: %s",
            message.channel,
            message.pk,
            message.attempts,
            message.available_at.isoformat(),
            message.last_error,
        )


def _deliver_batch(batch: int, now: dt.datetime) -> tuple[int, int]:
    """Claim and deliver up to `batch` due rows; returns (claimed, delivered)."""
    channels = _Channels()
    with transaction.atomic():
        due = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(delivered_at__isnull=True, failed_at__isnull=True, available_at__lte=now)
            .order_by("available_at", "id")[:batch]
        )
        delivered, failed = [], []
        try:
            for message in due:
                try:
                    channels.send(message)
                except Exception as exc:  # one bad message must not stop the batch
                    _failed(message, exc, now)
                    failed.append(message)
                else:
                    delivered.append(message.pk)
        finally:
            channels.close()
        if delivered:
            OutboxMessage.objects.filter(pk__in=delivered).update(delivered_at=timezone.now())
        if failed:
            OutboxMessage.objects.bulk_update(
                failed, ["attempts", "last_error", "available_at", "failed_at"]
            )
    return len(due), len(delivered)


def deliver_due(
    *, batch: int = 100, now: dt.datetime | None = None, budget: float = TIME_BUDGET_SECONDS
) -> int:
    """Deliver the due outbox rows, batch after batch, until none is due or `budget` seconds
    are used; returns how many were delivered. `now` fixes the clock (tests)."""
    batch = max(1, batch)
    deadline = time.monotonic() + budget
    total = 0
    while True:
        claimed, delivered = _deliver_batch(batch, now or timezone.now())
        total += delivered
        if claimed < batch or time.monotonic() >= deadline:
            return total
