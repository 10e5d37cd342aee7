"""The outbox worker: delivers the side effects that state changes wrote as rows.

No transaction is open while a message travels. `deliver_due` works in three steps:

1. **claim** (one short transaction): due rows are selected with `SELECT … FOR UPDATE SKIP
   LOCKED` and marked `claimed_until` = now + LEASE, then the transaction commits. Rows
   another worker holds, or has claimed with a lease still running, are skipped; so are the
   rows of a webhook subscription whose circuit breaker is open, and rows beyond a receiver's
   concurrency limit (PER_TARGET in flight: a slow receiver holds at most that many threads);
2. **deliver** in a thread pool (THREADS), with no database work: the e-mail, or the webhook
   POST read beforehand (`webhook_delivery.webhook_prepare`);
3. **record** each row as soon as its delivery ends (autocommit, one row at a time): delivered,
   or a failed attempt counted (`attempts`, and the webhook delivery log's `attempts`) with its
   retry time; the claim is cleared.

A failed delivery is retried with exponential backoff (30 s, 1 min, 2 min, … capped at 1 h);
after MAX_ATTEMPTS failures (or the channel's own limit in CHANNEL_MAX_ATTEMPTS) the row is given
up (`failed_at`) and logged. A row with a channel we do not know, or a payload we cannot read,
is given up at once. A channel says "never retry" by raising `integrations.errors.PermanentError`.
The worker imports its channels downwards (email here, webhooks from
`integrations.webhook_delivery`); the channels know nothing of the worker.

Delivery is **at least once**, not exactly once: a worker killed mid-run leaves only the rows
it had claimed and not yet recorded (at most its threads' worth plus one claim), and they are
sent again when their lease expires; a worker that stops on an exception releases its claims
at once. Email tolerates the rare duplicate; webhooks carry a delivery id
(`X-CityOps-Delivery`, the same on every attempt) so that receivers can drop duplicates.

SQLite ignores the row locks; the demo runs a single in-process worker, so that is fine.
Runs as the periodic job "outbox-deliver" (Celery beat in production, the in-process loop of
`manage.py serve` in the demo).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

from django.conf import settings
from django.core import mail
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from .integrations.errors import PermanentError
from .integrations.sms import sms_deliver
from .integrations.webhook_delivery import paused_subscription_ids, webhook_prepare, webhook_record
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


# The worker's pool, the concurrency per receiver, and the lease of a claim (longer than a
# delivery can take: the webhook timeout covers connecting and each read).
THREADS = 8
PER_TARGET = {"email": 4}
PER_TARGET_DEFAULT = 2


def lease() -> dt.timedelta:
    return dt.timedelta(seconds=max(60.0, 4 * float(settings.CITYOPS_WEBHOOK_TIMEOUT_SECONDS)))


def _target(message: OutboxMessage) -> str:
    return message.target or message.channel


def _email_send(to: list[str], subject: str, body: str) -> None:
    """One e-mail on its own connection (called in a pool thread; no database)."""
    mail.EmailMessage(subject=subject, body=body, to=to, connection=mail.get_connection()).send()


def _prepare(message: OutboxMessage):
    """(what to run in a thread, how to record its outcome), read in the calling thread;
    None when there is nothing to send. Raises for a message that cannot be sent at all."""
    if message.channel == "email":
        try:
            payload = message.payload
            to, subject, body = list(payload["to"]), payload["subject"], payload["body"]
        except (KeyError, TypeError) as exc:
            raise PermanentError(f"bad email payload: {exc!r}") from exc
        return (lambda: _email_send(to, subject, body)), _raise_failure
    if message.channel == "webhook":
        final = message.attempts + 1 >= max_attempts(message.channel)
        prepared = webhook_prepare(payload=message.payload, final=final)
        if prepared is None:
            return None
        return prepared.send, lambda outcome: webhook_record(prepared, outcome)
    if message.channel == "sms":
        payload = message.payload
        return (lambda: sms_deliver(payload=payload)), _raise_failure
    raise PermanentError(f"unknown channel {message.channel!r}")


def _raise_failure(outcome) -> None:
    if isinstance(outcome, BaseException):
        raise outcome


def _failed(message: OutboxMessage, exc: BaseException, now: dt.datetime) -> None:
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
    message.claimed_until = None
    message.save(
        update_fields=["attempts", "last_error", "available_at", "failed_at", "claimed_until"]
    )


def _delivered(message: OutboxMessage) -> None:
    OutboxMessage.objects.filter(pk=message.pk).update(
        delivered_at=timezone.now(), claimed_until=None
    )


def _claim(limit: int, now: dt.datetime) -> list[OutboxMessage]:
    """Claim up to `limit` due rows in one short transaction (see the module's text)."""
    if limit <= 0:
        return []
    with transaction.atomic():
        paused = [f"webhook:{pk}" for pk in paused_subscription_ids(now)]
        free = Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)
        due = OutboxMessage.objects.filter(
            delivered_at__isnull=True, failed_at__isnull=True, available_at__lte=now
        )
        in_flight = Counter()
        for target, channel, count in (
            due.filter(claimed_until__gt=now)
            .values_list("target", "channel")
            .annotate(n=Count("id"))
            .values_list("target", "channel", "n")
        ):
            in_flight[target or channel] += count
        rows = list(
            due.filter(free)
            .exclude(target__in=paused)
            .select_for_update(skip_locked=True)
            .order_by("available_at", "id")[: limit * 4]
        )
        chosen = []
        for message in rows:
            target = _target(message)
            if in_flight[target] >= PER_TARGET.get(target, PER_TARGET_DEFAULT):
                continue
            in_flight[target] += 1
            chosen.append(message)
            if len(chosen) == limit:
                break
        until = now + lease()
        OutboxMessage.objects.filter(pk__in=[m.pk for m in chosen]).update(claimed_until=until)
    return chosen


