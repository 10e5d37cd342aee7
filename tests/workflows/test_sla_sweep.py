"""The escalation sweep: each level fires once, in order, with its event, notices and order."""

import datetime as dt
import threading
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.db import connection

from workflows.models import (
    CaseEvent,
    CaseTask,
    Notification,
    SupervisionOrder,
    TaskStatus,
    ThresholdRule,
)
from workflows.services.cases import CaseReport, case_report
from workflows.services.escalations import sla_sweep
from workflows.services.outcomes import task_complete
from workflows.services.tasks import task_claim

from . import case_scene as scene

SH = ZoneInfo("Asia/Shanghai")


def at(*args):
    return dt.datetime(*args, tzinfo=SH)


@pytest.fixture
def category(db):
    return scene.city(limit_value=4, limit_unit="working_hours")


def user(name):
    return get_user_model().objects.get(username=name)


def report(category, when):
    with time_machine.travel(when, tick=False):
        return case_report(
            actor=user("inspector"),
            report=CaseReport(
                category=category.pk, description="d", source="inspector", grid="D01-S01-C1-G1"
            ),
        )


def handling_task(category, when):
    """A case dispatched to SANI at `when` (the command-centre steps a minute apart before)."""
    case = report(category, when - dt.timedelta(minutes=3))
    for offset, (username, outcome) in zip(
        (2, 1, 0),
        (("intake", "accept"), ("shiftlead", "file"), ("dispatcher", "dispatch")),
        strict=True,
    ):
        with time_machine.travel(when - dt.timedelta(minutes=offset), tick=False):
            task = CaseTask.objects.get(case=case, status=TaskStatus.OPEN)
            task_claim(actor=user(username), task=task)
            task_complete(actor=user(username), task=task, outcome=outcome)
    return CaseTask.objects.get(case=case, status=TaskStatus.OPEN)


def actions(task):
    return list(
        CaseEvent.objects.filter(task=task, action__startswith="sla_")
        .order_by("id")
        .values_list("action", flat=True)
    )


def notified(username, kind):
    return Notification.objects.filter(user__username=username, kind=kind).count()


@pytest.mark.django_db
def test_levels_fire_once_each_at_50_75_100_percent(category):
    task = handling_task(category, at(2026, 9, 22, 11, 0))  # due 16:30 (lunch excluded)
    assert task.next_threshold_at == at(2026, 9, 22, 14, 30)  # 2 of 4 working hours

    assert sla_sweep(now=at(2026, 9, 22, 14, 29)) == 0
    assert sla_sweep(now=at(2026, 9, 22, 14, 30)) == 1
    assert actions(task) == ["sla_remind"]
    assert notified("handler_sani", "sla_remind") == 1  # unclaimed: the unit's queue
    assert sla_sweep(now=at(2026, 9, 22, 14, 31)) == 0  # never twice

    assert sla_sweep(now=at(2026, 9, 22, 15, 30)) == 1
    assert notified("unithead_sani", "sla_warn") == 1
    assert sla_sweep(now=at(2026, 9, 22, 16, 30)) == 1
    assert actions(task) == ["sla_remind", "sla_warn", "sla_overdue"]
    assert notified("supervisor", "sla_overdue") == 1
    assert notified("unithead_sani", "sla_overdue") == 1
    order = SupervisionOrder.objects.get(task=task)
    assert order.unit.code == "SANI" and order.issued_by is None
    assert order.reply_due_at == at(2026, 9, 23, 16, 30)  # one working day
    task.refresh_from_db()
    assert (task.thresholds_fired, task.next_threshold_at) == (3, None)
    assert sla_sweep(now=at(2026, 9, 30, 9, 0)) == 0


@pytest.mark.django_db
def test_a_late_sweep_fires_missed_levels_in_order_and_the_assignee_is_told(category):
    task = handling_task(category, at(2026, 9, 22, 11, 0))
    task_claim(actor=user("handler_sani"), task=task)
    assert sla_sweep(now=at(2026, 9, 23, 9, 0)) == 3
    assert actions(task) == ["sla_remind", "sla_warn", "sla_overdue"]
    assert notified("handler_sani", "sla_remind") == 1
    assert Notification.objects.filter(kind="sla_remind").count() == 1  # assignee only


@pytest.mark.django_db
def test_done_tasks_do_not_escalate(category):
    task = handling_task(category, at(2026, 9, 22, 11, 0))
    CaseTask.objects.filter(pk=task.pk).update(status=TaskStatus.DONE)
    assert sla_sweep(now=at(2026, 9, 23, 9, 0)) == 0


@pytest.mark.django_db
def test_configured_leadership_level_one_working_day_overdue(category):
    ThresholdRule.objects.create(
        category=category,
        levels=[
            {"percent": 100, "action": "overdue"},
            {"after_due": [1, "working_days"], "action": "leadership"},
        ],
    )
    task = handling_task(category, at(2026, 9, 30, 16, 0))  # 1.5 h, the holiday, 2.5 h
    assert task.due_at == at(2026, 10, 8, 11, 0)
    assert sla_sweep(now=at(2026, 10, 8, 11, 0)) == 1
    assert sla_sweep(now=at(2026, 10, 9, 10, 59)) == 0
    assert sla_sweep(now=at(2026, 10, 9, 11, 0)) == 1
    assert actions(task) == ["sla_overdue", "sla_leadership"]
    assert notified("supervisor", "sla_leadership") == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sweepers_fire_each_level_exactly_once(category):
    start = at(2026, 9, 22, 9, 0)
    for _ in range(1000):
        report(category, start)  # intake tasks: 30 natural minutes
    due = CaseTask.objects.filter(status=TaskStatus.OPEN, next_threshold_at__isnull=False)
    assert due.count() == 1000
    barrier, results = threading.Barrier(2), []

    def sweep():
        try:
            barrier.wait()
            results.append(sla_sweep(now=start + dt.timedelta(hours=1), batch=50))
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)

    assert sum(results) == 3000 and all(r > 0 for r in results), results
    per_task = Counter(
        CaseEvent.objects.filter(action__startswith="sla_").values_list("task_id", "action")
    )
    assert len(per_task) == 3000 and set(per_task.values()) == {1}
    assert SupervisionOrder.objects.count() == 1000
