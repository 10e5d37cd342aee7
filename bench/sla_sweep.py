"""The SLA sweep at a city's scale: the empty tick, 10,000 due thresholds, and firing lag.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cityops_bench \
        .venv/bin/python bench/sla_sweep.py                  # about 5 minutes on 2 cores

Runs `workflows.services.escalations.sla_sweep` against the tasks `seed_tasks.py` loaded
(migrated to workflows/0002_sla or later). The loader leaves the SLA columns empty, so the
script first fills them in bulk SQL (UPDATE … FROM a saved copy of the rows it touches),
bringing the open tasks up to `--open` by re-opening the most recent done tasks. It then measures:

1. the empty tick (nothing due), p50/p95 over `--runs`, with `--small` tasks in the sweep
   index and with all `--open` of them, the ratio of the two, and the claim query's plan;
2. `--due` thresholds due at once (level 1, remind), swept to the end: seconds, levels/s and
   SQL statements per level fired;
3. the lag between a threshold's moment and its firing, with `--lag-tasks` thresholds falling
   due every `--lag-spacing-ms` while a loop calls `sla_sweep()` every `--interval` seconds.

At the end it deletes what the sweep wrote (events, notifications, outbox messages, orders)
and puts every touched row back as it was (`--keep` leaves the state for inspection;
`--restore-only` restores after an interrupted run). See README.md, "sla_sweep.py".
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import Timings, database_label, django_setup, machine_note, percentile, table

GOALS = {"empty_tick_ms": 5.0, "empty_ratio": 2.0, "due_seconds": 30.0}
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


# --- measurements --------------------------------------------------------------------------


def capture_claim(now: dt.datetime) -> tuple[str, list]:
    from django.db import connection

    from workflows.services.escalations import sla_sweep

    counter = Statements()
    with connection.execute_wrapper(counter):
        sla_sweep(now=now)
    assert counter.first_select is not None
    return counter.first_select


def explain(claim: tuple[str, list], now: dt.datetime) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the claim query at `now`, in a rolled-back transaction."""
    from django.db import connection, transaction

    statement, params = claim
    params = [now if isinstance(v, dt.datetime) else v for v in params]
    with transaction.atomic(), connection.cursor() as c:
        c.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
        plan = "\n".join("    " + r[0] for r in c.fetchall())
        transaction.set_rollback(True)
    uses = "casetask_sweep" in plan
    seq = "Seq Scan on workflows_casetask" in plan
    return (
        f"{plan}\n  uses casetask_sweep: {'yes' if uses else 'NO'}; "
        f"Seq Scan on workflows_casetask: {'YES' if seq else 'no'}"
    )


def empty_tick(runs: int, now: dt.datetime, claim: tuple[str, list]) -> dict:
    """The empty tick through sla_sweep (ORM), and its claim statement alone (SQL: the same
    statement through cursor.execute + fetchall in a transaction, without the ORM)."""
    from django.db import connection, transaction

    from workflows.services.escalations import sla_sweep

    fired = []
    orm = Timings.measure(lambda: fired.append(sla_sweep(now=now)), runs)
    assert not any(fired), "the empty tick fired something"
    statement, params = claim
    params = [now if isinstance(v, dt.datetime) else v for v in params]

    def plain() -> None:
        with transaction.atomic(), connection.cursor() as c:
            c.execute(statement, params)
            c.fetchall()

    sql_only = Timings.measure(plain, runs)
    counter = Statements()
    with connection.execute_wrapper(counter):
        sla_sweep(now=now)
    return {"orm": orm, "sql": sql_only, "statements": counter}


