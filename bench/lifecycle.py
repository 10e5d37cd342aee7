"""End-to-end throughput: whole cases through the services, against a plain-SQL ceiling.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cityops_bench \
        .venv/bin/python bench/lifecycle.py --clients 4 --cases 25

CityOps: each of --clients threads (own database connection) reports --cases cases
(`case_report`, as `inspector`) and walks each through intake → filing → dispatch → handling
(with an after-photo) → check → closing, claiming and completing every task through
`task_claim` / `task_complete` as the demo user of the stage.

Plain SQL: the same threads and number of cases through scratch tables of its own
(bench_process, bench_task, bench_event): per case one transaction inserting the process, its
first task and an event; per task a conditional claim
(UPDATE … SET owner … WHERE id = … AND owner IS NULL, committed), then one transaction that
locks the process (SELECT … FOR UPDATE), finishes the task, inserts an event and the next task.

Prints cases/s both ways, the ratio (goal: CityOps >= 15% of plain SQL), and the SQL statements
per completed task (claim + complete of one task) on the CityOps path, measured on separate
single-thread cases so that counting does not disturb the timed runs.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import database_label, django_setup, machine_note, percentile, prepared_note, table

GOAL_RATIO = 0.15
PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64
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


@dataclass
class Run:
    """What the client threads of one run did."""

    elapsed: float = 0.0
    client_cpu: float = 0.0  # CPU seconds of this Python process (all client threads)
    server_cpu: float | None = 0.0  # CPU seconds of the clients' PostgreSQL backends
    cases: int = 0
    case_seconds: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def done(self, seconds: float) -> None:
        with self.lock:
            self.cases += 1
            self.case_seconds.append(seconds)

    def backend(self, seconds: float | None) -> None:
        """Add one client's backend CPU (None: not measurable, e.g. a remote server)."""
        with self.lock:
            if seconds is None or self.server_cpu is None:
                self.server_cpu = None
            else:
                self.server_cpu += seconds

    def failed(self, exc: BaseException) -> None:
        with self.lock:
            self.errors.append("".join(traceback.format_exception_only(type(exc), exc)).strip())

    @property
    def rate(self) -> float:
        return self.cases / self.elapsed if self.elapsed else 0.0