def _release(messages) -> None:
    """Give claims back at once (the worker stops on an exception)."""
    OutboxMessage.objects.filter(pk__in=[m.pk for m in messages], delivered_at__isnull=True).update(
        claimed_until=None
    )


def deliver_due(
    *, batch: int = 100, now: dt.datetime | None = None, budget: float = TIME_BUDGET_SECONDS
) -> int:
    """Deliver the due outbox rows until none is due or `budget` seconds are used (deliveries
    under way are then finished); returns how many were delivered. `now` fixes the clock
    (tests). Rows are claimed `batch` at most at a time."""
    batch = max(1, batch)
    deadline = time.monotonic() + budget
    delivered = 0
    running: dict = {}  # future → (message, record)
    pool = ThreadPoolExecutor(THREADS, thread_name_prefix="outbox")
    try:
        exhausted = False  # the last claim found fewer rows than it had room for
        while True:
            room = min(batch, 2 * THREADS - len(running))
            if not exhausted and room > 0 and time.monotonic() < deadline:
                claimed = _claim(room, now or timezone.now())
                for message in claimed:
                    delivered += _start(pool, running, message, now)
                exhausted = len(claimed) < room
            if not running:
                if exhausted or time.monotonic() >= deadline:
                    return delivered
                continue
            done, _pending = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                message, record = running[future]
                delivered += _finish(message, record, future, now)
                del running[future]  # after: a stop while recording releases it too
            exhausted = False  # a receiver's slot is free: its next rows may be claimed
    except BaseException:
        _release([message for message, _record in running.values()])
        raise
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _start(pool, running: dict, message: OutboxMessage, now) -> int:
    """Read the message and hand it to the pool; 1 when it needed no sending (done)."""
    try:
        work = _prepare(message)
    except Exception as exc:  # cannot be sent at all
        _failed(message, exc, now or timezone.now())
        return 0
    if work is None:
        _delivered(message)
        return 1
    send, record = work
    running[pool.submit(send)] = (message, record)
    return 0


def _finish(message: OutboxMessage, record, future, now) -> int:
    """Record one finished delivery; 1 when delivered."""
    outcome = future.exception()
    if outcome is not None and not isinstance(outcome, Exception):
        raise outcome  # SystemExit, KeyboardInterrupt …: the worker stops
    try:
        record(outcome if outcome is not None else future.result())
    except Exception as exc:  # one bad message must not stop the others
        _failed(message, exc, now or timezone.now())
        return 0
    _delivered(message)
    return 1
