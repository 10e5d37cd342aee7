"""Notifications and the outbox: notify in the caller's transaction, delivery by the worker
(retries, backoff, giving up, at-least-once after a crash, row locks between workers), the
bell, the pages and the API, and the recipient helper."""

from __future__ import annotations

import datetime as dt
import re
import threading
import time

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from cityops.periodic import registered_jobs
from departments.models import Membership, Role, Unit, UnitKind
from workflows.models import Case, Category, CategoryScheme, Notification, OutboxMessage
from workflows.outbox import MAX_ATTEMPTS, deliver_due, retry_delay
from workflows.services.notifications import (
    notifications_mark_read,
    notify,
    unread_count,
    users_holding,
)

User = get_user_model()


# --- fixtures --------------------------------------------------------------------------------


def _user(username: str, *, email: str | None = None, active: bool = True):
    address = f"{username}@city.test" if email is None else email
    return User.objects.create_user(username, email=address, password="pw", is_active=active)


@pytest.fixture
def org():
    """city → district → street; sanitation → its east station."""
    city = Unit.objects.create(code="C", name="City", kind=UnitKind.CITY)
    district = Unit.objects.create(code="D", name="District", kind=UnitKind.DISTRICT, parent=city)
    street = Unit.objects.create(code="S", name="Street", kind=UnitKind.STREET, parent=district)
    sani = Unit.objects.create(code="SANI", name="Sanitation", kind=UnitKind.HANDLING, parent=city)
    east = Unit.objects.create(code="SANI-E", name="East", kind=UnitKind.HANDLING, parent=sani)
    return dict(city=city, district=district, street=street, sani=sani, east=east)


@pytest.fixture
def case(org):
    scheme = CategoryScheme.objects.create(code="T")
    category = Category.objects.create(
        scheme=scheme,
        kind="event",
        major_code="01",
        major_name="市容",
        code="0102",
        name="暴露垃圾",
        default_unit=org["sani"],
        limit_value=4,
        limit_unit="working_hours",
    )
    return Case.objects.create(
        number="2026-000042",
        city=org["city"],
        category=category,
        description="garbage",
        source="inspector",
        created_at=timezone.now(),
    )


@pytest.fixture
def alice(db):
    return _user("alice")


@pytest.fixture
def bob(db):
    return _user("bob")


def _browser(user) -> Client:
    client = Client(headers={"accept-language": "en"})
    client.force_login(user)
    return client


def _api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def _pending():
    return OutboxMessage.objects.filter(delivered_at__isnull=True, failed_at__isnull=True)


def _fail_sending(monkeypatch, error: str = "SMTP down") -> None:
    def refuse(self, messages):
        raise ConnectionRefusedError(error)

    monkeypatch.setattr(LocmemBackend, "send_messages", refuse)


# --- notify ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_notify_writes_one_notification_and_one_email_per_distinct_active_user(case, alice, bob):
    no_mail = _user("carol", email="")
    gone = _user("dave", active=False)

    made = notify(
        users=[alice, bob, alice, no_mail, gone],
        kind="sla_warn",
        title="Case 2026-000042 is at 75%",
        body="Handle it soon.",
        case=case,
    )

    assert sorted(n.user_id for n in made) == sorted([alice.pk, bob.pk, no_mail.pk])
    assert all(n.pk for n in made)
    assert Notification.objects.count() == 3
    assert not Notification.objects.filter(user=gone).exists()
    emails = {m.payload["to"][0]: m for m in OutboxMessage.objects.all()}
    assert set(emails) == {"alice@city.test", "bob@city.test"}  # carol has no address
    alice_mail = emails["alice@city.test"]
    assert alice_mail.channel == "email"
    assert alice_mail.payload["subject"] == "Case 2026-000042 is at 75%"
    assert alice_mail.payload["notification"] == Notification.objects.get(user=alice).pk
    assert alice_mail.payload["body"].startswith("Handle it soon.")
    assert "2026-000042" in alice_mail.payload["body"]
    assert "http" not in alice_mail.payload["body"]
    assert alice_mail.available_at <= timezone.now()
    assert mail.outbox == []  # nothing is sent by notify itself


