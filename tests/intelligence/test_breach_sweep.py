"""The breach sweep against the database: probabilities from a known history, the early
warning sent once (event, notification, webhook), and no lock taken."""

import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from intelligence.models import BreachPrediction
from intelligence.services.breach import breach_sweep
from workflows.integrations.webhooks import subscribed_types_forget
from workflows.models import (
    CaseEvent,
    CaseTask,
    Notification,
    TaskStatus,
    WebhookDelivery,
    WebhookSubscription,
)

from .conftest import at, handling_task, past_tasks, user

# Working days before the task under test (2026-09-22, a Tuesday).
DAYS = [dt.date(2026, 8, 24) + dt.timedelta(days=d) for d in range(28)]
WORKDAYS = [d for d in DAYS if d.weekday() < 5][:30]


def history(template):
    """20 past tasks that took 6 working hours (09:00 → 16:30, lunch 12:00–13:30 off) and 10
    that took 1 (09:00 → 10:00)."""
    spans = []
    for i, day in enumerate(WORKDAYS[:20] + WORKDAYS[:10]):
        start = at(day.year, day.month, day.day, 9, 0)
        end = start + (dt.timedelta(hours=7, minutes=30) if i < 20 else dt.timedelta(hours=1))
        spans.append((start, end, start + dt.timedelta(hours=6)))
    return past_tasks(template, spans)


@pytest.fixture
def scene(category):
    task = handling_task(category, at(2026, 9, 22, 9, 0))  # 4 working h: due 14:30
    assert task.due_at == at(2026, 9, 22, 14, 30)
    history(task)
    return task


def shrunk(k, n, levels=4):
    p = 0.5
    for _ in range(levels):
        p = (k + 5 * p) / (n + 5)
    return p


@pytest.mark.django_db
def test_probability_from_the_units_history(scene):
    result = breach_sweep(now=at(2026, 9, 22, 9, 30))  # 0.5 h used, 3.5 h left
    assert result.scored == 1 and result.warned == 0
    row = BreachPrediction.objects.get(task=scene)
    # All 30 past tasks ran past 0.5 h; 20 of them past the 4 h allowance.
    assert row.probability == pytest.approx(shrunk(20, 30), abs=1e-4)
    assert (row.basis, row.samples, row.typical_minutes) == ("unit_category_stage", 30, 360.0)
    assert row.left_minutes == 210 and row.used_percent == 12 and row.backlog == 1


@pytest.mark.django_db
def test_the_unit_head_is_warned_once_with_event_notification_and_webhook(scene):
    WebhookSubscription.objects.create(
        owner=user("admin"),
        url="https://example.org/hook",
        events=["sla.predicted_breach"],
        secret="s" * 32,
    )
    subscribed_types_forget()
    assert breach_sweep(now=at(2026, 9, 22, 9, 30)).warned == 0  # 0.67 < 0.7
    result = breach_sweep(now=at(2026, 9, 22, 10, 30))  # 1.5 h used: only the slow 20 remain
    assert result.warned == 1
    row = BreachPrediction.objects.get(task=scene)
    assert row.probability > 0.95 and row.warned_at == at(2026, 9, 22, 10, 30)

    event = CaseEvent.objects.get(task=scene, action="sla_predicted_breach")
    assert event.payload["probability"] == row.probability
    assert "SANI usually needs 6.0 working h for 暴露垃圾" in event.payload["reason"]
    notice = Notification.objects.get(kind="sla_predicted")
    assert notice.user.username == "unithead_sani" and notice.case_id == scene.case_id
    assert "3.5" not in notice.body and "2.5 working h left" in notice.body
    delivery = WebhookDelivery.objects.get(event_type="sla.predicted_breach")
    body = json.loads(delivery.body)
    assert body["data"]["task"]["id"] == scene.pk
    assert body["data"]["prediction"]["probability"] == row.probability

    # Later sweeps keep scoring but never warn again.
    assert breach_sweep(now=at(2026, 9, 22, 11, 0)).warned == 0
    assert CaseEvent.objects.filter(action="sla_predicted_breach").count() == 1
    assert Notification.objects.filter(kind="sla_predicted").count() == 1
    assert WebhookDelivery.objects.filter(event_type="sla.predicted_breach").count() == 1


@pytest.mark.django_db
def test_no_early_warning_after_75_percent(scene, settings):
    settings.CITYOPS_BREACH_WARN_PROBABILITY = 0.5
    # 13:45: 3.25 of 4 working hours used (81 %): the plain 75 % warning has its turn.
    result = breach_sweep(now=at(2026, 9, 22, 13, 45))
    assert result.scored == 1 and result.warned == 0
    assert BreachPrediction.objects.get(task=scene).used_percent == 81


@pytest.mark.django_db
def test_scoring_takes_no_lock(scene):
    with CaptureQueriesContext(connection) as queries:
        result = breach_sweep(now=at(2026, 9, 22, 10, 30))
    assert result.warned == 1
    sql = [q["sql"].upper() for q in queries.captured_queries]
    assert sql and not [s for s in sql if "FOR UPDATE" in s or "LOCK " in s]


@pytest.mark.django_db
def test_rows_of_ended_tasks_are_removed(scene):
    breach_sweep(now=at(2026, 9, 22, 9, 30))
    CaseTask.objects.filter(pk=scene.pk).update(status=TaskStatus.DONE)
    result = breach_sweep(now=at(2026, 9, 22, 9, 40))
    assert result.scored == 0 and result.removed == 1
    assert not BreachPrediction.objects.exists()


@pytest.mark.django_db
def test_every_open_task_is_scored_across_batches_and_rescored_in_place(scene, category):
    other = handling_task(category, at(2026, 9, 22, 9, 10))
    third = handling_task(category, at(2026, 9, 22, 9, 20))
    first = breach_sweep(now=at(2026, 9, 22, 9, 30), batch=2)  # batches of 2, 1
    assert first.scored == 3
    rows = {r.task_id: r for r in BreachPrediction.objects.all()}
    assert set(rows) == {scene.pk, other.pk, third.pk}
    assert rows[scene.pk].used_percent == 12 and rows[third.pk].left_minutes == 230
    assert all(
        r.backlog == 3 and r.case_id == CaseTask.objects.get(pk=t).case_id for t, r in rows.items()
    )
    later = breach_sweep(now=at(2026, 9, 22, 11, 30), batch=1)
    assert later.scored == 3 and BreachPrediction.objects.count() == 3
    row = BreachPrediction.objects.get(task=scene)
    assert row.left_minutes == 90 and row.scored_at == at(2026, 9, 22, 11, 30)
    assert row.probability > rows[scene.pk].probability
