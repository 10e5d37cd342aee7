"""The backtest on a history where the answer is known.

SANI handles three categories with a 4-working-hour limit. Slow ones always take 6 working
hours (they breach), near ones 3.5 (met, but still open at 75 %), fast ones 1 (done before the
10:00 replay: never open at a replay moment, so not evaluated). Every task starts at 08:30,
so at 10:00 1.5 of 4 hours are used: the model, knowing the history, warns every slow task
then (lead 4 h to the 14:00 due time) and no near task; the plain rule warns slow and near
tasks at 11:30 (lead 2.5 h).
"""

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command

from departments.models import Unit
from intelligence.services.backtest import breach_backtest
from workflows.models import Category

from .conftest import at, handling_task, past_tasks

HISTORY = [dt.date(2026, 8, 17) + dt.timedelta(days=d) for d in range(26)]
REPLAY = [dt.date(2026, 9, 14) + dt.timedelta(days=d) for d in range(5)]  # Mon–Fri, no holiday


def spans(days, elapsed):
    out = []
    for day in days:
        if day.weekday() >= 5:
            continue
        start = at(day.year, day.month, day.day, 8, 30)
        out.append((start, start + elapsed, at(day.year, day.month, day.day, 14, 0)))
    return out


@pytest.fixture
def history(category):
    elapsed = {
        "slow": dt.timedelta(hours=7, minutes=30),  # 6 working h (lunch 12:00–13:30 off)
        "near": dt.timedelta(hours=5),  # 08:30 → 13:30: 3.5 working h
        "fast": dt.timedelta(hours=1),  # 1 working h
    }
    kinds = {}
    for code, name in (("0102", "slow"), ("0103", "near"), ("0104", "fast")):
        cat = (
            category
            if code == "0102"
            else Category.objects.create(
                scheme=category.scheme,
                kind="event",
                major_code="01",
                major_name="m",
                code=code,
                name=name,
                default_unit=Unit.objects.get(code="SANI"),
                limit_value=4,
                limit_unit="working_hours",
            )
        )
        template = handling_task(cat, at(2026, 8, 13, 9, 0))
        past_tasks(template, spans(HISTORY + REPLAY, elapsed[name]))
        kinds[name] = template
    return kinds


@pytest.mark.django_db
def test_backtest_figures_where_the_answer_is_known(history):
    result = breach_backtest(
        start=at(2026, 9, 14, 0, 0), end=at(2026, 9, 19, 0, 0), now=at(2026, 9, 30, 12, 0)
    )
    assert result.moments == 5
    # Evaluated: the 5 slow and the 5 near replay-week tasks (the fast ones end at 09:30).
    assert (result.evaluated, result.breached) == (10, 5)
    model, plain = result.model, result.plain
    assert (model.warned, model.true_positives) == (5, 5)
    assert (model.precision, model.recall) == (1.0, 1.0)
    assert model.median_lead_hours == 4.0  # warned 10:00, due 14:00
    assert (plain.warned, plain.true_positives) == (10, 5)
    assert (plain.precision, plain.recall) == (0.5, 1.0)
    assert plain.median_lead_hours == 2.5  # 75 % at 11:30
    # At 10:00 (37.5 % used) the rule forecasts 0 for all: wrong on the 5 slow of 10.
    assert plain.brier == 0.5
    assert model.brier < 0.01


@pytest.mark.django_db
def test_the_command_prints_both_columns(history):
    out = io.StringIO()
    call_command("breach_backtest", "--months", "1", stdout=out)
    text = out.getvalue()
    assert "model" in text and "warn at 75 %" in text and "precision" in text
    assert "Brier score" in text and "median lead time (h)" in text


@pytest.mark.django_db
def test_the_command_refuses_bad_input():
    with pytest.raises(CommandError):
        call_command("breach_backtest", "--months", "0")
    with pytest.raises(CommandError):
        call_command("breach_backtest", "--at", "25:99")
