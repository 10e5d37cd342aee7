"""Escalation levels: which apply to a task, and when each one falls due.

A level at p % falls due when p % of the task's allotted time (in the limit's own terms:
natural or working time) has been used; an `after_due` level a fixed amount after the due
time. Each level fires once per task; `thresholds_fired` counts the fired ones and
`next_threshold_at` is the moment of the next, an indexed column the sweep reads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.conf import settings

from departments.calendars import WorkingCalendar, add_working_time, working_time_between
from departments.reference import Snapshot, reference_snapshot

from ..models import Case, CaseTask, ThresholdRule


def levels_for(case: Case, snapshot: Snapshot | None = None) -> list[dict]:
    """The most specific active rule for the case's category and area, else the defaults."""
    snapshot = snapshot or reference_snapshot()
    return levels_resolver(snapshot)(case.category_id, case.area_id)


def levels_resolver(
    snapshot: Snapshot | None = None,
) -> Callable[[int | None, int | None], list[dict]]:
    """`levels_for` by (category, area) id: the active rules and the unit tree come from the
    process's reference snapshot (read once per generation), then each pair resolves in
    Python."""
    snapshot = snapshot or reference_snapshot()
    units = snapshot.units
    rules = snapshot.part("threshold_rules", _active_rules)

    def resolve(category_id: int | None, area_id: int | None) -> list[dict]:
        areas = units.ancestor_ids(area_id)
        fitting = [
            r
            for r in rules
            if (r.category_id is None or r.category_id == category_id)
            and (r.area_id is None or r.area_id in areas)
        ]

        def specificity(rule: ThresholdRule) -> tuple:
            depth = len(areas) - areas.index(rule.area_id) if rule.area_id else 0
            return (rule.category_id is not None, depth)

        best = max(fitting, key=specificity, default=None)
        return list(best.levels) if best else list(settings.CITYOPS_SLA_LEVELS)

    return resolve


def _active_rules() -> tuple[ThresholdRule, ...]:
    return tuple(ThresholdRule.objects.filter(is_active=True).order_by("pk"))


def level_time(task: CaseTask, level: dict, calendar: WorkingCalendar) -> dt.datetime | None:
    """When a level falls due for a task (None: the task has no due time)."""
    if task.due_at is None:
        return None
    if "after_due" in level:
        value, unit = level["after_due"]
        return add_working_time(calendar, task.due_at, int(value), unit)
    share = float(level["percent"]) / 100
    return task.due_at if share == 1 else _scaled(task, share, calendar)


def _scaled(task: CaseTask, share: float, calendar: WorkingCalendar) -> dt.datetime:
    """The moment `share` of the allotted time is used; finished pauses don't count as used
    (they lie before any level still to fire)."""
    start, due, paused = task.created_at, task.due_at, dt.timedelta(minutes=task.paused_minutes)
    if not task.limit_unit.startswith("working"):
        return start + (due - start - paused) * share + paused
    allotted = working_time_between(calendar, start, due) - paused
    minutes = round(allotted.total_seconds() / 60 * share + task.paused_minutes)
    return add_working_time(calendar, start, minutes, "working_minutes")


def next_threshold(task: CaseTask, levels: list[dict], calendar: WorkingCalendar):
    """The moment of the first level not fired yet, or None when all have fired."""
    if task.thresholds_fired >= len(levels):
        return None
    return level_time(task, levels[task.thresholds_fired], calendar)


def levels_due(
    task: CaseTask, levels: list[dict], calendar: WorkingCalendar, now: dt.datetime
) -> list[tuple[int, dict]]:
    """The levels of the task due by `now`, in order, each with its number (1-based), and the
    task's `thresholds_fired` / `next_threshold_at` moved past them (in memory; the caller
    writes them)."""
    due = []
    while task.next_threshold_at is not None and task.next_threshold_at <= now:
        if task.thresholds_fired >= len(levels):
            task.next_threshold_at = None
            break
        due.append((task.thresholds_fired + 1, levels[task.thresholds_fired]))
        task.thresholds_fired += 1
        task.next_threshold_at = next_threshold(task, levels, calendar)
    return due
