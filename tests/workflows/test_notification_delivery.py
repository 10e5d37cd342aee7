"""Delivery of notifications by the outbox worker: retries, backoff, giving up, at-least-once
after a crash, and row locks between concurrent workers on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import connection, transaction
from django.utils import timezone

from cityops.periodic import registered_jobs
from workflows.models import OutboxMessage
from workflows.outbox import MAX_ATTEMPTS, deliver_due, retry_delay
from workflows.services.notifications import notify

from . import notification_scene as scene
from .notification_scene import _fail_sending, _pending, _user

User = get_user_model()
# The scene's fixtures, used here by name.
alice, bob, case, org = scene.alice, scene.bob, scene.case, scene.org


# --- the worker ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_deliver_due_sends_the_email_and_marks_it_delivered(case, alice):
    notify(users=[alice], kind="k", title="Overdue", body="Late.", case=case)

    assert deliver_due() == 1

    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["alice@city.test"]
    assert sent.subject == "Overdue"
    assert "Late." in sent.body and "2026-000042" in sent.body
    row = OutboxMessage.objects.get()
    assert row.delivered_at is not None and row.attempts == 0 and row.failed_at is None
    assert deliver_due() == 0  # delivered rows are never sent again
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_deliver_due_loops_over_batches_and_waits_for_future_rows(alice, bob):
    for i in range(7):
        notify(users=[alice], kind="k", title=f"n{i}")
    later = notify(users=[bob], kind="k", title="later")
    OutboxMessage.objects.filter(payload__notification=later[0].pk).update(
        available_at=timezone.now() + dt.timedelta(minutes=5)
    )

    assert deliver_due(batch=3) == 7
    assert len(mail.outbox) == 7
    assert _pending().count() == 1

    assert deliver_due(now=timezone.now() + dt.timedelta(minutes=6)) == 1
    assert mail.outbox[-1].subject == "later"


@pytest.mark.django_db
def test_a_failing_backend_backs_off_and_a_later_run_delivers(monkeypatch, alice):
    notify(users=[alice], kind="k", title="t")
    now = timezone.now()
    _fail_sending(monkeypatch)

    assert deliver_due(now=now) == 0

    row = OutboxMessage.objects.get()
    assert row.attempts == 1
    assert "SMTP down" in row.last_error and "ConnectionRefusedError" in row.last_error
    assert row.available_at == now + dt.timedelta(seconds=30)
    assert row.delivered_at is None and row.failed_at is None

    # Not due again before its backoff has passed: not even tried.
    assert deliver_due(now=now + dt.timedelta(seconds=29)) == 0
    assert OutboxMessage.objects.get().attempts == 1

    assert deliver_due(now=now + dt.timedelta(seconds=30)) == 0
    row = OutboxMessage.objects.get()
    assert row.attempts == 2
    assert row.available_at == now + dt.timedelta(seconds=30) + dt.timedelta(seconds=60)

    monkeypatch.undo()
    assert deliver_due(now=now + dt.timedelta(hours=1)) == 1
    assert len(mail.outbox) == 1
    row = OutboxMessage.objects.get()
    assert row.delivered_at is not None and row.attempts == 2


def test_backoff_doubles_from_thirty_seconds_up_to_an_hour():
    assert [retry_delay(n).total_seconds() for n in range(1, 9)] == [
        30,
        60,
        120,
        240,
        480,
        960,
        1920,
        3600,
    ]
    assert retry_delay(11) == dt.timedelta(hours=1)
    assert retry_delay(1000) == dt.timedelta(hours=1)


@pytest.mark.django_db
def test_after_max_attempts_the_message_is_given_up(monkeypatch, alice, caplog):
    notify(users=[alice], kind="k", title="t")
    _fail_sending(monkeypatch)
    now = timezone.now()

    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert deliver_due(now=now) == 0
        row = OutboxMessage.objects.get()
        assert row.attempts == attempt
        now = row.available_at if row.failed_at is None else now + dt.timedelta(days=1)

    assert MAX_ATTEMPTS == 12
    assert row.failed_at is not None and row.delivered_at is None
    assert "gave up" in caplog.text
    monkeypatch.undo()
    assert deliver_due(now=now + dt.timedelta(days=30)) == 0  # given up stays given up
    assert mail.outbox == []


@pytest.mark.django_db
def test_one_failing_message_does_not_hold_up_the_batch(monkeypatch, alice, bob):
    notify(users=[alice, bob], kind="k", title="t")
    OutboxMessage.objects.create(
        channel="pigeon", payload={}, created_at=timezone.now(), available_at=timezone.now()
    )
    OutboxMessage.objects.create(
        channel="email",
        payload={"subject": "no recipient"},
        created_at=timezone.now(),
        available_at=timezone.now(),
    )
    real_send = LocmemBackend.send_messages

    def bob_bounces(self, messages):
        if messages[0].to == ["bob@city.test"]:
            raise OSError("mailbox full")
        return real_send(self, messages)

    monkeypatch.setattr(LocmemBackend, "send_messages", bob_bounces)

    assert deliver_due() == 1

    assert [m.to for m in mail.outbox] == [["alice@city.test"]]
    bob_row = OutboxMessage.objects.get(payload__to=["bob@city.test"])
    assert bob_row.attempts == 1 and bob_row.failed_at is None  # will be retried
    pigeon = OutboxMessage.objects.get(channel="pigeon")
    assert pigeon.failed_at is not None and "unknown channel" in pigeon.last_error  # at once
    broken = OutboxMessage.objects.get(payload__subject="no recipient")
    assert broken.failed_at is not None and "bad email payload" in broken.last_error


@pytest.mark.django_db(transaction=True)
def test_killing_the_worker_between_commit_and_delivery_loses_nothing(monkeypatch, alice):
    with transaction.atomic():
        notify(users=[alice], kind="k", title="survives")
    # The worker is killed before it runs: nothing sent, the row waits in the table.
    assert mail.outbox == [] and _pending().count() == 1

    # A worker that dies in the middle of delivery (before its batch commits) leaves the row
    # exactly as it was: not delivered, no attempt counted.
    def killed(self, messages):
        raise SystemExit("worker killed")

    monkeypatch.setattr(LocmemBackend, "send_messages", killed)
    with pytest.raises(SystemExit):
        deliver_due()
    row = _pending().get()
    assert row.attempts == 0 and row.delivered_at is None

    monkeypatch.undo()
    assert deliver_due() == 1  # a new run, later
    assert deliver_due() == 0
    assert [m.subject for m in mail.outbox] == ["survives"]


def test_outbox_delivery_is_a_registered_periodic_job():
    job = next(j for j in registered_jobs() if j.name == "outbox-deliver")
    assert job.func == "workflows.outbox.deliver_due"
    assert job.seconds > 0


# --- the worker on PostgreSQL: row locks between concurrent workers ----------------------------


class RecordingBackend(BaseEmailBackend):
    """Records (recipient, subject) of each send in a thread-safe list; a little slow, so that
    concurrent workers overlap."""

    sent: list[tuple[str, str]] = []
    lock = threading.Lock()

    def send_messages(self, messages):
        time.sleep(0.002)
        with self.lock:
            self.sent.extend((m.to[0], m.subject) for m in messages)
        return len(messages)


@pytest.fixture
def recording(settings):
    settings.EMAIL_BACKEND = f"{__name__}.RecordingBackend"
    RecordingBackend.sent = []
    return RecordingBackend.sent


def _queue_emails(count: int) -> list[int]:
    users = [_user(f"u{i:02d}") for i in range(count)]
    notify(users=users, kind="k", title="due")
    return list(OutboxMessage.objects.order_by("id").values_list("id", flat=True))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_row_locked_by_one_worker_is_skipped_by_another(recording):
    ids = _queue_emails(20)
    held, locked, release = ids[:5], threading.Event(), threading.Event()

    def busy_worker():
        try:
            with transaction.atomic():  # holds five rows as a worker mid-delivery would
                list(OutboxMessage.objects.select_for_update().filter(pk__in=held))
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    thread = threading.Thread(target=busy_worker)
    thread.start()
    try:
        assert locked.wait(timeout=30)
        assert deliver_due(batch=4) == 15  # does not wait for the held rows
        assert set(_pending().values_list("id", flat=True)) == set(held)
    finally:
        release.set()
        thread.join(timeout=30)
    assert deliver_due() == 5
    assert len(recording) == 20 == len(set(recording))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_workers_send_each_email_exactly_once(recording):
    _queue_emails(50)
    barrier = threading.Barrier(2)
    counts, errors = [], []

    def worker():
        try:
            barrier.wait(timeout=30)
            counts.append(deliver_due(batch=5))
        except Exception as exc:  # asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert errors == []
    assert sum(counts) == 50
    assert len(recording) == 50
    assert len({to for to, _subject in recording}) == 50  # no email twice
    assert not _pending().exists()
