"""Reads for the breach model and the supervisor pages: task rows as arrays (TaskFrame), the
predictions and hotspots a user may see, the repeated-report spots of the hotline, and how often
the dispatch suggestions were taken."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

import numpy as np
from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from departments.calendars import WorkingCalendar
from departments.models import Unit, WorkCalendar
from departments.selectors import working_calendar
from workflows.access import case_oversight_q, task_oversight_q
from workflows.models import Case, CaseStatus, CaseTask, Category, Stage, TaskStatus

from .breach_model import Groups
from .models import BreachPrediction, HotspotAlert, HotspotStatus, SuggestionLog, Taken
from .worktime import WorkingClock

OPEN = (TaskStatus.OPEN, TaskStatus.CLAIMED)
STATUS_CODES = {TaskStatus.DONE: 1, TaskStatus.CANCELLED: 2}
STAGES = {value: index for index, value in enumerate(Stage.values)}
COLUMNS = (
    "task_id",
    "case_id",
    "unit_id",
    "stage",
    "case__category_id",
    "created_at",
    "finished_at",
    "due_at",
    "paused_minutes",
    "limit_unit",
    "calendar_id",
    "status",
)


@dataclass
class TaskFrame:
    """Task rows as parallel arrays; instants in epoch seconds (NaN: none)."""

    task: np.ndarray
    case: np.ndarray
    unit: np.ndarray
    stage: np.ndarray  # index into Stage.values
    category: np.ndarray  # 0: none
    created: np.ndarray
    finished: np.ndarray
    due: np.ndarray
    paused: np.ndarray  # minutes
    working: np.ndarray  # bool: a working-time limit
    calendar: np.ndarray  # 0: the standard calendar
    status: np.ndarray  # 0 open or claimed, 1 done, 2 cancelled

    def __len__(self) -> int:
        return len(self.task)

    def take(self, mask: np.ndarray) -> TaskFrame:
        return TaskFrame(**{name: value[mask] for name, value in vars(self).items()})

    def groups(self) -> Groups:
        return Groups.of(self.working, self.stage, self.unit, self.category)


def _seconds(value: dt.datetime | None) -> float:
    return value.timestamp() if value is not None else np.nan


def frame_of(rows: list[tuple]) -> TaskFrame:
    """A TaskFrame from `values_list(*COLUMNS)` rows."""
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(COLUMNS)
    task, case, unit, stage, category, created, finished, due, paused, limit, calendar, status = (
        columns
    )
    return TaskFrame(
        task=np.asarray(task, dtype=np.int64),
        case=np.asarray(case, dtype=np.int64),
        unit=np.asarray(unit, dtype=np.int64),
        stage=np.asarray([STAGES.get(s, 0) for s in stage], dtype=np.int64),
        category=np.asarray([c or 0 for c in category], dtype=np.int64),
        created=np.asarray([_seconds(t) for t in created], dtype=float),
        finished=np.asarray([_seconds(t) for t in finished], dtype=float),
        due=np.asarray([_seconds(t) for t in due], dtype=float),
        paused=np.asarray(paused, dtype=float),
        working=np.asarray([(u or "").startswith("working") for u in limit], dtype=bool),
        calendar=np.asarray([c or 0 for c in calendar], dtype=np.int64),
        status=np.asarray([STATUS_CODES.get(x, 0) for x in status], dtype=np.int8),
    )


def frame_concat(frames: list[TaskFrame]) -> TaskFrame:
    if not frames:
        return frame_of([])
    names = list(vars(frames[0]))
    return TaskFrame(**{n: np.concatenate([getattr(f, n) for f in frames]) for n in names})


def frame_read(rows, chunk: int = 50_000) -> TaskFrame:
    """A TaskFrame from a large `values_list(*COLUMNS)` queryset, read in chunks (the rows
    as Python tuples never all exist at once)."""
    frames, part = [], []
    for row in rows.iterator(chunk_size=chunk):
        part.append(row)
        if len(part) >= chunk:
            frames.append(frame_of(part))
            part = []
    frames.append(frame_of(part))
    return frame_concat(frames)


def finished_task_rows(since: dt.datetime, until: dt.datetime) -> QuerySet:
    """Done tasks with a due time that finished in [since, until): the model's history."""
    return CaseTask.objects.filter(
        status=TaskStatus.DONE,
        due_at__isnull=False,
        finished_at__gte=since,
        finished_at__lt=until,
    ).values_list(*COLUMNS)


def replay_task_rows(since: dt.datetime, until: dt.datetime) -> QuerySet:
    """Tasks with a due time created before `until` that had not finished before `since`:
    everything a replay of [since, until) reads (history, open tasks, outcomes)."""
    return (
        CaseTask.objects.filter(due_at__isnull=False, created_at__lt=until)
        .exclude(finished_at__lt=since)
        .values_list(*COLUMNS)
    )


def open_task_chunks(chunk: int):
    """Every running open task with a due time (not paused), by id, in lists of `chunk` rows:
    one query, streamed (a server-side cursor on PostgreSQL), instead of a page per batch."""
    rows = _open_running().iterator(chunk_size=chunk)
    while True:
        part = list(itertools.islice(rows, chunk))
        if not part:
            return
        yield part


def _open_running():
    return (
        CaseTask.objects.filter(status__in=OPEN, due_at__isnull=False, paused_since__isnull=True)
        .order_by("task_id")
        .values_list(*COLUMNS)
    )


