"""Task-list latency at scale: Queue, Inbox and Done, first page and a deep page.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cityops_bench \
        .venv/bin/python bench/tasklists.py            # after bench/seed_tasks.py

For each user (default: handler_sani, several (unit, role) pairs; dispatcher, one pair with a
large queue) and each list it times, over --runs runs (p50 / p95, milliseconds):

  ORM  workflows.selectors.tasks.task_list(user, scope, cursor) - the selector with Django's
       ORM overhead (the user's scope is cached on the user object, as within one request);
  SQL  the statements task_list ran, captured and re-executed as they are with cursor.execute
       (database time plus the driver's round trips, no ORM);
  API  GET /api/v1/tasks/?scope=…&cursor=… through the in-process test client with token
       authentication (full request: middleware, auth, scope, selector, serializer, JSON).

The deep page is page --deep (default 200), reached by following the keyset cursor from page 1.
Then the EXPLAIN (ANALYZE, BUFFERS) of the queue queries, and viewflow's own queue query for
comparison (OR over owner_permission, offset paging, COUNT).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import Timings, database_label, django_setup, machine_note, prepared_note, table

GOALS = {"queue_p1_sql_p95": 5.0, "queue_p1_api_p95": 50.0, "deep_over_first": 1.5}


@dataclass
class Page:
    user: str
    scope: str
    number: int
    cursor: str | None  # selector cursor that starts this page
    api_cursor: str | None  # the API's own cursor for it (from its `next` links)


@dataclass
class Result:
    page: Page
    rows: int
    queries: int
    orm: Timings
    sql: Timings
    api: Timings | None


def captured(fn: Callable[[], object]) -> list[tuple[str, object]]:
    """The (sql, params) pairs fn runs."""
    from django.db import connection

    seen: list[tuple[str, object]] = []

    def wrapper(execute, sql, params, many, context):
        seen.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        fn()
    return seen


def run_sql(statements: list[tuple[str, object]]) -> None:
    from django.db import connection

    with connection.cursor() as c:
        for sql, params in statements:
            c.execute(sql, params)
            c.fetchall()


class Api:
    """The task-list endpoint through DRF's in-process client, authenticated by token."""

    URL = "/api/v1/tasks/"

    def __init__(self) -> None:
        from rest_framework.test import APIClient

        self.client = APIClient()
        self.note = ""

    def login(self, user) -> None:
        from workflows.integrations.tokens import token_issue

        token, _expiry = token_issue(user)
        self.client.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    def get(self, scope: str, cursor: str | None, limit: int):
        params = {"scope": scope, "limit": limit} | ({"cursor": cursor} if cursor else {})
        return self.client.get(self.URL, params)

    def available(self, user, limit: int) -> bool:
        self.login(user)
        response = self.get("queue", None, limit)
        if response.status_code == 404:
            self.note = f"{self.URL} answers 404: the API is not there yet, API column skipped."
        elif response.status_code != 200:
            self.note = f"{self.URL} answers {response.status_code}: API column skipped."
        return response.status_code == 200

    @staticmethod
    def next_cursor(response) -> str | None:
        data = response.json()
        nxt = data.get("next") or data.get("next_cursor") if isinstance(data, dict) else None
        if not nxt:
            return None
        if "cursor=" in nxt:
            return parse_qs(urlsplit(nxt).query)["cursor"][0]
        return nxt


def pages_for(user, scope: str, deep: int, limit: int, api: Api | None) -> list[Page]:
    """Page 1 and page `deep` (when the list is that long), by following the cursors."""
    from workflows.selectors.tasks import task_list

    cursor, api_cursor = None, None
    pages = [Page(user.username, scope, 1, None, None)]
    if deep <= 1:
        return pages
    for _n in range(2, deep + 1):
        cursor = task_list(user, scope, cursor, limit).next_cursor
        if api is not None:
            api_cursor = api.next_cursor(api.get(scope, api_cursor, limit))
        if cursor is None:
            return pages
    pages.append(Page(user.username, scope, deep, cursor, api_cursor))
    return pages


