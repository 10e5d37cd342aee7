"""Extensions (延期) and supervision orders (督办) on 12345 orders, as in the 数字城管 flow: the
lead unit's reply task asks for more time through the API, its hotline centre's shift leader
decides, the wrong roles get 404; the SLA sweep issues a supervision order for an overdue
hotline task, which the lead unit's head answers."""

from __future__ import annotations

import datetime as dt

import pytest

from workflows.models import (
    CaseRequest,
    CaseTask,
    HotlineOrder,
    RequestStatus,
    Stage,
    SupervisionOrder,
    TaskStatus,
)
from workflows.services.escalations import sla_sweep

from .test_hotline import REPLY, act, dispatch, hotline, open_task, take_call  # noqa: F401

pytestmark = pytest.mark.django_db


def _post(client, task, action, body=None):
    return client.post(f"/api/v1/tasks/{task.pk}/{action}/", body or {}, format="json")


def _reply_task(users, order):
    dispatch(users, order, assist=())
    act(users, "handler_sani", order, Stage.HL_LEAD_SIGN, "sign")
    return open_task(order, Stage.HL_LEAD_REPLY)


def test_the_lead_units_reply_task_gets_more_time_with_approval(hotline, users, api):  # noqa: F811
    order = take_call(users, hotline)
    reply = _reply_task(users, order)
    due = reply.due_at
    more = {"amount": 2, "unit": "working_days", "reason": "需协调物业"}
    # Another unit's handler, and an agent: not theirs (404).
    assert _post(api("handler_muni"), reply, "extension", more).status_code == 404
    assert _post(api("agent1"), reply, "extension", more).status_code == 404
    # The holder asks (after taking the task), the clock stops, the reply waits.
    assert _post(api("handler_sani"), reply, "extension", more).status_code == 409  # claim first
    assert _post(api("handler_sani"), reply, "claim").status_code == 200
    bad = _post(api("handler_sani"), reply, "extension", {**more, "amount": 0})
    assert bad.status_code == 400
    asked = _post(api("handler_sani"), reply, "extension", more)
    assert asked.status_code == 201, asked.content
    reply.refresh_from_db()
    assert reply.paused_since is not None
    assert _post(api("handler_sani"), reply, "extension", more).status_code == 409  # one at a time
    with pytest.raises(Exception) as refused:
        act(users, "handler_sani", order, Stage.HL_LEAD_REPLY, "reply", **REPLY)
    assert getattr(refused.value, "code", "") == "request_pending"
    # The hotline centre's shift leader decides (the city's command centre does not).
    review = CaseTask.objects.get(case_id=order.pk, stage=Stage.EXTENSION_REVIEW)
    assert review.unit.code == "HOTLINE" and review.role == "shift_leader"
    assert _post(api("shiftlead"), review, "claim").status_code == 404
    assert _post(api("handler_sani"), review, "claim").status_code == 404
    assert _post(api("hotlinelead"), review, "claim").status_code == 200
    decided = _post(api("hotlinelead"), review, "complete", {"outcome": "approve"})
    assert decided.status_code == 200, decided.content
    reply.refresh_from_db()
    order = HotlineOrder.objects.select_related("case").get(pk=order.pk)
    assert reply.paused_since is None and reply.due_at > due
    assert order.handling_due_at == reply.due_at == order.case.due_at
    assert order.case.extension_count == 1
    assert CaseRequest.objects.get(task=reply).status == RequestStatus.APPROVED
    act(users, "handler_sani", order, Stage.HL_LEAD_REPLY, "reply", **REPLY)
    assert open_task(order, Stage.HL_CALLBACK)


