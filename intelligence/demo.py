"""The demo's breach predictions and hotspot: a burst of 暴露垃圾 reports in one street,
dispatched to sanitation (SANI) through the real services, then one breach sweep and one
hotspot scan. The burst is a surge against the street's own history (indicators.demo), and
it fills SANI's handling queue well past its usual size, so the model (learning from that
history) predicts some of SANI's tasks will miss their due time, and says why.

The burst came in over the last working hours: each case's walk is moved back in time as a
whole (case, tasks, viewflow rows; the audit events are append-only and keep the seeding
time), then its open handling task gets the SLA columns
the real deadline code computes for that start (`task_sla_fields`), so that the tasks stand
between 35 % and 70 % of their allowance, where an early warning means something.

Idempotent: the burst is reported once; the sweep and the scan run on every seeding.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from viewflow.workflow.models import Task

from departments.calendars import WorkingCalendar
from departments.selectors import working_calendar
from workflows.models import Case, CaseTask, Category, Stage, TaskStatus
from workflows.services.cases import CaseReport, case_report
from workflows.services.outcomes import task_complete
from workflows.services.tasks import task_claim
from workflows.sla.deadlines import task_sla_fields

from .services.breach import SweepResult, breach_model_forget, breach_sweep
from .services.hotspots import ScanResult, hotspot_scan
from .worktime import WorkingClock

BURST_CODE = "0102"  # 暴露垃圾, handled by SANI
BURST = [
    ("D01-S01-C1-G1", "小区北门外垃圾袋堆在路边，已经两天没人清"),
    ("D01-S01-C1-G2", "菜市场东侧人行道上有大量暴露垃圾"),
    ("D01-S01-C1-G3", "公交站台旁垃圾散落，气味很大"),
    ("D01-S01-C2-G1", "绿化带里被人倒了建筑垃圾和生活垃圾"),
    ("D01-S01-C2-G2", "垃圾桶满了，垃圾堆到了路中间"),
    ("D01-S01-C1-G1", "早市散场后满地塑料袋和菜叶"),
    ("D01-S01-C2-G1", "河边步道有人乱扔垃圾，堆成一堆"),
    ("D01-S01-C1-G2", "学校门口路边有暴露垃圾，影响学生通行"),
    ("D01-S01-C2-G2", "夜市摊位撤走后垃圾没有清理"),
    ("D01-S01-C1-G3", "小巷里堆着几袋生活垃圾，招苍蝇"),
]
MARK = "（演示：热点）"
TO_HANDLING = [("intake", "accept"), ("shiftlead", "file"), ("dispatcher", "dispatch")]


def _dispatch(case: Case) -> None:
    users = get_user_model().objects
    for username, outcome in TO_HANDLING:
        actor = users.get(username=username)
        task = CaseTask.objects.get(case=case, status=TaskStatus.OPEN)
        task_claim(actor=actor, task=task)
        task_complete(actor=actor, task=task, outcome=outcome)


def _used_share(index: int) -> float:
    return 0.70 - 0.35 * index / max(len(BURST) - 1, 1)


def _move_back(case: Case, share: float) -> None:
    """Move the case's walk back so that its handling task has used `share` of its time."""
    task = CaseTask.objects.select_related("calendar").get(
        case=case, stage=Stage.HANDLING, status=TaskStatus.OPEN
    )
    calendar = working_calendar(task.calendar) if task.calendar_id else WorkingCalendar.standard()
    clock = WorkingClock(
        calendar, task.created_at.date() - dt.timedelta(days=15), task.due_at.date()
    )
    now = timezone.now()
    allotted = clock.between(
        np.array([task.created_at.timestamp()]), np.array([task.due_at.timestamp()])
    )[0]
    start_at = clock.instant_at(clock.minutes_at(np.array([now.timestamp()])) - share * allotted)[0]
    delta = task.created_at - dt.datetime.fromtimestamp(start_at, dt.UTC)
    with transaction.atomic():
        back = {
            name: F(name) - delta for name in ("created_at", "claimed_at", "finished_at", "due_at")
        }
        CaseTask.objects.filter(case=case).update(**back)
        Task.objects.filter(process_id=case.process_id).update(
            created=F("created") - delta, finished=F("finished") - delta
        )
        task.refresh_from_db()
        fields = task_sla_fields(case, Stage.HANDLING, task.created_at)
        CaseTask.objects.filter(pk=task.pk).update(**fields)
        Case.objects.filter(pk=case.pk).update(
            created_at=F("created_at") - delta, due_at=fields["due_at"]
        )


def seed_burst(*, scheme_id: int) -> int:
    """Report and dispatch the burst once; returns how many cases were created."""
    if Case.objects.filter(description__endswith=MARK).exists():
        return 0
    category = Category.objects.get(scheme_id=scheme_id, kind="event", code=BURST_CODE)
    inspector = get_user_model().objects.get(username="inspector")
    for index, (grid, text) in enumerate(BURST):
        case = case_report(
            actor=inspector,
            report=CaseReport(
                category=category.pk,
                description=f"{text}{MARK}",
                source="inspector",
                grid=grid,
                address=f"{grid} 网格附近",
            ),
        )
        _dispatch(case)
        _move_back(case, _used_share(index))
    return len(BURST)


def seed_intelligence(*, scheme_id: int) -> tuple[int, SweepResult, ScanResult]:
    """The burst, then a breach sweep and a hotspot scan on the whole demo."""
    created = seed_burst(scheme_id=scheme_id)
    breach_model_forget()
    return created, breach_sweep(), hotspot_scan()
