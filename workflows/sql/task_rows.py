"""Task list pages and single tasks as plain rows, one statement each, for the API.

The same lists and pages as `task_list` (tests/workflows/test_task_rows.py compares them),
without model instances: building the eight objects of each row (task, case, category, area,
grid, unit, owner, calendar) and compiling two ORM queries took about 5 of the 8 ms of CPU
of a list request at 1M tasks (bench/api_http.py). The statement is written out by hand:

- the keyset probe and the row fetch are one statement, so one round trip;
- the status is a literal, not a parameter, so a prepared (generic) plan can still use the
  partial indexes;
- the names a task refers to (category, area, grid, unit, owner, calendar version) are scalar
  subqueries, not joins: PostgreSQL took about 3.5 ms to plan the nine-table join on every
  run (it keeps custom plans for it) against 0.3 ms for this form, and runs both in 0.2 ms;
- each column goes through the converters Django gives its model field, so SQLite and
  PostgreSQL give the same Python values as the ORM.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from functools import lru_cache

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Field

from cityops.sql_rows import Converters, converted, field_converters
from departments.models import GridCell, Unit, WorkCalendar
from workflows.access import can_view_task, queue_pairs

from ..models import Case, CaseTask, Category, Stage, TaskStatus
from ..selectors.tasks import DEFAULT_PAGE_SIZE, TaskPage, cursor_decode, keyset_page, page_limit


@dataclass(frozen=True, slots=True)
class CalendarVersion:
    """What the SLA needs of a task's calendar (see departments.selectors.working_calendar)."""

    pk: int
    updated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class TaskRow:
    """A task as the lists show it. Has what `task_sla`, `allowed_outcomes` and
    `can_view_task` read of a task."""

    task_id: int
    stage: str
    role: str
    unit_id: int
    status: str
    outcome: str
    owner_id: int | None
    payload: dict | None  # dispatch tasks only (the suggested unit)
    created_at: dt.datetime
    finished_at: dt.datetime | None
    due_at: dt.datetime | None
    limit_unit: str
    calendar_id: int | None
    paused_since: dt.datetime | None
    paused_minutes: int
    case_id: int
    case_number: str
    case_address: str
    case_source: str
    category_name: str
    area_name: str | None
    grid_code: str | None
    unit_code: str
    owner_username: str | None
    calendar_updated_at: dt.datetime | None

    @property
    def pk(self) -> int:
        return self.task_id

    @property
    def calendar(self) -> CalendarVersion | None:
        if self.calendar_id is None:
            return None
        return CalendarVersion(self.calendar_id, self.calendar_updated_at)


def _field(model, name: str) -> Field:
    return model._meta.get_field(name)


def _quote(name: str) -> str:
    """A column of the task table."""
    return connection.ops.quote_name(_field(CaseTask, name).column)


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _name_of(model, name: str, key: str) -> tuple[str, Field]:
    """The `name` column of the `model` row whose id is `key`, as a scalar subquery."""
    field, pk = _field(model, name), connection.ops.quote_name(model._meta.pk.column)
    column = connection.ops.quote_name(field.column)
    return f"(SELECT r.{column} FROM {_table(model)} r WHERE r.{pk} = {key})", field


@lru_cache(maxsize=1)
def _select() -> tuple[str, Converters]:
    """The select list of a TaskRow (`t` the task, `c` its case), and the converters of the
    columns that have any (datetimes on SQLite, JSON)."""

    def own(name: str) -> tuple[str, Field]:
        return f"t.{_quote(name)}", _field(CaseTask, name)

    def case(name: str) -> str:
        return f"c.{connection.ops.quote_name(_field(Case, name).column)}"

    dispatch_payload = (
        f"CASE WHEN t.{_quote('stage')} = '{Stage.DISPATCH}' THEN t.{_quote('payload')} END",
        _field(CaseTask, "payload"),
    )
    parts = [
        *map(own, ("task", "stage", "role", "unit", "status", "outcome", "owner")),
        dispatch_payload,
        *map(own, ("created_at", "finished_at", "due_at", "limit_unit", "calendar")),
        *map(own, ("paused_since", "paused_minutes", "case")),
        (case("number"), _field(Case, "number")),
        (case("address"), _field(Case, "address")),
        (case("source"), _field(Case, "source")),
        _name_of(Category, "name", case("category")),
        _name_of(Unit, "name", case("area")),
        _name_of(GridCell, "code", case("grid")),
        _name_of(Unit, "code", f"t.{_quote('unit')}"),
        _name_of(get_user_model(), "username", f"t.{_quote('owner')}"),
        _name_of(WorkCalendar, "updated_at", f"t.{_quote('calendar')}"),
    ]
    if len(parts) != len(fields(TaskRow)):
        raise AssertionError("The select list does not match TaskRow.")
    converters = field_converters([field for _sql, field in parts], connection)
    return ", ".join(sql for sql, _field in parts), converters


