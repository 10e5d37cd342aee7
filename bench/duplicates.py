"""Duplicate candidate search (the hotline's and intake's "merge into" candidates), p95
against a plain-SQL ceiling in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cityops_bench_dup \
        .venv/bin/python bench/duplicates.py --open 200000 --probes 300

Seeds (once, with one INSERT … SELECT generate_series, bounded by --seed-timeout seconds)
--open open cases marked `dupbench` spread over the demo city's categories, a 20 × 20 km box
and the last 30 days, with a few hundred distinct texts; then times
`workflows.selectors.hotline.duplicate_candidates` for --probes random open cases, and the
same two reads in plain SQL (bounding box + category + window; same category + window, newest
200, texts compared in Python) as the ceiling. Goal: p95 ≤ 20 ms. `--reset` removes the rows.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import database_label, django_setup, machine_note, percentile, table

GOAL_MS = 20.0
MARK = "dupbench"


def seed(n: int, timeout_s: int) -> int:
    from django.db import connection

    with connection.cursor() as c:
        c.execute("SELECT count(*) FROM workflows_case WHERE address = %s", [MARK])
        have = c.fetchone()[0]
        if have >= n:
            return have
        c.execute("SELECT id FROM workflows_category WHERE is_active ORDER BY id")
        cats = [r[0] for r in c.fetchall()]
        c.execute("SELECT id FROM departments_unit WHERE kind = 'city' ORDER BY id LIMIT 1")
        city = c.fetchone()[0]
        c.execute(f"SET statement_timeout = {int(timeout_s) * 1000}")
        c.execute(
            """
            INSERT INTO workflows_case (number, description, lat, lng, address, source,
                reporter_name, reporter_contact, urgency, stage, status, rework_count,
                archive_type, archive_reason, created_at, updated_at, city_id, category_id,
                extension_count)
            SELECT 'DUP-' || g, '路灯不亮第' || (g %% 500) || '号', 31.1 + random() * 0.18,
                121.3 + random() * 0.21, %s, 'hotline', '', '', 'normal', 'hl_intake', 'open',
                0, '', '', now() - random() * interval '30 days', now(), %s,
                (%s::bigint[])[1 + (g %% %s)], 0
            FROM generate_series(%s, %s) AS g
            """,
            [MARK, city, cats, len(cats), have + 1, n],
        )
        c.execute("SET statement_timeout = 0")
        c.execute("ANALYZE workflows_case")
    return n


def plain(c, case, days: int, radius: float):
    import datetime as dt
    import math

    since = case.created_at - dt.timedelta(days=days)
    dlat = radius / 111_320.0
    dlng = dlat / max(math.cos(math.radians(case.lat)), 0.01)
    c.execute(
        "SELECT id, lat, lng FROM workflows_case WHERE status = 'open' AND created_at >= %s"
        " AND id <> %s AND category_id = %s AND lat BETWEEN %s AND %s AND lng BETWEEN %s AND %s"
        " ORDER BY created_at DESC LIMIT 20",
        [
            since,
            case.pk,
            case.category_id,
            case.lat - dlat,
            case.lat + dlat,
            case.lng - dlng,
            case.lng + dlng,
        ],
    )
    c.fetchall()
    c.execute(
        "SELECT id, description FROM workflows_case WHERE status = 'open' AND created_at >= %s"
        " AND id <> %s AND category_id = %s ORDER BY created_at DESC LIMIT 200",
        [since, case.pk, case.category_id],
    )
    text = case.description
    return [r[0] for r in c.fetchall() if r[1] == text]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--open", type=int, default=200_000)
    parser.add_argument("--probes", type=int, default=300)
    parser.add_argument("--seed-timeout", type=int, default=300)
    parser.add_argument("--reset", action="store_true")
    args = parser.parse_args()
    django_setup()
    from django.conf import settings
    from django.db import connection

    from workflows.models import Case
    from workflows.selectors.hotline import duplicate_candidates

    if args.reset:
        Case.objects.filter(address=MARK).delete()
        return
    started = time.perf_counter()
    total = seed(args.open, args.seed_timeout)
    print(
        f"Database {database_label()}: {total} open bench cases (seeded in "
        f"{time.perf_counter() - started:.1f} s); {machine_note()}"
    )
    ids = list(Case.objects.filter(address=MARK).values_list("pk", flat=True)[:20000])
    probes = list(Case.objects.filter(pk__in=random.Random(1).sample(ids, args.probes)))
    days, radius = settings.CITYOPS_DUPLICATE_DAYS, settings.CITYOPS_DUPLICATE_METRES
    duplicate_candidates(probes[0])  # warm-up
    ours, ceiling, found = [], [], 0
    with connection.cursor() as c:
        for case in probes:
            t = time.perf_counter()
            found += len(duplicate_candidates(case))
            ours.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            plain(c, case, days, radius)
            ceiling.append((time.perf_counter() - t) * 1000)
    rows = [
        [name, len(v), round(percentile(v, 50), 2), round(percentile(v, 95), 2)]
        for name, v in (("CityOps duplicate_candidates", ours), ("plain SQL ceiling", ceiling))
    ]
    print(table(["path", "probes", "p50 ms", "p95 ms"], rows))
    p95 = percentile(ours, 95)
    verdict = "met" if p95 <= GOAL_MS else "MISSED"
    print(
        f"candidates found: {found}; p95 {p95:.2f} ms (goal <= {GOAL_MS:.0f} ms: {verdict}); "
        f"ratio to the ceiling's p95: {p95 / percentile(ceiling, 95):.2f}x"
    )


if __name__ == "__main__":
    main()
