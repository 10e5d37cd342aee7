"""Supervision orders (督办): a supervisor issues, the unit head replies; events, notices, the
late flag, the wrong users (404 / 409), bad input (400) and nothing half-saved."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import Http404
from django.test import Client

from departments.models import Membership, Role, Unit
from workflows.models import (
    Case,
    CaseEvent,
    CaseTask,
    Notification,
    OrderStatus,
    OutboxMessage,
    SupervisionOrder,
    TaskStatus,
)
from workflows.services.cases import CaseReport, case_cancel, case_report
from workflows.services.errors import Conflict
from workflows.services.escalations import sla_sweep
from workflows.services.outcomes import task_complete
from workflows.services.supervision import order_issue, order_reply
from workflows.services.tasks import task_claim

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH)


NOW = at(2026, 9, 16, 15, 0)  # a Wednesday
DUE = at(2026, 9, 17, 12, 0)


def user(name: str):
    return get_user_model().objects.get(username=name)


def report(category, when: dt.datetime) -> Case:
    with time_machine.travel(when, tick=False):
        return case_report(
            actor=user("inspector"),
            report=CaseReport(
                category=category.pk, description="d", source="inspector", grid="D01-S01-C1-G1"
            ),
        )


def dispatched(category, when: dt.datetime) -> Case:
    case = report(category, when - dt.timedelta(minutes=3))
    for minutes, (username, outcome) in zip(
        (2, 1, 0),
        (("intake", "accept"), ("shiftlead", "file"), ("dispatcher", "dispatch")),
        strict=True,
    ):
        with time_machine.travel(when - dt.timedelta(minutes=minutes), tick=False):
            task = CaseTask.objects.get(case=case, status=TaskStatus.OPEN)
            task_claim(actor=user(username), task=task)
            task_complete(actor=user(username), task=task, outcome=outcome)
    return Case.objects.select_related("responsible_unit").get(pk=case.pk)


@pytest.fixture
def case(demo):
    """A case of 暴露垃圾 in handling at SANI since 14:00 on NOW's day."""
    return dispatched(demo.garbage, at(2026, 9, 16, 14, 0))


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def issue(case, username="supervisor", reason="请说明进度 Explain the delay", due=DUE, **kw):
    return order_issue(actor=user(username), case=case, reason=reason, reply_due_at=due, **kw)


def counts() -> tuple[int, int, int, int]:
    return (
        SupervisionOrder.objects.count(),
        CaseEvent.objects.filter(action__startswith="supervise").count(),
        Notification.objects.filter(kind__startswith="supervision").count(),
        OutboxMessage.objects.count(),
    )


# --- issuing ---------------------------------------------------------------------------------


def test_supervisor_issues_an_order_to_the_responsible_unit(case, frozen):
    order = issue(case)
    order.refresh_from_db()
    assert (order.unit.code, order.status, order.issued_by.username) == (
        "SANI",
        "open",
        "supervisor",
    )
    assert (order.reply_due_at, order.created_at) == (DUE, NOW)
    assert order.task == CaseTask.objects.get(case=case, stage="handling", status="open")
    event = CaseEvent.objects.get(case=case, action="supervise")
    assert event.actor.username == "supervisor" and event.unit.code == "SANI"
    assert event.payload == {
        "order": order.pk,
        "unit": "SANI",
        "reply_due_at": DUE.isoformat(),
        "reason": "请说明进度 Explain the delay",
    }
    notices = Notification.objects.filter(kind="supervision")
    assert [n.user.username for n in notices] == ["unithead_sani"]
    assert notices[0].case == case and case.number in notices[0].title
    assert "2026-09-17 12:00" in notices[0].title
    assert OutboxMessage.objects.filter(payload__to=["unithead_sani@demo.cityops.local"]).exists()


def test_issuing_to_another_unit(case, frozen):
    muni = Unit.objects.get(code="MUNI")
    order = issue(case, unit=muni)
    assert order.unit == muni
    assert not Notification.objects.filter(kind="supervision", user__username="unithead_sani")


@pytest.mark.parametrize(
    ("reason", "due", "field"),
    [
        ("  ", DUE, "reason"),
        ("r", None, "reply_due_at"),
        ("r", NOW, "reply_due_at"),  # must be in the future
        ("r", NOW - dt.timedelta(days=1), "reply_due_at"),
    ],
)
def test_bad_input_saves_nothing(case, frozen, reason, due, field):
    before = counts()
    with pytest.raises(ValidationError) as exc:
        issue(case, reason=reason, due=due)
    assert field in exc.value.message_dict
    assert counts() == before


