"""Facts: the compact rows every indicator is counted from, derived per case from its task rows
and case row (never from a page view), and kept up to date by a catch-up job that reads the
append-only case events past a recorded position.

Each case's facts are a pure function of that case (`case_facts`): the job replaces the facts of
every case that has new events, and `rebuild_indicator_facts` recomputes all of them and reports
any difference from what is stored (it must be zero).

Mapping (kpi.md's counts): reported = the case row; valid = the first filing task (the report
was accepted); filed = a filing task completed "file" (on time: finished ≤ its due time);
dispatched = a dispatch task completed "dispatch" (accurate unless the dispatch was returned and
the return approved); an **assignment** starts at each dispatch, for the unit its first handling
task is in, and ends at the first "done" of its handling tasks (handled; on time: finished ≤ the
task's due time, which the SLA moves for approved extensions and paused time), at an approved
return, or when the case is cancelled; a failed check is a rework of the assignment's unit;
closed = the closing task, on time when ≤ the case's due time; extension / parked = approved
review tasks; parked assignments carry their parking interval and leave the handling
indicators while parked. Tasks of one case are ordered by their ids (they are created in order).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from departments.calendars import WorkingCalendar, working_time_between
from departments.models import UnitKind
from departments.reference import reference_snapshot
from departments.selectors import calendar_record, working_calendar
from workflows.models import Case, CaseEvent, CaseStatus, CaseTask, HotlineOrder, TaskStatus

from .hotline_facts import RATING_ACTION, hotline_facts
from .models import Fact, FactCursor
from .rollup import old_facts, rollup_apply, rollup_rebuild
from .suggestion_facts import suggestion_decisions, suggestion_facts

logger = logging.getLogger(__name__)

CURSOR = "facts"
HOURS_PER = {
    "natural_minutes": 1 / 60,
    "working_minutes": 1 / 60,
    "natural_hours": 1,
    "working_hours": 1,
    "working_days": 8,
}
FACT_FIELDS = [
    f.attname for f in Fact._meta.concrete_fields if f.attname not in ("id",)
]  # the comparison key of a fact


def _minutes(delta: dt.timedelta) -> float:
    return round(delta.total_seconds() / 60, 2)


class _Context:
    """What building facts needs beside the case: unit tree, calendars, the city time zone."""

    def __init__(self) -> None:
        self.snapshot = reference_snapshot()
        self.tree = self.snapshot.units
        self.tz = ZoneInfo(settings.TIME_ZONE)
        self.calendars: dict[int | None, WorkingCalendar] = {}

    def calendar(self, calendar_id: int | None) -> WorkingCalendar:
        if calendar_id not in self.calendars:
            record = calendar_record(calendar_id, self.snapshot) if calendar_id else None
            self.calendars[calendar_id] = (
                working_calendar(record) if record else WorkingCalendar.standard()
            )
        return self.calendars[calendar_id]

    def areas(self, case: Case) -> dict:
        levels = {"city_id": case.city_id}
        for uid in self.tree.ancestor_ids(case.area_id):
            kind = self.tree.kind_of.get(uid)
            if kind in (UnitKind.DISTRICT, UnitKind.STREET, UnitKind.COMMUNITY):
                levels[f"{kind}_id"] = uid
        return levels


class _Assignment:
    def __init__(self, at, dispatched: Fact | None) -> None:
        self.at, self.dispatched = at, dispatched
        self.unit_id = self.due_at = self.end_at = self.parked_at = self.resumed_at = None
        self.calendar_id = None
        self.handled: Fact | None = None


def case_facts(
    case: Case,
    tasks: list[CaseTask],
    ctx: _Context,
    order: HotlineOrder | None = None,
    rated_at=None,
    decisions: list[tuple] | None = None,
) -> list[Fact]:
    """Every fact of one case, from its row and its task rows (ordered by id); a hotline
    order adds its own facts (indicators.hotline_facts) and its request type to every fact."""
    base = {
        "case_id": case.pk,
        "category_id": case.category_id,
        # The major class within its kind: component and event major codes overlap ("C01").
        "major_code": case.category.kind[:1].upper() + case.category.major_code,
        "category_kind": case.category.kind,
        "source": case.source,
        "urgency": case.urgency,
        "grid_id": case.grid_id,
        "request_type": order.request_type if order is not None else "",
        **ctx.areas(case),
    }
    facts: list[Fact] = []

    def add(kind: str, at, **fields) -> Fact:
        fact = Fact(kind=kind, at=at, day=at.astimezone(ctx.tz).date(), **base, **fields)
        facts.append(fact)
        return fact

    reporter_role = "inspector" if case.source == "inspector" else ""
    add("reported", case.created_at, actor_id=case.reported_by_id, role=reporter_role)
    assignments: list[_Assignment] = []
    previous: CaseTask | None = None
    for task in sorted(tasks, key=lambda t: t.pk):
        done = task.status == TaskStatus.DONE and task.finished_at is not None
        on_time = (task.finished_at <= task.due_at) if done and task.due_at else None
        wait = _minutes(task.claimed_at - task.created_at) if task.claimed_at else None
        work = None
        if task.claimed_at and task.finished_at:
            work = _minutes(
                working_time_between(
                    ctx.calendar(task.calendar_id), task.claimed_at, task.finished_at
                )
            )
        add(
            "task",
            task.created_at,
            unit_id=task.unit_id,
            actor_id=task.owner_id,
            role=task.role,
            stage=task.stage,
            on_time=on_time,
            due_at=task.due_at,
            end_at=task.finished_at,
            wait_minutes=wait,
            work_minutes=work,
        )
        current = assignments[-1] if assignments else None
        who = {"unit_id": task.unit_id, "actor_id": task.owner_id, "role": task.role}
        if task.stage == "filing" and not any(f.kind == "valid" for f in facts):
            clerk = previous.owner_id if previous else None
            add("valid", task.created_at, unit_id=task.unit_id, actor_id=clerk, role="intake")
        if not done:
            if task.stage == "handling" and current and current.end_at is None:
                current.unit_id = current.unit_id or task.unit_id
                current.due_at, current.calendar_id = task.due_at, task.calendar_id
            previous = task
            continue
        at, outcome = task.finished_at, task.outcome
        if task.stage == "filing" and outcome == "file":
            add("filed", at, on_time=on_time, **who)
        elif task.stage == "dispatch" and outcome == "dispatch":
            fact = add("dispatched", at, on_time=on_time, flag=True, **who)
            assignments.append(_Assignment(at, fact))
        elif task.stage == "handling" and current:
            if current.end_at is None:
                current.unit_id = current.unit_id or task.unit_id
                current.due_at, current.calendar_id = task.due_at, task.calendar_id
            if outcome == "done" and current.handled is None and current.end_at is None:
                minutes = working_time_between(ctx.calendar(task.calendar_id), current.at, at)
                current.handled = add(
                    "handled",
                    at,
                    unit_id=current.unit_id,
                    actor_id=task.owner_id,
                    role=task.role,
                    on_time=on_time,
                    due_at=task.due_at,
                    value=_minutes(minutes),
                )
                current.end_at = at
        elif task.stage == "return_review" and outcome == "approve" and current:
            if current.dispatched is not None:
                current.dispatched.flag = False
            current.end_at = current.end_at or at
        elif task.stage == "check" and outcome == "fail":
            add("rework", at, unit_id=current.unit_id if current else None, actor_id=task.owner_id)
        elif task.stage == "closing" and outcome == "close":
            closed_on_time = case.due_at is None or at <= case.due_at
            add("closed", at, on_time=closed_on_time, **who)
        elif task.stage == "extension_review" and outcome == "approve":
            amount = task.payload.get("amount") or 0
            hours = round(amount * HOURS_PER.get(task.payload.get("amount_unit"), 1), 2)
            unit = current.unit_id if current else None
            add("extension", at, unit_id=unit, actor_id=task.owner_id, value=hours)
        elif task.stage == "parking_review" and outcome == "approve":
            add("parked", at, unit_id=current.unit_id if current else None, actor_id=task.owner_id)
            if current:
                current.parked_at, current.resumed_at = at, None
        elif task.stage == "parked" and outcome == "resume" and current:
            current.resumed_at = at
        previous = task
    for assignment in assignments:
        end = assignment.end_at
        if end is None and case.status == CaseStatus.CANCELLED:
            end = case.closed_at
        parking = {"parked_at": assignment.parked_at, "resumed_at": assignment.resumed_at}
        add(
            "assignment",
            assignment.at,
            unit_id=assignment.unit_id,
            due_at=assignment.due_at,
            end_at=end,
            **parking,
        )
        if assignment.handled is not None:
            for name, value in parking.items():
                setattr(assignment.handled, name, value)
    if order is not None:
        hotline_facts(case, order, sorted(tasks, key=lambda t: t.pk), rated_at, add)
    if decisions:  # what was taken of the dispatch suggestions (indicators.suggestion_facts)
        suggestion_facts(case, decisions, add)
    return facts


def facts_for_cases(case_ids, ctx: _Context | None = None) -> list[Fact]:
    """The facts of these cases, from four queries (five when a citizen has rated one)."""
    ctx = ctx or _Context()
    case_ids = list(case_ids)
    cases = Case.objects.filter(pk__in=case_ids).select_related("category")
    by_case: dict[int, list[CaseTask]] = {}
    for task in CaseTask.objects.filter(case_id__in=case_ids).order_by("task_id"):
        by_case.setdefault(task.case_id, []).append(task)
    orders = {o.pk: o for o in HotlineOrder.objects.filter(case_id__in=case_ids)}
    rated = [pk for pk, o in orders.items() if o.citizen_rating]
    rated_at: dict[int, object] = {}
    if rated:  # the rating's time is its event's (the order row keeps only the rating)
        for case_id, when in (
            CaseEvent.objects.filter(case_id__in=rated, action=RATING_ACTION)
            .order_by("created_at", "id")
            .values_list("case_id", "created_at")
        ):
            rated_at.setdefault(case_id, when)
    decided = suggestion_decisions(case_ids)
    facts: list[Fact] = []
    for case in cases:
        order = orders.get(case.pk)
        tasks = by_case.get(case.pk, [])
        facts.extend(
            case_facts(case, tasks, ctx, order, rated_at.get(case.pk), decided.get(case.pk))
        )
    return facts


def facts_replace(case_ids) -> int:
    """Replace the stored facts of these cases, and their part of the rollup, inside the
    caller's transaction."""
    case_ids = sorted(set(case_ids))
    rows = facts_for_cases(case_ids)
    old = old_facts(case_ids)
    Fact.objects.filter(case_id__in=case_ids).delete()
    Fact.objects.bulk_create(rows, batch_size=1000)
    rollup_apply(old, rows)
    return len(rows)