def due_run(args) -> None:
    from django.db import connection
    from django.utils import timezone

    from workflows.services.escalations import sla_sweep

    now = timezone.now()
    sql(
        f"""
        UPDATE workflows_casetask t SET {CONSISTENT}
        FROM (SELECT task_id, %(now)s - random() * interval '1 hour' AS at
              FROM bench_sla_pick WHERE n <= %(due)s) x
        WHERE t.task_id = x.task_id
        """,
        {"now": now, "due": args.due},
    )
    sql("ANALYZE workflows_casetask")
    due = one(
        "SELECT COUNT(*) FROM workflows_casetask WHERE status IN ('open', 'claimed')"
        " AND next_threshold_at <= %s",
        [timezone.now()],
    )
    print(f"\n2. {due} thresholds due (level 1, remind), spread over the last hour")
    print(f"  {sweep_index()}")
    claim = capture_claim(now - dt.timedelta(days=3650))  # nothing due that far back
    print(f"  EXPLAIN (ANALYZE, BUFFERS) of the claim query, {args.batch} rows due:")
    print(explain(claim, timezone.now()))
    marks = dict(sql(f"SELECT name, value FROM {MARKS}"))
    counter, calls, fired = Statements(), 0, 0
    start = time.perf_counter()
    with connection.execute_wrapper(counter):
        while True:
            n = sla_sweep(batch=args.batch)
            calls += 1
            fired += n
            if n == 0:
                break
    seconds = time.perf_counter() - start
    ok = seconds <= GOALS["due_seconds"]
    print(
        f"  swept in {seconds:.2f} s ({calls} sla_sweep calls, batch {args.batch}): {fired} "
        f"levels fired, {fired / seconds:.0f} levels/s, {1000 * seconds / max(fired, 1):.2f} ms "
        f"per level"
    )
    print(
        f"  {due} due in <= {GOALS['due_seconds']:.0f} s: {'met' if ok else 'MISSED'} "
        f"({seconds:.2f} s)"
    )
    per = max(fired, 1)
    db_share = 100 * counter.seconds / seconds
    print(
        f"  SQL statements: {counter.count} = {counter.count / per:.2f} per level fired "
        f"(BEGIN/COMMIT not counted); time in execute {counter.seconds:.2f} s "
        f"({db_share:.0f} % of the run; the rest is Python)"
    )
    print(
        "  by kind, per level: "
        + ", ".join(f"{k} {v / per:.2f}" for k, v in counter.kinds.most_common())
    )
    print("  most frequent statements, per level fired:")
    for shape, n in counter.shapes.most_common(12):
        print(f"    {n / per:5.2f}  {shape}")
    written = []
    for t in OUTPUT_TABLES:
        n = one(f"SELECT COUNT(*) FROM {t} WHERE id > %s", [marks[t]])
        written.append(f"{t.removeprefix('workflows_')} {n} ({n / per:.2f}/level)")
    print("  rows written: " + ", ".join(written))
    actions = sql(
        "SELECT action, COUNT(*) FROM workflows_caseevent WHERE id > %s GROUP BY 1 ORDER BY 1",
        [marks["workflows_caseevent"]],
    )
    print("  events by action: " + ", ".join(f"{a} {n}" for a, n in actions))


def lag_run(args) -> None:
    from django.utils import timezone

    from workflows.services.escalations import sla_sweep

    base = one("SELECT COALESCE(MAX(id), 0) FROM workflows_caseevent")
    sql(
        "CREATE TEMP TABLE bench_sla_lag AS SELECT task_id, n - %s - 1 AS i,"
        " NULL::timestamptz AS at FROM bench_sla_pick WHERE n > %s",
        [args.due, args.due],
    )
    spacing = dt.timedelta(milliseconds=args.lag_spacing_ms)
    first = timezone.now() + dt.timedelta(seconds=2)
    sql("UPDATE bench_sla_lag SET at = %s + i * %s", [first, spacing])
    sql(
        f"UPDATE workflows_casetask t SET {CONSISTENT} FROM bench_sla_lag x"
        " WHERE t.task_id = x.task_id"
    )
    count, last = sql("SELECT COUNT(*), MAX(at) FROM bench_sla_lag")[0]
    span = (last - first).total_seconds()
    print(
        f"\n3. Firing lag: {count} thresholds due every {args.lag_spacing_ms} ms over {span:.0f} s"
        f" from 2 s after the start; sla_sweep() every {args.interval:g} s for "
        f"{args.lag_seconds:g} s"
    )
    ticks: list[tuple[dt.datetime, dt.datetime, int, float]] = []
    start = time.monotonic()
    k = 0
    while (target := start + k * args.interval) <= start + args.lag_seconds:
        time.sleep(max(0.0, target - time.monotonic()))
        now = timezone.now()
        t0 = time.perf_counter()
        fired = sla_sweep(now=now, batch=args.batch)
        took = time.perf_counter() - t0
        ticks.append((now, timezone.now(), fired, took))
        k += 1
    ends = {now: end for now, end, _, _ in ticks}
    rows = sql(
        "SELECT e.created_at, x.at FROM workflows_caseevent e"
        " JOIN bench_sla_lag x ON x.task_id = e.task_id"
        " WHERE e.id > %s AND e.action = 'sla_remind'",
        [base],
    )
    lag = [(c - a).total_seconds() * 1000 for c, a in rows]
    commit = [(ends[c] - a).total_seconds() * 1000 for c, a in rows if c in ends]
    took = [t * 1000 for *_, t in ticks]
    busy = [t * 1000 for _, _, n, t in ticks if n]
    print(
        f"  {len(ticks)} ticks, {sum(1 for t in ticks if t[2])} of them fired; "
        f"{len(rows)} of {count} thresholds fired"
        + ("" if len(rows) == count else f" (MISSING {count - len(rows)})")
    )
    if not lag:
        return
    print(
        table(
            ["lag, ms", "p50", "p95", "max"],
            [
                ["event time (tick start) - threshold", *_stats(lag)],
                ["tick end (committed) - threshold", *_stats(commit)],
                ["tick duration, all ticks", *_stats(took)],
                ["tick duration, ticks that fired", *_stats(busy or [0.0])],
            ],
        )
    )
    print(
        f"  The lag is bounded by the interval plus one tick: uniform over 0..{args.interval:g} s"
        f" if thresholds fall evenly, so p95 ~ {0.95 * args.interval:.2f} s. With the "
        "production interval of 30 s: p50 ~ 15 s, p95 ~ 28.5 s, max ~ 30 s + a tick."
    )