@pytest.mark.django_db
def test_notify_without_email_and_without_users(alice):
    assert notify(users=[], kind="k", title="t") == []
    notify(users=[alice], kind="k", title="in-app only", email=False)
    assert Notification.objects.filter(user=alice).count() == 1
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db
def test_notify_takes_a_queryset_and_strips_line_breaks_from_the_subject(org, alice):
    Membership.objects.create(user=alice, unit=org["sani"], role=Role.UNIT_HEAD)
    notify(users=users_holding(Role.UNIT_HEAD, [org["sani"].pk]), kind="k", title="a\nb")
    assert OutboxMessage.objects.get().payload["subject"] == "a b"


@pytest.mark.django_db
def test_notify_is_rolled_back_with_the_callers_transaction(case, alice):
    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        notify(users=[alice], kind="k", title="t", case=case)
        assert Notification.objects.count() == 1
        assert OutboxMessage.objects.count() == 1
        raise Boom

    assert not Notification.objects.exists()
    assert not OutboxMessage.objects.exists()
    assert deliver_due() == 0
    assert mail.outbox == []


@pytest.mark.django_db
def test_notify_runs_a_constant_number_of_queries(case):
    few = [_user(f"few{i}") for i in range(2)]
    many = [_user(f"many{i}") for i in range(30)]

    def queries(users) -> int:
        with CaptureQueriesContext(connection) as ctx:
            notify(users=users, kind="k", title="t", body="b", case=case)
        return len(ctx.captured_queries)

    assert queries(few) == queries(many) <= 4
    assert OutboxMessage.objects.count() == 32


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


# --- reading and marking read ----------------------------------------------------------------


@pytest.mark.django_db
def test_mark_read_touches_only_the_actors_own_rows(alice, bob):
    mine = notify(users=[alice], kind="k", title="1") + notify(users=[alice], kind="k", title="2")
    theirs = notify(users=[bob], kind="k", title="b")
    assert unread_count(alice) == 2

    assert notifications_mark_read(actor=alice, ids=[mine[0].pk, theirs[0].pk]) == 1
    assert unread_count(alice) == 1 and unread_count(bob) == 1
    assert notifications_mark_read(actor=alice, ids=[mine[0].pk]) == 0  # already read
    assert notifications_mark_read(actor=alice, ids=[]) == 0
    assert notifications_mark_read(actor=alice, ids=None) == 1
    assert unread_count(alice) == 0 and unread_count(bob) == 1


@pytest.mark.django_db
def test_unread_count_can_stop_counting_at_a_cap(alice):
    notify(users=[alice], kind="k", title="1")
    notify(users=[alice], kind="k", title="2")
    notify(users=[alice], kind="k", title="3")
    assert unread_count(alice) == 3
    assert unread_count(alice, cap=2) == 2


# --- pages -----------------------------------------------------------------------------------


def _notification_queries(ctx) -> list[str]:
    return [q["sql"] for q in ctx.captured_queries if "workflows_notification" in q["sql"]]


@pytest.mark.django_db
def test_the_bell_shows_the_unread_count_with_one_query(alice):
    for i in range(3):
        notify(users=[alice], kind="k", title=f"n{i}")
    browser = _browser(alice)

    with CaptureQueriesContext(connection) as ctx:
        body = browser.get("/notifications/").content.decode()

    assert 'class="bell"' in body and 'data-unread="3"' in body
    counts = [sql for sql in _notification_queries(ctx) if "COUNT" in sql.upper()]
    assert len(counts) == 1

    notifications_mark_read(actor=alice, ids=None)
    body = browser.get("/notifications/").content.decode()
    assert 'class="bell"' in body and "data-unread" not in body


@pytest.mark.django_db
def test_the_bell_says_99_plus_beyond_ninety_nine(alice):
    Notification.objects.bulk_create(
        Notification(user=alice, kind="k", title=f"n{i}", created_at=timezone.now())
        for i in range(120)
    )
    body = _browser(alice).get("/notifications/").content.decode()
    assert ">99+</span>" in body


