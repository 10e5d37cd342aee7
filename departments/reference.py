"""Slow-changing reference data held in each process for the per-transition hot path.

Units, calendars and escalation rules change a few times a year but are read on every task a
case opens. Each process keeps one `Snapshot` of them, labelled with the generation it was
read at. Writers give the generation a new random value inside their own transaction
(`reference_changed`, called from the models' save and delete signals and after bulk
writes), and a reader that finds another value reads the data again. The generation is one
row (`ReferenceGeneration`), read in the same transaction as the data it guards, so a
snapshot is never older than the transaction using it.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connection

T = TypeVar("T")
GENERATION_SQL = "SELECT value FROM departments_referencegeneration WHERE id = 1"
_MISSING = object()


class Snapshot:
    """Reference data as of one generation; each part is read on first use."""

    def __init__(self, generation: int | None) -> None:
        self.generation = generation
        self._parts: dict[str, Any] = {}
        self._lock = threading.Lock()

    def part(self, name: str, build: Callable[[], T]) -> T:
        try:
            return self._parts[name]
        except KeyError:
            value = build()
            with self._lock:
                return self._parts.setdefault(name, value)

    @property
    def units(self) -> UnitTree:
        return self.part("units", UnitTree.read)


_current: Snapshot | None = None


def reference_generation() -> int | None:
    """The current generation (None where the row is missing, e.g. a flushed test database)."""
    with connection.cursor() as cursor:
        cursor.execute(GENERATION_SQL)
        row = cursor.fetchone()
    return row[0] if row else None


def reference_snapshot(generation: Any = _MISSING) -> Snapshot:
    """This process's snapshot, read again if the generation moved. Pass `generation` when
    it was already read in this transaction (e.g. as a column of a locked fetch)."""
    global _current
    if generation is _MISSING:
        generation = reference_generation()
    if generation is None:
        return Snapshot(None)  # not tracked: read fresh, keep nothing
    snapshot = _current
    if snapshot is None or snapshot.generation != generation:
        snapshot = _current = Snapshot(generation)
    return snapshot


def reference_changed(**_signal_kwargs) -> None:
    """Give the generation a new value in the current transaction (and drop this process's
    copy at once). A random value, not a counter: a test database flushed and refilled must
    not come back to a value an old snapshot carries."""
    global _current
    from .models import ReferenceGeneration

    value = secrets.randbits(62)
    if not ReferenceGeneration.objects.filter(pk=1).update(value=value):
        ReferenceGeneration.objects.update_or_create(pk=1, defaults={"value": value})
    _current = None


@dataclass(frozen=True)
class UnitTree:
    """The unit tree as plain ids: parents, kinds, and each city's command centres."""

    parent_of: dict[int, int | None]
    kind_of: dict[int, str]
    scheme_of: dict[int, int | None]  # the category scheme a city uses
    ordered: tuple[int, ...]  # every unit id, in the units' own order (by code)
    children_of: dict[int | None, tuple[int, ...]]
    by_code: dict[str, int]

    @classmethod
    def read(cls) -> UnitTree:
        from .models import Unit

        rows = list(
            Unit.objects.values_list("id", "parent_id", "kind", "category_scheme_id", "code")
        )
        children: dict[int | None, list[int]] = {}
        for pk, parent, *_ in rows:
            children.setdefault(parent, []).append(pk)
        return cls(
            by_code={row[4]: row[0] for row in rows},
            children_of={parent: tuple(pks) for parent, pks in children.items()},
            parent_of={row[0]: row[1] for row in rows},
            kind_of={row[0]: row[2] for row in rows},
            scheme_of={row[0]: row[3] for row in rows},
            ordered=tuple(row[0] for row in rows),
        )

    def ancestor_ids(self, unit_id: int | None) -> list[int]:
        """The unit and its ancestors, nearest first."""
        chain: list[int] = []
        while unit_id is not None and unit_id not in chain and unit_id in self.parent_of:
            chain.append(unit_id)
            unit_id = self.parent_of[unit_id]
        return chain

    def descendant_ids(self, unit_ids: Iterable[int]) -> set[int]:
        """The given units and every unit below them."""
        found: set[int] = set()
        stack = list(unit_ids)
        while stack:
            unit_id = stack.pop()
            if unit_id not in found:
                found.add(unit_id)
                stack.extend(self.children_of.get(unit_id, ()))
        return found

    def city_id(self, unit_id: int) -> int:
        """The city a unit belongs to (the root of its tree)."""
        return self.ancestor_ids(unit_id)[-1]

    def centre_ids(self, city_id: int) -> list[int]:
        from .models import UnitKind

        return [
            pk
            for pk in self.ordered
            if self.parent_of[pk] == city_id and self.kind_of[pk] == UnitKind.CENTRE
        ]