def measure(user, page: Page, runs: int, limit: int, api: Api | None) -> Result:
    from workflows.selectors.tasks import task_list

    def orm():
        return task_list(user, page.scope, page.cursor, limit)

    rows = len(orm().rows)
    statements = captured(orm)
    result = Result(
        page,
        rows,
        len(statements),
        Timings.measure(orm, runs),
        Timings.measure(lambda: run_sql(statements), runs),
        None,
    )
    if api is not None:
        api.login(user)
        cursor = page.api_cursor if page.number > 1 else None

        def call():
            response = api.get(page.scope, cursor, limit)
            assert response.status_code == 200, response.status_code
            return response

        result.api = Timings.measure(call, runs)
    return result


def explain(statements: list[tuple[str, object]], title: str) -> str:
    from django.db import connection

    out = []
    with connection.cursor() as c:
        for sql, params in statements:
            c.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            plan = "\n".join("    " + r[0] for r in c.fetchall())
            # Only psycopg's client-side cursor can inline the parameters (no mogrify with
            # server-side binding, the settings' default).
            mogrify = getattr(c.cursor, "mogrify", None)
            text = mogrify(sql, params) if mogrify else f"{sql}  -- parameters {list(params)}"
            out.append(f"  -- {title}\n  {abbreviated(text)}\n{plan}")
    return "\n".join(out)


def abbreviated(sql: str) -> str:
    """The statement with a long select list cut short (the row fetch selects ~90 columns)."""
    head, _sep, tail = sql.partition(" FROM ")
    if head.startswith("SELECT ") and head.count(",") > 12:
        return f"SELECT <{head.count(',') + 1} columns> FROM {tail}"
    return sql


def plan_verdict(plan: str) -> str:
    uses = "casetask_queue" in plan
    seq = "Seq Scan on workflows_casetask" in plan
    return (
        f"uses casetask_queue: {'yes' if uses else 'NO'}; "
        f"Seq Scan on workflows_casetask: {'YES' if seq else 'no'}"
    )


def viewflow_queue(user, runs: int) -> list[list[object]]:
    """Viewflow's own queue for the same user: OR over owner_permission, process join."""
    from viewflow.workflow.models import Task

    from workflows.flows.case_flow import CaseFlow

    qs = Task.objects.coerce_for([CaseFlow]).user_queue(user).filter(status="NEW")
    qs = qs.order_by("-created")
    rows = []
    for label, fn in [
        ("page 1 (LIMIT 25)", lambda: list(qs[:25])),
        ("page 200 (OFFSET 4975)", lambda: list(qs[4975:5000])),
        ("COUNT(*)", qs.count),
    ]:
        t = Timings.measure(fn, runs, warmup=1)
        rows.append([f"viewflow queue {user.username} {label}", t.p50, t.p95])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--deep", type=int, default=200, help="the deep page's number")
    parser.add_argument("--limit", type=int, default=25, help="page size")
    parser.add_argument("--users", nargs="+", default=["handler_sani", "dispatcher"])
    parser.add_argument("--viewflow-runs", type=int, default=3, help="0 skips viewflow's queue")
    parser.add_argument("--no-api", action="store_true")
    parser.add_argument(
        "--prepared", action="store_true", help="server-side binding + prepared statements"
    )
    args = parser.parse_args()
    django_setup(prepared=args.prepared)

    from django.contrib.auth import get_user_model
    from django.db import connection

    from departments.access import staff_scope

    with connection.cursor() as c:
        c.execute(
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE status = 'open') FROM workflows_casetask"
        )
        total, n_open = c.fetchone()
        c.execute("SHOW shared_buffers")
        buffers = c.fetchone()[0]
    print(
        f"Database {database_label()}: {total} tasks ({n_open} open), shared_buffers {buffers}; "
        f"{args.runs} runs per figure, page size {args.limit}, deep page {args.deep}; "
        f"{prepared_note(args.prepared)}"
    )
    print(machine_note())
    users = [get_user_model().objects.get(username=name) for name in args.users]
    api = None if args.no_api else Api()
    if api is not None and not api.available(users[0], args.limit):
        print("NOTE: " + api.note)
        api = None

    results: list[Result] = []
    for user in users:
        scope = staff_scope(user)
        print(f"{user.username}: {len(scope.pairs)} (unit, role) pairs {sorted(scope.pairs)}")
        for list_scope in ("queue", "inbox", "done"):
            deep = args.deep if list_scope != "inbox" else 1
            for page in pages_for(user, list_scope, deep, args.limit, api):
                started = time.perf_counter()
                results.append(measure(user, page, args.runs, args.limit, api))
                print(
                    f"  measured {list_scope} page {page.number} in "
                    f"{time.perf_counter() - started:.1f} s"
                )
            if list_scope != "inbox" and len(results) and results[-1].page.number == 1:
                print(f"  ({list_scope}: fewer than {args.deep} pages, no deep page)")

    print()
    print(report(results))
    print()
    print(ratios(results))
    print()
    print(goals(results))
    print()
    print("EXPLAIN (ANALYZE, BUFFERS) of the queue statements (ids, then rows):")
    from workflows.selectors.tasks import task_list

    for user in users:
        for page in [r.page for r in results if r.page.user == user.username]:
            if page.scope != "queue":
                continue
            statements = captured(
                lambda u=user, p=page: task_list(u, "queue", p.cursor, args.limit)
            )
            text = explain(statements, f"{user.username} queue page {page.number}")
            print(text)
            print(f"  => {plan_verdict(text)}\n")
    if args.viewflow_runs:
        rows = []
        for user in users:
            rows += viewflow_queue(user, args.viewflow_runs)
        print("For comparison, viewflow's own queue query (Task.objects.coerce_for([CaseFlow])")
        print(".user_queue(user).filter(status='NEW').order_by('-created')), ms:")
        print(table(["query", "p50", "p95"], rows))