def test_a_case_not_yet_dispatched_has_no_unit_to_reply(demo, frozen, browser):
    fresh = report(demo.garbage, NOW - dt.timedelta(minutes=5))
    page = browser("supervisor").get(f"/cases/{fresh.pk}/").content.decode()
    assert "Issue supervision order" not in page  # nobody to reply yet
    with pytest.raises(ValidationError) as exc:
        issue(fresh)
    assert "unit" in exc.value.message_dict
    assert SupervisionOrder.objects.count() == 0


def test_only_a_supervisor_who_sees_the_case_may_issue(case, demo, frozen):
    hidden = report(demo.garbage, NOW - dt.timedelta(minutes=5))  # at intake: not SANI's
    with pytest.raises(Http404):
        issue(hidden, "handler_sani")
    for name in ("unithead_sani", "handler_sani", "inspector", "admin"):  # see it, may not
        with pytest.raises(Conflict) as exc:
            issue(case, name)
        assert exc.value.code == "not_allowed"
    assert SupervisionOrder.objects.count() == 0


def test_a_closed_case_takes_no_order(case, frozen):
    case_cancel(actor=user("shiftlead"), case=case, reason="duplicate report")
    with pytest.raises(Conflict) as exc:
        issue(Case.objects.get(pk=case.pk))
    assert exc.value.code == "case_not_open"


