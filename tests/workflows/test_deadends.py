"""No dead ends (issue 10): the rework goes back to its handler, lists say where work waits,
a finished task leads to the next one, the unit head's second-level dispatch queue, and
supervision orders reach everyone they are addressed to."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from departments.models import Membership
from workflows.models import CaseEvent, CaseTask, Notification, TaskStatus
from workflows.services.supervision import order_issue

pytestmark = pytest.mark.django_db


def user(name: str):
    return get_user_model().objects.get(username=name)


@pytest.fixture
def browser(staff_client):
    return staff_client


def open_task(case_id: int) -> CaseTask:
    return CaseTask.objects.get(case_id=case_id, status__in=[TaskStatus.OPEN, TaskStatus.CLAIMED])


def checked_and_failed(walk) -> int:
    case_id = walk.report()["id"]
    walk.to_handling(case_id)
    walk.act("handler_sani", case_id, "done")
    walk.act("inspector", case_id, "fail", reason="仍有垃圾 Still dirty")
    return case_id


# --- rework -------------------------------------------------------------------------------------


def test_rework_lands_in_the_handlers_inbox_with_a_notice(walk):
    case_id = checked_and_failed(walk)
    rework = open_task(case_id)
    assert (rework.stage, rework.status, rework.owner.username) == (
        "handling",
        "claimed",
        "handler_sani",
    )
    assert rework.task.owner.username == "handler_sani" and rework.task.status == "ASSIGNED"
    event = CaseEvent.objects.get(case_id=case_id, action="rework_assign")
    assert event.actor is None and event.payload["owner"] == "handler_sani"
    notice = Notification.objects.get(user__username="handler_sani", kind="rework")
    assert notice.case_id == case_id


def test_rework_waits_in_the_queue_when_the_handler_left_the_unit(walk):
    case_id = walk.report()["id"]
    walk.to_handling(case_id)
    walk.act("handler_sani", case_id, "done")
    Membership.objects.filter(user__username="handler_sani").delete()
    walk.act("inspector", case_id, "fail", reason="仍有垃圾 Still dirty")
    rework = open_task(case_id)
    assert (rework.status, rework.owner, rework.unit.code) == ("open", None, "SANI")
    assert not CaseEvent.objects.filter(case_id=case_id, action="rework_assign").exists()


def test_rework_waits_in_the_queue_when_the_handler_is_inactive(walk):
    case_id = walk.report()["id"]
    walk.to_handling(case_id)
    walk.act("handler_sani", case_id, "done")
    get_user_model().objects.filter(username="handler_sani").update(is_active=False)
    walk.act("inspector", case_id, "fail", reason="仍有垃圾 Still dirty")
    assert open_task(case_id).status == "open"


# --- where work is ------------------------------------------------------------------------------


def test_the_inbox_says_how_many_tasks_wait_in_the_queue(walk, browser):
    walk.report()
    walk.report()
    page = browser("intake").get("/tasks/")
    body = page.content.decode()
    assert re.search(r'id="count-queue">2<', body) and re.search(r'id="count-inbox">0<', body)
    assert "Nothing in your inbox: 2 tasks wait in your queue." in body
    assert 'href="?scope=queue"' in body
    assert "count-subdispatch" not in body  # not a unit head


def test_login_lands_on_the_inbox(demo, client):
    response = client.post(
        "/accounts/login/", {"username": "intake", "password": "pw"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 302
    assert client.get(response.url).url == "/tasks/"


def test_claim_and_open_from_the_queue(walk, browser):
    case_id = walk.report()["id"]
    task = open_task(case_id)
    queue = browser("intake").get("/tasks/?scope=queue").content.decode()
    assert "Claim and open" in queue and f'action="/tasks/{task.pk}/claim/"' in queue
    response = browser("intake").post(f"/tasks/{task.pk}/claim/", {"next": "/tasks/?scope=queue"})
    assert response.status_code == 302 and response.url == f"/tasks/{task.pk}/"
    task.refresh_from_db()
    assert (task.status, task.owner.username) == ("claimed", "intake")


def test_after_a_task_the_user_lands_on_the_next_one(walk, browser):
    first, second = walk.report()["id"], walk.report()["id"]
    client = browser("intake")
    a, b = open_task(first), open_task(second)
    for task in (a, b):
        client.post(f"/tasks/{task.pk}/claim/")
    response = client.post(f"/tasks/{a.pk}/complete/", {"outcome": "accept"})
    assert response.status_code == 302 and response.url == f"/tasks/{b.pk}/"
    assert "Your next task: case" in client.get(response.url).content.decode()

    third = open_task(walk.report()["id"])
    response = client.post(f"/tasks/{b.pk}/complete/", {"outcome": "accept"})
    assert response.url == "/tasks/?scope=queue"
    assert "1 task waits in the queue" in client.get(response.url).content.decode()

    client.post(f"/tasks/{third.pk}/claim/")
    response = client.post(f"/tasks/{third.pk}/complete/", {"outcome": "accept"})
    assert response.url == "/tasks/?scope=inbox"
    assert "No more tasks for now." in client.get(response.url).content.decode()


# --- the unit head's second-level dispatch queue --------------------------------------------


def test_unit_head_dispatches_from_their_queue(walk, browser):
    case_id = walk.report()["id"]
    walk.to_handling(case_id)
    task = open_task(case_id)
    client = browser("unithead_sani")
    inbox = client.get("/tasks/").content.decode()
    assert 'id="count-subdispatch">1<' in inbox
    listing = client.get("/tasks/?scope=subdispatch").content.decode()
    assert f'href="/tasks/{task.pk}/"' in listing and "Dispatch to a sub-unit" in listing
    sub = task.unit.children.filter(is_active=True).order_by("code").first()
    response = client.post(f"/tasks/{task.pk}/subdispatch/", {"unit": sub.pk})
    assert response.status_code == 302 and response.url == "/tasks/?scope=subdispatch"
    task.refresh_from_db()
    assert task.unit == sub
    # Still the head's (the post covers sub-units): it stays listed, now at the sub-unit.
    assert sub.name in client.get("/tasks/?scope=subdispatch").content.decode()
    # Others have no such list: the scope falls back to the inbox.
    other = browser("handler_sani").get("/tasks/?scope=subdispatch").content.decode()
    assert "count-subdispatch" not in other and f'href="/tasks/{task.pk}/"' not in other


# --- supervision orders in the addressees' menu ---------------------------------------------


def test_orders_reach_the_unit_head_and_the_handler_holding_the_task(walk, browser):
    case_id = walk.report()["id"]
    walk.to_handling(case_id)
    task = open_task(case_id)
    order_issue(
        actor=user("supervisor"),
        case=task.case,
        reason="请说明 Explain",
        reply_due_at=timezone.now() + dt.timedelta(days=1),
    )
    # The handler does not hold the task yet: no link, no count.
    nav = browser("handler_sani").get("/tasks/").content.decode()
    assert 'id="nav-orders"' not in nav
    head = browser("unithead_sani").get("/tasks/").content.decode()
    assert re.search(r'id="nav-orders">Supervision <span class="count open"[^>]*>1<', head)

    walk.claim("handler_sani", task.pk)
    nav = browser("handler_sani").get("/tasks/").content.decode()
    assert re.search(r'id="nav-orders">Supervision <span class="count open"[^>]*>1<', nav)
    listing = browser("handler_sani").get("/supervision/").content.decode()
    assert task.case.number in listing and "Explain" in listing
    assert 'action="/supervision/' not in listing  # the unit head replies, not the handler
    # Someone else's handler sees neither.
    assert 'id="nav-orders"' not in browser("handler_muni").get("/tasks/").content.decode()
    assert task.case.number not in browser("handler_muni").get("/supervision/").content.decode()


# --- 催办 -------------------------------------------------------------------------------------


def test_shift_leader_reminds_the_holder_from_the_case_page(walk, browser):
    case_id = walk.report()["id"]
    walk.to_handling(case_id)
    task = open_task(case_id)
    walk.claim("handler_sani", task.pk)
    client = browser("shiftlead")
    page = client.get(f"/cases/{case_id}/").content.decode()
    assert f'action="/cases/{case_id}/remind/"' in page and 'id="reminder-count">0<' in page

    empty = client.post(f"/cases/{case_id}/remind/", {"message": "  "})
    assert empty.status_code == 400 and "This field is required." in empty.content.decode()
    assert not CaseEvent.objects.filter(case_id=case_id, action="remind").exists()

    response = client.post(f"/cases/{case_id}/remind/", {"message": "请尽快处理 Hurry up"})
    assert response.status_code == 302 and response.url == f"/cases/{case_id}/"
    page = client.get(response.url).content.decode()
    assert "Reminder sent to 1 person." in page and 'id="reminder-count">1<' in page
    assert "Hurry up" in page and "<strong>Reminder</strong>" in page  # on the timeline
    event = CaseEvent.objects.get(case_id=case_id, action="remind")
    assert event.actor.username == "shiftlead" and event.payload["to"] == ["handler_sani"]
    notice = Notification.objects.get(kind="reminder")
    assert notice.user.username == "handler_sani" and notice.body == "请尽快处理 Hurry up"


def test_an_unclaimed_task_reminds_everyone_who_may_claim_it(walk, api):
    case_id = walk.report()["id"]  # intake's task waits in the centre's queue
    response = api("supervisor").post(
        f"/api/v1/cases/{case_id}/remind/", {"message": "Hurry"}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["to"] == ["intake"] and body["reminder_count"] == 1
    api("supervisor").post(f"/api/v1/cases/{case_id}/remind/", {"message": "Again"}, format="json")
    assert walk.case(case_id)["reminder_count"] == 2


@pytest.mark.parametrize("username", ["handler_sani", "dispatcher", "intake"])
def test_only_the_command_centre_reminds(walk, api, username):
    case_id = walk.report()["id"]
    walk.to_handling(case_id)
    response = api(username).post(
        f"/api/v1/cases/{case_id}/remind/", {"message": "Hurry"}, format="json"
    )
    # The dispatcher and intake clerk see the case (their tasks) but may not remind; the
    # handler too (the case is in their queue).
    assert response.status_code == 409 and response.json()["error"]["code"] == "not_allowed"
    assert not CaseEvent.objects.filter(case_id=case_id, action="remind").exists()


def test_reminder_input_and_state_errors(walk, api):
    case_id = walk.report()["id"]
    client = api("supervisor")
    for bad in ({}, {"message": ""}, {"message": "x" * 1001}):
        response = client.post(f"/api/v1/cases/{case_id}/remind/", bad, format="json")
        assert response.status_code == 400 and "message" in response.json()["error"]["fields"]
    assert (
        client.post("/api/v1/cases/999999/remind/", {"message": "x"}, format="json").status_code
        == 404
    )
    assert (
        api("handler_muni")
        .post(f"/api/v1/cases/{case_id}/remind/", {"message": "x"}, format="json")
        .status_code
        == 404
    )
    walk.act("intake", case_id, "invalid", reason="Not a case")
    response = client.post(f"/api/v1/cases/{case_id}/remind/", {"message": "x"}, format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "case_not_open"
    assert walk.case(case_id)["reminder_count"] == 0


# --- re-dispatch with context -------------------------------------------------------------


def returned_to_dispatch(walk) -> int:
    case_id = walk.report()["id"]
    walk.to_handling(case_id)
    walk.act("handler_sani", case_id, "return", reason="不归我们管 Not ours: a water pipe")
    walk.act("shiftlead", case_id, "approve")
    return case_id


def test_the_dispatch_page_shows_the_return_and_does_not_suggest_the_unit_again(walk, browser, api):
    case_id = returned_to_dispatch(walk)
    task = open_task(case_id)
    assert task.stage == "dispatch"
    returned = task.payload["returned"]
    assert (returned["unit"], returned["by"]) == ("SANI", "handler_sani")
    assert returned["reason"] == "不归我们管 Not ours: a water pipe"
    # SANI (the category's default unit) is not suggested again, and nothing else matches.
    assert task.payload["suggested_unit"] is None and task.payload["basis"] == "none"

    walk.claim("dispatcher", task.pk)
    page = browser("dispatcher").get(f"/tasks/{task.pk}/").content.decode()
    assert 'id="returned"' in page and "Not ours: a water pipe" in page
    assert "handler_sani" in page and "not suggested again" in page
    dispatch_form = page.split('id="outcome-dispatch"')[1].split("</form>")[0]
    assert 'value="" selected>' in dispatch_form  # no unit chosen in advance

    # Without a unit there is no suggestion to fall back on; chosen by hand, SANI is allowed.
    refused = walk.complete("dispatcher", task.pk, "dispatch")
    assert refused.status_code == 400 and "unit" in refused.json()["error"]["fields"]
    response = walk.complete("dispatcher", task.pk, "dispatch", unit="SANI")
    assert response.status_code == 200, response.content
    assert walk.case(case_id)["responsible_unit"]["code"] == "SANI"


def test_a_first_dispatch_has_no_return_context(walk):
    case_id = walk.report()["id"]
    walk.act("intake", case_id, "accept")
    walk.act("shiftlead", case_id, "file")
    task = open_task(case_id)
    assert "returned" not in task.payload
    assert task.payload["suggested_unit_code"] == "SANI"


def test_the_next_best_rule_is_suggested_after_a_return(walk, demo):
    from departments.models import Unit
    from workflows.models import RoutingRule

    RoutingRule.objects.create(unit=Unit.objects.get(code="ENF"), category=demo.garbage)
    RoutingRule.objects.create(unit=Unit.objects.get(code="MUNI"), priority=-1)
    case_id = walk.report()["id"]
    walk.to_handling(case_id)  # dispatched to the suggestion: ENF
    walk.act("handler_enf", case_id, "return", reason="Not ours")
    walk.act("shiftlead", case_id, "approve")
    task = open_task(case_id)
    assert task.payload["suggested_unit_code"] == "MUNI"
    assert task.payload["returned"]["unit"] == "ENF"