def facts_catch_up(*, batch: int = 500, max_batches: int = 40, settle_seconds=None) -> int:
    """The periodic job: apply the case events past the recorded position, in batches.

    Reads only events older than `CITYOPS_FACTS_SETTLE_SECONDS` (default 5 s), so that an
    event whose transaction commits after a later id is not skipped. Returns events applied.
    """
    if settle_seconds is None:
        settle_seconds = getattr(settings, "CITYOPS_FACTS_SETTLE_SECONDS", 5.0)
    applied = 0
    for _ in range(max_batches):
        with transaction.atomic():
            FactCursor.objects.get_or_create(name=CURSOR)
            cursor = FactCursor.objects.select_for_update().get(name=CURSOR)
            horizon = timezone.now() - dt.timedelta(seconds=settle_seconds)
            rows = list(
                CaseEvent.objects.filter(id__gt=cursor.last_event_id, created_at__lte=horizon)
                .order_by("id")
                .values_list("id", "case_id")[:batch]
            )
            if not rows:
                break
            facts_replace({case_id for _, case_id in rows})
            cursor.last_event_id = rows[-1][0]
            cursor.save(update_fields=["last_event_id", "updated_at"])
            applied += len(rows)
    return applied


def _key(fact: Fact) -> tuple:
    return tuple(getattr(fact, name) for name in FACT_FIELDS)


