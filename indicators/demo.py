"""Months of demo history for the indicator pages: a faithful fast path.

Driving thousands of cases through the services takes ~40 ms per step (minutes for a demo), so
the history is written with bulk inserts of exactly the rows the services write for the same
walk: a finished viewflow process and its tasks, the case, its task rows (stage, role, unit,
owner, created / claimed / finished, due time from the real SLA limits on the city's working
calendar, outcome, payload) and its outcome events (report, accept/invalid, file, dispatch,
done/return, approve, pass/fail, close, extension_request, extension_review_approve; claims are
not written as events). The facts are then built by the same code as for live cases, and
`rebuild_indicator_facts --check` compares them. Every history case is ended; the demo's live
cases (workflows.demo) stay the ones to act on.
"""

from __future__ import annotations

import datetime as dt
import random

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from viewflow.workflow.models import Process, Task
from viewflow.workflow.token import Token

from departments.calendars import add_working_time, next_working_instant
from departments.models import GridCell, Unit
from workflows.models import Case, CaseEvent, CaseSequence, CaseTask, Category
from workflows.sla.deadlines import case_calendar, stage_limit

from .demo_texts import complaint_text
from .facts import facts_rebuild

FLOW = "workflows/flows.case_flow.CaseFlow"
HANDLERS = {
    "SANI": "handler_sani",
    "MUNI": "handler_muni",
    "ENF": "handler_enf",
    "WATER": "handler_water",
}
SUBUNITS = {
    "SANI": ["SANI", "SANI-E", "SANI-W"],
    "MUNI": ["MUNI", "MUNI-ROAD"],
    "ENF": ["ENF", "ENF-E"],
    "WATER": ["WATER"],
}
OLD_TEXT_CHOICES = {"01": 4, "02": 4, "03": 3, "04": 3, "05": 4}
RESULTS = ["已清理完毕", "已修复", "已责令整改", "已更换", "已疏通"]
REVIEW_FLOW = "workflows/flows.review_flow.ReviewFlow"
ROLES = {
    "intake": "intake",
    "filing": "shift_leader",
    "dispatch": "dispatcher",
    "handling": "handler",
    "return_review": "shift_leader",
    "check": "inspector",
    "closing": "shift_leader",
}


class _Walk:
    """One case's rows, built in memory."""

    def __init__(self, case: Case) -> None:
        self.case = case
        self.tasks: list[tuple[CaseTask, str]] = []  # (task row, flow node name)
        self.events: list[CaseEvent] = []

    def event(self, action, at, actor, stage_from, stage_to, unit_id, task=None, payload=None):
        self.events.append(
            CaseEvent(
                action=action,
                created_at=at,
                actor=actor,
                stage_from=stage_from,
                stage_to=stage_to,
                unit_id=unit_id,
                payload=payload or {},
                task=task,
            )
        )


def _due(case, stage, start, calendar):
    value, unit = stage_limit(case, stage)
    return add_working_time(calendar, start, value, unit), value, unit


def _step(walk, rng, stage, unit_id, owner, start, calendar, minutes, outcome, to, **extra):
    """A task of the stage opened at `start`, claimed and finished after `minutes`."""
    due, value, limit_unit = _due(walk.case, stage, start, calendar)
    claimed = start + dt.timedelta(minutes=minutes * rng.uniform(0.1, 0.4))
    finished = start + dt.timedelta(minutes=minutes)
    if extra.get("finished"):
        finished = extra.pop("finished")
    due = extra.pop("due", None) or due
    task = CaseTask(
        stage=stage,
        role=ROLES[stage],
        unit_id=unit_id,
        status="done",
        owner=owner,
        outcome=outcome,
        payload=extra.pop("payload", {}),
        created_at=start,
        claimed_at=min(claimed, finished),
        finished_at=finished,
        due_at=due,
        limit_value=value,
        limit_unit=limit_unit,
        calendar_id=walk.calendar_id,
    )
    walk.tasks.append((task, f"{FLOW}.{stage}"))
    walk.event(outcome, finished, owner, stage, to, unit_id, task, extra.get("said"))
    return task