def test_a_withdrawn_request_lets_the_reply_go_on(hotline, users, api):  # noqa: F811
    order = take_call(users, hotline)
    reply = _reply_task(users, order)
    sani = api("handler_sani")
    assert _post(sani, reply, "claim").status_code == 200
    more = {"amount": 4, "unit": "working_hours", "reason": "等待检测结果"}
    assert _post(sani, reply, "extension", more).status_code == 201
    assert _post(api("handler_muni"), reply, "withdraw-request").status_code == 404
    assert _post(sani, reply, "withdraw-request").status_code == 200
    assert not CaseTask.objects.filter(
        case_id=order.pk, stage=Stage.EXTENSION_REVIEW, status=TaskStatus.OPEN
    ).exists()
    act(users, "handler_sani", order, Stage.HL_LEAD_REPLY, "reply", **REPLY)


def test_the_sweep_supervises_an_overdue_hotline_task(hotline, users, api):  # noqa: F811
    order = take_call(users, hotline)
    reply = _reply_task(users, order)
    assert reply.next_threshold_at is not None  # hotline tasks escalate like any task
    fired = sla_sweep(now=reply.due_at + dt.timedelta(minutes=1))
    assert fired >= 3  # remind, warn, overdue
    supervision = SupervisionOrder.objects.get(case_id=order.pk)
    assert supervision.task_id == reply.pk and supervision.unit.code == "SANI"
    assert supervision.issued_by_id is None
    # The lead unit's head answers it; a handler and the hotline agent may not (404).
    url = f"/api/v1/supervision/{supervision.pk}/reply/"
    assert api("handler_sani").post(url, {"reply": "x"}, format="json").status_code == 404
    assert api("agent1").post(url, {"reply": "x"}, format="json").status_code == 404
    answered = api("unithead_sani").post(url, {"reply": "今日处理完毕"}, format="json")
    assert answered.status_code == 200, answered.content
    # A supervisor may issue one by hand on the order's case too.
    due = (reply.due_at + dt.timedelta(days=3)).isoformat()
    body = {"reason": "请加快", "reply_due_at": due}
    supervise = f"/api/v1/cases/{order.pk}/supervise/"
    # Not theirs to see: 404; the agent who took the call sees it but may not order: 409.
    assert api("handler_muni").post(supervise, body, format="json").status_code == 404
    assert api("agent1").post(supervise, body, format="json").status_code == 409
    issued = api("supervisor").post(f"/api/v1/cases/{order.pk}/supervise/", body, format="json")
    assert issued.status_code == 201, issued.content
    assert SupervisionOrder.objects.filter(case_id=order.pk).count() == 2


def test_more_time_through_the_pages(hotline, users, client):  # noqa: F811
    from django.test import Client

    def login(name):
        c = Client()
        assert c.login(username=name, password="pw")
        return c

    order = take_call(users, hotline)
    reply = _reply_task(users, order)
    page_url = f"/hotline/orders/{order.pk}/"
    sani, muni, lead = login("handler_sani"), login("handler_muni"), login("hotlinelead")
    page = sani.get(page_url).content.decode()
    assert f"/tasks/{reply.pk}/claim/" in page and f"/tasks/{reply.pk}/extension/" not in page
    assert sani.post(f"/tasks/{reply.pk}/claim/", {"next": page_url}).status_code == 302
    page = sani.get(page_url).content.decode()
    assert f"/tasks/{reply.pk}/extension/" in page
    more = {"amount": "1", "unit": "working_days", "reason": "等待配合"}
    assert muni.post(f"/tasks/{reply.pk}/extension/", more).status_code == 404
    assert sani.post(f"/tasks/{reply.pk}/extension/", {**more, "reason": ""}).status_code == 400
    assert sani.post(f"/tasks/{reply.pk}/extension/", more).status_code == 302
    page = sani.get(page_url).content.decode()
    assert 'id="extension-pending"' in page and f"/tasks/{reply.pk}/withdraw-request/" in page
    review = CaseTask.objects.get(case_id=order.pk, stage=Stage.EXTENSION_REVIEW)
    assert muni.post(f"/tasks/{review.pk}/claim/").status_code == 404
    assert lead.post(f"/tasks/{review.pk}/claim/").status_code == 302
    done = lead.post(f"/tasks/{review.pk}/complete/", {"outcome": "approve"})
    assert done.status_code == 302
    assert CaseRequest.objects.get(task=reply).status == RequestStatus.APPROVED
    assert 'id="extension-pending"' not in sani.get(page_url).content.decode()