def open_backlog() -> dict[tuple[int, int], int]:
    """Open tasks per (unit, stage index) now."""
    rows = (
        CaseTask.objects.filter(status__in=OPEN)
        .values_list("unit_id", "stage")
        .annotate(n=Count("task_id"))
        .order_by()
    )
    return {(unit, STAGES.get(stage, 0)): n for unit, stage, n in rows}


def open_created_instants() -> list[tuple]:
    """(unit, stage, created_at) of every open task: the backlog timeline's open part."""
    return list(
        CaseTask.objects.filter(status__in=OPEN).values_list("unit_id", "stage", "created_at")
    )


class Clocks:
    """One WorkingClock per calendar id over a span of days (0: the standard calendar)."""

    def __init__(self, first: dt.date, last: dt.date) -> None:
        self.first, self.last = first - dt.timedelta(days=1), last + dt.timedelta(days=1)
        self.clocks: dict[int, WorkingClock] = {}

    def get(self, calendar_id: int) -> WorkingClock:
        if calendar_id not in self.clocks:
            record = WorkCalendar.objects.filter(pk=calendar_id).first() if calendar_id else None
            calendar = working_calendar(record) if record else WorkingCalendar.standard()
            self.clocks[calendar_id] = WorkingClock(calendar, self.first, self.last)
        return self.clocks[calendar_id]

    def between(self, frame: TaskFrame, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Minutes in [a, b) in each task's limit terms (working or elapsed)."""
        out = np.maximum((b - a) / 60.0, 0.0)
        for calendar_id in np.unique(frame.calendar[frame.working]):
            mine = frame.working & (frame.calendar == calendar_id)
            out[mine] = self.get(int(calendar_id)).between(a[mine], b[mine])
        return out


def clocks_for(*frames: TaskFrame, until: dt.datetime) -> Clocks:
    """Clocks covering every instant of the frames (and `until`)."""
    instants = [until.timestamp()]
    for frame in frames:
        for column in (frame.created, frame.finished, frame.due):
            finite = column[np.isfinite(column)]
            if finite.size:
                instants += [float(finite.min()), float(finite.max())]
    tz = dt.UTC
    first = dt.datetime.fromtimestamp(min(instants), tz).date()
    last = dt.datetime.fromtimestamp(max(instants), tz).date()
    return Clocks(first, last)


# --- pages -------------------------------------------------------------------------------------


def predicted_breaches(user, *, minimum: float, limit: int = 50) -> list[BreachPrediction]:
    """Open tasks the user oversees whose probability is at least `minimum`, likeliest first."""
    visible = CaseTask.objects.filter(task_oversight_q(user)).values("task_id")
    rows = (
        BreachPrediction.objects.filter(probability__gte=minimum, task_id__in=visible)
        .select_related("task", "case", "case__category", "unit")
        .order_by("-probability", "task_id")
    )
    return list(rows[:limit])


def hotspots(user, *, active_only: bool = False, limit: int = 50) -> list[HotspotAlert]:
    """Hotspot alerts about cases on the user's board, newest first."""
    in_street = Q(area_id=OuterRef("area_id")) | Q(area__parent_id=OuterRef("area_id"))
    seen = Case.objects.filter(
        case_oversight_q(user), in_street, category_id=OuterRef("category_id")
    )
    rows = (
        HotspotAlert.objects.filter(Exists(seen))
        .select_related("category", "area")
        .order_by("-detected_at", "-pk")
    )
    if active_only:
        rows = rows.filter(status=HotspotStatus.ACTIVE)
    return list(rows[:limit])


def repeated_spots(user, *, minimum: int, limit: int = 20) -> list[Case]:
    """Open cases the hotline merged at least `minimum` repeat reports into (its duplicate
    merging counts them; the supervisors were notified when the count reached the level)."""
    rows = (
        Case.objects.filter(case_oversight_q(user), status=CaseStatus.OPEN)
        .annotate(repeats=Count("merged_orders"))
        .filter(repeats__gte=minimum)
        .select_related("category", "area")
        .order_by("-repeats", "-pk")
    )
    return list(rows[:limit])


def category_names() -> dict[int, str]:
    return dict(Category.objects.values_list("pk", "name"))


def unit_names() -> dict[int, str]:
    return dict(Unit.objects.values_list("pk", "name"))


# --- dispatch suggestions ---------------------------------------------------------------------


@dataclass(frozen=True)
class Acceptance:
    decided: int
    first: int
    other: int
    none: int

    @property
    def rate(self) -> float | None:
        """The share of decisions that took the first suggestion."""
        return self.first / self.decided if self.decided else None

    @property
    def any_rate(self) -> float | None:
        """The share that took one of the suggestions."""
        return (self.first + self.other) / self.decided if self.decided else None


def suggestion_acceptance(
    *, since: dt.datetime | None = None, model_version: str | None = None
) -> Acceptance:
    rows = SuggestionLog.objects.exclude(taken="")
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    if model_version is not None:
        rows = rows.filter(model_version=model_version)
    counts = rows.aggregate(
        decided=Count("id"),
        first=Count("id", filter=Q(taken=Taken.FIRST)),
        other=Count("id", filter=Q(taken=Taken.OTHER)),
        none=Count("id", filter=Q(taken=Taken.NONE)),
    )
    return Acceptance(**counts)