def _walk_case(case, rng, ctx) -> _Walk:
    walk = _Walk(case)
    record, calendar = case_calendar(case)
    walk.calendar_id = record.pk if record else None
    users, centre = ctx["users"], ctx["centre"]
    t = case.created_at
    walk.event(
        "report",
        t,
        case.reported_by,
        "",
        "intake",
        case.area_id,
        payload={"source": case.source, "category": case.category.code},
    )
    if rng.random() < 0.08:  # not accepted at intake
        _step(
            walk,
            rng,
            "intake",
            centre,
            users["intake"],
            t,
            calendar,
            rng.uniform(5, 25),
            "invalid",
            "ended",
            said={"reason": "不属于受理范围"},
        )
        case.status, case.stage, case.closed_at = "invalid", "ended", walk.events[-1].created_at
        return walk
    task = _step(
        walk,
        rng,
        "intake",
        centre,
        users["intake"],
        t,
        calendar,
        rng.uniform(4, 28 if rng.random() < 0.95 else 50),
        "accept",
        "filing",
    )
    t = task.finished_at
    slow = rng.random() < 0.06
    task = _step(
        walk,
        rng,
        "filing",
        centre,
        users["shiftlead"],
        t,
        calendar,
        rng.uniform(3, 12) + (30 if slow else 0),
        "file",
        "dispatch",
    )
    t, filing_due = task.finished_at, task.due_at
    right = ctx["unit_of_category"][case.category_id]
    units = [right]
    if rng.random() < 0.05:  # mis-dispatched first, returned, approved, dispatched again
        units.insert(0, rng.choice([u for u in HANDLERS if u != right]))
    for n, code in enumerate(units):
        handling_unit = ctx["units"][rng.choice(SUBUNITS[code])]
        task = _step(
            walk,
            rng,
            "dispatch",
            centre,
            users["dispatcher"],
            t,
            calendar,
            rng.uniform(3, 15 if rng.random() < 0.93 else 40),
            "dispatch",
            "handling",
            due=filing_due if n == 0 else None,
            payload={"unit": code},
            said={"unit": code},
        )
        t = task.finished_at
        case.responsible_unit_id = ctx["units"][code]
        handler = users[HANDLERS[code]]
        due, _, _ = _due(case, "handling", t, calendar)
        if n < len(units) - 1:
            task = _step(
                walk,
                rng,
                "handling",
                handling_unit,
                handler,
                t,
                calendar,
                rng.uniform(10, 60),
                "return",
                "return_review",
                said={"reason": "非本单位职责"},
            )
            task = _step(
                walk,
                rng,
                "return_review",
                centre,
                users["shiftlead"],
                task.finished_at,
                calendar,
                rng.uniform(5, 40),
                "approve",
                "dispatch",
            )
            t = task.finished_at
            continue
        case.due_at = due
        span = (due - t).total_seconds() / 60
        roll = rng.random()
        payload = {}
        if roll < 0.05:  # an approved extension of 1 working day, handled within it
            due = add_working_time(calendar, due, 1, "working_days")
            payload = {"extension": True}
        share = rng.uniform(1.05, 2.5) if 0.05 <= roll < 0.16 else rng.uniform(0.15, 0.95)
        finished = t + dt.timedelta(minutes=span * share)
        if roll < 0.05:
            finished = t + dt.timedelta(minutes=(due - t).total_seconds() / 60 * 0.9)
        finished = next_working_instant(calendar, finished)
        task = _step(
            walk,
            rng,
            "handling",
            handling_unit,
            handler,
            t,
            calendar,
            0,
            "done",
            "check",
            finished=finished,
            due=due,
            payload={"result": rng.choice(RESULTS)},
            said={"result": rng.choice(RESULTS)},
        )
        if payload:
            ext = CaseTask(
                stage="extension_review",
                role="shift_leader",
                unit_id=centre,
                status="done",
                owner=users["shiftlead"],
                outcome="approve",
                payload={"amount": 1, "amount_unit": "working_days"},
                created_at=t + dt.timedelta(minutes=span * 0.5),
                claimed_at=t + dt.timedelta(minutes=span * 0.5),
                finished_at=t + dt.timedelta(minutes=span * 0.6),
                calendar_id=walk.calendar_id,
            )
            walk.tasks.append((ext, f"{REVIEW_FLOW}.extension_review"))  # after the handling task
            walk.event(
                "extension_review_approve",
                ext.finished_at,
                ext.owner,
                "handling",
                "handling",
                centre,
                ext,
                {"amount": 1, "amount_unit": "working_days"},
            )
            case.extension_count = 1
            case.due_at = due
        t = task.finished_at
        checks = 2 if rng.random() < 0.07 else 1
        for c in range(checks):
            outcome = "fail" if c < checks - 1 else "pass"
            task = _step(
                walk,
                rng,
                "check",
                ctx["street_of"][case.area_id],
                users["inspector"],
                t,
                calendar,
                rng.uniform(15, 70),
                outcome,
                "handling" if outcome == "fail" else "closing",
            )
            t = task.finished_at
            if outcome == "fail":
                case.rework_count += 1
                task = _step(
                    walk,
                    rng,
                    "handling",
                    handling_unit,
                    handler,
                    t,
                    calendar,
                    rng.uniform(60, 300),
                    "done",
                    "check",
                )
                t = task.finished_at
    task = _step(
        walk,
        rng,
        "closing",
        centre,
        users["shiftlead"],
        t,
        calendar,
        rng.uniform(10, 120),
        "close",
        "ended",
    )
    case.status, case.stage, case.closed_at = "closed", "ended", task.finished_at
    case.archive_type = "overdue" if case.due_at and task.finished_at > case.due_at else "normal"
    return walk


