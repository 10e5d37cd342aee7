"""The breach sweep (预测超期): score every running open task with the breach model, keep one
prediction row per task, and give the unit head one early warning per task whose probability
reaches `CITYOPS_BREACH_WARN_PROBABILITY` before 75 % of its time is used (the audit event
`sla_predicted_breach` with its webhook `sla.predicted_breach`, and a notification).

Runs as a periodic job beside the SLA sweep and never takes a lock: it reads task rows
without FOR UPDATE, writes only its own table (upserts, in batches, each committed alone),
and claims a warning with a conditional UPDATE (`warned_at IS NULL`), so two sweeps never
warn twice and no transition ever waits on it. The model (the history of finished tasks) is
rebuilt at most every `CITYOPS_BREACH_MODEL_TTL_SECONDS`.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cityops import display
from departments.models import Role
from workflows.integrations.webhooks import PREDICTED_BREACH_ACTION
from workflows.models import CaseTask, Stage, TaskStatus
from workflows.services.events import event_new, events_record_many
from workflows.services.notifications import Notice, notify_many, users_holding

from ..breach_model import LEVELS, BreachModel, Scores, backlog_at, backlog_key, score
from ..explain import breach_reason, percent
from ..models import BreachPrediction
from ..selectors import (
    STAGES,
    TaskFrame,
    clocks_for,
    finished_task_rows,
    frame_of,
    frame_read,
    open_backlog,
    open_created_instants,
    open_task_chunks,
)

# --- the model -------------------------------------------------------------------------------


def breach_model_fit(history: TaskFrame, open_tasks: TaskFrame, *, now: dt.datetime) -> BreachModel:
    """The model from finished tasks (`history`); `open_tasks` (created, unit, stage) complete
    the backlog timeline the usual backlog is measured on."""
    clocks = clocks_for(history, until=now)
    durations = clocks.between(history, history.created, history.finished) - history.paused
    keys = backlog_key(history.unit, history.stage)
    all_keys = np.concatenate([keys, backlog_key(open_tasks.unit, open_tasks.stage)])
    created = np.concatenate([history.created, open_tasks.created])
    finished = np.concatenate([history.finished, np.full(len(open_tasks), np.nan)])
    at_creation = backlog_at(created, finished, all_keys, history.created, keys)
    return BreachModel.fit(history.groups(), np.maximum(durations, 0.0), keys, at_creation)


def _open_frame() -> TaskFrame:
    rows = open_created_instants()
    units = np.asarray([r[0] for r in rows], dtype=np.int64)
    stages = np.asarray([STAGES.get(r[1], 0) for r in rows], dtype=np.int64)
    created = np.asarray([r[2].timestamp() for r in rows], dtype=float)
    empty = np.zeros(len(rows))
    return TaskFrame(
        task=empty.astype(np.int64),
        case=empty.astype(np.int64),
        unit=units,
        stage=stages,
        category=empty.astype(np.int64),
        created=created,
        finished=np.full(len(rows), np.nan),
        due=np.full(len(rows), np.nan),
        paused=empty,
        working=empty.astype(bool),
        calendar=empty.astype(np.int64),
        status=empty.astype(np.int8),
    )


_cache: dict[str, tuple[float, BreachModel]] = {}
_cache_lock = threading.Lock()


def breach_model_current(*, now: dt.datetime) -> BreachModel:
    """The model on the last `CITYOPS_BREACH_LOOKBACK_DAYS` of finished tasks, cached."""
    with _cache_lock:
        cached = _cache.get("model")
        if cached and cached[0] > time.monotonic():
            return cached[1]
    since = now - dt.timedelta(days=settings.CITYOPS_BREACH_LOOKBACK_DAYS)
    history = frame_read(finished_task_rows(since, now))
    model = breach_model_fit(history, _open_frame(), now=now)
    with _cache_lock:
        _cache["model"] = (time.monotonic() + settings.CITYOPS_BREACH_MODEL_TTL_SECONDS, model)
    return model


def breach_model_forget() -> None:
    """Drop the cached model (tests; after a history import)."""
    with _cache_lock:
        _cache.clear()


# --- scoring -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scored:
    """A batch of open tasks with their scores and clock readings."""

    frame: TaskFrame
    scores: Scores
    used: np.ndarray
    left: np.ndarray
    backlog: np.ndarray

    @property
    def used_percent(self) -> np.ndarray:
        allotted = self.used + np.maximum(self.left, 0)
        share = np.where(allotted > 0, self.used / np.where(allotted > 0, allotted, 1), 1.0)
        return np.clip(np.floor(100 * share), 0, 100).astype(int)


def tasks_score(
    model: BreachModel, frame: TaskFrame, *, now: dt.datetime, backlog: np.ndarray
) -> Scored:
    """Score open tasks at `now` (backlog: open tasks of each task's unit and stage)."""
    clocks = clocks_for(frame, until=now)
    at = np.full(len(frame), now.timestamp())
    used = np.maximum(clocks.between(frame, frame.created, at) - frame.paused, 0.0)
    left = clocks.between(frame, at, frame.due)
    keys = backlog_key(frame.unit, frame.stage)
    scores = score(model, frame.groups(), keys, used, left, backlog)
    return Scored(frame, scores, used, left, backlog)


def _columns(scored: Scored) -> dict[str, list]:
    """The batch's prediction rows as columns of plain values (no model instances: building
    120k instances and Django's per-field preparation of their values took ~22 s of a sweep)."""
    f, s = scored.frame, scored.scores
    typical = np.round(s.typical, 1)
    return {
        "task": f.task.tolist(),
        "case": f.case.tolist(),
        "unit": f.unit.tolist(),
        "probability": np.round(s.probability, 4).tolist(),
        "typical_minutes": [None if v != v else v for v in typical.tolist()],  # NaN: none
        "left_minutes": np.round(scored.left, 1).tolist(),
        "used_percent": scored.used_percent.tolist(),
        "working": f.working.tolist(),
        "backlog": scored.backlog.tolist(),
        "typical_backlog": np.round(s.usual_backlog, 1).tolist(),
        "basis": [LEVELS[int(b)] for b in s.basis],
        "samples": s.samples.astype(np.int64).tolist(),
    }


def _prediction(columns: dict[str, list], i: int, now: dt.datetime) -> BreachPrediction:
    """One row as an (unsaved) instance: for the few tasks a warning is written about."""
    values = {name: column[i] for name, column in columns.items()}
    return BreachPrediction(
        task_id=values.pop("task"),
        case_id=values.pop("case"),
        unit_id=values.pop("unit"),
        scored_at=now,
        **values,
    )


def _store(columns: dict[str, list], now: dt.datetime) -> None:
    """Insert or update the batch's rows in one statement from the columns (`unnest` on
    PostgreSQL); `warned_at` is never overwritten."""
    meta = BreachPrediction._meta
    quote = connection.ops.quote_name
    names = [meta.get_field(n).column for n in columns] + [meta.get_field("scored_at").column]
    updates = ", ".join(f"{quote(c)} = EXCLUDED.{quote(c)}" for c in names[1:])
    head = f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(c) for c in names)})"
    tail = f"ON CONFLICT ({quote(names[0])}) DO UPDATE SET {updates}"
    stamp = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            types = [SQL_TYPES[n] for n in columns]
            arrays = ", ".join(f"%s::{t}[]" for t in types)
            cursor.execute(
                f"{head} SELECT *, %s FROM unnest({arrays}) {tail}",
                [stamp, *(_array_literal(c) for c in columns.values())],
            )
        else:
            marks = ", ".join(["%s"] * len(names))
            rows = [(*row, stamp) for row in zip(*columns.values(), strict=True)]
            cursor.executemany(f"{head} VALUES ({marks}) {tail}", rows)


