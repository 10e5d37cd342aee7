"""The rollup answers what the facts answer: its state steps against the state counts' rule
for every day (midnights included), and every base count of random histories through both
paths (the property test calls `assert_rollup_equals_facts`)."""

import datetime as dt
import io
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from hypothesis import given
from hypothesis import strategies as st

from departments.models import Unit
from indicators.facts import facts_rebuild
from indicators.models import FactCursor, FactRollup
from indicators.registry import BASE_COUNTS
from indicators.rollup import BUILT, fact_entries, rollup_rebuild
from indicators.selectors.periods import Period
from indicators.selectors.values import Selection, base_counts
from workflows.access import KpiScope

from .conftest import at

SH = ZoneInfo("Asia/Shanghai")
DAY0 = dt.date(2026, 10, 10)
DAYS = [DAY0 + dt.timedelta(days=n) for n in range(12)]


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), SH)


# Instants on a 6-hour grid, so that midnights (the day boundaries) come up often.
instants = st.integers(0, 4 * 11).map(lambda n: _midnight(DAY0) + dt.timedelta(hours=6 * n))


@given(start=instants, due=st.none() | instants, end=st.none() | instants)
def test_an_assignments_steps_follow_the_state_counts_rule(start, due, end):
    fact = SimpleNamespace(
        kind="assignment", at=start, day=start.astimezone(SH).date(), due_at=due, end_at=end,
        parked_at=None, stage="", on_time=None, flag=None, value=None,
    )  # fmt: skip
    entries = fact_entries(fact, SH)
    if end is not None and end < start:
        assert entries == []  # left to the facts
        return

    def steps_to(kind, day):
        return sum(1 for e in entries if e[0] == kind and e[4] <= day)

    for s in DAYS:
        for e in DAYS[DAYS.index(s) :]:
            begin, finish = _midnight(s), _midnight(e + dt.timedelta(days=1))
            due_rule = start < finish and (end is None or end >= begin)
            overdue_rule = start < finish and due is not None and due < finish
            overdue_rule = overdue_rule and (end is None or end > finish)
            due_steps = steps_to("@due+", e) - steps_to("@due-", s - dt.timedelta(days=1))
            over_steps = steps_to("@over+", e) - steps_to("@over-", e)
            assert (due_steps, over_steps) == (int(due_rule), int(overdue_rule)), (s, e)


def _periods():
    d = dt.date
    return [
        Period("day", d(2026, 10, 13), d(2026, 10, 13)),
        Period("day", d(2026, 10, 14), d(2026, 10, 14)),
        Period("day", d(2026, 10, 16), d(2026, 10, 16)),
        Period("week", d(2026, 10, 12), d(2026, 10, 18)),
        Period("month", d(2026, 10, 1), d(2026, 10, 31)),
        Period("custom", d(2026, 10, 14), d(2026, 11, 30)),  # ragged start, a whole month
        Period("custom", d(2026, 9, 1), d(2026, 10, 15)),  # a whole month, ragged end
        Period("year", d(2026, 1, 1), d(2026, 12, 31)),
    ]


def _scopes():
    sani = Unit.objects.get(code="SANI")
    district = Unit.objects.filter(kind="district").first()
    return [
        ({}, KpiScope(True)),
        ({"unit": sani.pk}, KpiScope(True)),
        ({}, KpiScope(False, unit_ids=[sani.pk])),
        ({}, KpiScope(False, area_ids=[district.pk])),
    ]


def _without_rollup(fn):
    FactCursor.objects.filter(name=BUILT).delete()
    try:
        return fn()
    finally:
        FactCursor.objects.create(name=BUILT)


def _plain(raw) -> dict:
    return {
        g: {f: {c: round(n, 6) for c, n in v.items() if n} for f, v in per.items()}
        for g, per in raw.items()
    }


def assert_rollup_equals_facts() -> None:
    """Every base count, through the rollup and through the facts alone, for periods with
    day and month parts, groupings by time, unit, area, grid and stage, and viewer scopes."""
    assert FactCursor.objects.filter(name=BUILT).exists()
    report = rollup_rebuild()
    assert (report["missing"], report["extra"]) == (0, 0), report
    counts = set(BASE_COUNTS)
    cases = [(p, g, f, s) for p in _periods() for g in (None, "unit", "district", "grid", "stage")
             for f, s in _scopes()[:2]]  # fmt: skip
    span = Period("custom", dt.date(2026, 9, 20), dt.date(2026, 11, 3))
    cases += [(span, g, {}, KpiScope(True)) for g in ("day", "week", "month", "year")]
    cases += [(_periods()[4], "unit", f, s) for f, s in _scopes()[2:]]
    for period, group, filters, scope in cases:
        selection = Selection(period, filters, scope.fact_q())
        rollup = _plain(base_counts(selection, counts, group))
        facts = _plain(_without_rollup(lambda s=selection, g=group: base_counts(s, counts, g)))
        assert rollup == facts, (period, group, filters)


@pytest.mark.django_db
def test_the_rollup_follows_replaced_facts_and_the_rebuild_repairs_it(history):
    cases = [history.report(at(2026, 10, 13, 9, n)) for n in range(3)]
    for n, case in enumerate(cases):
        history.to_handling(case, at(2026, 10, 13, 10, n))
    history.handle(cases[0], at(2026, 10, 14, 11, 0))
    history.park(cases[1], at(2026, 10, 14, 12, 0))
    history.cancel(cases[2], at(2026, 10, 15, 9, 0))
    facts_rebuild(apply=True)  # the facts of these histories, and their rollup rows
    assert FactRollup.objects.filter(kind="@over+").exists()
    assert_rollup_equals_facts()
    FactRollup.objects.filter(kind="handled").delete()
    report = facts_rebuild()["rollup"]
    assert report["missing"] > 0 and report["extra"] == 0
    assert facts_rebuild(apply=True)["rollup"]["missing"] > 0
    assert facts_rebuild()["rollup"] == {**report, "missing": 0}
    assert_rollup_equals_facts()


@pytest.mark.django_db
def test_the_command_checks_and_repairs_the_rollup(history):
    case = history.report(at(2026, 10, 13, 9, 0))
    history.to_handling(case, at(2026, 10, 13, 10, 0))
    call_command("rebuild_indicator_facts", stdout=io.StringIO())
    out = io.StringIO()
    call_command("rebuild_indicator_facts", "--check", stdout=out)
    assert "zero difference" in out.getvalue()
    FactRollup.objects.filter(kind="reported").update(n=5)
    with pytest.raises(CommandError, match="rollup"):
        call_command("rebuild_indicator_facts", "--check", stdout=io.StringIO())
    with pytest.raises(CommandError, match="rollup"):
        call_command("rebuild_indicator_facts", "--rollup-only", "--check", stdout=io.StringIO())
    call_command("rebuild_indicator_facts", "--rollup-only", stdout=io.StringIO())
    call_command("rebuild_indicator_facts", "--rollup-only", "--check", stdout=io.StringIO())
    FactRollup.objects.filter(kind="reported").delete()
    call_command("rebuild_indicator_facts", stdout=io.StringIO())
    call_command("rebuild_indicator_facts", "--check", stdout=out)
    assert FactRollup.objects.get(kind="reported", grain="unit", span="d").n == 1