def seed_history(*, days: int = 150, per_day: tuple[int, int] = (10, 26), seed: int = 2026) -> int:
    """Write `days` of ended cases before today (idempotent: nothing when history exists);
    returns how many cases were written."""
    now = timezone.now()
    first = now - dt.timedelta(days=days)
    if Case.objects.filter(created_at__lt=now - dt.timedelta(days=3)).exists():
        return 0
    rng = random.Random(seed)
    words = random.Random(seed + 1)  # its own sequence: the walks stay what they were
    user_model = get_user_model()
    ctx = {
        "users": {
            u.username: u
            for u in user_model.objects.filter(
                username__in=["inspector", "intake", "shiftlead", "dispatcher", *HANDLERS.values()]
            )
        },
        "units": dict(Unit.objects.values_list("code", "pk")),
    }
    ctx["centre"] = ctx["units"]["CC"]
    tree = Unit.objects.values_list("pk", "parent_id", "kind")
    parent = {pk: p for pk, p, _ in tree}
    kind = {pk: k for pk, _, k in tree}
    ctx["street_of"] = {pk: (pk if k == "street" else parent[pk]) for pk, k in kind.items()}
    categories = list(
        Category.objects.filter(default_unit__code__in=list(HANDLERS)).select_related(
            "default_unit"
        )
    )
    ctx["unit_of_category"] = {c.pk: c.default_unit.code for c in categories}
    cells = list(GridCell.objects.select_related("area"))
    city = Unit.objects.get(code="DEMO")
    walks: list[_Walk] = []
    day = first
    while day < now - dt.timedelta(days=3):
        weekday = timezone.localtime(day).weekday()
        count = rng.randint(*per_day) // (3 if weekday >= 5 else 1)
        for _ in range(count):
            local = timezone.localtime(day).replace(hour=8, minute=0, second=0, microsecond=0)
            at = local + dt.timedelta(minutes=rng.uniform(0, 600))
            category = rng.choice(categories)
            cell = rng.choice(cells)
            # The short texts this draw once picked: kept, so the walks stay the same cases.
            rng.choice(range(OLD_TEXT_CHOICES.get(category.major_code, 4)))
            case = Case(
                city=city,
                category=category,
                grid=cell,
                area=cell.area,
                description=complaint_text(words, category.name, cell.name),
                address=f"{cell.area.name} {cell.name}",
                source=rng.choices(
                    ["inspector", "hotline", "public_app", "sensor"], [55, 30, 12, 3]
                )[0],
                urgency=category.urgency,
                reported_by=ctx["users"]["inspector"],
                created_at=at,
                lat=cell.centre_lat,
                lng=cell.centre_lng,
            )
            walks.append(_walk_case(case, rng, ctx))
        day += dt.timedelta(days=1)
    walks.sort(key=lambda w: w.case.created_at)
    _write(walks)
    return len(walks)


