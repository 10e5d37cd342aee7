"""Bulk-load a city's worth of cases and tasks for the task-list and lifecycle benchmarks.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cityops_bench \
        .venv/bin/python bench/seed_tasks.py --tasks 1000000 --reset

Writes straight into viewflow_process, viewflow_task, workflows_case, workflows_casetask and
workflows_caseevent with COPY, the rows shaped exactly as the services and the flow write them
one START row per process, one HUMAN row per stage task (with its workflows_casetask
twin sharing the id; the flow's steps route by outcome, with no Switch rows between them) and
an END row per finished case. Secondary indexes and foreign keys of those tables are dropped
for the load and re-created (and the foreign keys validated) in the same transaction; then
VACUUM ANALYZE. With --facts, the indicator facts and their rollup are written afterwards by
the real rebuild (`rebuild_indicator_facts`), so that bench/indicators.py reads real figures.

The mix (see README.md): ~1M human tasks over ~200k cases, 2 years of history, ~12% of the
tasks open or claimed (one per open case), handling spread over the demo handling units and
their sub-units, intake/filing/dispatch/return review/closing in the command centre CC,
verification and check at the street of the case's community. Every (unit, role) a task can
sit in is staffed: besides the demo accounts, `bench_<role>_<unit>_<n>` users (unusable
passwords) with memberships; owners of claimed and done tasks are drawn from those staff.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
import seed_plan
from harness import database_label, django_setup
from seed_plan import DAY, STAGES, TABLES, TRUNCATED, ensure_staff, load_city, plan_case
from seed_rows import CODES, COLUMNS, Writer

# --- loading -------------------------------------------------------------------------------


def _reset(cursor) -> None:
    cursor.execute(f"TRUNCATE {', '.join(TRUNCATED)} RESTART IDENTITY CASCADE")


def _current_ids(cursor) -> dict[str, int]:
    ids = {}
    for t in TABLES:
        pk = "task_id" if t == "workflows_casetask" else "id"
        cursor.execute(f"SELECT COALESCE(MAX({pk}), 0) FROM {t}")
        ids[t] = cursor.fetchone()[0]
    ids["viewflow_task"] = max(ids["viewflow_task"], ids["workflows_casetask"])
    return ids


def _drop_secondary(cursor) -> list[str]:
    """Drop foreign keys and plain indexes of the loaded tables; return the SQL to restore them."""
    cursor.execute(
        """
        SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
        FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])
        """,
        [TABLES],
    )
    fks = cursor.fetchall()
    cursor.execute(
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i
        WHERE i.indrelid = ANY(%s::regclass[])
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                          WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x'))
        """,
        [TABLES],
    )
    indexes = cursor.fetchall()
    for table, name, _ in fks:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        cursor.execute(f"DROP INDEX {name}")
    restore = [definition for _, definition in indexes]
    restore += [f'ALTER TABLE {t} ADD CONSTRAINT "{n}" {d}' for t, n, d in fks]
    return restore


def _copy(cursor, directory: Path, table: str) -> None:
    with (
        open(directory / f"{table}.copy", "rb") as f,
        cursor.cursor.copy(f"COPY {table} ({COLUMNS[table]}) FROM STDIN") as copy,
    ):
        while chunk := f.read(1 << 20):
            copy.write(chunk)


