"""The 12345 hotline loop through its services, as each role (pages and API: test_hotline_pages)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import time_machine
from django.http import Http404
from viewflow.workflow.models import Task as FlowTask
from viewflow.workflow.status import STATUS

import workflows
from departments.models import Unit
from workflows.models import (
    CaseEvent,
    CaseStatus,
    CaseTask,
    Category,
    HotlineOrder,
    Stage,
    TaskStatus,
)
from workflows.services.errors import Conflict, ValidationError
from workflows.services.hotline import (
    OrderReport,
    hotline_categories_load,
    hotline_complete,
    order_report,
)

pytestmark = pytest.mark.django_db

HOTLINE_CSV = Path(workflows.__file__).resolve().parent / "data" / "hotline_categories.csv"


@pytest.fixture
def hotline(demo, settings):
    settings.CITYOPS_HOTLINE_CALLBACK_NEXT_DAY = False
    hotline_categories_load(HOTLINE_CSV)
    return Unit.objects.get(code="HOTLINE")


def take_call(users, centre, *, request_type="complaint", code="010101", **extra) -> HotlineOrder:
    return order_report(
        actor=users("agent1"),
        report=OrderReport(
            centre=centre,
            category=Category.objects.get(kind="hotline", code=code),
            request_type=request_type,
            text="楼下垃圾三天没人清运",
            caller_name="张三",
            caller_phone="13812341234",
            **extra,
        ),
    )


def open_task(order, stage, unit=None) -> CaseTask:
    qs = CaseTask.objects.filter(
        case_id=order.pk, stage=stage, status__in=[TaskStatus.OPEN, TaskStatus.CLAIMED]
    )
    if unit:
        qs = qs.filter(unit__code=unit)
    return qs.get()


def act(users, who, order, stage, outcome, at=None, **data):
    return hotline_complete(
        actor=users(who), task=open_task(order, stage, at), outcome=outcome, data=data
    )


def dispatch(users, order, lead="SANI", assist=("MUNI", "ENF")):
    return act(
        users,
        "agent1",
        order,
        Stage.HL_INTAKE,
        "dispatch",
        lead_unit=lead,
        assist_units=list(assist),
    )


REPLY = {"reply": "已清运", "reply_contact": "phone", "reply_result": "solved"}


def test_direct_answer_closes_the_order(hotline, users):
    order = take_call(users, hotline, request_type="consultation")
    assert order.case.number.count("-") == 1 and order.case.source == "hotline"
    act(users, "agent1", order, Stage.HL_INTAKE, "answer", answer="周一至周五办理")
    order.refresh_from_db()
    assert order.case.status == CaseStatus.CLOSED and order.case.stage == Stage.ENDED
    assert order.answer == "周一至周五办理"
    assert not CaseTask.objects.filter(case_id=order.pk, status=TaskStatus.OPEN).exists()


def test_wrong_role_sees_nothing(hotline, users):
    order = take_call(users, hotline)
    with pytest.raises(Http404):
        act(users, "handler_sani", order, Stage.HL_INTAKE, "answer", answer="x")
    with pytest.raises(Http404):
        order_report(
            actor=users("handler_sani"),
            report=OrderReport(
                centre=hotline,
                category=Category.objects.filter(kind="hotline").first(),
                request_type="help",
                text="x",
                caller_phone="13800000000",
            ),
        )


def test_lead_and_two_assisting_units_in_parallel(hotline, users):
    order = take_call(users, hotline)
    dispatch(users, order)
    order.refresh_from_db()
    assert order.lead_unit.code == "SANI" and len(order.assist_units) == 2
    signs = CaseTask.objects.filter(case_id=order.pk, status=TaskStatus.OPEN)
    assert sorted((t.stage, t.unit.code) for t in signs) == [
        (Stage.HL_ASSIST_SIGN, "ENF"),
        (Stage.HL_ASSIST_SIGN, "MUNI"),
        (Stage.HL_LEAD_SIGN, "SANI"),
    ]
    # The handling clock started at dispatch: the reply's due time is fixed already.
    handling_due = order.handling_due_at
    assert handling_due is not None
    act(users, "handler_sani", order, Stage.HL_LEAD_SIGN, "sign")
    assert open_task(order, Stage.HL_LEAD_REPLY).due_at == handling_due
    act(users, "handler_muni", order, Stage.HL_ASSIST_SIGN, "sign", at="MUNI")
    act(users, "handler_enf", order, Stage.HL_ASSIST_SIGN, "sign", at="ENF")
    # The lead cannot reply while assisting feedback is pending and still in time.
    with pytest.raises(Conflict):
        act(users, "handler_sani", order, Stage.HL_LEAD_REPLY, "reply", **REPLY)
    act(
        users,
        "handler_muni",
        order,
        Stage.HL_ASSIST_FEEDBACK,
        "feedback",
        at="MUNI",
        feedback="路面已修",
    )
    act(
        users,
        "handler_enf",
        order,
        Stage.HL_ASSIST_FEEDBACK,
        "feedback",
        at="ENF",
        feedback="已查处",
    )
    assert not CaseTask.objects.filter(case_id=order.pk, stage=Stage.HL_CALLBACK).exists()
    act(users, "handler_sani", order, Stage.HL_LEAD_REPLY, "reply", **REPLY)
    # The join fired once: one callback task for the agents.
    callback = open_task(order, Stage.HL_CALLBACK)
    assert callback.unit == hotline and callback.role == "hotline_agent"
    assert (
        FlowTask.objects.filter(process_id=order.case.process_id, flow_task_type="JOIN").count()
        == 1
    )
    act(users, "agent2", order, Stage.HL_CALLBACK, "satisfied")
    order.refresh_from_db()
    assert order.case.status == CaseStatus.CLOSED and order.satisfaction == "satisfied"
    assert order.missing_feedback == []
    _assert_flow_rows_done(order)


def _assert_flow_rows_done(order) -> None:
    """viewflow's rows of a closed order, as viewflow itself would leave them: the process
    done, every task done with its times, each task after the start linked to the one before
    (the split's three branches to the split, the join to its arrivals)."""
    process = order.case.process
    assert process.status == STATUS.DONE and process.finished is not None
    tasks = list(FlowTask.objects.filter(process=process).prefetch_related("previous"))
    assert {t.status for t in tasks} == {STATUS.DONE}
    assert all(t.finished is not None and t.finished >= t.created for t in tasks)
    by_type = {}
    for t in tasks:
        by_type.setdefault(t.flow_task_type, []).append(t)
    (start,), (split,) = by_type["START"], by_type["PARALLEL_GATEWAY"]
    (end,) = by_type["END"]
    assert all(t.previous.exists() for t in tasks if t != start) and not start.previous.exists()
    branches = [t for t in tasks if split in t.previous.all()]
    assert len(branches) == 3  # the lead and two assisting units
    (join,) = by_type["JOIN"]  # linked to the last task of each branch, once
    arrivals = list(join.previous.all())
    assert len(arrivals) == 3 and {t.flow_task.name for t in arrivals} == {
        "hl_lead_reply",
        "hl_assist_feedback",
    }
    assert end.started is not None and len(end.previous.all()) == 1
    assert {CaseTask.objects.get(pk=t.pk).status for t in by_type["HUMAN"]} == {TaskStatus.DONE}


def test_lead_only(hotline, users):
    order = take_call(users, hotline)
    dispatch(users, order, assist=())
    act(users, "handler_sani", order, Stage.HL_LEAD_SIGN, "sign")
    act(users, "handler_sani", order, Stage.HL_LEAD_REPLY, "reply", **REPLY)
    act(users, "agent1", order, Stage.HL_CALLBACK, "basic")
    order.refresh_from_db()
    assert order.case.status == CaseStatus.CLOSED


def test_dispatch_takes_only_active_handling_units_as_they_are_now(hotline, users):
    """Units are looked up in the reference snapshot: a unit deactivated after it was read
    there is refused, and one reactivated is taken again (the snapshot follows the change)."""
    order = take_call(users, hotline)
    dispatch(users, take_call(users, hotline), assist=())  # the snapshot holds MUNI now
    muni = Unit.objects.get(code="MUNI")
    muni.is_active = False
    muni.save()
    for lead, assist in (("MUNI", ()), ("SANI", ("MUNI",)), ("HOTLINE", ())):
        with pytest.raises(ValidationError):
            dispatch(users, order, lead=lead, assist=assist)
    assert open_task(order, Stage.HL_INTAKE)  # nothing moved
    muni.is_active = True
    muni.save()
    dispatch(users, order, lead="MUNI", assist=())
    order.refresh_from_db()
    assert order.lead_unit == muni


def test_late_assisting_unit_is_recorded_and_the_lead_proceeds(hotline, users):
    order = take_call(users, hotline)
    dispatch(users, order)
    act(users, "handler_sani", order, Stage.HL_LEAD_SIGN, "sign")
    act(users, "handler_muni", order, Stage.HL_ASSIST_SIGN, "sign", at="MUNI")
    act(
        users, "handler_muni", order, Stage.HL_ASSIST_FEEDBACK, "feedback", at="MUNI", feedback="ok"
    )
    enf_sign = open_task(order, Stage.HL_ASSIST_SIGN, "ENF")
    with time_machine.travel(enf_sign.created_at + dt.timedelta(days=10)):
        act(users, "handler_sani", order, Stage.HL_LEAD_REPLY, "reply", **REPLY)
    order.refresh_from_db()
    enf = Unit.objects.get(code="ENF")
    assert order.missing_feedback == [enf.pk]
    enf_sign.refresh_from_db()
    assert enf_sign.status == TaskStatus.CANCELLED
    assert FlowTask.objects.get(pk=enf_sign.pk).status == STATUS.CANCELED
    assert CaseEvent.objects.filter(case_id=order.pk, action="hl_feedback_missing").count() == 1
    assert open_task(order, Stage.HL_CALLBACK)


def test_return_accepted_redispatches_and_rejected_sends_back(hotline, users):
    order = take_call(users, hotline)
    dispatch(users, order, assist=("MUNI",))
    due = HotlineOrder.objects.get(pk=order.pk).handling_due_at
    with pytest.raises(ValidationError):
        act(users, "handler_sani", order, Stage.HL_LEAD_SIGN, "return", reason_code="other")
    act(users, "handler_sani", order, Stage.HL_LEAD_SIGN, "return", reason_code="not_our_duty")
    ruling = open_task(order, Stage.HL_LEAD_RULING)
    assert ruling.unit == hotline and ruling.role == "shift_leader"
    with pytest.raises(Http404):
        act(users, "agent1", order, Stage.HL_LEAD_RULING, "accept", unit="GREEN")
    with pytest.raises(ValidationError):
        act(users, "hotlinelead", order, Stage.HL_LEAD_RULING, "accept", unit="SANI")
    act(users, "hotlinelead", order, Stage.HL_LEAD_RULING, "accept", unit="GREEN")
    order.refresh_from_db()
    assert order.lead_unit.code == "GREEN" and order.return_count == 1
    assert order.handling_due_at == due  # re-dispatch does not restart the clock
    act(users, "handler_green", order, Stage.HL_LEAD_SIGN, "sign")
    # The assisting unit returns after signing; the ruling rejects: it must handle it.
    act(users, "handler_muni", order, Stage.HL_ASSIST_SIGN, "sign", at="MUNI")
    act(
        users,
        "handler_muni",
        order,
        Stage.HL_ASSIST_FEEDBACK,
        "return",
        at="MUNI",
        reason_code="wrong_area",
    )
    act(users, "hotlinelead", order, Stage.HL_ASSIST_RULING, "reject", reason="属于你单位")
    feedback = open_task(order, Stage.HL_ASSIST_FEEDBACK, "MUNI")
    assert feedback.payload.get("ruled") is True
    with pytest.raises(Conflict):
        act(
            users,
            "handler_muni",
            order,
            Stage.HL_ASSIST_FEEDBACK,
            "return",
            at="MUNI",
            reason_code="wrong_area",
        )
    act(
        users,
        "handler_muni",
        order,
        Stage.HL_ASSIST_FEEDBACK,
        "feedback",
        at="MUNI",
        feedback="done",
    )
    act(users, "handler_green", order, Stage.HL_LEAD_REPLY, "reply", **REPLY)
    assert open_task(order, Stage.HL_CALLBACK)
    returns = CaseEvent.objects.filter(case_id=order.pk, action="hl_return")
    assert sorted(e.unit.code for e in returns) == ["MUNI", "SANI"]


def test_unsatisfied_callback_rehandle_then_second_callback(hotline, users):
    order = take_call(users, hotline)
    dispatch(users, order, assist=())
    act(users, "handler_sani", order, Stage.HL_LEAD_SIGN, "sign")
    act(users, "handler_sani", order, Stage.HL_LEAD_REPLY, "reply", **REPLY)
    with pytest.raises(ValidationError):
        act(users, "agent1", order, Stage.HL_CALLBACK, "unsatisfied")
    act(users, "agent1", order, Stage.HL_CALLBACK, "unsatisfied", notes="仍未清运", unit_fault="1")
    rehandle = open_task(order, Stage.HL_REHANDLE)
    assert rehandle.unit.code == "SANI"
    act(users, "handler_sani", order, Stage.HL_REHANDLE, "reply", **REPLY)
    act(
        users, "agent1", order, Stage.HL_CALLBACK, "unsatisfied", notes="还是不满意", unit_fault="1"
    )
    order.refresh_from_db()
    assert order.rehandle_count == 1 and order.case.status == CaseStatus.CLOSED
    assert order.satisfaction == "unsatisfied"


def test_could_not_reach_after_attempts(hotline, users):
    order = take_call(users, hotline)
    dispatch(users, order, assist=())
    act(users, "handler_sani", order, Stage.HL_LEAD_SIGN, "sign")
    act(users, "handler_sani", order, Stage.HL_LEAD_REPLY, "reply", **REPLY)
    with pytest.raises(ValidationError):
        act(users, "agent1", order, Stage.HL_CALLBACK, "unreachable", attempts="2")
    act(users, "agent1", order, Stage.HL_CALLBACK, "unreachable", attempts="3")
    order.refresh_from_db()
    assert order.satisfaction == "unreachable" and order.case.status == CaseStatus.CLOSED


def test_the_callback_waits_for_the_next_working_day(hotline, users, settings):
    settings.CITYOPS_HOTLINE_CALLBACK_NEXT_DAY = True
    order = take_call(users, hotline)
    dispatch(users, order, assist=())
    act(users, "handler_sani", order, Stage.HL_LEAD_SIGN, "sign")
    act(users, "handler_sani", order, Stage.HL_LEAD_REPLY, "reply", **REPLY)
    callback = open_task(order, Stage.HL_CALLBACK)
    opens = dt.datetime.fromisoformat(callback.payload["opens_at"])
    assert opens > callback.created_at
    with pytest.raises(Conflict):
        act(users, "agent1", order, Stage.HL_CALLBACK, "satisfied")
    with time_machine.travel(opens + dt.timedelta(minutes=1)):
        act(users, "agent1", order, Stage.HL_CALLBACK, "satisfied")
    assert HotlineOrder.objects.get(pk=order.pk).satisfaction == "satisfied"
