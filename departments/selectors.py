"""Reads of the organisation: unit tree walks, grid lookups, working calendars."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.conf import settings

from .calendars import WorkingCalendar
from .models import CalendarDay, DayKind, GridCell, Unit, WorkCalendar
from .reference import Snapshot, reference_snapshot


def unit_descendant_ids(unit_ids: Iterable[int]) -> set[int]:
    """The given units and every unit below them (one query over the small unit table)."""
    wanted = set(unit_ids)
    if not wanted:
        return set()
    children: dict[int, list[int]] = {}
    for uid, parent_id in Unit.objects.values_list("id", "parent_id"):
        children.setdefault(parent_id, []).append(uid)
    result, stack = set(), list(wanted)
    while stack:
        uid = stack.pop()
        if uid in result:
            continue
        result.add(uid)
        stack.extend(children.get(uid, ()))
    return result


def unit_ancestors(unit: Unit) -> list[Unit]:
    """The unit and its ancestors, nearest first (one query for trees up to five levels)."""
    if unit.parent_id is not None and not Unit.parent.is_cached(unit):
        unit = Unit.objects.select_related("parent__parent__parent__parent").get(pk=unit.pk)
    chain, seen = [], set()
    current: Unit | None = unit
    while current is not None and current.pk not in seen:
        chain.append(current)
        seen.add(current.pk)
        current = current.parent
    return chain


def _point_in_ring(lat: float, lng: float, ring: list[list[float]]) -> bool:
    inside = False
    n = len(ring)
    for i in range(n):
        x1, y1 = float(ring[i][0]), float(ring[i][1])
        x2, y2 = float(ring[(i + 1) % n][0]), float(ring[(i + 1) % n][1])
        if (y1 > lat) != (y2 > lat) and lng < (x2 - x1) * (lat - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


def grid_cell_at(lat: float, lng: float) -> GridCell | None:
    """The grid cell whose polygon contains the point (bounding box by index, then ray cast)."""
    candidates = GridCell.objects.filter(
        min_lat__lte=lat, max_lat__gte=lat, min_lng__lte=lng, max_lng__gte=lng
    ).select_related("area")
    for cell in candidates:
        if _point_in_ring(lat, lng, cell.polygon or []):
            return cell
    return None


def calendar_record_for_unit(
    unit: Unit | int | None, snapshot: Snapshot | None = None
) -> WorkCalendar | None:
    """The calendar of the nearest area up the tree that has one (district overrides city)."""
    snapshot = snapshot or reference_snapshot()
    records = snapshot.part("calendars", _calendar_records)
    unit_id = unit.pk if isinstance(unit, Unit) else unit
    for uid in snapshot.units.ancestor_ids(unit_id):
        if uid in records:
            return records[uid]
    return None


def calendar_record(calendar_id: int | None, snapshot: Snapshot) -> WorkCalendar | None:
    """A calendar record by id, from the snapshot."""
    records = snapshot.part("calendars", _calendar_records).values()
    return next((c for c in records if c.pk == calendar_id), None)


def _calendar_records() -> dict[int, WorkCalendar]:
    return {c.unit_id: c for c in WorkCalendar.objects.all()}


def working_calendar(record: WorkCalendar) -> WorkingCalendar:
    """The pure calendar for a calendar record, cached until the record changes."""
    return _build_calendar(record.pk, record.updated_at.isoformat())


@lru_cache(maxsize=64)
def _build_calendar(calendar_id: int, version: str) -> WorkingCalendar:
    weekly: list[list[tuple]] = [[] for _ in range(7)]
    for p in WorkCalendar.objects.get(pk=calendar_id).periods.order_by("weekday", "start"):
        weekly[p.weekday].append((p.start, p.end))
    days = CalendarDay.objects.filter(calendar_id=calendar_id).values_list("date", "kind")
    holidays = frozenset(d for d, k in days if k == DayKind.HOLIDAY)
    makeup = frozenset(d for d, k in days if k == DayKind.WORKDAY)
    return WorkingCalendar(
        tz=ZoneInfo(settings.TIME_ZONE),
        weekly=tuple(tuple(day) for day in weekly),
        holidays=holidays,
        makeup_days=makeup,
        makeup_periods=tuple(weekly[0]) or None,
    )


def working_calendar_for_unit(unit: Unit) -> WorkingCalendar | None:
    record = calendar_record_for_unit(unit)
    return working_calendar(record) if record else None


def grid_cells(area: Unit | None = None):
    """Grid cells with their area loaded, by code; under `area` (at any level) when given."""
    cells = GridCell.objects.select_related("area").order_by("code")
    if area is not None:
        cells = cells.filter(area_id__in=unit_descendant_ids([area.pk]))
    return cells


def unit_tree(*, active_only: bool = True) -> list[tuple[Unit, int]]:
    """Every unit with its depth, parents before children, siblings by code (one query)."""
    units = Unit.objects.select_related("parent").order_by("code")
    if active_only:
        units = units.filter(is_active=True)
    children: dict[int | None, list[Unit]] = {}
    for unit in units:
        children.setdefault(unit.parent_id, []).append(unit)
    known = {unit.pk for siblings in children.values() for unit in siblings}
    # Roots: no parent, or a parent left out (inactive); each listed once.
    roots = [u for parent, siblings in children.items() if parent not in known for u in siblings]
    ordered: list[tuple[Unit, int]] = []
    stack = [(unit, 0) for unit in sorted(roots, key=lambda u: u.code, reverse=True)]
    while stack:
        unit, depth = stack.pop()
        ordered.append((unit, depth))
        stack.extend((child, depth + 1) for child in reversed(children.get(unit.pk, [])))
    return ordered
