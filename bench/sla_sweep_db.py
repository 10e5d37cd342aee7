"""The database side of bench/sla_sweep.py: statements run and timed by label, the preparation
of the loaded tasks (SLA columns, thresholds, the tasks falling due) and the restore that puts
every row the sweep touched back as it was."""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

SAVED = "bench_sla_saved"  # the touched workflows_casetask rows as they were
SAVED_VF = "bench_sla_saved_vf"  # the re-opened viewflow_task rows as they were
MARKS = "bench_sla_marks"  # highest ids before the sweep wrote anything
OUTPUT_TABLES = [
    "workflows_caseevent",
    "workflows_notification",
    "workflows_outboxmessage",
    "workflows_supervisionorder",
]


# --- statements ----------------------------------------------------------------------------


class Statements:
    """Counts the statements Django sends and the time spent in them (execute_wrapper)."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0
        self.kinds: Counter[str] = Counter()
        self.shapes: Counter[str] = Counter()
        self.first_select: tuple[str, list] | None = None

    def __call__(self, execute, sql, params, many, context):
        kind = sql.split(None, 1)[0].upper() if sql.strip() else "?"
        self.count += 1
        self.kinds[kind] += 1
        self.shapes[_shape(sql)] += 1
        if self.first_select is None and kind == "SELECT":
            self.first_select = (sql, list(params or []))
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - start


def _shape(sql: str) -> str:
    sql = " ".join(sql.split())
    head, _sep, tail = sql.partition(" FROM ")
    if head.startswith("SELECT") and tail:
        sql = f"SELECT … FROM {tail}"
    elif sql.startswith("INSERT"):
        sql = sql.split(" VALUES ", 1)[0] + " VALUES …"
    elif sql.startswith("UPDATE"):
        sql = sql[:60] + " …"
    return sql[:140]


def sql(statement: str, params: dict | list | None = None) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as c:
        c.execute(statement, params)
        return c.fetchall() if c.description else []


def one(statement: str, params: dict | list | None = None):
    return sql(statement, params)[0][0]


def step(label: str, statement: str, params: dict | None = None) -> int:
    from django.db import connection

    start = time.perf_counter()
    with connection.cursor() as c:
        c.execute(statement, params)
        rows = c.rowcount
    print(f"  {label}: {rows} rows, {time.perf_counter() - start:.1f} s", flush=True)
    return rows


def vacuum(*tables: str) -> None:
    start = time.perf_counter()
    for t in tables:
        sql(f"VACUUM (ANALYZE) {t}")
    print(f"  VACUUM (ANALYZE) {', '.join(tables)}: {time.perf_counter() - start:.1f} s")


def table_exists(name: str) -> bool:
    return one("SELECT to_regclass(%s) IS NOT NULL", [name])


def sweep_index() -> str:
    entries = one(
        "SELECT COUNT(*) FROM workflows_casetask"
        " WHERE status IN ('open', 'claimed') AND next_threshold_at IS NOT NULL"
    )
    size = one("SELECT pg_size_pretty(pg_relation_size('casetask_sweep'))")
    return f"casetask_sweep: {entries} entries, {size}"


# --- preparation ---------------------------------------------------------------------------


def prepare(args, now0: dt.datetime) -> dict:
    """Save the rows to touch, re-open done tasks up to --open, fill the SLA columns.

    Every touched task gets due_at = now0 + 1..30 days (uniform), limit_value = its hours since
    created_at (natural_hours), the city's calendar, no level fired. `next_threshold_at` is set
    only for --small of them (pass A); pass B sets it for the rest, halfway from now0 to due_at.
    """
    calendar = one(
        "SELECT c.id FROM departments_workcalendar c JOIN departments_unit u ON u.id = c.unit_id"
        " WHERE u.code = 'DEMO' UNION ALL SELECT NULL LIMIT 1"
    )
    cutoff = now0 - dt.timedelta(minutes=10)  # leave tasks other runs are working on alone
    eligible = one(
        "SELECT COUNT(*) FROM workflows_casetask WHERE status IN ('open', 'claimed')"
        " AND paused_since IS NULL AND created_at < %s",
        [cutoff],
    )
    convert = max(0, args.open - eligible) if args.open else 0
    done = one(
        "SELECT COUNT(*) FROM workflows_casetask WHERE status = 'done' AND created_at < %s",
        [cutoff],
    )
    if convert > done:
        print(f"  Note: only {done} done tasks to re-open; {eligible + done} open at most.")
        convert = done
    print(
        f"Preparing: {eligible} open/claimed tasks loaded; re-opening {convert} done tasks "
        f"(the most recent) to reach {eligible + convert}; calendar id {calendar}"
    )
    p = {"now0": now0, "cutoff": cutoff, "convert": convert, "cal": calendar, "small": args.small}
    step(
        f"save the rows to touch ({SAVED})",
        f"""
        CREATE UNLOGGED TABLE {SAVED} AS
        WITH touched AS (
            SELECT task_id, false AS converted FROM workflows_casetask
            WHERE status IN ('open', 'claimed') AND paused_since IS NULL
              AND created_at < %(cutoff)s
            UNION ALL
            (SELECT task_id, true FROM workflows_casetask
             WHERE status = 'done' AND created_at < %(cutoff)s
             ORDER BY created_at DESC, task_id DESC LIMIT %(convert)s)
        )
        SELECT t.task_id, x.converted, t.status, t.owner_id, t.outcome, t.claimed_at,
               t.finished_at, t.due_at, t.limit_value, t.limit_unit, t.calendar_id,
               t.thresholds_fired, t.next_threshold_at,
               %(now0)s + (1 + 29 * random()) * interval '1 day' AS new_due,
               false AS small
        FROM touched x JOIN workflows_casetask t USING (task_id)
        """,
        p,
    )
    sql(f"ALTER TABLE {SAVED} ADD PRIMARY KEY (task_id)")
    sql(
        f"UPDATE {SAVED} SET small = true WHERE task_id IN "
        f"(SELECT task_id FROM {SAVED} ORDER BY random() LIMIT %(small)s)",
        p,
    )
    step(
        f"save the viewflow rows to re-open ({SAVED_VF})",
        f"""
        CREATE UNLOGGED TABLE {SAVED_VF} AS
        SELECT v.id, v.status, v.owner_id, v.started, v.finished
        FROM viewflow_task v JOIN {SAVED} s ON s.task_id = v.id WHERE s.converted
        """,
    )
    sql(f"CREATE TABLE {MARKS} (name text PRIMARY KEY, value bigint NOT NULL)")
    for t in OUTPUT_TABLES:
        sql(f"INSERT INTO {MARKS} SELECT %s, COALESCE(MAX(id), 0) FROM {t}", [t])
    step(
        "pass A: re-open, SLA columns, next_threshold_at on the small sample",
        """
        UPDATE workflows_casetask t SET
            status = CASE WHEN s.converted THEN 'open' ELSE t.status END,
            owner_id = CASE WHEN s.converted THEN NULL ELSE t.owner_id END,
            outcome = CASE WHEN s.converted THEN '' ELSE t.outcome END,
            claimed_at = CASE WHEN s.converted THEN NULL ELSE t.claimed_at END,
            finished_at = CASE WHEN s.converted THEN NULL ELSE t.finished_at END,
            due_at = s.new_due,
            limit_value = ceil(extract(epoch FROM s.new_due - t.created_at) / 3600)::int,
            limit_unit = 'natural_hours',
            calendar_id = %(cal)s,
            thresholds_fired = 0,
            next_threshold_at = CASE WHEN s.small THEN %(now0)s + (s.new_due - %(now0)s) / 2 END
        FROM """
        + SAVED
        + " s WHERE t.task_id = s.task_id",
        p,
    )
    step(
        "re-open the viewflow tasks (status NEW, no owner)",
        f"""
        UPDATE viewflow_task v SET status = 'NEW', owner_id = NULL, started = NULL,
                                   finished = NULL
        FROM {SAVED_VF} s WHERE v.id = s.id
        """,
    )
    vacuum("workflows_casetask", "viewflow_task")
    reindex()
    return p


def reindex() -> None:
    """Rebuild casetask_sweep: VACUUM empties its pages but never lowers the tree, so after
    an earlier run the small case would otherwise probe a tree sized for the large one."""
    start = time.perf_counter()
    sql("REINDEX INDEX casetask_sweep")
    print(f"  REINDEX INDEX casetask_sweep: {time.perf_counter() - start:.1f} s")


def fill_thresholds(p: dict) -> None:
    step(
        "pass B: next_threshold_at for the others (halfway from now to due_at)",
        f"""
        UPDATE workflows_casetask t SET next_threshold_at = %(now0)s + (t.due_at - %(now0)s) / 2
        FROM {SAVED} s WHERE t.task_id = s.task_id AND NOT s.small
        """,
        p,
    )
    vacuum("workflows_casetask")


def pick_due(args, now0: dt.datetime) -> None:
    """The youngest open tasks of open cases older than a day: --due for phase 2, --lag-tasks
    for phase 3 (a re-opened task of an ended case never escalates, so it is not picked).

    Their due_at is made consistent with created_at, so that the 50 % level falls exactly at
    the chosen moment and the 75 % level well after the run (one level fires per task)."""
    sql(
        f"""
        CREATE TEMP TABLE bench_sla_pick AS
        SELECT task_id, row_number() OVER (ORDER BY random()) AS n FROM (
            SELECT t.task_id FROM workflows_casetask t JOIN {SAVED} s USING (task_id)
            JOIN workflows_case c ON c.id = t.case_id
            WHERE t.status IN ('open', 'claimed') AND t.created_at < %(before)s
              AND c.status = 'open'
            ORDER BY t.created_at DESC LIMIT %(count)s) x
        """,
        {"before": now0 - dt.timedelta(days=1), "count": args.due + args.lag_tasks},
    )


CONSISTENT = """
    next_threshold_at = x.at,
    due_at = t.created_at + 2 * (x.at - t.created_at),
    limit_value = ceil(extract(epoch FROM 2 * (x.at - t.created_at)) / 3600)::int,
    thresholds_fired = 0