def test_a_citizens_case_turned_into_a_hotline_order(hotline, users, api):  # noqa: F811
    """The reverse of "Turn into a city-management case": intake turns a citizen's 数字城管
    case into a 12345 order, nothing typed again, linked both ways (pages and API)."""
    from django.test import Client

    from workflows.models import Case, CaseStatus, Category
    from workflows.services.cases import CaseReport, case_report
    from workflows.services.outcomes import allowed_outcomes

    def report(source):
        return case_report(
            actor=users("inspector"),
            report=CaseReport(
                category=Category.objects.filter(kind="event", code="0102").first(),
                description="噪音扰民，每晚十点后施工",
                source=source,
                grid="D01-S01-C1-G1",
                reporter_name="王五",
                reporter_contact="13900001111",
            ),
        )

    case = report("public_app")
    intake = CaseTask.objects.get(case=case, stage=Stage.INTAKE)
    category = Category.objects.get(kind="hotline", code="010101")
    body = {"outcome": "to_hotline", "hotline_category": category.code, "request_type": "complaint"}
    # Wrong roles: 404.
    assert _post(api("agent1"), intake, "claim").status_code == 404
    assert _post(api("handler_sani"), intake, "complete", body).status_code == 404
    assert _post(api("intake"), intake, "claim").status_code == 200
    bad = _post(api("intake"), intake, "complete", {**body, "hotline_category": "nope"})
    assert bad.status_code == 400 and "hotline_category" in bad.content.decode()
    done = _post(api("intake"), intake, "complete", body)
    assert done.status_code == 200, done.content
    case.refresh_from_db()
    order = HotlineOrder.objects.select_related("case").get(from_case=case)
    assert case.status == CaseStatus.INVALID and order.case.description == case.description
    assert (order.caller_name, order.caller_phone) == ("王五", "13900001111")
    assert order.case.stage == Stage.HL_INTAKE and order.case.urgency == case.urgency
    assert open_task(order, Stage.HL_INTAKE).unit == hotline
    # Linked both ways on the pages.
    clerk, agent = Client(), Client()
    assert clerk.login(username="intake", password="pw")
    assert agent.login(username="agent1", password="pw")
    case_page = clerk.get(f"/cases/{case.pk}/").content.decode()
    assert f"/hotline/orders/{order.pk}/" in case_page and order.case.number in case_page
    order_page = agent.get(f"/hotline/orders/{order.pk}/").content.decode()
    assert 'id="from-case"' in order_page and case.number in order_page
    # Through the page too; an inspector's own report is no citizen's request.
    second = report("public_app")
    task = CaseTask.objects.get(case=second, stage=Stage.INTAKE)
    assert clerk.post(f"/tasks/{task.pk}/claim/").status_code == 302
    task.refresh_from_db()
    assert "to_hotline" in allowed_outcomes(users("intake"), task)
    form = {"outcome": "to_hotline", "hotline_category": category.pk, "request_type": "help"}
    assert clerk.post(f"/tasks/{task.pk}/complete/", form).status_code == 302
    assert HotlineOrder.objects.get(from_case=second).request_type == "help"
    own = report("inspector")
    task = CaseTask.objects.get(case=own, stage=Stage.INTAKE)
    assert clerk.post(f"/tasks/{task.pk}/claim/").status_code == 302
    task.refresh_from_db()
    assert "to_hotline" not in allowed_outcomes(users("intake"), task)  # not even offered
    assert clerk.post(f"/tasks/{task.pk}/complete/", form).status_code == 400
    assert (
        Case.objects.get(pk=own.pk).is_open
        and not HotlineOrder.objects.filter(from_case=own).exists()
    )