def run_threads(clients: int, worker: Callable[[int, Run, threading.Barrier], None]) -> Run:
    """Start the clients together; the clock runs from the barrier to the last one's end."""
    run = Run()
    barrier = threading.Barrier(clients + 1)
    threads = [threading.Thread(target=worker, args=(i, run, barrier)) for i in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    started, cpu = time.perf_counter(), process_cpu()
    for t in threads:
        t.join()
    run.elapsed = time.perf_counter() - started
    run.client_cpu = process_cpu() - cpu
    return run


def process_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def backend_cpu(pid: int) -> float | None:
    """CPU seconds used so far by a PostgreSQL backend on this machine (None if not local)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class BackendMeter:
    """The CPU one client's backend spends between start() and stop()."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.begin = backend_cpu(pid)

    def stop(self) -> float | None:
        end = backend_cpu(self.pid)
        return None if end is None or self.begin is None else end - self.begin


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


def cityops_case(s: Scenario, users: dict, mark: Callable[[str], None] = lambda _: None) -> None:
    """One case from report to close through the services; `mark` names each phase."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from workflows.models import CaseTask, TaskStatus
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
        # The task as a client holds it from its task list: the row with its case.
        task = CaseTask.objects.select_related("case").get(case_id=case.pk, status=TaskStatus.OPEN)
        if task.stage != stage:
            raise RuntimeError(f"case {case.number}: expected {stage}, found {task.stage}")
        mark(f"{stage} claim")
        task_claim(actor=actor, task=task)
        mark(f"{stage} complete")
        photos = [SimpleUploadedFile("after.png", PNG, "image/png")] if photo else ()
        task_complete(actor=actor, task=task, outcome=outcome, data=dict(data), photos=photos)
    mark("")


def cityops_worker(s: Scenario, cases: int):
    def worker(_index: int, run: Run, barrier: threading.Barrier) -> None:
        from django.db import connection, connections

        try:
            users = demo_users()  # this thread's own objects (and connection)
            with connection.cursor() as c:
                c.execute("SELECT pg_backend_pid()")
                meter = BackendMeter(c.fetchone()[0])
            barrier.wait()
            for _ in range(cases):
                started = time.perf_counter()
                try:
                    cityops_case(s, users)
                except Exception as exc:  # counted and shown; the run goes on
                    run.failed(exc)
                    continue
                run.done(time.perf_counter() - started)
            run.backend(meter.stop())
        finally:
            connections.close_all()

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


# --- plain SQL -----------------------------------------------------------------------------

PLAIN_SCHEMA = """
DROP TABLE IF EXISTS bench_event, bench_task, bench_process;
CREATE TABLE bench_process (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    status varchar(20) NOT NULL,
    created timestamptz NOT NULL,
    finished timestamptz,
    data jsonb NOT NULL DEFAULT '{}'
);
CREATE TABLE bench_task (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    process_id bigint NOT NULL REFERENCES bench_process (id),
    stage varchar(20) NOT NULL,
    role varchar(20) NOT NULL,
    unit_id bigint NOT NULL,
    status varchar(10) NOT NULL,
    owner_id integer,
    outcome varchar(20) NOT NULL DEFAULT '',
    created timestamptz NOT NULL,
    claimed timestamptz,
    finished timestamptz
);
CREATE INDEX bench_task_queue ON bench_task (unit_id, role, created, id) WHERE status = 'open';
CREATE INDEX bench_task_process ON bench_task (process_id);
CREATE TABLE bench_event (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    process_id bigint NOT NULL REFERENCES bench_process (id),
    task_id bigint REFERENCES bench_task (id),
    actor_id integer,
    action varchar(30) NOT NULL,
    created timestamptz NOT NULL,
    payload jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX bench_event_process ON bench_event (process_id, created);
"""
# (stage, role, unit id, actor id, outcome); next stage follows in order; ids are only labels.
PLAIN_STEPS = [
    ("intake", "intake", 2, 3, "accept"),
    ("filing", "shift_leader", 2, 4, "file"),
    ("dispatch", "dispatcher", 2, 5, "dispatch"),
    ("handling", "handler", 4, 7, "done"),
    ("check", "inspector", 22, 2, "pass"),
    ("closing", "shift_leader", 2, 4, "close"),
]


def conninfo() -> str:
    from django.db import connection

    s = connection.settings_dict
    parts = {"dbname": s["NAME"], "user": s["USER"], "password": s["PASSWORD"]}
    parts |= {"host": s["HOST"], "port": s["PORT"]}
    return " ".join(f"{k}={v}" for k, v in parts.items() if v)


def plain_case(db) -> None:
    """One case in plain SQL: report, then claim and complete each task."""
    with db.transaction(), db.cursor() as c:
        c.execute("INSERT INTO bench_process (status, created) VALUES ('NEW', now()) RETURNING id")
        process_id = c.fetchone()[0]
        stage, role, unit, _actor, _ = PLAIN_STEPS[0]
        c.execute(
            "INSERT INTO bench_task (process_id, stage, role, unit_id, status, created)"
            " VALUES (%s, %s, %s, %s, 'open', now()) RETURNING id",
            (process_id, stage, role, unit),
        )
        task_id = c.fetchone()[0]
        c.execute(
            "INSERT INTO bench_event (process_id, action, created, payload)"
            " VALUES (%s, 'report', now(), '{}')",
            (process_id,),
        )
    for i, (_stage, _role, _unit, actor, outcome) in enumerate(PLAIN_STEPS):
        with db.transaction(), db.cursor() as c:
            c.execute(
                "UPDATE bench_task SET owner_id = %s, status = 'claimed', claimed = now()"
                " WHERE id = %s AND owner_id IS NULL",
                (actor, task_id),
            )
            if c.rowcount != 1:
                raise RuntimeError(f"task {task_id} already taken")
        with db.transaction(), db.cursor() as c:
            c.execute("SELECT id FROM bench_process WHERE id = %s FOR UPDATE", (process_id,))
            c.execute(
                "UPDATE bench_task SET status = 'done', outcome = %s, finished = now()"
                " WHERE id = %s AND owner_id = %s AND status = 'claimed'",
                (outcome, task_id, actor),
            )
            if c.rowcount != 1:
                raise RuntimeError(f"task {task_id} is not {actor}'s to complete")
            c.execute(
                "INSERT INTO bench_event (process_id, task_id, actor_id, action, created)"
                " VALUES (%s, %s, %s, %s, now())",
                (process_id, task_id, actor, outcome),
            )
            if i + 1 < len(PLAIN_STEPS):
                nstage, nrole, nunit, _, _ = PLAIN_STEPS[i + 1]
                c.execute(
                    "INSERT INTO bench_task (process_id, stage, role, unit_id, status, created)"
                    " VALUES (%s, %s, %s, %s, 'open', now()) RETURNING id",
                    (process_id, nstage, nrole, nunit),
                )
                task_id = c.fetchone()[0]
            else:
                c.execute(
                    "UPDATE bench_process SET status = 'DONE', finished = now() WHERE id = %s",
                    (process_id,),
                )


def plain_worker(dsn: str, cases: int):
    def worker(_index: int, run: Run, barrier: threading.Barrier) -> None:
        import psycopg

        with psycopg.connect(dsn) as db:
            meter = BackendMeter(db.info.backend_pid)
            barrier.wait()
            for _ in range(cases):
                started = time.perf_counter()
                try:
                    plain_case(db)
                except Exception as exc:  # counted and shown; the run goes on
                    run.failed(exc)
                    continue
                run.done(time.perf_counter() - started)
            run.backend(meter.stop())

    return worker


def plain_setup(dsn: str) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as db:
        db.execute(PLAIN_SCHEMA)


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=4, help="concurrent client threads")
    parser.add_argument("--cases", type=int, default=25, help="cases per client")
    parser.add_argument("--count-cases", type=int, default=3, help="cases for statement counts")
    parser.add_argument("--skip-plain", action="store_true")
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
        f"Database {database_label()} ({loaded} tasks loaded); {args.clients} clients x "
        f"{args.cases} cases = {total} cases, {total * len(STEPS)} tasks each way; "
        f"{prepared_note(args.prepared)}"
    )
    print(machine_note())
    s = scenario()
    try:
        cityops_case(s, demo_users())  # warm-up: imports, flow graph, caches
        counter = count_statements(s, args.count_cases)
        connection.close()
        cityops = run_threads(args.clients, cityops_worker(s, args.cases))
        rows = [describe("CityOps (services)", cityops)]
        plain = None
        if not args.skip_plain:
            dsn = conninfo()
            plain_setup(dsn)
            plain = run_threads(args.clients, plain_worker(dsn, args.cases))
            rows.append(describe("plain SQL ceiling", plain))
    finally:
        shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)

    print()
    headers = ["path", "cases", "errors", "seconds", "cases/s", "case p50 ms", "case p95 ms"]
    print(table([*headers, "client CPU ms/case", "PostgreSQL CPU ms/case"], rows))
    print(
        "(client CPU: this Python process, all client threads; PostgreSQL CPU: the clients' "
        f"backend processes, read from /proc when the server is local; {os.cpu_count()} cores)"
    )
    for run, name in ((cityops, "CityOps"), (plain, "plain SQL")):
        if run and run.errors:
            print(f"{name} errors ({len(run.errors)}), first: {run.errors[0]}")
    if plain and plain.rate:
        ratio = cityops.rate / plain.rate
        verdict = "met" if ratio >= GOAL_RATIO else "MISSED"
        print(
            f"\nCityOps / plain SQL = {cityops.rate:.1f} / {plain.rate:.1f} cases/s = "
            f"{100 * ratio:.1f}% (goal >= {100 * GOAL_RATIO:.0f}%: {verdict}); "
            f"tasks/s {cityops.rate * len(STEPS):.0f} vs {plain.rate * len(STEPS):.0f}"
        )
    print()
    print(statements_report(counter, args.count_cases))


if __name__ == "__main__":
    main()
