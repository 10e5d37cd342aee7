"""Supervision reads: the SLA board (counts per responsible unit), its drill-down, the breach
list, and supervision orders (督办) as their viewer may see them.

Who sees what (the board rules, in workflows.access): a supervisor or admin sees the cases of
the cities, areas and units they oversee; a unit head sees the cases their units are
responsible for, and the tasks their units hold (`case_oversight_q`, `task_oversight_q`,
`order_visibility_q`). Anyone else has no board (`can_see_board` is False) and the interfaces
answer 404.

A case's board state is the SLA state (`workflows.sla.state.task_sla`) of its open handling
task: the board measures the responsible units, so an overdue intake or check task is not
their breach (it is on the breach list, under the unit holding it). Overdue and paused are
exact SQL counts on the partial index `casetask_due`; at risk (≥ 75 % of the allotted time
used, in working time for working-time limits) needs the calendar, so the few open handling
tasks due within `AT_RISK_HORIZON` are read and classified with `task_sla` itself.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Exists, F, Min, OuterRef, Q, QuerySet
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan
from django.utils import timezone

from departments.calendars import add_working_time
from departments.models import Unit
from departments.selectors import unit_descendant_ids

from ..access import (
    case_oversight_q,
    order_addressee_q,
    order_visibility_q,
    task_oversight_q,
)
from ..models import (
    Case,
    CaseStatus,
    CaseTask,
    OrderStatus,
    Stage,
    SupervisionOrder,
    TaskStatus,
)
from ..sla.deadlines import case_calendar
from ..sla.state import NONE, SlaSnapshot, task_sla
from .tasks import BadCursor, cursor_decode, cursor_encode

__all__ = [
    "BOARD_STATES",
    "BadCursor",
    "BoardCaseRow",
    "BoardCases",
    "BreachPage",
    "OrderPage",
    "UnitRow",
    "board_case_list",
    "board_counts",
    "breaches",
    "case_orders",
    "order_default_reply_due",
    "order_for_user",
    "order_is_late",
    "order_page",
]

BOARD_STATES = ("at_risk", "overdue", "paused", "supervised")
OPEN = (TaskStatus.OPEN, TaskStatus.CLAIMED)
# A task is at risk only in the last quarter of its allotted time. The longest limit in the
# category list is 15 working days: its last quarter (< 4 working days) spans about two
# weeks of natural time at most, even across the Spring Festival or National Day holidays.
# Handling tasks due further out than this are counted on track without being classified.
AT_RISK_HORIZON = dt.timedelta(days=30)
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
MAX_DRILL_DOWN = 200


# --- the board --------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitRow:
    """Open cases of one responsible unit, and how many of them are in each state."""

    unit: Unit
    open: int = 0
    at_risk: int = 0
    overdue: int = 0
    paused: int = 0
    supervised: int = 0


def _board_q(
    user,
    prefix: str = "",
    *,
    category_id: int | None = None,
    area_id: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> Q:
    """Open, dispatched cases on the user's board matching the filters: the case's area or
    any area below `area_id`; reported at or after `since` and before `until`."""
    q = case_oversight_q(user, prefix) & Q(**{f"{prefix}status": CaseStatus.OPEN})
    q &= Q(**{f"{prefix}responsible_unit__isnull": False})
    if category_id:
        q &= Q(**{f"{prefix}category_id": category_id})
    if area_id:
        q &= Q(**{f"{prefix}area_id__in": sorted(unit_descendant_ids([area_id]))})
    if since:
        q &= Q(**{f"{prefix}created_at__gte": since})
    if until:
        q &= Q(**{f"{prefix}created_at__lt": until})
    return q


def _handling(user, filters: dict) -> QuerySet[CaseTask]:
    """Open handling tasks of the cases on the board."""
    return CaseTask.objects.filter(
        _board_q(user, "case__", **filters), status__in=OPEN, stage=Stage.HANDLING
    )


def _overdue(tasks: QuerySet[CaseTask], now: dt.datetime) -> QuerySet[CaseTask]:
    # task_sla: a paused task is "paused" whatever its due time.
    return tasks.filter(due_at__lte=now, paused_since__isnull=True)


def _paused(tasks: QuerySet[CaseTask]) -> QuerySet[CaseTask]:
    return tasks.filter(paused_since__isnull=False)


def _at_risk(tasks: QuerySet[CaseTask], now: dt.datetime) -> list[CaseTask]:
    """Running tasks not yet due that have used ≥ 75 %, classified exactly by `task_sla`
    (working time needs the calendar); only those due within the horizon are read."""
    candidates = (
        tasks.filter(due_at__gt=now, due_at__lte=now + AT_RISK_HORIZON, paused_since__isnull=True)
        .select_related("calendar")
        .annotate(responsible_unit_id=F("case__responsible_unit_id"))
        .order_by("due_at", "task_id")
    )
    return [task for task in candidates if task_sla(task, now).state == "at_risk"]


def _count_by_unit(tasks: QuerySet[CaseTask]) -> dict[int, int]:
    """Distinct cases per responsible unit (one aggregate query)."""
    rows = (
        tasks.order_by()
        .values("case__responsible_unit_id")
        .annotate(n=Count("case_id", distinct=True))
        .values_list("case__responsible_unit_id", "n")
    )
    return dict(rows)


def _supervised(cases: QuerySet[Case]) -> QuerySet[Case]:
    open_order = SupervisionOrder.objects.filter(case=OuterRef("pk"), status=OrderStatus.OPEN)
    return cases.filter(Exists(open_order))


def _cases_by_unit(cases: QuerySet[Case]) -> dict[int, int]:
    rows = cases.order_by().values("responsible_unit_id").annotate(n=Count("id"))
    return {row["responsible_unit_id"]: row["n"] for row in rows}


def board_counts(
    user,
    *,
    category_id: int | None = None,
    area_id: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> list[UnitRow]:
    """Per responsible unit with open cases on the user's board: open cases, and those at
    risk, overdue, paused, and with an open supervision order; worst first."""
    now = now or timezone.now()
    filters = {"category_id": category_id, "area_id": area_id, "since": since, "until": until}
    cases = Case.objects.filter(_board_q(user, **filters))
    handling = _handling(user, filters)
    at_risk: dict[int, set[int]] = defaultdict(set)
    for task in _at_risk(handling.defer("payload"), now):  # task_sla never reads payload
        at_risk[task.responsible_unit_id].add(task.case_id)
    counts = {
        "open": _cases_by_unit(cases),
        "overdue": _count_by_unit(_overdue(handling, now)),
        "paused": _count_by_unit(_paused(handling)),
        "supervised": _cases_by_unit(_supervised(cases)),
        "at_risk": {unit: len(ids) for unit, ids in at_risk.items()},
    }
    units = Unit.objects.in_bulk(list(counts["open"]))
    rows = [
        UnitRow(unit, **{name: per_unit.get(unit.pk, 0) for name, per_unit in counts.items()})
        for unit in units.values()
    ]
    return sorted(rows, key=lambda r: (-r.overdue, -r.at_risk, -r.supervised, r.unit.code))


def board_totals(rows: Iterable[UnitRow]) -> dict[str, int]:
    """The sum of each count over the rows."""
    names = ("open", "at_risk", "overdue", "paused", "supervised")
    rows = list(rows)
    return {name: sum(getattr(row, name) for row in rows) for name in names}


# --- the drill-down ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BoardCaseRow:
    case: Case
    task: CaseTask | None  # its open handling task (for a supervised case: any open task)
    sla: SlaSnapshot
    open_orders: int


@dataclass(frozen=True)
class BoardCases:
    rows: list[BoardCaseRow]
    truncated: bool  # more cases than MAX_DRILL_DOWN are in this state


def _open_orders(case_ids: Iterable[int]) -> dict[int, int]:
    rows = (
        SupervisionOrder.objects.filter(case_id__in=set(case_ids), status=OrderStatus.OPEN)
        .order_by()
        .values("case_id")
        .annotate(n=Count("id"))
    )
    return {row["case_id"]: row["n"] for row in rows}


def _with_case(tasks: QuerySet[CaseTask]) -> QuerySet[CaseTask]:
    return tasks.select_related("case__category", "case__area", "unit", "owner", "calendar")


def _state_tasks(state: str, handling: QuerySet[CaseTask], now: dt.datetime) -> list[CaseTask]:
    """Open handling tasks in the state, soonest due first, at most one per case."""
    if state == "at_risk":
        found = _at_risk(_with_case(handling), now)
    else:
        chosen = _overdue(handling, now) if state == "overdue" else _paused(handling)
        found = list(_with_case(chosen).order_by("due_at", "task_id")[: MAX_DRILL_DOWN * 2])
    first: dict[int, CaseTask] = {}
    for task in found:
        first.setdefault(task.case_id, task)
    return list(first.values())


def _supervised_rows(cases: QuerySet[Case]) -> list[tuple[Case, CaseTask | None]]:
    """Cases with an open order, the one whose reply is due soonest first, each with its
    latest open task."""
    soonest = Min(
        "supervision_orders__reply_due_at", filter=Q(supervision_orders__status=OrderStatus.OPEN)
    )
    found = list(
        _supervised(cases)
        .select_related("category", "area")
        .annotate(reply_due=soonest)
        .order_by("reply_due", "id")[: MAX_DRILL_DOWN + 1]
    )
    tasks: dict[int, CaseTask] = {}
    open_tasks = _with_case(CaseTask.objects.filter(case__in=found, status__in=OPEN))
    for task in open_tasks.order_by("created_at", "task_id"):
        tasks[task.case_id] = task  # the latest wins
    return [(case, tasks.get(case.pk)) for case in found]


def board_case_list(
    user,
    *,
    unit_id: int,
    state: str,
    category_id: int | None = None,
    area_id: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> BoardCases:
    """The open cases of one responsible unit behind a board count (same filters), at most
    MAX_DRILL_DOWN; `state` is one of BOARD_STATES."""
    if state not in BOARD_STATES:
        raise ValueError(f"unknown state {state!r}")
    now = now or timezone.now()
    filters = {"category_id": category_id, "area_id": area_id, "since": since, "until": until}
    cases = Case.objects.filter(_board_q(user, **filters), responsible_unit_id=unit_id)
    if state == "supervised":
        pairs = _supervised_rows(cases)
    else:
        handling = _handling(user, filters).filter(case__responsible_unit_id=unit_id)
        pairs = [(task.case, task) for task in _state_tasks(state, handling, now)]
    truncated = len(pairs) > MAX_DRILL_DOWN
    pairs = pairs[:MAX_DRILL_DOWN]
    orders = _open_orders(case.pk for case, _task in pairs)
    rows = [
        BoardCaseRow(
            case=case,
            task=task,
            sla=task_sla(task, now) if task else NONE,
            open_orders=orders.get(case.pk, 0),
        )
        for case, task in pairs
    ]
    return BoardCases(rows, truncated)


# --- breaches ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BreachPage:
    rows: list[CaseTask]  # each with `open_orders`: open supervision orders of its case
    next_cursor: str | None


def breaches(
    user,
    *,
    unit_id: int | None = None,
    category_id: int | None = None,
    area_id: int | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
    now: dt.datetime | None = None,
) -> BreachPage:
    """Open tasks past their due time (any stage, not paused) the user may see, the most
    overdue first, keyset-paged on (due_at, task) over the index `casetask_due`. `unit_id`
    means the unit holding the task or any unit below it. Raises BadCursor."""
    now = now or timezone.now()
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    qs = CaseTask.objects.filter(status__in=OPEN, due_at__lte=now, paused_since__isnull=True)
    qs = qs.filter(task_oversight_q(user))
    if unit_id:
        qs = qs.filter(unit_id__in=sorted(unit_descendant_ids([unit_id])))
    if category_id:
        qs = qs.filter(case__category_id=category_id)
    if area_id:
        qs = qs.filter(case__area_id__in=sorted(unit_descendant_ids([area_id])))
    if cursor:
        when, pk = cursor_decode(cursor)
        qs = qs.filter(TupleGreaterThan(Tuple(F("due_at"), F("task_id")), (when, pk)))
    rows = list(_with_case(qs).order_by("due_at", "task_id")[: limit + 1])
    orders = _open_orders(task.case_id for task in rows)
    for task in rows:
        task.open_orders = orders.get(task.case_id, 0)
    if len(rows) <= limit:
        return BreachPage(rows, None)
    last = rows[limit - 1]
    return BreachPage(rows[:limit], cursor_encode(last.due_at, last.pk))


# --- supervision orders -----------------------------------------------------------------------


def order_is_late(order: SupervisionOrder, now: dt.datetime | None = None) -> bool:
    """Still awaiting a reply after its reply due time, or replied after it."""
    if order.status == OrderStatus.OPEN:
        return order.reply_due_at < (now or timezone.now())
    return order.replied_at is not None and order.replied_at > order.reply_due_at


def order_default_reply_due(case: Case, now: dt.datetime | None = None) -> dt.datetime:
    """The reply due time offered for a new order: the one the sweep gives on a breach
    (CITYOPS_SUPERVISION_REPLY, on the working calendar of the case's area)."""
    value, unit = settings.CITYOPS_SUPERVISION_REPLY
    _record, calendar = case_calendar(case)
    return add_working_time(calendar, now or timezone.now(), int(value), unit)


def _orders() -> QuerySet[SupervisionOrder]:
    return SupervisionOrder.objects.select_related(
        "case", "unit", "issued_by", "replied_by", "task"
    )


def case_orders(case: Case) -> list[SupervisionOrder]:
    """Every order of the case, open ones first, newest first."""
    return sorted(_orders().filter(case=case), key=lambda o: o.status != OrderStatus.OPEN)


def order_for_user(user, order_id: int) -> SupervisionOrder | None:
    """The order if it is on the user's supervision list, else None (404)."""
    return _orders().filter(order_visibility_q(user), pk=order_id).first()


@dataclass(frozen=True)
class OrderPage:
    rows: list[SupervisionOrder]
    next_cursor: str | None


def _order_cursor(cursor: str | None) -> tuple[str, dt.datetime | None, int | None]:
    """("open"|"replied", time, id) from "o.<cursor>" / "r.<cursor>"."""
    if not cursor:
        return OrderStatus.OPEN, None, None
    bucket, _dot, rest = cursor.partition(".")
    if bucket not in ("o", "r") or not rest:
        raise BadCursor("Invalid cursor.")
    when, pk = cursor_decode(rest)
    return (OrderStatus.OPEN if bucket == "o" else OrderStatus.REPLIED), when, pk


def order_page(user, *, cursor: str | None = None, limit: int = DEFAULT_PAGE_SIZE) -> OrderPage:
    """The user's supervision list: orders awaiting a reply first (reply due soonest first),
    then replied ones (latest reply first); keyset-paged. Raises BadCursor."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    bucket, when, pk = _order_cursor(cursor)
    mine = _orders().filter(order_visibility_q(user))
    rows: list[SupervisionOrder] = []
    if bucket == OrderStatus.OPEN:
        awaiting = mine.filter(status=OrderStatus.OPEN)
        if when is not None:
            awaiting = awaiting.filter(
                TupleGreaterThan(Tuple(F("reply_due_at"), F("id")), (when, pk))
            )
        rows = list(awaiting.order_by("reply_due_at", "id")[: limit + 1])
        when = None
    if len(rows) <= limit:
        replied = mine.filter(status=OrderStatus.REPLIED)
        if when is not None:
            replied = replied.filter(TupleLessThan(Tuple(F("replied_at"), F("id")), (when, pk)))
        rows += list(replied.order_by("-replied_at", "-id")[: limit + 1 - len(rows)])
    if len(rows) <= limit:
        return OrderPage(rows, None)
    last = rows[limit - 1]
    if last.status == OrderStatus.OPEN:
        return OrderPage(rows[:limit], "o." + cursor_encode(last.reply_due_at, last.pk))
    return OrderPage(rows[:limit], "r." + cursor_encode(last.replied_at, last.pk))


def open_orders_addressed(user, cap: int = 100) -> int:
    """How many supervision orders addressed to the user await a reply (the menu's count)."""
    if not getattr(user, "is_authenticated", False):
        return 0
    mine = SupervisionOrder.objects.filter(order_addressee_q(user), status=OrderStatus.OPEN)
    return len(mine.values_list("pk", flat=True)[:cap])
