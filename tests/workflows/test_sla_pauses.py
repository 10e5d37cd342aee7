"""Pauses, extensions and parking move due times by exactly the paused (working) time."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from workflows.models import (
    CaseEvent,
    CaseRequest,
    CaseTask,
    PauseInterval,
    TaskStatus,
)
from workflows.selectors.tasks import task_list
from workflows.services.cases import CaseReport, case_report
from workflows.services.errors import Conflict
from workflows.services.escalations import sla_sweep
from workflows.services.outcomes import task_complete
from workflows.services.requests import (
    extension_request,
    info_received,
    info_wait,
    parking_request,
)
from workflows.services.tasks import task_claim

from . import case_scene as scene

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def at(*args):
    return dt.datetime(*args, tzinfo=SH)


def user(name):
    return get_user_model().objects.get(username=name)


@pytest.fixture
def handling():
    """A SANI handling task of 4 working hours, dispatched 2026-09-22 11:00 (due 16:30),
    claimed by handler_sani."""
    category = scene.city(limit_value=4, limit_unit="working_hours")
    with time_machine.travel(at(2026, 9, 22, 10, 57), tick=False):
        case = case_report(
            actor=user("inspector"),
            report=CaseReport(
                category=category.pk, description="d", source="inspector", grid="D01-S01-C1-G1"
            ),
        )
    for minute, (username, outcome) in zip(
        (58, 59, 60),
        (("intake", "accept"), ("shiftlead", "file"), ("dispatcher", "dispatch")),
        strict=True,
    ):
        when = at(2026, 9, 22, 10, 0) + dt.timedelta(minutes=minute)
        decide(username, CaseTask.objects.get(case=case, status=TaskStatus.OPEN), outcome, when)
    task = CaseTask.objects.get(case=case, status=TaskStatus.OPEN)
    with time_machine.travel(at(2026, 9, 22, 11, 0), tick=False):
        task_claim(actor=user("handler_sani"), task=task)
    task.refresh_from_db()
    assert task.due_at == at(2026, 9, 22, 16, 30)
    return task


def decide(username, task, outcome, when, **data):
    with time_machine.travel(when, tick=False):
        if task.status == TaskStatus.OPEN:
            task_claim(actor=user(username), task=task)
        return task_complete(actor=user(username), task=task, outcome=outcome, data=data)


def review(case, stage):
    return CaseTask.objects.get(case=case, stage=stage, status=TaskStatus.OPEN)


def test_extension_approved_moves_due_by_pause_plus_amount(handling):
    with time_machine.travel(at(2026, 9, 22, 14, 0), tick=False):
        extension_request(
            actor=user("handler_sani"),
            task=handling,
            amount=2,
            unit="working_hours",
            reason="需要吊车 Crane needed",
        )
    handling.refresh_from_db()
    assert handling.paused_since == at(2026, 9, 22, 14, 0) and handling.next_threshold_at is None
    decision = review(handling.case, "extension_review")
    assert decision.role == "shift_leader"  # the case's first request
    assert decision in task_list(user("shiftlead"), "queue").rows
    with pytest.raises(Conflict):  # the clock is stopped: no completing meanwhile
        task_complete(
            actor=user("handler_sani"), task=handling, outcome="return", data={"reason": "x"}
        )

    decide("shiftlead", decision, "approve", at(2026, 9, 22, 15, 0))
    handling.refresh_from_db()
    # 16:30 + 1 working hour paused = 17:30, + 2 working hours = next day 10:30.
    assert handling.due_at == at(2026, 9, 23, 10, 30)
    assert handling.paused_since is None and handling.paused_minutes == 60
    handling.case.refresh_from_db()
    assert handling.case.extension_count == 1 and handling.case.due_at == handling.due_at
    pause = PauseInterval.objects.get(task=handling)
    assert (pause.reason, pause.paused_minutes) == ("extension", 60)
    assert CaseRequest.objects.get().status == "approved"
    actions = list(CaseEvent.objects.filter(case=handling.case).values_list("action", flat=True))
    assert "extension_request" in actions and "extension_review_approve" in actions


def test_a_later_request_goes_to_the_supervisor_and_rejection_keeps_the_limit(handling):
    with time_machine.travel(at(2026, 9, 22, 14, 0), tick=False):
        extension_request(
            actor=user("handler_sani"), task=handling, amount=1, unit="working_days", reason="r"
        )
    decide(
        "shiftlead",
        review(handling.case, "extension_review"),
        "reject",
        at(2026, 9, 22, 14, 30),
        reason="no",
    )
    handling.refresh_from_db()
    assert handling.due_at == at(2026, 9, 22, 17, 0)  # only the 30 paused minutes
    with time_machine.travel(at(2026, 9, 22, 15, 0), tick=False):
        extension_request(
            actor=user("handler_sani"), task=handling, amount=1, unit="working_days", reason="r2"
        )
    second = review(handling.case, "extension_review")
    assert second.role == "supervisor"
    assert second in task_list(user("supervisor"), "queue").rows
    assert second not in task_list(user("shiftlead"), "queue").rows


def test_extension_input_and_timing_are_checked(handling):
    for amount, unit in ((0, "working_hours"), (2, "weeks"), (10_000, "working_days")):
        with pytest.raises(ValidationError):
            extension_request(
                actor=user("handler_sani"), task=handling, amount=amount, unit=unit, reason="r"
            )
    with time_machine.travel(at(2026, 9, 22, 16, 30), tick=False), pytest.raises(Conflict):
        extension_request(
            actor=user("handler_sani"),
            task=handling,
            amount=1,
            unit="working_hours",
            reason="too late",
        )
    assert not CaseRequest.objects.exists() and not PauseInterval.objects.exists()


def test_parking_stops_the_clock_until_the_shift_leader_resumes(handling):
    with time_machine.travel(at(2026, 9, 22, 15, 0), tick=False):
        parking_request(
            actor=user("handler_sani"), task=handling, reason="待拆迁 Awaiting demolition"
        )
    handling.refresh_from_db()
    assert handling.paused_since is None  # the clock runs until parking is approved
    decide("shiftlead", review(handling.case, "parking_review"), "approve", at(2026, 9, 22, 15, 30))
    handling.refresh_from_db()
    assert handling.paused_since == at(2026, 9, 22, 15, 30)
    assert sla_sweep(now=at(2026, 9, 25, 9, 0)) == 0  # parked tasks do not escalate
    # Parked from Tuesday 15:30 to Monday 09-28 09:30: 2 h + Wed 7.5 h + Thu 7.5 h + 1 h = 18 h
    # of working time (Fri-Sun 09-25..27 is the Mid-Autumn holiday).
    decide("shiftlead", review(handling.case, "parked"), "resume", at(2026, 9, 28, 9, 30))
    handling.refresh_from_db()
    assert handling.paused_minutes == 18 * 60
    # 1 working hour was left at 15:30: due one working hour after 09:30.
    assert handling.due_at == at(2026, 9, 28, 10, 30)


def test_waiting_for_information(handling):
    with time_machine.travel(at(2026, 9, 22, 11, 30), tick=False):
        info_wait(actor=user("handler_sani"), task=handling, reason="地址不详 Address unclear")
    with time_machine.travel(at(2026, 9, 22, 14, 0), tick=False):
        info_received(actor=user("handler_sani"), task=handling)
    handling.refresh_from_db()
    # Paused 11:30–14:00 = 30 + 30 working minutes (lunch is not working time).
    assert handling.paused_minutes == 60
    assert handling.due_at == at(2026, 9, 22, 17, 30)
    with pytest.raises(Conflict):
        info_received(actor=user("handler_sani"), task=handling)


def test_only_the_holder_may_ask(handling):
    from workflows.services.errors import Http404

    with pytest.raises(Http404):
        extension_request(
            actor=user("handler_muni"), task=handling, amount=1, unit="working_hours", reason="r"
        )