def _array_literal(values: list) -> str:
    """A column as one PostgreSQL array literal ('{1,2,NULL}'): psycopg's element-by-element
    array rendering took ~4 s of a first sweep. Values are numbers, booleans, None and the
    basis names (plain words, no quoting needed)."""

    def text(v) -> str:
        if v is None:
            return "NULL"
        if v is True or v is False:
            return "t" if v else "f"
        return str(v)

    return "{" + ",".join(map(text, values)) + "}"


SQL_TYPES = {
    "task": "bigint",
    "case": "bigint",
    "unit": "bigint",
    "probability": "float8",
    "typical_minutes": "float8",
    "left_minutes": "float8",
    "used_percent": "int",
    "working": "bool",
    "backlog": "bigint",
    "typical_backlog": "float8",
    "basis": "text",
    "samples": "bigint",
}


# --- early warnings --------------------------------------------------------------------------


def _warn_candidates(columns: dict[str, list], now: dt.datetime) -> list[BreachPrediction]:
    level = settings.CITYOPS_BREACH_WARN_PROBABILITY
    before = settings.CITYOPS_SLA_AT_RISK_PERCENT
    probability, used = np.asarray(columns["probability"]), np.asarray(columns["used_percent"])
    chosen = np.flatnonzero((probability >= level) & (used < before))
    return [_prediction(columns, int(i), now) for i in chosen]