"""


# --- clean-up ------------------------------------------------------------------------------


def restore() -> None:
    from django.db import transaction

    if not table_exists(SAVED):
        print("Nothing to restore.")
        return
    print("Restoring:")
    with transaction.atomic():
        if table_exists(MARKS):
            marks = dict(sql(f"SELECT name, value FROM {MARKS}"))
            notif, outbox = marks["workflows_notification"], marks["workflows_outboxmessage"]
            step(
                "delete the sweep's outbox emails",
                "DELETE FROM workflows_outboxmessage WHERE id > %s AND channel = 'email'"
                " AND (payload->>'notification')::bigint IN (SELECT id FROM"
                " workflows_notification WHERE id > %s AND kind LIKE 'sla\\_%%')",
                [outbox, notif],
            )
            step(
                "delete the sweep's notifications",
                "DELETE FROM workflows_notification WHERE id > %s AND kind LIKE 'sla\\_%%'",
                [notif],
            )
            step(
                "delete the sweep's supervision orders",
                "DELETE FROM workflows_supervisionorder WHERE id > %s AND issued_by_id IS NULL"
                " AND task_id IN (SELECT task_id FROM " + SAVED + ")",
                [marks["workflows_supervisionorder"]],
            )
            # The audit trigger (migration 0009) refuses DELETE on events unless the
            # transaction says it is maintenance.
            sql("SET LOCAL cityops.audit_maintenance = 'on'")
            step(
                "delete the sweep's events",
                "DELETE FROM workflows_caseevent WHERE id > %s AND action LIKE 'sla\\_%%'",
                [marks["workflows_caseevent"]],
            )
        step(
            "tasks back as they were",
            f"""
            UPDATE workflows_casetask t SET status = s.status, owner_id = s.owner_id,
                outcome = s.outcome, claimed_at = s.claimed_at, finished_at = s.finished_at,
                due_at = s.due_at, limit_value = s.limit_value, limit_unit = s.limit_unit,
                calendar_id = s.calendar_id, thresholds_fired = s.thresholds_fired,
                next_threshold_at = s.next_threshold_at
            FROM {SAVED} s WHERE t.task_id = s.task_id AND t.status IN ('open', 'claimed')
            """,
        )
        if table_exists(SAVED_VF):
            step(
                "viewflow tasks back as they were",
                f"""
                UPDATE viewflow_task v SET status = s.status, owner_id = s.owner_id,
                    started = s.started, finished = s.finished
                FROM {SAVED_VF} s WHERE v.id = s.id AND v.status = 'NEW'
                """,
            )
        sql(f"DROP TABLE IF EXISTS {SAVED}, {SAVED_VF}, {MARKS}")
    vacuum("workflows_casetask", "viewflow_task")
    reindex()