def facts_rebuild(*, apply: bool = False, batch: int = 2000) -> dict:
    """Recompute every case's facts and compare with the stored ones, in case-id batches.
    Returns {"cases", "facts", "missing", "extra", "rollup": {"rows", "missing", "extra"}};
    with apply, the stored facts (then the rollup rows) are replaced where they differ and the
    position moves to the last event."""
    ctx = _Context()
    report = {"cases": 0, "facts": 0, "missing": 0, "extra": 0, "differing_cases": []}
    last_id = 0
    top_event = CaseEvent.objects.aggregate(m=Max("id"))["m"] or 0
    while True:
        ids = list(
            Case.objects.filter(pk__gt=last_id).order_by("pk").values_list("pk", flat=True)[:batch]
        )
        if not ids:
            break
        last_id = ids[-1]
        fresh = facts_for_cases(ids, ctx)
        stored = Fact.objects.filter(case_id__in=ids)
        want, have = Counter(map(_key, fresh)), Counter(map(_key, stored))
        missing, extra = want - have, have - want
        report["cases"] += len(ids)
        report["facts"] += len(fresh)
        report["missing"] += sum(missing.values())
        report["extra"] += sum(extra.values())
        bad = sorted({k[0] for k in missing} | {k[0] for k in extra})
        report["differing_cases"].extend(bad[:20])
        if apply and bad:
            with transaction.atomic():
                facts_replace(bad)
    stray = Fact.objects.exclude(case_id__in=Case.objects.values("pk")).count()
    report["extra"] += stray
    if apply:
        FactCursor.objects.update_or_create(name=CURSOR, defaults={"last_event_id": top_event})
    report["rollup"] = rollup_rebuild(apply=apply)  # against the stored (now rebuilt) facts
    return report
