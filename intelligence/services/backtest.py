"""The breach backtest: replay the past day by day and compare the breach model's early warning
with the plain "warn at 75 %" rule on what really happened.

For each day of the period, at a fixed local time, the model is fitted on the tasks finished
before that moment only (within `CITYOPS_BREACH_LOOKBACK_DAYS`) and scores every task open then
and not yet due. A task is evaluated when it was open at one replay moment at least and its
outcome is known (finished, or still open past its due time); it breached when it finished
after its due time or is still open past it.

* The model warns a task at the first replay moment its probability reaches the level while
  less than 75 % of its time is used (what the live sweep does, once a day instead of every
  few minutes).
* The plain rule warns a task at the moment 75 % of its time is used, if it is still open then.

Precision = breached among warned, recall = warned among breached, median lead time = due
time minus warning time over the warned tasks that breached; Brier score = mean squared error
of the probability at each (task, replay moment), the plain rule's forecast being 1 from 75 %
on and 0 before. Known simplification: a task's pauses are subtracted as their final total at
every moment (the pause history is not replayed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.utils import timezone

from ..breach_model import BacklogTimeline, BreachModel, backlog_key, score
from ..selectors import Clocks, TaskFrame, clocks_for, frame_read, replay_task_rows

DONE, CANCELLED = 1, 2


@dataclass(frozen=True)
class RuleFigures:
    warned: int
    true_positives: int
    precision: float | None
    recall: float | None
    brier: float | None
    median_lead_hours: float | None


@dataclass(frozen=True)
class BacktestResult:
    start: dt.datetime
    end: dt.datetime
    moments: int
    evaluated: int
    breached: int
    level: float
    model: RuleFigures
    plain: RuleFigures
    seconds_per_moment: float = 0.0
    notes: list[str] = field(default_factory=list)


def replay_moments(start: dt.datetime, end: dt.datetime, at: dt.time) -> list[dt.datetime]:
    """One moment per local day of [start, end), at the local time `at`."""
    tz = timezone.get_current_timezone()
    day, last = timezone.localtime(start).date(), timezone.localtime(end).date()
    out = []
    while day <= last:
        moment = dt.datetime.combine(day, at, tzinfo=tz)
        if start <= moment < end:
            out.append(moment)
        day += dt.timedelta(days=1)
    return out


class Replay:
    """Everything computed once for the whole period (durations, clocks, backlog timeline)."""

    def __init__(self, frame: TaskFrame, clocks: Clocks, now: dt.datetime) -> None:
        self.f, self.clocks, self.now = frame, clocks, now.timestamp()
        done = frame.status == DONE
        ended = np.where(np.isnan(frame.finished), frame.created, frame.finished)
        self.durations = np.maximum(clocks.between(frame, frame.created, ended) - frame.paused, 0.0)
        self.keys = backlog_key(frame.unit, frame.stage)
        self.groups = frame.groups()
        self.timeline = BacklogTimeline(frame.created, frame.finished, self.keys)
        self.at_creation = self.timeline.at(self.keys, frame.created)
        late_done = done & (frame.finished > frame.due)
        late_open = (frame.status == 0) & (frame.due < self.now)
        self.breached = late_done | late_open
        self.known = done | late_open  # cancelled tasks and those not due yet: no outcome
        self.done = done
        self.t75 = self._moment_of_share(settings.CITYOPS_SLA_AT_RISK_PERCENT / 100)

    def _moment_of_share(self, share: float) -> np.ndarray:
        """When `share` of each task's allotted time is used (workflows.sla.thresholds)."""
        f = self.f
        natural = f.created + (f.due - f.created - f.paused * 60) * share + f.paused * 60
        out = natural.copy()
        for calendar_id in np.unique(f.calendar[f.working]):
            mine = f.working & (f.calendar == calendar_id)
            clock = self.clocks.get(int(calendar_id))
            allotted = clock.between(f.created[mine], f.due[mine]) - f.paused[mine]
            minutes = np.rint(allotted * share + f.paused[mine])
            out[mine] = clock.instant_at(clock.minutes_at(f.created[mine]) + minutes)
        return out

    def fitted(self, t: float, lookback: float) -> BreachModel:
        f = self.f
        past = self.done & (f.finished < t) & (f.finished >= t - lookback)
        return BreachModel.fit(
            self.groups.take(past), self.durations[past], self.keys[past], self.at_creation[past]
        )

    def open_at(self, t: float) -> np.ndarray:
        f = self.f
        running = (f.created <= t) & (np.isnan(f.finished) | (f.finished > t)) & (f.due > t)
        return np.flatnonzero(running & (f.status != CANCELLED))

    def scores_at(self, model: BreachModel, idx: np.ndarray, t: float):
        f = self.f.take(idx)
        at = np.full(len(idx), t)
        used = np.maximum(self.clocks.between(f, f.created, at) - f.paused, 0.0)
        left = self.clocks.between(f, at, f.due)
        backlog = self.timeline.at(self.keys[idx], at)
        result = score(model, self.groups.take(idx), self.keys[idx], used, left, backlog)
        allotted = used + left
        share = np.where(allotted > 0, used / np.where(allotted > 0, allotted, 1), 1.0)
        return result.probability, share