@pytest.mark.django_db
def test_anonymous_pages_query_no_notifications(client):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert _notification_queries(ctx) == []
    assert 'class="bell"' not in response.content.decode()


@pytest.mark.django_db
def test_the_page_lists_my_notifications_newest_first(case, alice, bob):
    old = notify(users=[alice], kind="k", title="Old news")[0]
    Notification.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - dt.timedelta(hours=1), read_at=timezone.now()
    )
    notify(users=[alice], kind="k", title="Fresh news", body="Body text", case=case)
    notify(users=[bob], kind="k", title="Bob's secret")

    response = _browser(alice).get("/notifications/")

    assert response.status_code == 200
    body = response.content.decode()
    assert body.index("Fresh news") < body.index("Old news")
    assert "Bob's secret" not in body
    assert f'href="/cases/{case.pk}/"' in body and "2026-000042" in body
    assert body.count('class="unread"') == 1 and body.count('class="read"') == 1
    assert "Mark all read" in body


@pytest.mark.django_db
def test_the_page_is_keyset_paginated(alice):
    start = timezone.now()
    Notification.objects.bulk_create(
        Notification(
            user=alice, kind="k", title=f"item-{i:02d}", created_at=start + dt.timedelta(seconds=i)
        )
        for i in range(30)
    )
    browser = _browser(alice)

    first = browser.get("/notifications/").content.decode()
    assert "item-29" in first and "item-05" in first and "item-04" not in first
    cursor = re.search(r'href="\?cursor=([^"]+)"', first).group(1)
    second = browser.get(f"/notifications/?cursor={cursor}").content.decode()
    assert "item-04" in second and "item-00" in second and "item-05" not in second
    assert "Next page" not in second

    forged = browser.get("/notifications/?cursor=not-ours", follow=True).content.decode()
    assert "not valid" in forged and "item-29" in forged


@pytest.mark.django_db
def test_mark_all_read_and_one_read_from_the_page(alice, bob):
    a1, a2 = (
        notify(users=[alice], kind="k", title="1")[0],
        notify(users=[alice], kind="k", title="2")[0],
    )
    b1 = notify(users=[bob], kind="k", title="b")[0]
    browser = _browser(alice)

    response = browser.post("/notifications/read/", {"ids": [str(a1.pk), str(b1.pk)]})
    assert response.status_code == 302 and response["Location"] == "/notifications/"
    a1.refresh_from_db(), a2.refresh_from_db(), b1.refresh_from_db()
    assert a1.read_at is not None and a2.read_at is None and b1.read_at is None

    response = browser.post("/notifications/read/", {"next": "/notifications/?x=1"}, follow=True)
    assert response.redirect_chain[-1][0] == "/notifications/?x=1"
    assert "1 notification marked read." in response.content.decode()
    assert unread_count(alice) == 0 and unread_count(bob) == 1

    outside = browser.post("/notifications/read/", {"next": "https://evil.example/"})
    assert outside["Location"] == "/notifications/"


@pytest.mark.django_db
def test_pages_send_anonymous_users_to_log_in(client, alice):
    notify(users=[alice], kind="k", title="t")
    for response in (client.get("/notifications/"), client.post("/notifications/read/")):
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=/notifications/")
    assert unread_count(alice) == 1
    assert _browser(alice).get("/notifications/read/").status_code == 405


# --- API -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_api_lists_my_notifications_with_the_unread_count(case, alice, bob):
    first = notify(users=[alice], kind="sla_remind", title="Plain")[0]
    notify(users=[alice], kind="sla_warn", title="With case", body="b", case=case)
    notify(users=[bob], kind="k", title="Bob's")
    notifications_mark_read(actor=alice, ids=[first.pk])

    response = _api(alice).get("/api/v1/notifications/")

    assert response.status_code == 200
    data = response.json()
    assert data["unread"] == 1 and data["next"] is None
    assert [r["title"] for r in data["results"]] == ["With case", "Plain"]
    newest, older = data["results"]
    assert newest["case"] == {"id": case.pk, "number": "2026-000042"}
    assert newest["kind"] == "sla_warn" and newest["body"] == "b" and newest["read"] is False
    assert older["case"] is None and older["read"] is True
    assert set(newest) == {"id", "kind", "title", "body", "case", "created_at", "read"}


