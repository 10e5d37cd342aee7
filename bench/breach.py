"""Breach prediction at a city's scale: one scoring sweep over every open task, the model
build, the plain-SQL ceiling, and the backtest figures on the bench data.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<a copy of the bench database> \
        .venv/bin/python bench/breach.py --prepare --months 1

`seed_tasks.py` leaves the SLA columns empty; `--prepare` fills them on the tasks that have
none (due time = created + a natural-hours limit per stage, so the figures do not depend on
the demo calendar): it CHANGES the database, run it on a copy (CREATE DATABASE … TEMPLATE …).
Then it prints:

1. the plain-SQL ceiling: reading the columns the sweep reads for every open task, alone;
2. the model build (finished tasks of the lookback window) and the first sweep with it;
3. a warm sweep (model cached): the figure against the goal (≤ 30 s per sweep);
4. `breach_backtest` over the last `--months` months, when asked.
Goal: every open task scored in ≤ 30 s per sweep.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import database_label, django_setup, machine_note

GOAL_SECONDS = 30.0
LIMITS_HOURS = {"intake": 1, "filing": 1, "dispatch": 1, "handling": 24, "check": 4}

PREPARE = """
UPDATE workflows_casetask SET
  due_at = created_at + make_interval(hours => CASE stage {cases} ELSE 8 END),
  limit_value = CASE stage {cases} ELSE 8 END,
  limit_unit = 'natural_hours'
WHERE due_at IS NULL
"""


def prepare(connection) -> int:
    cases = " ".join(f"WHEN '{stage}' THEN {hours}" for stage, hours in LIMITS_HOURS.items())
    with connection.cursor() as cursor:
        cursor.execute(PREPARE.format(cases=cases))
        count = cursor.rowcount
        # Fresh statistics: with the planner's estimate from before (a few hundred open tasks
        # with a due time) each batch of the sweep read every open task after it (~0.8 s
        # instead of ~0.3 s a batch) until autovacuum got to the table.
        cursor.execute("ANALYZE workflows_casetask")
        return count


def ceiling(connection) -> tuple[int, float]:
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.task_id, t.case_id, t.unit_id, t.stage, c.category_id, t.created_at,"
            " t.finished_at, t.due_at, t.paused_minutes, t.limit_unit, t.calendar_id, t.status"
            " FROM workflows_casetask t JOIN workflows_case c ON c.id = t.case_id"
            " WHERE t.status IN ('open', 'claimed') AND t.due_at IS NOT NULL"
            " AND t.paused_since IS NULL"
        )
        rows = cursor.fetchall()
    return len(rows), time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prepare", action="store_true", help="fill empty SLA columns first")
    parser.add_argument("--months", type=int, default=0, help="also run the backtest")
    args = parser.parse_args()
    django_setup()
    from django.db import connection

    from intelligence.management.commands.breach_backtest import report
    from intelligence.services.backtest import breach_backtest
    from intelligence.services.breach import breach_model_current, breach_model_forget, breach_sweep

    print(f"database: {database_label()}  {machine_note()}")
    if args.prepare:
        started = time.monotonic()
        print(f"prepared {prepare(connection)} tasks in {time.monotonic() - started:.1f} s")
    rows, seconds = ceiling(connection)
    print(f"plain-SQL ceiling: {rows} open tasks read in {seconds:.2f} s")
    from django.utils import timezone

    breach_model_forget()
    started = time.monotonic()
    model = breach_model_current(now=timezone.now())
    print(f"model build: {model.samples} finished tasks in {time.monotonic() - started:.1f} s")
    first = breach_sweep()
    print(f"first sweep: {first.scored} scored, {first.warned} warned in {first.seconds:.1f} s")
    warm = breach_sweep()
    verdict = "meets" if warm.seconds <= GOAL_SECONDS else "MISSES"
    print(
        f"warm sweep: {warm.scored} scored, {warm.warned} warned in {warm.seconds:.1f} s "
        f"({verdict} the goal of {GOAL_SECONDS:.0f} s)"
    )
    print(f"after: {machine_note()}")
    if args.months:
        import datetime as dt

        now = timezone.now()
        started = time.monotonic()
        result = breach_backtest(start=now - dt.timedelta(days=30 * args.months), end=now, now=now)
        print(report(result))
        print(f"backtest: {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main()