def test_a_failure_while_notifying_rolls_everything_back(case, frozen, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("mail system down")

    monkeypatch.setattr("workflows.services.supervision.notify", broken)
    before = counts()
    with pytest.raises(RuntimeError):
        issue(case)
    assert counts() == before


# --- replying --------------------------------------------------------------------------------


def test_unit_head_replies_and_the_issuer_is_told(case, frozen):
    order = issue(case)
    replied = order_reply(actor=user("unithead_sani"), order=order, reply="  已清运 Cleared  ")
    replied.refresh_from_db()
    assert (replied.status, replied.reply) == (OrderStatus.REPLIED, "已清运 Cleared")
    assert (replied.replied_by.username, replied.replied_at) == ("unithead_sani", NOW)
    event = CaseEvent.objects.get(case=case, action="supervise_reply")
    assert event.actor.username == "unithead_sani"
    assert event.payload == {
        "order": order.pk,
        "unit": "SANI",
        "late": False,
        "reply": "已清运 Cleared",
    }
    notice = Notification.objects.get(kind="supervision_reply")
    assert notice.user.username == "supervisor" and notice.body == "已清运 Cleared"


def test_a_late_reply_is_flagged(case, api):
    with time_machine.travel(NOW, tick=False):
        order = issue(case)
    with time_machine.travel(DUE + dt.timedelta(hours=1), tick=False):
        listed = api("unithead_sani").get("/api/v1/supervision/").json()["results"]
        assert [(o["id"], o["status"], o["late"]) for o in listed] == [(order.pk, "open", True)]
        order_reply(actor=user("unithead_sani"), order=order, reply="done")
        listed = api("supervisor").get("/api/v1/supervision/").json()["results"]
        assert [(o["status"], o["late"]) for o in listed] == [("replied", True)]
    assert CaseEvent.objects.get(action="supervise_reply").payload["late"] is True


def test_reply_rules(case, frozen):
    order = issue(case)
    for name in ("supervisor", "handler_sani", "inspector"):  # not the unit's head: 404
        with pytest.raises(Http404):
            order_reply(actor=user(name), order=order, reply="x")
    head_muni = get_user_model().objects.create(username="unithead_muni")
    Membership.objects.create(
        user=head_muni, unit=Unit.objects.get(code="MUNI"), role=Role.UNIT_HEAD
    )
    with pytest.raises(Http404):
        order_reply(actor=head_muni, order=order, reply="x")
    with pytest.raises(ValidationError) as exc:
        order_reply(actor=user("unithead_sani"), order=order, reply="   ")
    assert "reply" in exc.value.message_dict
    order.refresh_from_db()
    assert order.status == OrderStatus.OPEN and not CaseEvent.objects.filter(
        action="supervise_reply"
    )

    order_reply(actor=user("unithead_sani"), order=order, reply="first")
    with pytest.raises(Conflict) as conflict:
        order_reply(actor=user("unithead_sani"), order=order, reply="second")
    assert conflict.value.code == "order_not_open"
    order.refresh_from_db()
    assert order.reply == "first"


def test_a_system_order_is_replied_without_notifying_an_issuer(demo):
    # 暴露垃圾: 4 working hours from 09:00 → due 14:30; the sweep issues the order then.
    dispatched(demo.garbage, at(2026, 9, 16, 9, 0))
    sla_sweep(now=at(2026, 9, 16, 14, 30))
    order = SupervisionOrder.objects.get()
    assert order.issued_by is None
    with time_machine.travel(at(2026, 9, 16, 15, 0), tick=False):
        order_reply(actor=user("unithead_sani"), order=order, reply="on it")
    assert not Notification.objects.filter(kind="supervision_reply").exists()


# --- the API ---------------------------------------------------------------------------------


def test_api_issue_and_reply(case, api, frozen):
    response = api("supervisor").post(
        f"/api/v1/cases/{case.pk}/supervise/",
        {"reason": "说明 Explain", "reply_due_at": "2026-09-17T12:00:00+08:00"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["case"] == {"id": case.pk, "number": case.number}
    assert (body["unit"]["code"], body["status"], body["late"]) == ("SANI", "open", False)
    assert (body["issued_by"], body["reply_due_at"]) == ("supervisor", "2026-09-17T12:00:00+08:00")

    reply = api("unithead_sani").post(
        f"/api/v1/supervision/{body['id']}/reply/", {"reply": "已处理"}, format="json"
    )
    assert reply.status_code == 200, reply.content
    assert (reply.json()["status"], reply.json()["replied_by"]) == ("replied", "unithead_sani")
    again = api("unithead_sani").post(
        f"/api/v1/supervision/{body['id']}/reply/", {"reply": "x"}, format="json"
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "order_not_open"


def test_api_errors(case, demo, api, frozen):
    url = f"/api/v1/cases/{case.pk}/supervise/"
    bad = api("supervisor").post(url, {"reason": "", "reply_due_at": "soon"}, format="json")
    assert bad.status_code == 400
    assert set(bad.json()["error"]["fields"]) == {"reply_due_at"}  # its shape first
    past = api("supervisor").post(
        url, {"reason": "", "reply_due_at": "2026-09-16T14:00:00+08:00"}, format="json"
    )
    assert past.status_code == 400
    assert set(past.json()["error"]["fields"]) == {"reason", "reply_due_at"}
    denied = api("unithead_sani").post(url, {"reason": "r", "reply_due_at": DUE.isoformat()})
    assert denied.status_code == 409 and denied.json()["error"]["code"] == "not_allowed"
    hidden = report(demo.garbage, NOW - dt.timedelta(minutes=5))
    missing = api("handler_sani").post(
        f"/api/v1/cases/{hidden.pk}/supervise/", {"reason": "r", "reply_due_at": DUE.isoformat()}
    )
    assert missing.status_code == 404
    assert api("supervisor").post("/api/v1/cases/999999/supervise/", {}).status_code == 404
    assert SupervisionOrder.objects.count() == 0

    order = issue(case)
    reply_url = f"/api/v1/supervision/{order.pk}/reply/"
    assert api("supervisor").post(reply_url, {"reply": "x"}).status_code == 404
    assert api("handler_sani").post(reply_url, {"reply": "x"}).status_code == 404
    empty = api("unithead_sani").post(reply_url, {"reply": " "}, format="json")
    assert empty.status_code == 400 and "reply" in empty.json()["error"]["fields"]
    order.refresh_from_db()
    assert order.status == OrderStatus.OPEN


def test_api_order_list_open_first_and_paged(demo, api):
    cases = [dispatched(demo.garbage, at(2026, 9, 16, 14, minute)) for minute in (0, 1, 2)]
    with time_machine.travel(NOW, tick=False):
        late = issue(cases[0], due=NOW + dt.timedelta(hours=3))
        soon = issue(cases[1], due=NOW + dt.timedelta(hours=1))
        answered = issue(cases[2], due=NOW + dt.timedelta(hours=2))
        order_reply(actor=user("unithead_sani"), order=answered, reply="ok")
        first = api("supervisor").get("/api/v1/supervision/", {"limit": 2}).json()
        assert [o["id"] for o in first["results"]] == [soon.pk, late.pk]
        second = api("supervisor").get(first["next"]).json()
        assert [o["id"] for o in second["results"]] == [answered.pk]
        assert second["next"] is None
        one = api("supervisor").get("/api/v1/supervision/", {"limit": 1}).json()
        rest = api("supervisor").get(api("supervisor").get(one["next"]).json()["next"]).json()
        assert [o["id"] for o in rest["results"]] == [answered.pk]
        # The unit head sees their unit's orders; another unit's head none.
        head = api("unithead_sani").get("/api/v1/supervision/").json()["results"]
        assert len(head) == 3
        bad = api("supervisor").get("/api/v1/supervision/", {"cursor": "o.xyz"})
        assert bad.status_code == 400


def test_api_order_list_only_the_units_own(demo, api):
    sani_case = dispatched(demo.garbage, at(2026, 9, 16, 14, 0))
    head_muni = get_user_model().objects.create(username="unithead_muni")
    head_muni.set_password("pw")
    head_muni.save()
    Membership.objects.create(
        user=head_muni, unit=Unit.objects.get(code="MUNI"), role=Role.UNIT_HEAD
    )
    with time_machine.travel(NOW, tick=False):
        issue(sani_case)
        assert api("unithead_muni").get("/api/v1/supervision/").json()["results"] == []
        assert len(api("unithead_sani").get("/api/v1/supervision/").json()["results"]) == 1


# --- the pages -------------------------------------------------------------------------------


@pytest.fixture
def browser(demo):
    def get(username: str) -> Client:
        client = Client(headers={"accept-language": "en"})
        client.force_login(user(username))
        return client

    return get


def test_pages_issue_and_reply(case, browser, frozen):
    page = browser("supervisor").get(f"/cases/{case.pk}/").content.decode()
    assert "Issue supervision order" in page and 'value="2026-09-17T15:00"' in page  # 1 working day
    assert (
        "Issue supervision order"
        not in browser("unithead_sani").get(f"/cases/{case.pk}/").content.decode()
    )

    response = browser("supervisor").post(
        f"/cases/{case.pk}/supervise/", {"reason": "Explain", "reply_due_at": "2026-09-17T12:00"}
    )
    assert response.status_code == 302
    order = SupervisionOrder.objects.get()
    assert order.reply_due_at == DUE  # the local time entered

    head_page = browser("unithead_sani").get(f"/cases/{case.pk}/").content.decode()
    assert f"/supervision/{order.pk}/reply/" in head_page
    assert (
        f"/supervision/{order.pk}/reply/"
        not in browser("supervisor").get(f"/cases/{case.pk}/").content.decode()
    )
    assert browser("unithead_sani").get("/supervision/").status_code == 200

    replied = browser("unithead_sani").post(
        f"/supervision/{order.pk}/reply/", {"reply": "Cleared", "next": "/supervision/"}
    )
    assert replied.status_code == 302 and replied["Location"] == "/supervision/"
    order.refresh_from_db()
    assert (order.status, order.reply) == ("replied", "Cleared")
    listing = browser("supervisor").get("/supervision/").content.decode()
    assert "Cleared" in listing and case.number in listing


def test_pages_refuse_bad_input_and_keep_what_was_typed(case, browser, frozen):
    response = browser("supervisor").post(
        f"/cases/{case.pk}/supervise/",
        {"reason": "Typed reason", "reply_due_at": "2026-09-15T09:00"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "must be in the future" in body and "Typed reason" in body
    assert SupervisionOrder.objects.count() == 0
    denied = browser("unithead_sani").post(
        f"/cases/{case.pk}/supervise/", {"reason": "r", "reply_due_at": "2026-09-17T12:00"}
    )
    assert denied.status_code == 302 and SupervisionOrder.objects.count() == 0

    order = issue(case)
    empty = browser("unithead_sani").post(f"/supervision/{order.pk}/reply/", {"reply": ""})
    assert empty.status_code == 400 and "Write the reply." in empty.content.decode()
    assert (
        browser("supervisor").post(f"/supervision/{order.pk}/reply/", {"reply": "x"}).status_code
        == 404
    )
    # A handler's list holds only orders about tasks they hold (none here): the page, no order.
    listing = browser("handler_sani").get("/supervision/")
    assert listing.status_code == 200 and case.number not in listing.content.decode()


def test_the_orders_page_flags_late_orders(case, browser):
    with time_machine.travel(NOW, tick=False):
        issue(case)
    with time_machine.travel(DUE + dt.timedelta(minutes=1), tick=False):
        listing = browser("supervisor").get("/supervision/").content.decode()
        assert 'class="late"' in listing and ">late<" in listing
        detail = browser("supervisor").get(f"/cases/{case.pk}/").content.decode()
        assert ">late<" in detail
