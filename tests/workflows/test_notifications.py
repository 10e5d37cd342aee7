"""Notifications: notify in the caller's transaction, reading and marking read, the bell, the
pages and the API, and the recipient helper (delivery by the worker is in
test_notification_delivery.py)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from departments.models import Membership, Role
from workflows.models import Notification, OutboxMessage
from workflows.outbox import deliver_due
from workflows.services.notifications import (
    notifications_mark_read,
    notify,
    unread_count,
    users_holding,
)

from . import notification_scene as scene
from .notification_scene import _api, _browser, _user

User = get_user_model()
# The scene's fixtures, used here by name.
alice, bob, case, org = scene.alice, scene.bob, scene.case, scene.org


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