def _finish_ids(cursor, numbers: dict[int, int]) -> None:
    for t in TABLES:
        if t == "workflows_casetask":
            continue
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), "
            f"(SELECT GREATEST(COALESCE(MAX(id), 0), 1) FROM {t}))"
        )
    for year, last in numbers.items():
        cursor.execute(
            """
            INSERT INTO workflows_casesequence (year, last) VALUES (%s, %s)
            ON CONFLICT (year) DO UPDATE SET last = GREATEST(workflows_casesequence.last,
                                                             EXCLUDED.last)
            """,
            [year, last],
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=1_000_000, help="human tasks, roughly")
    parser.add_argument("--cases", type=int, help="cases (default: tasks / 4.9)")
    parser.add_argument(
        "--open-share",
        type=float,
        default=0.12,
        help="share of tasks open or claimed (one per open case)",
    )
    parser.add_argument(
        "--claimed-share", type=float, default=0.3, help="of those, the share already claimed"
    )
    parser.add_argument("--years", type=float, default=2.0, help="history span")
    parser.add_argument("--seed", type=int, default=20260101)
    parser.add_argument(
        "--events",
        choices=["report", "full"],
        default="report",
        help="report: one event per case; full: also claim + outcome per task",
    )
    parser.add_argument(
        "--no-flow-nodes",
        action="store_true",
        help="skip the START/END rows of viewflow_task",
    )
    parser.add_argument(
        "--reset", action="store_true", help="truncate cases, tasks, processes and events first"
    )
    parser.add_argument("--tmpdir", default=None, help="where the COPY files are staged")
    parser.add_argument(
        "--facts",
        action="store_true",
        help="then write the indicator facts and their rollup (the real rebuild; ~15 min at 1M)",
    )
    args = parser.parse_args()
    django_setup()

    from django.conf import settings
    from django.db import connection, transaction

    started = time.perf_counter()
    seed_plan.CLAIMED_SHARE = args.claimed_share  # read by plan_case
    cases = args.cases or round(args.tasks / 4.9)  # the mix averages ~4.9 tasks a case
    open_cases = min(cases, round(args.open_share * args.tasks))
    print(
        f"Database {database_label()}: {cases} cases, {open_cases} open, target ~{args.tasks} tasks"
    )

    with connection.cursor() as c:
        c.execute("SELECT COUNT(*) FROM workflows_casetask")
        existing = c.fetchone()[0]
    if existing and not args.reset:
        print(f"Note: {existing} tasks already loaded; appending (use --reset to start over).")

    from workflows.flows.stages import STAGES as stages

    STAGES.update(stages)
    city = load_city()
    ensure_staff(city)
    CODES.update({pk: code for code, pk in city.units.items()})
    tz = ZoneInfo(settings.TIME_ZONE)
    now, span = time.time(), args.years * 365 * DAY

    # Pass 1: when each case was reported (ids and numbers follow report time).
    master = random.Random(args.seed)
    flags = [True] * open_cases + [False] * (cases - open_cases)
    master.shuffle(flags)
    seeds = [master.getrandbits(62) for _ in range(cases)]
    order = sorted(
        range(cases), key=lambda i: plan_case(seeds[i], flags[i], city, now, span).created
    )
    planned = time.perf_counter()

    with (
        tempfile.TemporaryDirectory(dir=args.tmpdir, prefix="cityops-seed-") as tmp,
        transaction.atomic(),
        connection.cursor() as c,
    ):
        if args.reset:
            _reset(c)
        c.execute("SELECT year, last FROM workflows_casesequence")
        numbers = dict(c.fetchall())  # appending continues each year's case numbers
        writer = Writer(
            Path(tmp),
            args.events == "full",
            not args.no_flow_nodes,
            _current_ids(c),
            numbers,
            city,
        )
        # Pass 2: the rows, case by case in report order.
        for i in order:
            plan = plan_case(seeds[i], flags[i], city, now, span)
            writer.case(plan, random.Random(seeds[i] ^ 0x5EED), tz, seeds[i])
        writer.close()
        written = time.perf_counter()
        c.execute("SET LOCAL maintenance_work_mem = '512MB'")
        restore = _drop_secondary(c)
        for t in TABLES:
            _copy(c, Path(tmp), t)
        copied = time.perf_counter()
        for sql in restore:
            c.execute(sql)
        _finish_ids(c, writer.numbers)
        indexed = time.perf_counter()
    with connection.cursor() as c:
        for t in TABLES:
            c.execute(f"VACUUM (ANALYZE) {t}")
    done = time.perf_counter()

    print(
        f"Loaded in {done - started:.1f} s: plan {planned - started:.1f} s, rows "
        f"{written - planned:.1f} s, COPY {copied - written:.1f} s, indexes + foreign keys "
        f"{indexed - copied:.1f} s, VACUUM ANALYZE {done - indexed:.1f} s"
    )
    print("Rows written: " + ", ".join(f"{t} {n}" for t, n in writer.counts.items()))
    if args.facts:
        _write_facts()
    report()


def _write_facts() -> None:
    """The indicator facts of every case and their rollup, by the rebuild the command runs."""
    from indicators.facts import facts_rebuild

    started = time.perf_counter()
    done = facts_rebuild(apply=True)
    print(
        f"Facts: {done['facts']} for {done['cases']} cases, rollup {done['rollup']['rows']} "
        f"rows, in {time.perf_counter() - started:.0f} s"
    )


def report() -> None:
    """What is in the database now: tasks by status and stage, and the demo users' lists."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from departments.access import staff_scope
    from workflows.models import CaseTask

    with connection.cursor() as c:
        c.execute("SELECT status, COUNT(*) FROM workflows_casetask GROUP BY 1 ORDER BY 2 DESC")
        by_status = c.fetchall()
        c.execute("SELECT COUNT(*), COUNT(*) FILTER (WHERE status = 'open') FROM workflows_case")
        n_cases, n_open = c.fetchone()
        c.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = c.fetchone()[0]
    total = sum(n for _, n in by_status)
    print(
        f"Tasks: {total} ("
        + ", ".join(f"{s} {n} = {100 * n / total:.1f}%" for s, n in by_status)
        + f"); cases {n_cases} "
        f"({n_open} open); database size {size}"
    )
    users = get_user_model().objects.filter(
        username__in=["dispatcher", "handler_sani", "handler_muni", "intake", "inspector"]
    )
    for user in users.order_by("username"):
        pairs = staff_scope(user).pairs
        q = staff_scope(user).task_q()
        queue = CaseTask.objects.filter(q, status="open").count()
        inbox = CaseTask.objects.filter(owner=user, status="claimed").count()
        done = CaseTask.objects.filter(owner=user, status="done").count()
        print(
            f"  {user.username:13} {len(pairs):2} (unit, role) pairs: queue {queue}, "
            f"inbox {inbox}, done {done}"
        )


if __name__ == "__main__":
    main()