def _figures(warned_at: np.ndarray, forecasts, breached, due) -> RuleFigures:
    warned = ~np.isnan(warned_at)
    tp = warned & breached
    n_warned, n_tp, n_breached = int(warned.sum()), int(tp.sum()), int(breached.sum())
    leads = (due[tp] - warned_at[tp]) / 3600.0
    p, y = forecasts
    return RuleFigures(
        warned=n_warned,
        true_positives=n_tp,
        precision=n_tp / n_warned if n_warned else None,
        recall=n_tp / n_breached if n_breached else None,
        brier=float(np.mean((p - y) ** 2)) if len(p) else None,
        median_lead_hours=float(np.median(leads)) if len(leads) else None,
    )


def breach_backtest(
    *,
    start: dt.datetime,
    end: dt.datetime,
    at: dt.time = dt.time(10, 0),
    now: dt.datetime | None = None,
    level: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BacktestResult:
    """Replay [start, end) once a day at local time `at` (see the module docstring)."""
    now = now or timezone.now()
    level = settings.CITYOPS_BREACH_WARN_PROBABILITY if level is None else level
    lookback = dt.timedelta(days=settings.CITYOPS_BREACH_LOOKBACK_DAYS)
    frame = frame_read(replay_task_rows(start - lookback, end))
    replay = Replay(frame, clocks_for(frame, until=max(now, end)), now)
    moments = replay_moments(start, end, at)
    n = len(frame)
    seen = np.zeros(n, dtype=bool)
    warned_at = np.full(n, np.nan)
    model_p, plain_p, outcome = [], [], []
    started = timezone.now()
    for number, moment in enumerate(moments, 1):
        t = moment.timestamp()
        idx = replay.open_at(t)
        idx = idx[replay.known[idx]]
        if len(idx):
            p, share = replay.scores_at(replay.fitted(t, lookback.total_seconds()), idx, t)
            seen[idx] = True
            early = (p >= level) & (share < settings.CITYOPS_SLA_AT_RISK_PERCENT / 100)
            first = idx[early & np.isnan(warned_at[idx])]
            warned_at[first] = t
            model_p.append(p)
            plain_p.append((share >= settings.CITYOPS_SLA_AT_RISK_PERCENT / 100).astype(float))
            outcome.append(replay.breached[idx].astype(float))
        if progress:
            progress(number, len(moments))
    elapsed = (timezone.now() - started).total_seconds()
    y = np.concatenate(outcome) if outcome else np.zeros(0)
    breached, due = replay.breached[seen], frame.due[seen]
    f = frame
    still_open_at_75 = np.isnan(f.finished) | (f.finished > replay.t75)
    plain_at = np.where(still_open_at_75, replay.t75, np.nan)[seen]
    model_p = np.concatenate(model_p) if model_p else np.zeros(0)
    plain_p = np.concatenate(plain_p) if plain_p else np.zeros(0)
    return BacktestResult(
        start=start,
        end=end,
        moments=len(moments),
        evaluated=int(seen.sum()),
        breached=int(breached.sum()),
        level=level,
        model=_figures(warned_at[seen], (model_p, y), breached, due),
        plain=_figures(plain_at, (plain_p, y), breached, due),
        seconds_per_moment=elapsed / len(moments) if moments else 0.0,
    )