@transaction.atomic
def _write(walks: list[_Walk]) -> None:
    processes = Process.objects.bulk_create(
        [
            Process(
                flow_class=FLOW,
                status="DONE",
                created=w.case.created_at,
                finished=w.case.closed_at,
                data={},
            )
            for w in walks
        ]
    )
    by_year: dict[int, int] = {}
    for walk, process in zip(walks, processes, strict=True):
        year = timezone.localtime(walk.case.created_at).year
        by_year[year] = by_year.get(year, 0) + 1
        walk.case.process = process
    numbers = {}
    for year, n in by_year.items():
        CaseSequence.objects.get_or_create(year=year)
        seq = CaseSequence.objects.select_for_update().get(year=year)
        numbers[year], seq.last = seq.last, seq.last + n
        seq.save()
    for walk in walks:
        year = timezone.localtime(walk.case.created_at).year
        numbers[year] += 1
        walk.case.number = f"{year}-{numbers[year]:06d}"
    Case.objects.bulk_create([w.case for w in walks], batch_size=500)
    for walk, process in zip(walks, processes, strict=True):
        process.data = {"case": walk.case.pk, "outcome": walk.case.status}
    Process.objects.bulk_update(processes, ["data"], batch_size=500)
    reviews = Process.objects.bulk_create(
        [
            Process(
                flow_class=REVIEW_FLOW,
                status="DONE",
                created=task.created_at,
                finished=task.finished_at,
                data={"case": walk.case.pk},
            )
            for walk in walks
            for task, node in walk.tasks
            if node.startswith(REVIEW_FLOW)
        ]
    )
    flow_tasks = []
    for walk, process in zip(walks, processes, strict=True):
        for task, node in walk.tasks:
            owner = reviews.pop() if node.startswith(REVIEW_FLOW) else process
            flow_tasks.append(
                Task(
                    process=owner,
                    flow_task=node,
                    flow_task_type="HUMAN",
                    status="DONE",
                    created=task.created_at,
                    assigned=task.claimed_at,
                    started=task.claimed_at,
                    finished=task.finished_at,
                    owner=task.owner,
                    token=Token("start"),
                    data={},
                )
            )
    Task.objects.bulk_create(flow_tasks, batch_size=1000)
    rows, events = [], []
    i = 0
    for walk in walks:
        for task, _node in walk.tasks:
            task.task, task.case = flow_tasks[i], walk.case
            rows.append(task)
            i += 1
        for event in walk.events:
            event.case = walk.case
            if event.task is not None:
                event.task_id = event.task.task_id
            events.append(event)
    CaseTask.objects.bulk_create(rows, batch_size=1000)
    events.sort(key=lambda e: e.created_at)
    CaseEvent.objects.bulk_create(events, batch_size=1000)
    facts_rebuild(apply=True)
