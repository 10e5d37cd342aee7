"""The breach model (预测超期): how likely an open task is to miss its due time, from the time
its unit took for the same kind of task before. Pure numpy, no database: the live sweep
(intelligence.services.breach) and the backtest (intelligence.services.backtest) feed it
arrays.

The rule, in one line: of the past tasks of the same group that were still running after the
time this task has used, the share that took longer than this task's whole allowance
(used + left) is its probability; the unit's backlog stretches the past durations.

* Durations are in the limit's terms: working minutes for working-time limits (on the task's
  calendar), elapsed minutes otherwise; paused time never counts.
* Groups, coarse to fine: (time kind), + stage, + unit, + category. Each finer group's share is
  shrunk towards the coarser one with `PRIOR_WEIGHT` pseudo-tasks, so a group with three past
  tasks says little and one with three hundred decides alone (backoff to coarser groups).
* Backlog: a unit with more open tasks than usual is slower. Past durations are stretched by
  ((open now + 1) / (usual open + 1)) ** BACKLOG_EXPONENT, bounded to [0.5, 2]; "usual" is
  the median number of open tasks of the unit at the stage when its past tasks were created.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LEVELS = ("all", "stage", "unit_stage", "unit_category_stage")
PRIOR = 0.5  # before any history: a coin toss
PRIOR_WEIGHT = 5.0
MIN_SAMPLES = 10  # a group explains a prediction once it has this many past tasks
BACKLOG_EXPONENT = 0.5
BACKLOG_BOUNDS = (0.5, 2.0)
SCALE = 10  # durations are kept as whole tenths of a minute
SPAN = 10**9  # room per group code in the sorted keys (tenths of a minute: ~1,900 years)


@dataclass(frozen=True)
class Groups:
    """The four group codes of each task: int arrays, one per level of LEVELS."""

    codes: tuple[np.ndarray, ...]

    @classmethod
    def of(
        cls, working: np.ndarray, stage: np.ndarray, unit: np.ndarray, category: np.ndarray
    ) -> Groups:
        """Codes from dense small ints (stage, unit and category as indices, not ids)."""
        w = working.astype(np.int64)
        s = w * 64 + stage.astype(np.int64)
        u = s * 100_000 + unit.astype(np.int64)
        c = u * 100_000 + category.astype(np.int64)
        return cls((w, s, u, c))

    def take(self, mask: np.ndarray) -> Groups:
        return Groups(tuple(code[mask] for code in self.codes))


class Level:
    """The past durations of every group of one level, sorted within each group."""

    def __init__(self, codes: np.ndarray, durations: np.ndarray) -> None:
        self.codes = codes
        tenths = np.clip(np.rint(durations * SCALE), 0, SPAN - 1).astype(np.int64)
        self.keys = np.sort(_key(codes, tenths))

    def _bounds(self, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        start = np.searchsorted(self.keys, _key(codes, 0), side="left")
        end = np.searchsorted(self.keys, _key(codes + 1, 0), side="left")
        return start, end

    def total(self, codes: np.ndarray) -> np.ndarray:
        start, end = self._bounds(codes)
        return end - start

    def longer_than(self, codes: np.ndarray, minutes: np.ndarray) -> np.ndarray:
        """How many past durations of each task's group exceed `minutes`."""
        tenths = np.clip(np.floor(minutes * SCALE), 0, SPAN - 1).astype(np.int64)
        _, end = self._bounds(codes)
        return end - np.searchsorted(self.keys, _key(codes, tenths), side="right")

    def median(self, codes: np.ndarray) -> np.ndarray:
        """The median past duration (minutes) of each task's group; NaN for an empty group."""
        start, end = self._bounds(codes)
        n = end - start
        at = np.clip(start + n // 2, 0, max(len(self.keys) - 1, 0))
        values = (self.keys[at] - codes * SPAN) / SCALE if len(self.keys) else np.zeros(len(n))
        return np.where(n > 0, values, np.nan)


def _key(codes: np.ndarray, tenths) -> np.ndarray:
    return codes.astype(np.int64) * SPAN + tenths


@dataclass(frozen=True)
class BreachModel:
    """Past durations per group at each level, and each (unit, stage)'s usual backlog."""

    levels: tuple[Level, ...]
    usual_backlog: dict[int, float]  # backlog key (unit, stage) → median open tasks
    samples: int

    @classmethod
    def fit(
        cls,
        groups: Groups,
        durations: np.ndarray,
        backlog_keys: np.ndarray,
        backlog_at_creation: np.ndarray,
    ) -> BreachModel:
        levels = tuple(Level(code, durations) for code in groups.codes)
        usual: dict[int, float] = {}
        unit_stage = backlog_keys
        if len(unit_stage):
            order = np.argsort(unit_stage, kind="stable")
            codes, starts = np.unique(unit_stage[order], return_index=True)
            for code, part in zip(
                codes, np.split(backlog_at_creation[order], starts[1:]), strict=True
            ):
                usual[int(code)] = float(np.median(part))
        return cls(levels, usual, len(durations))


@dataclass(frozen=True)
class Scores:
    probability: np.ndarray
    basis: np.ndarray  # index into LEVELS of the group that explains it
    samples: np.ndarray  # past tasks in that group
    typical: np.ndarray  # their median duration (minutes), NaN without history
    usual_backlog: np.ndarray


def backlog_stretch(backlog: np.ndarray, usual: np.ndarray) -> np.ndarray:
    low, high = BACKLOG_BOUNDS
    return np.clip(((backlog + 1.0) / (usual + 1.0)) ** BACKLOG_EXPONENT, low, high)


def backlog_key(unit: np.ndarray, stage: np.ndarray) -> np.ndarray:
    """The key of a (unit, stage) queue, whatever the time kind of its tasks."""
    return unit.astype(np.int64) * 64 + stage.astype(np.int64)


def score(
    model: BreachModel,
    groups: Groups,
    backlog_keys: np.ndarray,
    used: np.ndarray,
    left: np.ndarray,
    backlog: np.ndarray,
) -> Scores:
    """The probability per task that its total time exceeds used + left, given it has run
    `used` minutes already (minutes in each task's limit terms)."""
    usual = np.array([model.usual_backlog.get(int(k), np.nan) for k in backlog_keys], dtype=float)
    usual = np.where(np.isnan(usual), backlog, usual)
    stretch = backlog_stretch(backlog.astype(float), usual)
    ran, allowance = used / stretch, (used + np.maximum(left, 0)) / stretch
    p = np.full(len(used), PRIOR)
    basis = np.zeros(len(used), dtype=np.int64)
    samples = np.zeros(len(used), dtype=np.int64)
    typical = np.full(len(used), np.nan)
    for index, (level, codes) in enumerate(zip(model.levels, groups.codes, strict=True)):
        still_running = level.longer_than(codes, ran)
        too_long = level.longer_than(codes, allowance)
        p = (too_long + PRIOR_WEIGHT * p) / (still_running + PRIOR_WEIGHT)
        total = level.total(codes)
        explains = (total >= MIN_SAMPLES) | (index == 0)
        basis = np.where(explains, index, basis)
        samples = np.where(explains, total, samples)
        typical = np.where(explains, level.median(codes), typical)
    return Scores(p, basis, samples, typical, usual)


class BacklogTimeline:
    """Open tasks per key at any instant: created at or before it and not finished by then
    (`finished` NaN: still open). Instants in epoch seconds."""

    def __init__(self, created: np.ndarray, finished: np.ndarray, keys: np.ndarray) -> None:
        done = np.where(np.isnan(finished), np.inf, finished)
        order = np.argsort(keys, kind="stable")
        self.keys, starts = np.unique(keys[order], return_index=True)
        bounds = [*starts[1:], len(order)]
        self.created = [np.sort(created[order[a:b]]) for a, b in zip(starts, bounds, strict=True)]
        self.finished = [np.sort(done[order[a:b]]) for a, b in zip(starts, bounds, strict=True)]

    def at(self, keys: np.ndarray, instants: np.ndarray) -> np.ndarray:
        out = np.zeros(len(keys), dtype=np.int64)
        for key in np.unique(keys):
            where = keys == key
            i = np.searchsorted(self.keys, key)
            if i == len(self.keys) or self.keys[i] != key:
                continue
            t = instants[where]
            opened = np.searchsorted(self.created[i], t, side="right")
            out[where] = opened - np.searchsorted(self.finished[i], t, side="right")
        return out


def backlog_at(
    created: np.ndarray, finished: np.ndarray, keys: np.ndarray, at: np.ndarray, at_keys: np.ndarray
) -> np.ndarray:
    """Open tasks of the same key at each instant `at` (see BacklogTimeline)."""
    if not len(at):
        return np.zeros(0, dtype=np.int64)
    return BacklogTimeline(created, finished, keys).at(at_keys, at)
