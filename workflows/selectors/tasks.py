"""Task lists (Inbox, Queue, Done) on the indexed read side, with keyset pagination.

Each list reads `workflows_casetask` through a partial composite index and pages by
(time, id) row comparison, so page 200 costs what page 1 costs and nothing counts rows.
`task_list` gives model instances (the pages); `task_rows` gives the same page as plain
rows in one statement (the API, see .task_rows).
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass

from django.db import connection
from django.db.models import F, QuerySet
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan

from cityops.compiled_queries import CompiledGet
from workflows.access import can_view_task, queue_pairs, queue_q, subdispatch_q

from ..models import CaseTask, TaskStatus
from .lookups import MAX_DB_ID

SCOPES = ("inbox", "queue", "done")
DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100


class BadCursor(ValueError):
    """The cursor was not made by us (or the list changed shape)."""


@dataclass(frozen=True)
class TaskPage:
    rows: list  # CaseTask from task_list, TaskRow from task_rows
    next_cursor: str | None


def cursor_encode(when: dt.datetime, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{when.isoformat()}|{pk}".encode()).decode().rstrip("=")


def cursor_decode(cursor: str) -> tuple[dt.datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, pk = raw.split("|")
        parsed = dt.datetime.fromisoformat(when)
        if parsed.tzinfo is None:
            raise ValueError
        parsed.astimezone(dt.UTC)  # the database compares in UTC: year 1 +14:00 overflows
        number = int(pk)
        if not 0 < number <= MAX_DB_ID:  # a forged id would overflow the query parameter
            raise ValueError
        return parsed, number
    except (ValueError, UnicodeDecodeError, OverflowError) as exc:
        raise BadCursor("Invalid cursor.") from exc


def _with_rows(qs: QuerySet) -> QuerySet:
    return qs.select_related(
        "case__category", "case__area", "case__grid", "unit", "owner", "calendar"
    )


def _after(qs: QuerySet, field: str, cursor: str | None, descending: bool = False) -> QuerySet:
    if not cursor:
        return qs
    when, pk = cursor_decode(cursor)
    compare = TupleLessThan if descending else TupleGreaterThan
    return qs.filter(compare(Tuple(F(field), F("task_id")), (when, pk)))


def _queue_ids(user, cursor: str | None, limit: int) -> list[int]:
    """Open tasks of every (unit, role) the user holds, oldest first.

    On PostgreSQL one ordered index probe per pair, combined with UNION ALL: an IN list over
    several units would read and sort every open task of those units instead.
    """
    base = CaseTask.objects.filter(status=TaskStatus.OPEN)
    order = ("created_at", "task_id")
    pairs = queue_pairs(user)
    if not pairs:
        return []
    if len(pairs) == 1 or not connection.features.supports_slicing_ordering_in_compound:
        qs = _after(base.filter(queue_q(user)), "created_at", cursor)
        return list(qs.order_by(*order).values_list("task_id", flat=True)[:limit])
    parts = [
        _after(base.filter(unit_id=unit, role=role), "created_at", cursor)
        .order_by(*order)
        .values_list("created_at", "task_id")[:limit]
        for unit, role in pairs
    ]
    union = parts[0].union(*parts[1:], all=True).order_by("created_at", "task_id")[:limit]
    return [pk for _when, pk in union]


def _page_rows(user, scope: str, cursor: str | None, limit: int) -> tuple[list, str]:
    """Up to `limit` rows of the list, and the column its keyset pages on."""
    if scope == "queue":
        ids = _queue_ids(user, cursor, limit)
        qs = CaseTask.objects.filter(task_id__in=ids).order_by("created_at", "task_id")
        return list(_with_rows(qs)), "created_at"
    if scope == "inbox":
        qs = CaseTask.objects.filter(status=TaskStatus.CLAIMED, owner_id=user.pk)
        qs = _after(qs, "created_at", cursor).order_by("created_at", "task_id")
        return list(_with_rows(qs)[:limit]), "created_at"
    qs = CaseTask.objects.filter(status=TaskStatus.DONE, owner_id=user.pk)
    qs = _after(qs, "finished_at", cursor, descending=True).order_by("-finished_at", "-task_id")
    return list(_with_rows(qs)[:limit]), "finished_at"


def page_limit(scope: str, limit: int) -> int:
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")
    return max(1, min(limit, MAX_PAGE_SIZE))


def keyset_page(rows: list, limit: int, field: str) -> TaskPage:
    """The first `limit` of `limit + 1` rows read, and the cursor after them if there are more."""
    if len(rows) <= limit:
        return TaskPage(rows, None)
    last = rows[limit - 1]
    return TaskPage(rows[:limit], cursor_encode(getattr(last, field), last.pk))


def task_list(
    user, scope: str, cursor: str | None = None, limit: int = DEFAULT_PAGE_SIZE
) -> TaskPage:
    """One page of the user's Inbox (claimed by me), Queue (claimable by me) or Done list."""
    limit = page_limit(scope, limit)
    rows, field = _page_rows(user, scope, cursor, limit + 1)
    return keyset_page(rows, limit, field)


