"""What the flow nodes ask of viewflow's task table on every arrival, one statement each,
written once per (task model, database).

A branch arriving at a join asked viewflow's ORM twice: for the running join instance (a list)
and whether a task of the branches still runs (an exists()); the end of a flow asked whether
any other task of the process still runs, then saved the process (here one conditional
UPDATE). Each ORM query was compiled on every run, about half a millisecond of CPU against a
tenth for the same statement written once (bench/lifecycle.py --hotline). Used by
workflows.flows.nodes (BranchJoin, Finish).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from django.db import connections, router
from viewflow.workflow.status import STATUS

from cityops.sql_rows import converted, field_converters

RUNNING = (STATUS.NEW, STATUS.STARTED)
ENDED = (STATUS.DONE, STATUS.CANCELED, STATUS.REVIVED)


@dataclass(frozen=True)
class JoinArrival:
    """The running instance of the join (id, status, started), None when there is none yet,
    whether a task of the arriving branch's split still runs, and whether the arriving task
    was linked to the join by the same statement."""

    join: tuple[int, str, datetime | None] | None
    branches_running: bool
    linked: bool = False  # the arriving task is linked to the running join already


def _like_prefix(prefix: str) -> str:
    """A LIKE pattern for values starting with `prefix` (escape character: backslash)."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


@lru_cache(maxsize=8)
def _join_statement(task_class, alias: str) -> tuple[str, tuple, bool]:
    """The statement, the converters of `started`, and whether it links the arriving task to
    a running join (PostgreSQL: a data-modifying CTE; elsewhere the caller inserts the link)."""
    connection = connections[alias]
    meta, q = task_class._meta, connection.ops.quote_name
    table = q(meta.db_table)
    column = {name: q(meta.get_field(name).column) for name in ("process", "status", "token")}
    pk, started = q(meta.pk.column), q(meta.get_field("started").column)
    flow_task = q(meta.get_field("flow_task").column)
    running = (
        f"SELECT {pk}, {column['status']}, {started} FROM {table} WHERE {column['process']} = %s"
        f" AND {flow_task} = %s AND {column['status']} IN (%s, %s) LIMIT 2"
    )
    branches = (
        f"EXISTS (SELECT 1 FROM {table} b WHERE b.{column['process']} = %s"
        f" AND b.{column['token']} LIKE %s ESCAPE '\\'"
        f" AND b.{column['status']} NOT IN (%s, %s, %s))"
    )
    links = connection.vendor == "postgresql"
    if links:
        through = meta.get_field("previous").remote_field.through._meta
        from_task, to_task = (q(through.get_field(n).column) for n in ("from_task", "to_task"))
        sql = (
            f"WITH j AS ({running}), l AS (INSERT INTO {q(through.db_table)}"
            f" ({from_task}, {to_task}) SELECT j.{pk}, %s FROM j RETURNING 1)"
            f" SELECT j.{pk}, j.{column['status']}, j.{started}, {branches}"
            f" FROM (SELECT 1 AS one) o LEFT JOIN j ON 1 = 1"
        )
    else:
        sql = (
            f"SELECT j.{pk}, j.{column['status']}, j.{started}, {branches}"
            f" FROM (SELECT 1 AS one) o LEFT JOIN ({running}) j ON 1 = 1"
        )
    return sql, field_converters([meta.get_field("started")], connection), links


def join_arrival(task_class, process_id: int, flow_task, prefix: str, arrived_id: int):
    """What a branch arriving at `flow_task` (a join) needs: see JoinArrival. Where the join
    runs already, the arriving task `arrived_id` is linked to it in the same statement on
    PostgreSQL (`linked`; elsewhere the caller links it). Raises LookupError when more than
    one instance of the join runs."""
    alias = router.db_for_write(task_class)
    connection = connections[alias]
    sql, converters, links = _join_statement(task_class, alias)
    flow_task_value = task_class._meta.get_field("flow_task").get_db_prep_value(
        flow_task, connection
    )
    running = [process_id, flow_task_value, *RUNNING]
    branches = [process_id, _like_prefix(prefix), *ENDED]
    params = [*running, arrived_id, *branches] if links else [*branches, *running]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if len(rows) > 1:
        raise LookupError("More than one join instance for process found")
    pk, status, started, running = rows[0]
    if pk is None:
        return JoinArrival(None, bool(running))
    (started,) = converted([(started,)], converters, connection)[0]
    return JoinArrival((pk, status, started), bool(running), linked=links)


@lru_cache(maxsize=8)
def _end_statement(process_class, task_class, alias: str, but: bool) -> tuple[str, list]:
    q = connections[alias].ops.quote_name
    meta, task_meta = process_class._meta, task_class._meta
    targets = [meta.get_field(name) for name in ("status", "finished", "data")]
    assignments = ", ".join(f"{q(f.column)} = %s" for f in targets)
    process, finished = (q(task_meta.get_field(n).column) for n in ("process", "finished"))
    except_one = f" AND {q(task_meta.pk.column)} <> %s" if but else ""
    sql = (
        f"UPDATE {q(meta.db_table)} SET {assignments} WHERE {q(meta.pk.column)} = %s"
        f" AND NOT EXISTS (SELECT 1 FROM {q(task_meta.db_table)} WHERE {process} = %s"
        f" AND {finished} IS NULL{except_one})"
    )
    return sql, targets


def process_end(process, task_class, task_id: int | None, finished: datetime) -> bool:
    """Mark the process done unless a task of it (other than `task_id`) has not finished (the
    end of a flow, viewflow's rule), in one UPDATE; whether it was marked."""
    alias = router.db_for_write(type(process))
    connection = connections[alias]
    sql, targets = _end_statement(type(process), task_class, alias, task_id is not None)
    before = process.status, process.finished
    process.status, process.finished = STATUS.DONE, finished
    values = [f.get_db_prep_save(f.pre_save(process, False), connection) for f in targets]
    params = [*values, process.pk, process.pk] + ([task_id] if task_id is not None else [])
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ended = cursor.rowcount == 1
    if not ended:
        process.status, process.finished = before
    return ended
