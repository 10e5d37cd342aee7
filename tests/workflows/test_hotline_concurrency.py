"""The hotline's parallel branches on PostgreSQL: assisting units finishing at the same moment."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from viewflow.workflow.models import Task as FlowTask

import workflows
from departments.demo import seed_accounts, seed_organisation
from departments.models import Membership, Role, Unit
from workflows.models import CaseEvent, CaseTask, Category, HotlineOrder, Stage, TaskStatus
from workflows.services.hotline import (
    OrderReport,
    hotline_categories_load,
    hotline_complete,
    order_report,
)

from .racing import race_n

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CSV = Path(workflows.__file__).resolve().parent / "data" / "hotline_categories.csv"
ASSISTING = ["MUNI", "ENF", "WATER", "GREEN"]


@pytest.fixture
def city():
    seed_organisation()
    seed_accounts("pw")
    hotline_categories_load(CSV)
    User = get_user_model()
    for code in ASSISTING:  # one handler per assisting unit
        user, _ = User.objects.get_or_create(username=f"race_{code}")
        Membership.objects.get_or_create(
            user=user, unit=Unit.objects.get(code=code), role=Role.HANDLER
        )
    return Unit.objects.get(code="HOTLINE")


def _user(name):
    return get_user_model().objects.get(username=name)


def _task(order, stage, unit):
    return CaseTask.objects.get(
        case_id=order.pk, stage=stage, unit__code=unit, status=TaskStatus.OPEN
    )


REPLY = {"reply": "done", "reply_contact": "phone", "reply_result": "solved"}


def _dispatched(centre):
    order = order_report(
        actor=_user("agent1"),
        report=OrderReport(
            centre=centre,
            category=Category.objects.get(kind="hotline", code="010101"),
            request_type="complaint",
            text="race",
            caller_phone="13812341234",
        ),
    )
    hotline_complete(
        actor=_user("agent1"),
        task=CaseTask.objects.get(case_id=order.pk, stage=Stage.HL_INTAKE),
        outcome="dispatch",
        data={"lead_unit": "SANI", "assist_units": ASSISTING},
    )
    lead = _task(order, Stage.HL_LEAD_SIGN, "SANI")
    hotline_complete(actor=_user("handler_sani"), task=lead, outcome="sign")
    for code in ASSISTING:
        sign = _task(order, Stage.HL_ASSIST_SIGN, code)
        hotline_complete(actor=_user(f"race_{code}"), task=sign, outcome="sign")
    return order


def _feedback(order, i):
    code = ASSISTING[i]
    return hotline_complete(
        actor=_user(f"race_{code}"),
        task=_task(order, Stage.HL_ASSIST_FEEDBACK, code),
        outcome="feedback",
        data={"feedback": f"from {code}"},
    )


def _reply(order):
    return hotline_complete(
        actor=_user("handler_sani"),
        task=_task(order, Stage.HL_LEAD_REPLY, "SANI"),
        outcome="reply",
        data=REPLY,
    )


def _joined_once(order):
    process = HotlineOrder.objects.get(pk=order.pk).case.process_id
    joins = FlowTask.objects.filter(process_id=process, flow_task_type="JOIN")
    assert joins.count() == 1
    join = joins.get()
    # Done, once, linked to every arrival: each assisting unit's feedback and the lead's reply.
    assert join.status == "DONE" and join.started and join.finished
    arrived = sorted(t.flow_task.name for t in join.previous.all())
    assert arrived == ["hl_assist_feedback"] * len(ASSISTING) + ["hl_lead_reply"]
    assert CaseTask.objects.filter(case_id=order.pk, stage=Stage.HL_CALLBACK).count() == 1
    assert CaseEvent.objects.filter(case_id=order.pk, action="hl_feedback").count() == len(
        ASSISTING
    )


def test_assisting_feedback_at_the_same_moment_loses_nothing_and_joins_once(city):
    order = _dispatched(city)
    results = race_n(len(ASSISTING), lambda i: _feedback(order, i))
    assert [r for r in results if isinstance(r, Exception)] == []
    assert not CaseTask.objects.filter(case_id=order.pk, stage=Stage.HL_CALLBACK).exists()
    _reply(order)
    _joined_once(order)


def test_the_lead_racing_the_assisting_units_joins_once(city):
    """The lead's reply races the feedback: refused while feedback is missing (then given
    again), never lost, and the join fires once."""
    order = _dispatched(city)
    n = len(ASSISTING)
    results = race_n(n + 1, lambda i: _feedback(order, i) if i < n else _reply(order))
    errors = [r for r in results if isinstance(r, Exception)]
    assert all(getattr(e, "code", "") == "waiting_feedback" for e in errors), errors
    if errors:
        _reply(order)
    _joined_once(order)