# The task an action (claim, complete, …) starts from: with its case and the case's process,
# whose flow class gives the lock the services take (services.transitions.task_locked); the
# statement is compiled once per thread (cityops.compiled_queries).
_TO_ACT_ON = CompiledGet(lambda pk: CaseTask.objects.select_related("case__process").filter(pk=pk))


def task_to_act_on(user, task_id: int) -> CaseTask | None:
    """The task (with its case and its process) if the user may see it, as `task_for_user`,
    else None."""
    try:
        task = _TO_ACT_ON.get(task_id)
    except CaseTask.DoesNotExist:
        return None
    return task if can_view_task(user, task) else None


def task_for_user(user, task_id: int) -> CaseTask | None:
    """A task the user may see (see workflows.access.can_view_task), or None: missing and
    not-yours look the same."""
    rows = _with_rows(CaseTask.objects.filter(pk=task_id))
    task = rows.select_related("case__city", "case__process").first()
    if task is None or not can_view_task(user, task):
        return None
    return task


# --- Where work is (issue 10, no dead ends): counts on the tabs, the next task, the unit
# head's second-level dispatch queue. Counts stop at COUNT_CAP: they read the same index
# probes as the lists, never a full count.

COUNT_CAP = 100


def queue_count(user, cap: int = COUNT_CAP) -> int:
    """How many tasks wait in the user's queue, up to `cap`."""
    return len(_queue_ids(user, None, cap))


def inbox_count(user, cap: int = COUNT_CAP) -> int:
    """How many tasks the user holds, up to `cap`."""
    qs = CaseTask.objects.filter(status=TaskStatus.CLAIMED, owner_id=user.pk)
    return len(qs.values_list("task_id", flat=True)[:cap])


def next_task(user) -> CaseTask | None:
    """The task the user should work on next: the oldest one in their inbox."""
    qs = CaseTask.objects.filter(status=TaskStatus.CLAIMED, owner_id=user.pk)
    return qs.order_by("created_at", "task_id").first()


def _subdispatch_qs(user) -> QuerySet:
    """Open handling tasks in units the user heads: what second-level dispatch (二级派遣)
    moves on to a sub-unit (workflows.services.tasks.task_subdispatch)."""
    return CaseTask.objects.filter(subdispatch_q(user), status=TaskStatus.OPEN)


def subdispatch_count(user, cap: int = COUNT_CAP) -> int:
    return len(_subdispatch_qs(user).values_list("task_id", flat=True)[:cap])


def subdispatch_list(user, cursor: str | None = None, limit: int = DEFAULT_PAGE_SIZE) -> TaskPage:
    """One page of the unit head's second-level dispatch queue, oldest first."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    qs = _after(_subdispatch_qs(user), "created_at", cursor).order_by("created_at", "task_id")
    return keyset_page(list(_with_rows(qs)[: limit + 1]), limit, "created_at")