def _join_case() -> str:
    case_pk = connection.ops.quote_name(Case._meta.pk.column)
    return f"JOIN {_table(Case)} c ON c.{case_pk} = t.{_quote('case')}"


def _after(alias: str, field: str, cursor: str | None, op: str) -> tuple[str, list]:
    if not cursor:
        return "", []
    when, pk = cursor_decode(cursor)
    when = connection.ops.adapt_datetimefield_value(when)
    return f" AND ({alias}.{_quote(field)}, {alias}.{_quote('task')}) {op} (%s, %s)", [when, pk]


def _queue_sql(user, cursor: str | None, limit: int) -> tuple[str, list] | None:
    """Open tasks of every (unit, role) the user holds, oldest first: one ordered index probe
    per pair, merged (an IN list over several units would read and sort them all)."""
    pairs = queue_pairs(user)
    if not pairs:
        return None
    columns, _converters = _select()
    after, after_params = _after("q", "created_at", cursor, ">")
    status, unit, role = _quote("status"), _quote("unit"), _quote("role")
    created, task = _quote("created_at"), _quote("task")
    order = f"ORDER BY {created}, {task} LIMIT {int(limit)}"
    probe = (
        f"SELECT * FROM (SELECT q.{task}, q.{created} FROM {_table(CaseTask)} q "
        f"WHERE q.{status} = '{TaskStatus.OPEN}' AND q.{unit} = %s AND q.{role} = %s{after} "
        f"{order}) p{{n}}"
    )
    arms = [probe.format(n=n) for n in range(len(pairs))]
    params = [value for pair in pairs for value in (*pair, *after_params)]
    sql = (
        f"SELECT {columns} FROM ({' UNION ALL '.join(arms)}) page "
        f"JOIN {_table(CaseTask)} t ON t.{task} = page.{task} {_join_case()} "
        f"ORDER BY page.{created}, page.{task} LIMIT {int(limit)}"
    )
    return sql, params


def _owned_sql(user, status: str, field: str, descending: bool, cursor, limit: int):
    """Tasks of one status owned by the user, by `field` then id (the inbox and done indexes)."""
    columns, _converters = _select()
    after, params = _after("t", field, cursor, "<" if descending else ">")
    way = " DESC" if descending else ""
    sql = (
        f"SELECT {columns} FROM {_table(CaseTask)} t {_join_case()} "
        f"WHERE t.{_quote('status')} = '{status}' AND t.{_quote('owner')} = %s{after} "
        f"ORDER BY t.{_quote(field)}{way}, t.{_quote('task')}{way} LIMIT {int(limit)}"
    )
    return sql, [user.pk, *params]


def _fetch(sql: str, params: list) -> list[TaskRow]:
    _columns, converters = _select()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [TaskRow(*values) for values in converted(rows, converters, connection)]


def task_rows(
    user, scope: str, cursor: str | None = None, limit: int = DEFAULT_PAGE_SIZE
) -> TaskPage:
    """`task_list` as TaskRow objects, in one statement (plus the user's scope for the queue)."""
    limit = page_limit(scope, limit)
    if scope == "queue":
        statement = _queue_sql(user, cursor, limit + 1)
        field = "created_at"
    elif scope == "inbox":
        statement = _owned_sql(user, TaskStatus.CLAIMED, "created_at", False, cursor, limit + 1)
        field = "created_at"
    else:
        statement = _owned_sql(user, TaskStatus.DONE, "finished_at", True, cursor, limit + 1)
        field = "finished_at"
    rows = _fetch(*statement) if statement else []
    return keyset_page(rows, limit, field)


def task_row(task_id: int) -> TaskRow | None:
    """One task as a row (the answer of the task endpoints), in one statement."""
    columns, _converters = _select()
    sql = f"SELECT {columns} FROM {_table(CaseTask)} t {_join_case()} WHERE t.{_quote('task')} = %s"
    rows = _fetch(sql, [task_id])
    return rows[0] if rows else None


def task_row_for_user(user, task_id: int) -> TaskRow | None:
    """`task_for_user` as a row: the task if the user may see it, else None."""
    row = task_row(task_id)
    if row is None or not can_view_task(user, row):
        return None
    return row
