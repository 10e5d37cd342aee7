"""End-to-end throughput: whole cases through the services, against a plain-SQL ceiling.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cityops_bench \
        .venv/bin/python bench/lifecycle.py --clients 4 --cases 25

CityOps: each of --clients processes (own database connection; --threads: threads of one
process) reports --cases cases
(`case_report`, as `inspector`) and walks each through intake → filing → dispatch → handling
(with an after-photo) → check → closing, claiming and completing every task through
`task_claim` / `task_complete` as the demo user of the stage.

Plain SQL: the same clients and number of cases through scratch tables of its own
(bench_process, bench_task, bench_event): per case one transaction inserting the process, its
first task and an event; per task a conditional claim
(UPDATE … SET owner … WHERE id = … AND owner IS NULL, committed), then one transaction that
locks the process (SELECT … FOR UPDATE), finishes the task, inserts an event and the next task.

Prints cases/s both ways, the ratio (goal: CityOps >= 15% of plain SQL), and the SQL statements
per completed task (claim + complete of one task) on the CityOps path, measured on separate
single-thread cases so that counting does not disturb the timed runs (--hotline: statements per
order, by stage). The two runs take turns
--rounds times (3): the host's speed drifts by up to a third between runs seconds apart, so
the ratio printed is the median round's, each round's ratio beside it.

--both runs the case mode and the hotline in turn within each round and compares the two
ratios round by round (the issue's goal: the hotline at least at the case mode's ratio); the
drift between rounds, larger than the difference sought, then cancels out.
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import (
    BackendMeter,
    database_label,
    django_setup,
    machine_note,
    percentile,
    prepared_note,
    table,
    thread_cpu,
)
from lifecycle_clients import Client, Run, Worker, run_clients
from lifecycle_plain import conninfo, plain_case, plain_setup, plain_worker

GOAL_RATIO = 0.15
# A real 8x8 PNG: uploads are decoded and re-encoded (workflows/services/photos.py).
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000008000000080800000000e164e157000000104944415478"
    "9c639cc000014c0c1431002a7800a0585cbf1d0000000049454e44ae426082"
)
# (stage, demo user, outcome, data, with an after-photo)
STEPS = [
    ("intake", "intake", "accept", {}, False),
    ("filing", "shiftlead", "file", {}, False),
    ("dispatch", "dispatcher", "dispatch", {}, False),
    ("handling", "handler_sani", "done", {"result": "已清理 cleaned up"}, True),
    ("check", "inspector", "pass", {}, False),
    ("closing", "shiftlead", "close", {}, False),
]
USERNAMES = sorted({"inspector", *(s[1] for s in STEPS)})


# --- CityOps -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    category_id: int
    lat: float
    lng: float


def scenario() -> Scenario:
    """A category handled by SANI (handler_sani's unit) and a point inside the demo grid."""
    from departments.models import GridCell, Unit
    from workflows.models import Category

    city = Unit.objects.get(code="DEMO")
    category = (
        Category.objects.filter(
            is_active=True, default_unit__code="SANI", scheme_id=city.category_scheme_id
        )
        .order_by("code")
        .first()
    )
    cell = GridCell.objects.order_by("code").first()
    if category is None or cell is None:
        sys.exit("The demo city is missing: run `manage.py seed_demo` first.")
    return Scenario(category.pk, cell.centre_lat, cell.centre_lng)


def demo_users() -> dict:
    from django.contrib.auth import get_user_model

    users = {u.username: u for u in get_user_model().objects.filter(username__in=USERNAMES)}
    missing = set(USERNAMES) - set(users)
    if missing:
        sys.exit(f"Demo users missing ({', '.join(sorted(missing))}): run seed_demo.")
    return users


@functools.cache
def open_task_of_case():
    """The read of a case's open task with its case and the case's process (whose flow class
    gives the lock), compiled once per thread, as the API reads the task it acts on."""
    from cityops.compiled_queries import CompiledGet
    from workflows.models import CaseTask, TaskStatus

    return CompiledGet(
        lambda case_id: CaseTask.objects.select_related("case__process").filter(
            case_id=case_id, status=TaskStatus.OPEN
        )
    )


def cityops_case(s: Scenario, users: dict, mark: Callable[[str], None] = lambda _: None) -> None:
    """One case from report to close through the services; `mark` names each phase."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from workflows.services.cases import CaseReport, case_report
    from workflows.services.outcomes import task_complete
    from workflows.services.tasks import task_claim

    mark("report")
    case = case_report(
        actor=users["inspector"],
        report=CaseReport(
            category=s.category_id,
            description="暴露垃圾 bench lifecycle",
            source="inspector",
            lat=s.lat,
            lng=s.lng,
        ),
    )
    for stage, username, outcome, data, photo in STEPS:
        actor = users[username]
        mark(f"{stage} lookup")
        # The task as a client holds it: the row with its case, read the way the API reads
        # the task it acts on (a statement compiled once, see selectors.tasks.task_to_act_on).
        task = open_task_of_case().get(case.pk)
        if task.stage != stage:
            raise RuntimeError(f"case {case.number}: expected {stage}, found {task.stage}")
        mark(f"{stage} claim")
        task_claim(actor=actor, task=task)
        mark(f"{stage} complete")
        photos = [SimpleUploadedFile("after.png", PNG, "image/png")] if photo else ()
        task_complete(actor=actor, task=task, outcome=outcome, data=dict(data), photos=photos)
    mark("")


def cityops_worker(s, cases: int, run_case=None, users_of=None) -> Worker:
    run_case, users_of = run_case or cityops_case, users_of or demo_users

    def worker(_index: int, barrier) -> Client:
        from django.db import connection, connections

        client = Client()
        try:
            users = users_of()  # this client's own objects (and connection)
            with connection.cursor() as c:
                c.execute("SELECT pg_backend_pid()")
                meter = BackendMeter(c.fetchone()[0])
            barrier.wait()
            cpu = thread_cpu()
            for _ in range(cases):
                started = time.perf_counter()
                try:
                    run_case(s, users)
                except Exception as exc:  # counted and shown; the run goes on
                    client.failed(exc)
                    continue
                client.case_seconds.append(time.perf_counter() - started)
            client.cpu = thread_cpu() - cpu
            client.server_cpu = meter.stop()
        finally:
            connections.close_all()
        return client

    return worker


class StatementCounter:
    """Counts the statements Django sends, by phase (see cityops_case's `mark`)."""

    def __init__(self) -> None:
        self.phase = ""
        self.by_phase: Counter[str] = Counter()
        self.by_kind: dict[str, Counter[str]] = {}
        self.texts: Counter[tuple[str, str]] = Counter()

    def mark(self, phase: str) -> None:
        self.phase = phase

    def __call__(self, execute, sql, params, many, context):
        kind = sql.split(None, 1)[0].upper() if sql.strip() else "?"
        self.by_phase[self.phase] += 1
        self.by_kind.setdefault(self.phase, Counter())[kind] += 1
        self.texts[(self.phase.split(" ")[-1], _shape(sql))] += 1
        return execute(sql, params, many, context)


def _shape(sql: str) -> str:
    sql = " ".join(sql.split())
    head, _sep, tail = sql.partition(" FROM ")
    if head.startswith("SELECT") and tail:
        sql = f"SELECT … FROM {tail}"
    return sql[:150]


def count_statements(s: Scenario, cases: int) -> StatementCounter:
    from django.db import connection

    counter = StatementCounter()
    users = demo_users()
    with connection.execute_wrapper(counter):
        for _ in range(cases):
            cityops_case(s, users, counter.mark)
    return counter


def count_order_statements(s, order_fn, users: dict, orders: int) -> StatementCounter:
    """The statements of `orders` single-thread hotline orders, by phase."""
    from django.db import connection

    counter = StatementCounter()
    with connection.execute_wrapper(counter):
        for _ in range(orders):
            order_fn(s, users, counter.mark)
    return counter


def order_statements_report(counter: StatementCounter, orders: int) -> str:
    """Statements per hotline order: the report, each stage's completions, the lookups."""
    parts: Counter[str] = Counter()
    stages: Counter[str] = Counter()
    for phase, n in counter.by_phase.items():
        stage, _sep, kind = phase.rpartition(" ")
        parts[kind or phase] += n
        if kind == "complete":
            stages[stage] += n
    total = sum(parts.values()) / orders
    each = ", ".join(f"{stage} {n / orders:.1f}" for stage, n in stages.items())
    return (
        f"SQL statements per order (averaged over {orders} single-thread orders; BEGIN/COMMIT "
        f"not counted): {total:.1f} = report {parts['report'] / orders:.1f} + completions "
        f"{parts['complete'] / orders:.1f} ({each}) + the client's lookups "
        f"{parts['lookup'] / orders:.1f}"
    )


def statements_report(counter: StatementCounter, cases: int) -> str:
    rows, claim_total, complete_total = [], 0, 0
    for stage, *_ in STEPS:
        claim = counter.by_phase[f"{stage} claim"] / cases
        complete = counter.by_phase[f"{stage} complete"] / cases
        lookup = counter.by_phase[f"{stage} lookup"] / cases
        claim_total += claim
        complete_total += complete
        kinds = counter.by_kind.get(f"{stage} claim", Counter()) + counter.by_kind.get(
            f"{stage} complete", Counter()
        )
        detail = ", ".join(f"{k} {v / cases:.1f}" for k, v in kinds.most_common())
        rows.append([stage, claim, complete, claim + complete, lookup, detail])
    per_task = (claim_total + complete_total) / len(STEPS)
    out = [
        "SQL statements per completed task (claim + complete), CityOps path "
        f"(averaged over {cases} single-thread cases; BEGIN/COMMIT not counted):",
        table(["stage", "claim", "complete", "total", "lookup", "by kind"], rows),
        f"  report (case_report): {counter.by_phase['report'] / cases:g} statements per case",
        f"  => {per_task:.1f} statements per completed task "
        f"({claim_total / len(STEPS):.1f} claim + {complete_total / len(STEPS):.1f} complete)",
        "",
        "Statements repeated within one completed task (claim + complete), per task:",
    ]
    tasks = cases * len(STEPS)
    repeated = [
        (n / tasks, phase, shape)
        for (phase, shape), n in counter.texts.items()
        if phase in ("claim", "complete")
    ]
    for n, phase, shape in sorted(repeated, reverse=True)[:25]:
        out.append(f"  {n:4.2f}  {phase:8} {shape}")
    return "\n".join(out)


# --- main ----------------------------------------------------------------------------------


def describe(name: str, run: Run) -> list[object]:
    seconds = run.case_seconds or [0.0]
    per_case = 1000 / run.cases if run.cases else 0.0
    return [
        name,
        run.cases,
        len(run.errors),
        run.elapsed,
        run.rate,
        1000 * percentile(seconds, 50),
        1000 * percentile(seconds, 95),
        run.client_cpu * per_case,
        None if run.server_cpu is None else run.server_cpu * per_case,
    ]


@dataclass(frozen=True)
class Mode:
    """One lifecycle the bench runs: its CityOps path and its plain-SQL ceiling."""

    name: str
    scenario: object
    run_case: Callable
    users_of: Callable
    plain_case: Callable
    steps: int
    hotline: bool = False

    def count(self, cases: int) -> StatementCounter:
        if self.hotline:
            return count_order_statements(self.scenario, self.run_case, self.users_of(), cases)
        return count_statements(self.scenario, cases)

    def report(self, counter: StatementCounter, cases: int) -> str:
        return (order_statements_report if self.hotline else statements_report)(counter, cases)


def modes(hotline: bool, both: bool) -> list[Mode]:
    found = []
    if both or not hotline:
        found.append(Mode("case", scenario(), cityops_case, demo_users, plain_case, len(STEPS)))
    if both or hotline:
        import lifecycle_hotline as hl

        found.append(
            Mode(
                "hotline",
                hl.hotline_scenario(),
                hl.cityops_order,
                hl.hotline_users,
                hl.plain_order,
                len(hl.HOTLINE_STEPS),
                hotline=True,
            )
        )
    return found


Round = tuple[Run, "Run | None"]


def median_ratio(rounds: list[Round]):
    """(ratio, CityOps run, plain run) of the median round (the lower middle), the ratios
    sorted; None without a plain run."""
    ratios = sorted(
        (c.rate / p.rate, c, p) for c, p in rounds if p is not None and p.rate and c.rate
    )
    return (ratios[(len(ratios) - 1) // 2], ratios) if ratios else (None, [])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients")
    parser.add_argument(
        "--threads",
        action="store_true",
        help="clients are threads of this process (default: one process per client)",
    )
    parser.add_argument("--cases", type=int, default=25, help="cases per client")
    parser.add_argument("--count-cases", type=int, default=3, help="cases for statement counts")
    parser.add_argument("--skip-plain", action="store_true")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="CityOps then the plain-SQL ceiling, this many times: the ratio is the median "
        "round's (the host's speed drifts between runs a few seconds apart)",
    )
    parser.add_argument(
        "--hotline", action="store_true", help="12345 orders (bench/lifecycle_hotline.py)"
    )
    parser.add_argument(
        "--both",
        action="store_true",
        help="the case mode and the hotline in turn within each round, and the hotline's "
        "ratio against the case mode's, round by round",
    )
    parser.add_argument(
        "--prepared", action="store_true", help="server-side binding + prepared statements"
    )
    args = parser.parse_args()
    django_setup(media_root=True, prepared=args.prepared)

    from django.conf import settings
    from django.db import connection

    with connection.cursor() as c:
        c.execute("SELECT COUNT(*) FROM workflows_casetask")
        loaded = c.fetchone()[0]
    total = args.clients * args.cases
    print(
        f"Database {database_label()} ({loaded} tasks loaded); {args.clients} client "
        f"{'threads' if args.threads else 'processes'} x "
        f"{args.cases} cases = {total} cases each way; {prepared_note(args.prepared)}"
    )
    print(machine_note())
    chosen = modes(args.hotline, args.both)
    counters: dict[str, StatementCounter] = {}
    rounds: dict[str, list[Round]] = {m.name: [] for m in chosen}
    try:
        for mode in chosen:
            mode.run_case(mode.scenario, mode.users_of())  # warm-up: imports, flow, caches
            counters[mode.name] = mode.count(args.count_cases)
        connection.close()
        dsn = None if args.skip_plain else conninfo()
        for _ in range(args.rounds):
            for mode in chosen:
                worker = cityops_worker(mode.scenario, args.cases, mode.run_case, mode.users_of)
                cityops = run_clients(args.clients, worker, not args.threads)
                plain = None
                if dsn is not None:
                    plain_setup(dsn)
                    plain = run_clients(
                        args.clients,
                        plain_worker(dsn, args.cases, mode.plain_case),
                        not args.threads,
                    )
                rounds[mode.name].append((cityops, plain))
    finally:
        shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)

    rows = []
    for n in range(args.rounds):
        for mode in chosen:
            cityops, plain = rounds[mode.name][n]
            label = (f"{mode.name} " if len(chosen) > 1 else "") + (
                f"#{n + 1}" if args.rounds > 1 else ""
            )
            rows.append(describe(f"CityOps (services) {label}".strip(), cityops))
            if plain is not None:
                rows.append(describe(f"plain SQL ceiling {label}".strip(), plain))
    print()
    headers = ["path", "cases", "errors", "seconds", "cases/s", "case p50 ms", "case p95 ms"]
    print(table([*headers, "client CPU ms/case", "PostgreSQL CPU ms/case"], rows))
    print(
        "(client CPU: the clients' own threads, summed; PostgreSQL CPU: the clients' "
        f"backend processes, read from /proc when the server is local; {os.cpu_count()} cores)"
    )
    for mode in chosen:
        for n, (cityops, plain) in enumerate(rounds[mode.name], 1):
            for run, name in ((cityops, "CityOps"), (plain, "plain SQL")):
                if run and run.errors:
                    print(
                        f"{mode.name} round {n}, {name} errors ({len(run.errors)}), "
                        f"first: {run.errors[0]}"
                    )
    for mode in chosen:
        median, ratios = median_ratio(rounds[mode.name])
        if median is None:
            continue
        ratio, cityops, plain = median
        verdict = "met" if ratio >= GOAL_RATIO else "MISSED"
        each = ", ".join(f"{100 * r:.1f}%" for r, _c, _p in ratios)
        print(
            f"\n{mode.name}: CityOps / plain SQL, the median of {len(ratios)} round(s) ({each}): "
            f"{cityops.rate:.1f} / {plain.rate:.1f} cases/s = "
            f"{100 * ratio:.1f}% (goal >= {100 * GOAL_RATIO:.0f}%: {verdict}); "
            f"tasks/s {cityops.rate * mode.steps:.0f} vs {plain.rate * mode.steps:.0f}"
        )
    if len(chosen) == 2 and not args.skip_plain:
        print()
        print(compare_report(rounds["case"], rounds["hotline"]))
    for mode in chosen:
        print()
        print(mode.report(counters[mode.name], args.count_cases))


def compare_report(case: list[Round], hotline: list[Round]) -> str:
    """The hotline's ratio against the case mode's, round by round (the two ran seconds apart
    in each round, so the host's drift between rounds cancels out)."""
    pairs = [
        (h.rate / hp.rate, c.rate / cp.rate)
        for (c, cp), (h, hp) in zip(case, hotline, strict=True)
        if cp and hp and cp.rate and hp.rate
    ]
    if not pairs:
        return "hotline against the case mode: no rounds to compare"
    differences = sorted(100 * (h - c) for h, c in pairs)
    at_least = sum(1 for h, c in pairs if h >= c)
    each = ", ".join(f"{100 * h:.1f}/{100 * c:.1f}" for h, c in pairs)
    return (
        f"hotline against the case mode, round by round (hotline/case %: {each}): the "
        f"hotline's ratio is at least the case mode's in {at_least} of {len(pairs)} rounds; "
        f"median difference {percentile(differences, 50):+.1f} points "
        f"(range {differences[0]:+.1f} to {differences[-1]:+.1f})"
    )


if __name__ == "__main__":
    main()