def _claim(task_ids: list[int], now: dt.datetime) -> list[int]:
    """Mark the tasks warned that no sweep did (a conditional UPDATE, never FOR UPDATE);
    the ids it marked (one statement for the batch: one per task took ~5 s of a first sweep
    with 6,600 warnings)."""
    table = connection.ops.quote_name(BreachPrediction._meta.db_table)
    marks = ", ".join(["%s"] * len(task_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET warned_at = %s WHERE warned_at IS NULL AND task_id IN ({marks})"
            " RETURNING task_id",
            [connection.ops.adapt_datetimefield_value(now), *task_ids],
        )
        return sorted(row[0] for row in cursor.fetchall())


def _warn(candidates: list[BreachPrediction], now: dt.datetime) -> int:
    """The early warning of each candidate not warned before: event, webhook, notification."""
    if not candidates:
        return 0
    by_task = {p.task_id: p for p in candidates}
    with transaction.atomic():
        claimed = _claim(sorted(by_task), now)  # most were warned long ago
        if not claimed:
            return 0
        tasks = CaseTask.objects.filter(task_id__in=claimed).select_related(
            "case", "case__category", "unit"
        )
        events, notices, heads = [], [], {}
        # The stage names once per batch: get_stage_display() translates every choice on
        # each call (2.5 s of a first sweep's 6,700 notices).
        stages = {value: str(label) for value, label in Stage.choices}
        for task in tasks:
            prediction = by_task[task.task_id]
            reason = breach_reason(
                prediction, unit=task.unit, category=task.case.category, stage=task.stage
            )
            events.append(_event(task, prediction, reason, now))
            if task.unit_id not in heads:
                heads[task.unit_id] = tuple(
                    users_holding(Role.UNIT_HEAD, [task.unit_id]).values_list("pk", flat=True)
                )
            stage = stages.get(task.stage, task.stage)
            notices.append(_notice(task, prediction, reason, heads[task.unit_id], stage))
        events_record_many(events)
        notify_many(notices)
    return len(events)


def _event(task: CaseTask, prediction: BreachPrediction, reason: str, now: dt.datetime):
    return event_new(
        case=task.case,
        task=task,
        action=PREDICTED_BREACH_ACTION,
        stage_from=task.stage,
        stage_to=task.stage,
        unit_id=task.unit_id,
        created_at=now,
        payload={
            "probability": prediction.probability,
            "used_percent": prediction.used_percent,
            "left_minutes": prediction.left_minutes,
            "typical_minutes": prediction.typical_minutes,
            "backlog": prediction.backlog,
            "basis": prediction.basis,
            "samples": prediction.samples,
            "due_at": task.due_at.isoformat() if task.due_at else None,
            "reason": reason,
        },
    )


def _notice(
    task: CaseTask, prediction: BreachPrediction, reason: str, users: tuple, stage: str
) -> Notice:
    title = _("Likely to miss its deadline (%(percent)d %%): %(stage)s of case %(number)s") % {
        "percent": percent(prediction.probability),
        "stage": stage,
        "number": task.case.number,
    }
    due = display.when(task.due_at) if task.due_at else "—"
    body = _("%(reason)s Due %(due)s.") % {"reason": reason, "due": due}
    return Notice(users=users, kind="sla_predicted", title=title, body=body, case=task.case)


# --- the sweep -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepResult:
    scored: int
    warned: int
    removed: int
    seconds: float


def _backlog_of(frame: TaskFrame, counts: dict[tuple[int, int], int]) -> np.ndarray:
    pairs = zip(frame.unit.tolist(), frame.stage.tolist(), strict=True)
    return np.asarray([counts.get(pair, 0) for pair in pairs], dtype=np.int64)


def _remove_ended() -> int:
    """Predictions of tasks that ended, were paused or lost their due time."""
    ended = BreachPrediction.objects.exclude(task__status__in=(TaskStatus.OPEN, TaskStatus.CLAIMED))
    removed = ended.delete()[0]
    stopped = BreachPrediction.objects.filter(task__paused_since__isnull=False)
    return removed + stopped.delete()[0]


def breach_sweep(*, now: dt.datetime | None = None, batch: int = 5000) -> SweepResult:
    """Score every running open task, store the predictions, send the due early warnings."""
    started = time.monotonic()
    now = now or timezone.now()
    model = breach_model_current(now=now)
    counts = open_backlog()
    scored = warned = 0
    for rows in open_task_chunks(batch):
        frame = frame_of(rows)
        result = tasks_score(model, frame, now=now, backlog=_backlog_of(frame, counts))
        columns = _columns(result)
        with transaction.atomic():
            _store(columns, now)
        warned += _warn(_warn_candidates(columns, now), now)
        scored += len(rows)
    removed = _remove_ended()
    return SweepResult(scored, warned, removed, time.monotonic() - started)


def breach_sweep_job() -> None:
    """The periodic job (cityops.periodic): one sweep now."""
    breach_sweep()
