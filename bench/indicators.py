"""Indicator benchmarks (issue 11): server time of the pages' reads over the facts.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cityops_bench_ind \
        .venv/bin/python bench/indicators.py --runs 20

Needs a loaded database: migrate, seed_demo, bench/seed_tasks.py --tasks 1000000 --reset, then
`manage.py rebuild_indicator_facts` (writes the facts) and `--check` (zero difference).

Prints p50/p95 (ms) of: a month's KPI table for all units (with composite score and rank, as
the dashboard builds it); the city's two-year monthly trend; the drill-down's first page; the
big-screen payload; and, as the ceiling, the same month's base counts by one hand-written
GROUP BY over the fact table (the least any implementation must read).

`--maintenance N` instead times what the rollup adds to the facts' catch-up job.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import database_label, django_setup


def timed(fn, runs: int) -> tuple[float, float]:
    fn()  # warm caches (reference snapshot, labels, plans)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return statistics.median(times), p95


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--month", help="YYYY-MM (default: the last complete month)")
    parser.add_argument(
        "--maintenance",
        type=int,
        default=0,
        metavar="BATCHES",
        help="instead: time facts_replace of BATCHES batches of 500 cases with and without the "
        "rollup's part (alternating, each batch rolled back)",
    )
    args = parser.parse_args()
    django_setup()
    if args.maintenance:
        maintenance(args.maintenance)
        return

    from django.contrib.auth import get_user_model
    from django.db import connection

    from departments.models import Unit, UnitKind
    from indicators import reports
    from indicators.models import Fact
    from indicators.selectors.periods import period_parse
    from indicators.selectors.values import Selection, drill_q
    from workflows.access import KpiScope

    period = period_parse("month", args.month) if args.month else period_parse("month").previous()
    everything = KpiScope(True)
    month = Selection(period, scope_q=everything.fact_q())
    city = Unit.objects.get(kind=UnitKind.CITY)
    supervisor = get_user_model().objects.get(username="supervisor")
    print(f"Database {database_label()}: {Fact.objects.count():,} facts; month {period.key}")

    def kpi_table():
        return reports.table(
            month,
            "unit",
            reports.TABLE_CODES,
            city_id=city.pk,
            keys_visible=reports.unit_keys(everything),
        )

    def trend():
        return reports.trend(month, "month", ["reported", "closed", "overdue_unhandled"], 24)

    def drill():
        return reports.drill_page(supervisor, drill_q("handled", month, None, None))

    def screen():
        return reports.screen_payload(everything)

    def ceiling():
        with connection.cursor() as c:
            c.execute(
                "SELECT unit_id, kind, stage, on_time, flag, COUNT(*), SUM(value) "
                "FROM indicators_fact WHERE day BETWEEN %s AND %s "
                "AND kind IN ('handled', 'rework', 'extension', 'task') "
                "GROUP BY unit_id, kind, stage, on_time, flag",
                [period.start, period.end],
            )
            return c.fetchall()

    rows = len(kpi_table()["rows"])
    print(f"{'read':44} {'p50 ms':>8} {'p95 ms':>8}")
    for name, fn in [
        (f"month KPI table, all units ({rows} rows)", kpi_table),
        ("two-year monthly trend (city)", trend),
        ("drill-down first page (handled, month)", drill),
        ("big-screen payload", screen),
        ("ceiling: one GROUP BY of the month's facts", ceiling),
    ]:
        p50, p95 = timed(fn, args.runs)
        print(f"{name:44} {p50:8.1f} {p95:8.1f}")


def maintenance(batches: int) -> None:
    """What the rollup adds to the catch-up job: facts_replace of the same 500-case batches
    with and without rollup_apply (its old-facts read included), alternating."""
    import random

    from django.db import transaction

    from indicators import facts
    from workflows.models import Case

    ids = list(Case.objects.values_list("pk", flat=True))
    rng = random.Random(11)
    times: dict[str, list[float]] = {"facts + rollup": [], "facts only": []}
    real = (facts.old_facts, facts.rollup_apply)
    for n in range(batches):
        batch = rng.sample(ids, 500)
        for name in sorted(times, reverse=n % 2 == 1):
            if name == "facts only":
                facts.old_facts, facts.rollup_apply = (lambda ids: []), (lambda old, new: 0)
            start = time.perf_counter()
            with transaction.atomic():
                facts.facts_replace(batch)
                transaction.set_rollback(True)
            times[name].append((time.perf_counter() - start) * 1000)
            facts.old_facts, facts.rollup_apply = real
    print(f"facts_replace of 500 random cases, {batches} batches each (ms):")
    for name, values in times.items():
        values.sort()
        print(f"  {name:16} p50 {statistics.median(values):7.1f}  max {values[-1]:7.1f}")


if __name__ == "__main__":
    main()
