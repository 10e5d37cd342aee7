"""The 12345 hotline through its pages as each role; the public query; personal data."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.test import Client

from workflows.models import CaseStatus, CaseTask, HotlineOrder, OutboxMessage, Stage, TaskStatus

from .test_hotline import hotline  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db

PHONE, NAME = "13812345678", "李四"


@pytest.fixture
def login(hotline):  # noqa: F811
    clients: dict[str, Client] = {}

    def get(username: str) -> Client:
        if username not in clients:
            client = Client()
            assert client.login(username=username, password="pw")
            clients[username] = client
        return clients[username]

    return get


def take_call(login, **extra) -> HotlineOrder:
    from workflows.models import Category

    data = {
        "caller_name": NAME,
        "caller_phone": PHONE,
        "request_type": "complaint",
        "urgency": "normal",
        "category": Category.objects.get(kind="hotline", code="010101").pk,
        "text": "小区门口垃圾堆积",
        "address": "东华街道 1 号",
        "reply_channel": "sms",
        **extra,
    }
    response = login("agent1").post("/hotline/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return HotlineOrder.objects.select_related("case").latest("case__created_at")


def task_of(order, stage, unit=None):
    qs = CaseTask.objects.filter(case_id=order.pk, stage=stage, status=TaskStatus.OPEN)
    return (qs.filter(unit__code=unit) if unit else qs).get()


def do(login, who, order, stage, outcome, unit=None, expect=302, **data):
    task = task_of(order, stage, unit)
    response = login(who).post(f"/hotline/tasks/{task.pk}/{outcome}/", data)
    assert response.status_code == expect, response.content.decode()[:3000]
    return response


REPLY = {"reply": "已清运完毕", "reply_contact": "phone", "reply_result": "solved"}


def test_the_loop_through_the_pages_with_two_assisting_units(login):
    order = take_call(login)
    page = login("agent1").get(f"/hotline/orders/{order.pk}/")
    assert page.status_code == 200 and PHONE in page.content.decode()
    # A unit that has nothing to do with the order yet: not found.
    assert login("handler_sani").get(f"/hotline/orders/{order.pk}/").status_code == 404
    do(login, "handler_sani", order, Stage.HL_INTAKE, "answer", expect=404, answer="x")
    do(
        login,
        "agent1",
        order,
        Stage.HL_INTAKE,
        "dispatch",
        lead_unit="SANI",
        assist_units=["MUNI", "ENF"],
    )
    # The assisting unit sees the order, the caller masked; the lead unit sees the phone.
    muni = login("handler_muni").get(f"/hotline/orders/{order.pk}/").content.decode()
    assert PHONE not in muni and "138****5678" in muni and NAME not in muni
    assert PHONE in login("handler_sani").get(f"/hotline/orders/{order.pk}/").content.decode()
    do(login, "handler_sani", order, Stage.HL_LEAD_SIGN, "sign")
    do(login, "handler_muni", order, Stage.HL_ASSIST_SIGN, "sign", unit="MUNI")
    do(login, "handler_enf", order, Stage.HL_ASSIST_SIGN, "sign", unit="ENF")
    do(
        login,
        "handler_muni",
        order,
        Stage.HL_ASSIST_FEEDBACK,
        "feedback",
        unit="MUNI",
        feedback="修好了",
    )
    # The lead may not reply yet: ENF's feedback is missing and in time (a message, no change).
    response = do(login, "handler_sani", order, Stage.HL_LEAD_REPLY, "reply", **REPLY)
    assert task_of(order, Stage.HL_LEAD_REPLY).status == TaskStatus.OPEN
    do(
        login,
        "handler_enf",
        order,
        Stage.HL_ASSIST_FEEDBACK,
        "feedback",
        unit="ENF",
        feedback="已处罚",
    )
    # Bad input: the form again, 400, nothing changed.
    do(login, "handler_sani", order, Stage.HL_LEAD_REPLY, "reply", expect=400, reply="")
    do(login, "handler_sani", order, Stage.HL_LEAD_REPLY, "reply", **REPLY)
    do(login, "handler_sani", order, Stage.HL_CALLBACK, "satisfied", expect=404)
    do(login, "agent1", order, Stage.HL_CALLBACK, "unsatisfied", notes="还有垃圾", unit_fault="on")
    do(login, "handler_sani", order, Stage.HL_REHANDLE, "reply", **REPLY)
    do(login, "agent2", order, Stage.HL_CALLBACK, "basic")
    order.refresh_from_db()
    assert order.case.status == CaseStatus.CLOSED and order.rehandle_count == 1
    # The citizen was told by SMS through the outbox.
    sms = OutboxMessage.objects.filter(channel="sms")
    assert [m.payload["to"] for m in sms] == [PHONE]
    assert response.status_code == 302


def test_the_desk_lists_orders_with_the_phone_masked_for_others(login):
    take_call(login)
    agent = login("agent1").get("/hotline/").content.decode()
    assert PHONE in agent
    supervisor = login("supervisor").get("/hotline/").content.decode()
    assert PHONE not in supervisor and NAME not in supervisor and "138****5678" in supervisor
    # Only agents take calls.
    assert login("supervisor").post("/hotline/", {}).status_code == 404


def test_merge_and_unmerge(login):
    first = take_call(login)
    second = take_call(login)
    page = login("agent1").get(f"/hotline/orders/{second.pk}/").content.decode()
    assert first.case.number in page  # shown as a possible duplicate (same text and category)
    do(login, "agent1", second, Stage.HL_INTAKE, "merge", merge_into=first.case.number)
    second.refresh_from_db()
    assert second.merged_into_id == first.pk and second.case.status == CaseStatus.DUPLICATE
    # An agent may not undo it; the hotline centre's shift leader may.
    login("agent1").post(f"/hotline/orders/{second.pk}/unmerge/")
    assert HotlineOrder.objects.get(pk=second.pk).merged_into_id == first.pk
    assert login("hotlinelead").post(f"/hotline/orders/{second.pk}/unmerge/").status_code == 302
    second.refresh_from_db()
    assert second.merged_into_id is None and second.case.status == CaseStatus.OPEN
    assert task_of(second, Stage.HL_INTAKE)


def test_the_public_query_answers_only_with_the_right_code(login, settings):
    cache.clear()
    settings.CITYOPS_PUBLIC_QUERY_RATE = 4
    order = take_call(login)
    do(login, "agent1", order, Stage.HL_INTAKE, "answer", answer="请到街道办理")
    order.refresh_from_db()
    public = Client(headers={"accept-language": "zh-hans"})  # a citizen reads Chinese
    ok = public.post("/hotline/query/", {"number": order.case.number, "code": order.query_code})
    body = ok.content.decode()
    assert ok.status_code == 200 and "请到街道办理" in body
    assert "已办结" in body and "已结案" not in body  # a hotline order is 办结, not 结案
    assert PHONE not in body and NAME not in body and "agent1" not in body
    by_phone = public.post("/hotline/query/", {"number": order.case.number, "code": PHONE[-4:]})
    assert by_phone.status_code == 200
    wrong = public.post("/hotline/query/", {"number": order.case.number, "code": "000000"})
    unknown = public.post("/hotline/query/", {"number": "2099-999999", "code": "000000"})
    assert wrong.status_code == unknown.status_code == 404

    def strip(response):  # the page without the values the forms echo back
        return re.sub(r'value="[^"]*"', "", response.content.decode())

    assert strip(wrong) == strip(unknown)
    # Rate the closed order once.
    rated = public.post(
        "/hotline/query/",
        {"number": order.case.number, "code": order.query_code, "rating": "satisfied"},
    )
    assert rated.status_code == 429  # the fifth look-up in the minute
    cache.clear()
    rated = public.post(
        "/hotline/query/",
        {"number": order.case.number, "code": order.query_code, "rating": "satisfied"},
    )
    assert rated.status_code == 200
    assert HotlineOrder.objects.get(pk=order.pk).citizen_rating == "satisfied"
    again = public.post(
        "/hotline/query/",
        {"number": order.case.number, "code": order.query_code, "rating": "unsatisfied"},
    )
    assert again.status_code == 400
    assert HotlineOrder.objects.get(pk=order.pk).citizen_rating == "satisfied"


def test_an_order_turned_into_a_city_management_case(login):
    from workflows.models import Case, Category

    order = take_call(login)
    garbage = Category.objects.filter(kind="event", code="0102").first()
    do(login, "agent1", order, Stage.HL_INTAKE, "convert", expect=400, category=garbage.pk)
    do(
        login,
        "agent1",
        order,
        Stage.HL_INTAKE,
        "convert",
        category=garbage.pk,
        grid="D01-S01-C1-G1",
    )
    order.refresh_from_db()
    case = order.converted_case
    assert case is not None and case.source == "hotline" and case.stage == "intake"
    assert order.case.status == CaseStatus.CLOSED
    assert case.description == order.case.description
    assert PHONE not in case.reporter_contact and NAME not in case.reporter_name  # no copy
    # Linked both ways: the order shows the case, the case page shows the order.
    assert case.number in login("agent1").get(f"/hotline/orders/{order.pk}/").content.decode()
    page = login("agent1").get(f"/cases/{case.pk}/").content.decode()
    assert order.case.number in page
    assert Case.objects.filter(hotline_origin=order).get() == case