def _stats(values: list[float]) -> list[float]:
    return [percentile(values, 50), percentile(values, 95), max(values)]


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


# --- main ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--open", type=int, default=1_000_000, help="open tasks to reach (0: as loaded)"
    )
    parser.add_argument("--small", type=int, default=10_000, help="open tasks, small case")
    parser.add_argument("--due", type=int, default=10_000, help="thresholds due at once")
    parser.add_argument("--runs", type=int, default=200, help="empty ticks timed per case")
    parser.add_argument("--batch", type=int, default=500, help="sla_sweep batch size")
    parser.add_argument("--lag-tasks", type=int, default=2000)
    parser.add_argument("--lag-spacing-ms", type=float, default=30.0)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between ticks")
    parser.add_argument("--lag-seconds", type=float, default=70.0, help="how long the loop runs")
    parser.add_argument("--keep", action="store_true", help="leave the prepared state")
    parser.add_argument("--restore-only", action="store_true", help="restore and stop")
    args = parser.parse_args()
    django_setup()
    from django.utils import timezone

    print(f"Database {database_label()}; {machine_note()}")
    if table_exists(SAVED) or table_exists(MARKS):
        print("A previous run left its state behind.")
        restore()
    if args.restore_only:
        return
    if not one(
        "SELECT COUNT(*) FROM information_schema.columns WHERE table_name = 'workflows_casetask'"
        " AND column_name = 'next_threshold_at'"
    ):
        sys.exit("workflows_casetask has no SLA columns: run `manage.py migrate` first.")

    started = time.perf_counter()
    now0 = timezone.now()
    try:
        p = prepare(args, now0)
        print(f"  {sweep_index()}")
        print(f"\n1. Empty tick: sla_sweep(now=<before every threshold>), {args.runs} runs")
        claim = capture_claim(now0)
        small = empty_tick(args.runs, now0, claim)
        small_plan = explain(claim, now0)
        fill_thresholds(p)
        print(f"  {sweep_index()}")
        large = empty_tick(args.runs, now0, claim)
        large_plan = explain(claim, now0)
        n_small = one(f"SELECT COUNT(*) FROM {SAVED} WHERE small")
        n_large = one(f"SELECT COUNT(*) FROM {SAVED}")
        rows = []
        for n, r in ((n_small, small), (n_large, large)):
            orm, plain = r["orm"], r["sql"]
            rows.append([n, orm.p50, orm.p95, orm.max, plain.p50, plain.p95, r["statements"].count])
        headers = ["tasks in the sweep index", "p50 ms", "p95 ms", "max ms", "SQL p50", "SQL p95"]
        print(table([*headers, "statements"], rows))
        lo, hi = small["orm"], large["orm"]
        ratio = hi.p50 / lo.p50
        print(
            f"  empty tick p95 at {n_large} <= {GOALS['empty_tick_ms']:g} ms: "
            f"{'met' if hi.p95 <= GOALS['empty_tick_ms'] else 'MISSED'} ({hi.p95:.2f} ms)"
        )
        print(
            f"  p50 ratio {n_large} / {n_small}: {ratio:.2f} <= {GOALS['empty_ratio']:g}: "
            f"{'met' if ratio <= GOALS['empty_ratio'] else 'MISSED'} "
            f"(p95 ratio {hi.p95 / lo.p95:.2f})"
        )
        kinds = dict(large["statements"].kinds)
        print(
            f"  statements per empty tick: {kinds} + BEGIN/COMMIT. SQL = the claim statement "
            "alone (cursor.execute + fetchall in a transaction); the rest of the ORM figure is "
            "Django building the query and the transaction."
        )
        print(f"  EXPLAIN (ANALYZE, BUFFERS) of the claim query, nothing due, {n_small} in index:")
        print(small_plan)
        print(f"  The same with {n_large} in the index:")
        print(large_plan)

        pick_due(args, now0)
        due_run(args)
        lag_run(args)
    finally:
        if args.keep:
            print(f"\n--keep: state left in place; `--restore-only` puts it back ({SAVED}).")
        else:
            print()
            restore()
    print(f"\nTotal {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