@pytest.mark.django_db
def test_api_list_is_cursor_paginated(alice):
    start = timezone.now()
    Notification.objects.bulk_create(
        Notification(user=alice, kind="k", title=f"n{i}", created_at=start)  # same time: id breaks
        for i in range(5)
    )
    api = _api(alice)
    seen, url = [], "/api/v1/notifications/?limit=2"
    while url:
        page = api.get(url).json()
        seen += [r["id"] for r in page["results"]]
        url = page["next"]
    assert seen == sorted(Notification.objects.values_list("id", flat=True), reverse=True)

    bad = api.get("/api/v1/notifications/", {"cursor": "garbage"})
    assert bad.status_code == 400
    assert bad.json()["error"]["fields"] == {"cursor": [bad.json()["error"]["fields"]["cursor"][0]]}


@pytest.mark.django_db
def test_api_marks_read_by_ids_or_all(alice, bob):
    a = [notify(users=[alice], kind="k", title=str(i))[0] for i in range(3)]
    b = notify(users=[bob], kind="k", title="b")[0]
    api = _api(alice)

    response = api.post("/api/v1/notifications/read/", {"ids": [a[0].pk, b.pk]}, format="json")
    assert response.status_code == 200 and response.json() == {"marked": 1}
    assert api.post("/api/v1/notifications/read/", {}, format="json").json() == {"marked": 2}
    assert api.post("/api/v1/notifications/read/", {}, format="json").json() == {"marked": 0}
    assert unread_count(bob) == 1

    bad = api.post("/api/v1/notifications/read/", {"ids": ["x", 0]}, format="json")
    assert bad.status_code == 400 and "ids" in bad.json()["error"]["fields"]


@pytest.mark.django_db
def test_api_answers_401_to_anonymous_callers(alice):
    notify(users=[alice], kind="k", title="t")
    anonymous = _api()
    assert anonymous.get("/api/v1/notifications/").status_code == 401
    response = anonymous.post("/api/v1/notifications/read/", {}, format="json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert unread_count(alice) == 1


# --- recipients ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_users_holding_respects_include_subunits(org):
    here = _user("here")
    above_all = _user("above_all")  # at the city, including sub-units
    above_only = _user("above_only")  # at the city, that unit only
    parent_all = _user("parent_all")  # at the district, including sub-units
    other_role = _user("other_role")
    sideways = _user("sideways")  # another branch of the tree
    retired = _user("retired", active=False)
    for user, unit, role, subunits in [
        (here, "street", Role.UNIT_HEAD, False),
        (here, "district", Role.UNIT_HEAD, True),  # two matching posts: still listed once
        (above_all, "city", Role.UNIT_HEAD, True),
        (above_only, "city", Role.UNIT_HEAD, False),
        (parent_all, "district", Role.UNIT_HEAD, True),
        (other_role, "street", Role.HANDLER, False),
        (sideways, "sani", Role.UNIT_HEAD, True),
        (retired, "street", Role.UNIT_HEAD, False),
    ]:
        Membership.objects.create(user=user, unit=org[unit], role=role, include_subunits=subunits)

    names = lambda qs: sorted(u.username for u in qs)  # noqa: E731

    assert names(users_holding(Role.UNIT_HEAD, [org["street"].pk])) == [
        "above_all",
        "here",
        "parent_all",
    ]
    assert names(users_holding(Role.UNIT_HEAD, [org["city"].pk])) == ["above_all", "above_only"]
    assert names(users_holding(Role.UNIT_HEAD, [org["east"].pk])) == ["above_all", "sideways"]
    assert names(users_holding(Role.UNIT_HEAD, [org["street"].pk, org["east"].pk])) == [
        "above_all",
        "here",
        "parent_all",
        "sideways",
    ]
    assert names(users_holding(Role.HANDLER, [org["street"].pk])) == ["other_role"]
    assert names(users_holding(Role.UNIT_HEAD, [])) == []
