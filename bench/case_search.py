"""Case search at a city's scale: number lookup, free text (Chinese words of 2 and 4
characters), reporter phone, a filtered list, each as the post that would run it, timed at
the query (the selector: filters, access rule, one keyset page of 25 rows read with their
category and units), through the API (GET /api/v1/cases/ with a token, in process), and as
a plain-SQL ceiling (one hand-written statement giving the same page, same access rule).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cityops_bench_search \\
        .venv/bin/python bench/seed_tasks.py --tasks 1000000 --reset
    DATABASE_URL=… .venv/bin/python manage.py migrate      # the n-gram column and index
    DATABASE_URL=… .venv/bin/python bench/case_search.py [--runs 40]

Goals (issue 10): p95 ≤ 50 ms at the query, ≤ 100 ms through the API.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import Timings, database_label, django_setup, machine_note, prepared_note, table

QUERY_GOAL_MS = 50.0
API_GOAL_MS = 100.0
PAGE = 25
FEW_TASKS_USER = "bench_handler_fire_1"


@dataclass
class Scenario:
    name: str
    user: str
    params: dict


def scenarios() -> list[Scenario]:
    from django.db import connection

    with connection.cursor() as c:
        c.execute("SELECT number FROM workflows_case ORDER BY id DESC OFFSET 5000 LIMIT 1")
        number = c.fetchone()[0]
        c.execute(
            "SELECT reporter_contact FROM workflows_case WHERE reporter_contact <> '' "
            "ORDER BY id DESC OFFSET 3000 LIMIT 1"
        )
        phone = c.fetchone()[0]
        # The first year's numbers: a prefix of old cases, which a walk of the newest misses.
        c.execute("SELECT min(number) FROM workflows_case")
        first_year = c.fetchone()[0][:4]
    return [
        Scenario("number lookup", "intake", {"number": number}),
        Scenario("reporter phone", "intake", {"phone": phone}),
        Scenario("text, 2 characters (垃圾)", "dispatcher", {"q": "垃圾"}),
        Scenario("text, 4 characters (井盖缺失)", "dispatcher", {"q": "井盖缺失"}),
        Scenario("text, 2 words (东华路 积水)", "dispatcher", {"q": "东华路 积水"}),
        Scenario("text as a handler (垃圾)", "handler_sani", {"q": "垃圾"}),
        Scenario(
            "filtered: open, SANI, overdue",
            "supervisor",
            {"status": "open", "unit": "SANI", "sla": "overdue"},
        ),
        Scenario(
            "filtered: district D01, handling, 2 weeks",
            "supervisor",
            {"area": "D01", "stage": "handling", "reported_after": "", "sort": "-created"},
        ),
        Scenario("sorted: due soonest", "supervisor", {"sort": "due"}),
        Scenario("sorted: open, due soonest", "dispatcher", {"status": "open", "sort": "due"}),
        Scenario("filtered: clock stopped", "supervisor", {"sla": "paused"}),
        # A handler of a small unit (FIRE): their posts hold about 1,900 of the 1M tasks.
        Scenario("list as a handler with few tasks", FEW_TASKS_USER, {}),
        Scenario(
            f"number prefix, first year ({first_year}-00)", "intake", {"number": f"{first_year}-00"}
        ),
    ]


def run_query(user, params: dict) -> int:
    from django.http import QueryDict

    from workflows.selectors.case_search import case_search, case_search_page

    query = QueryDict(mutable=True)
    query.update(params)
    search = case_search(user, query)
    if not search.is_valid():
        raise SystemExit(f"invalid search {params}: {search.errors}")
    return len(case_search_page(search, limit=PAGE).rows)


def ceiling_statement(user, params: dict) -> tuple[str, list]:
    """The same page as one statement written by hand: the filtered, visible cases with
    their category and units, in the search's order."""
    from django.http import QueryDict

    from workflows.selectors.case_search import case_search, search_order_by

    query = QueryDict(mutable=True)
    query.update(params)
    search = case_search(user, query)
    search.is_valid()
    expression, order = search_order_by(search)
    # The filter and the access rule as the selector builds them, compiled once; the rows
    # come back as tuples (no model instances), which is what a hand-written reader does.
    qs = (
        search.qs.alias(sort_value=expression)
        .order_by(*order)
        .values_list(
            "id",
            "number",
            "description",
            "address",
            "stage",
            "status",
            "created_at",
            "due_at",
            "category__code",
            "category__name",
            "area__name",
            "responsible_unit__name",
        )[:PAGE]
    )
    sql, sql_params = qs.query.sql_with_params()
    return sql, list(sql_params)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--only", default="", help="run the scenarios whose name holds this")
    args = parser.parse_args()
    django_setup()

    import datetime as dt

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone
    from rest_framework.test import APIClient

    from workflows.integrations.tokens import token_issue

    with connection.cursor() as c:
        c.execute("SELECT count(*), count(*) FILTER (WHERE status = 'open') FROM workflows_case")
        cases, open_cases = c.fetchone()
        c.execute("SELECT count(*) FROM workflows_casetask")
        tasks = c.fetchone()[0]
    print(f"Database {database_label()}: {cases} cases ({open_cases} open), {tasks} tasks")
    print(prepared_note(False))
    print(machine_note())
    two_weeks = (timezone.localdate() - dt.timedelta(days=14)).isoformat()

    users = get_user_model().objects
    rows = []
    for scenario in scenarios():
        if args.only not in scenario.name:
            continue
        params = {
            k: (two_weeks if k == "reported_after" else v) for k, v in scenario.params.items()
        }
        user = users.get(username=scenario.user)
        found = run_query(user, params)
        query = Timings.measure(
            lambda user=user, params=params: run_query(user, params), args.runs, warmup=3
        )

        # A token the way the API issues it (knox: stored as a digest, with an expiry).
        token, _expiry = token_issue(user)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")

        def api_call(client=client, params=params):
            response = client.get("/api/v1/cases/", {**params, "limit": PAGE})
            assert response.status_code == 200, response.content[:300]

        api = Timings.measure(api_call, args.runs, warmup=3)

        sql, sql_params = ceiling_statement(user, params)

        def plain(sql=sql, sql_params=sql_params):
            with connection.cursor() as c:
                c.execute(sql, sql_params)
                c.fetchall()

        ceiling = Timings.measure(plain, args.runs, warmup=3)
        rows.append(
            [
                scenario.name,
                scenario.user,
                found,
                ceiling.p50,
                ceiling.p95,
                query.p50,
                query.p95,
                api.p50,
                api.p95,
                query.p50 / ceiling.p50,
            ]
        )
        print(f"  {scenario.name}: query p95 {query.p95:.1f} ms, API p95 {api.p95:.1f} ms")

    print()
    print(
        table(
            [
                "search",
                "as",
                "rows",
                "SQL p50",
                "SQL p95",
                "query p50",
                "query p95",
                "API p50",
                "API p95",
                "query/SQL",
            ],
            rows,
        )
    )
    worst_query = max(r[6] for r in rows)
    worst_api = max(r[8] for r in rows)
    ratios = sorted(r[9] for r in rows)
    print()
    print(
        f"Query p50 / plain-SQL ceiling p50: median {ratios[len(ratios) // 2]:.2f}, "
        f"worst {ratios[-1]:.2f} (the selector's own work: filter form, access rule, ORM)"
    )
    print(
        f"Goal: query p95 ≤ {QUERY_GOAL_MS:.0f} ms: worst {worst_query:.1f} ms "
        f"({'met' if worst_query <= QUERY_GOAL_MS else 'NOT met'}); "
        f"API p95 ≤ {API_GOAL_MS:.0f} ms: worst {worst_api:.1f} ms "
        f"({'met' if worst_api <= API_GOAL_MS else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