def report(results: list[Result]) -> str:
    rows = []
    for r in results:
        rows.append(
            [
                f"{r.page.user} {r.page.scope} p{r.page.number}",
                r.rows,
                r.queries,
                r.orm.p50,
                r.orm.p95,
                r.sql.p50,
                r.sql.p95,
                r.api.p50 if r.api else None,
                r.api.p95 if r.api else None,
            ]
        )
    headers = ["list / page", "rows", "queries", "ORM p50", "ORM p95", "SQL p50", "SQL p95"]
    return "Milliseconds:\n" + table([*headers, "API p50", "API p95"], rows)


def ratios(results: list[Result]) -> str:
    rows = []
    firsts = {(r.page.user, r.page.scope): r for r in results if r.page.number == 1}
    for r in results:
        first = firsts[(r.page.user, r.page.scope)]
        if r.page.number == 1:
            continue
        row = [f"{r.page.user} {r.page.scope} p{r.page.number}/p1"]
        for name in ("orm", "sql", "api"):
            deep, top = getattr(r, name), getattr(first, name)
            row += [deep.p50 / top.p50, deep.p95 / top.p95] if deep and top else [None, None]
        rows.append(row)
    headers = ["ratio", "ORM p50", "ORM p95", "SQL p50", "SQL p95", "API p50", "API p95"]
    return "Deep page / first page:\n" + table(headers, rows)


def goals(results: list[Result]) -> str:
    lines = ["Goals:"]
    for r in results:
        if r.page.scope != "queue":
            continue
        who = f"{r.page.user} queue p{r.page.number}"
        if r.page.number == 1:
            ok = r.sql.p95 <= GOALS["queue_p1_sql_p95"]
            lines.append(
                f"  {who}: SQL p95 {r.sql.p95:.2f} ms <= 5 ms: {'met' if ok else 'MISSED'}"
                f" (ORM p95 {r.orm.p95:.2f} ms)"
            )
            if r.api:
                ok = r.api.p95 <= GOALS["queue_p1_api_p95"]
                lines.append(
                    f"  {who}: API p95 {r.api.p95:.2f} ms <= 50 ms: {'met' if ok else 'MISSED'}"
                )
        else:
            first = next(
                f
                for f in results
                if f.page.number == 1 and (f.page.user, f.page.scope) == (r.page.user, r.page.scope)
            )
            for name in ("sql", "orm", "api"):
                deep, top = getattr(r, name), getattr(first, name)
                if not (deep and top):
                    continue
                ratio = deep.p50 / top.p50
                ok = ratio <= GOALS["deep_over_first"]
                lines.append(
                    f"  {who}/p1 {name.upper()} p50 ratio {ratio:.2f} <= 1.5: "
                    f"{'met' if ok else 'MISSED'}"
                )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
