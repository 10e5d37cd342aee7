"""The fault suite (issue 14): the production topology on loopback, mixed traffic, and faults.

    .venv/bin/python bench/faults/run.py [--seconds 12] [--pg-restart]

Run by hand, never in CI. It needs PostgreSQL (database `cityops_faults`, dropped and made
anew), Redis (db 3 only: it is flushed), nginx (Debian's package, run here as a foreground
process with its own prefix) and ports 8130-8139 on 127.0.0.1:

- 8130 nginx, configured from deploy/nginx/cityops.conf (plain HTTP for the trial: the TLS
  lines are taken out, /srv/cityops becomes this checkout, the upstream port 8131);
- 8131 gunicorn, and the Celery worker and beat, each started with its command from the
  Procfile (deploy/gunicorn.conf.py: sync workers);
- 8132 a webhook receiver answering at once, 8133 one answering in 8 s, 8134 one failing.

Phases, in turn, each under steady traffic (reports with an Idempotency-Key retried until
acknowledged, intake decisions, task lists): baseline; the Celery worker killed with SIGKILL
(restarted 5 s later); Redis FLUSHDB; PostgreSQL restarted (only with --pg-restart: the
server is shared); the slow and the failing receivers subscribed; 20 slow-header connections;
then every pair of conflicting actions raced on one case at a time. Then the outbox drains
(bounded) and the figures are printed. Everything is bounded in count and time; everything it
starts is stopped at the end (also on Ctrl-C).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid

from topology import (
    DB,
    ENV,
    FAILING,
    FAST,
    MARK,
    NGINX,
    PASSWORD,
    REDIS_DB,
    ROOT,
    SLOW,
    WORK,
    Processes,
    Receiver,
    log,
    manage,
    nginx_conf,
    psql,
    redis_flush,
)

# --- the API client --------------------------------------------------------------------------


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests = 0
        self.by_phase: dict[str, list] = {}
        self.phase = "setup"
        self.acknowledged: set[str] = set()

    def add(self, status: int, seconds: float) -> None:
        with self.lock:
            self.requests += 1
            self.by_phase.setdefault(self.phase, []).append((status, seconds))


STATS = Stats()


class Client:
    """One keep-alive connection to nginx, as one user."""

    def __init__(self, username: str) -> None:
        self.connection: http.client.HTTPConnection | None = None
        self.token = ""
        for _attempt in range(20):
            status, body = self.call(
                "POST", "/api/v1/auth/token/", {"username": username, "password": PASSWORD}
            )
            if status == 200:
                self.token = body["token"]
                return
            time.sleep(1)
        raise RuntimeError(f"no token for {username}: {status} {body}")

    def call(self, method: str, path: str, data=None, headers=None) -> tuple[int, dict]:
        body = json.dumps(data).encode() if data is not None else None
        sent = {"Content-Type": "application/json", **(headers or {})}
        if self.token:
            sent["Authorization"] = f"Token {self.token}"
        started = time.monotonic()
        try:
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", NGINX, timeout=30)
            self.connection.request(method, path, body=body, headers=sent)
            response = self.connection.getresponse()
            raw = response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            self.connection = None
            status, raw = 599, b""  # no answer at all (counted apart from 5xx answers)
        STATS.add(status, time.monotonic() - started)
        try:
            return status, json.loads(raw or b"{}")
        except ValueError:
            return status, {}


def report(client: Client, category: int) -> str | None:
    """Report a case, retrying under the same Idempotency-Key until it is acknowledged."""
    key = str(uuid.uuid4())
    data = {
        "category": category,
        "description": f"{MARK} {key}",
        "grid": "D01-S01-C1-G1",
        "source": "api",
    }
    for _attempt in range(30):
        status, body = client.call("POST", "/api/v1/cases/", data, {"Idempotency-Key": key})
        if status == 201:
            with STATS.lock:
                STATS.acknowledged.add(body["number"])
            return body["number"]
        if status in (400, 403, 422):
            return None
        time.sleep(0.5)
    return None


def open_task(number: str, stage: str | None = None) -> int | None:
    from workflows.models import CaseTask

    rows = CaseTask.objects.filter(case__number=number, status__in=["open", "claimed"])
    if stage:
        rows = rows.filter(stage=stage)
    return rows.order_by("-created_at").values_list("pk", flat=True).first()


def act(client: Client, number: str, outcome: str, **data) -> bool:
    task = open_task(number)
    if task is None:
        return False
    client.call("POST", f"/api/v1/tasks/{task}/claim/")
    status, _ = client.call("POST", f"/api/v1/tasks/{task}/complete/", {"outcome": outcome, **data})
    return status == 200


def traffic(stop: threading.Event, category: int, seed: int) -> None:
    """One client: report, sometimes accept at intake, read a task list."""
    from django.db import connection

    reporter, intake = Client("inspector"), Client("intake")
    try:
        for i in itertools.count(seed):
            if stop.is_set():
                return
            number = report(reporter, category)
            if number and i % 2 == 0:
                with contextlib.suppress(Exception):
                    act(intake, number, "accept")
            intake.call("GET", "/api/v1/tasks/?scope=queue&limit=20")
            time.sleep(0.05)
    finally:
        connection.close()


# --- the sampler of open transactions ---------------------------------------------------------


class Sampler:
    """Every 0.1 s: the oldest open transaction of the database (pg_stat_activity)."""

    def __init__(self) -> None:
        self.longest, self.where = 0.0, ""
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        import psycopg

        connection = None
        while not self.stop.is_set():
            try:
                if connection is None:
                    connection = psycopg.connect(
                        host="127.0.0.1", user="postgres", dbname=DB, autocommit=True
                    )
                row = connection.execute(
                    "SELECT extract(epoch FROM now() - xact_start), state, left(query, 80)"
                    " FROM pg_stat_activity WHERE datname = %s AND xact_start IS NOT NULL"
                    " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
                    " ORDER BY xact_start LIMIT 1",
                    [DB],
                ).fetchone()
                if row and float(row[0]) > self.longest:
                    self.longest, self.where = float(row[0]), f"{row[1]}: {row[2]}"
            except Exception:
                connection = None
                time.sleep(0.5)
            time.sleep(0.1)


# --- the phases ------------------------------------------------------------------------------


def slow_headers(count: int, seconds: float) -> None:
    """`count` connections sending their request headers one byte a second."""
    sockets = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", NGINX), timeout=5)
        s.sendall(b"GET /api/v1/categories/ HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        sockets.append(s)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for s in sockets:
            with contextlib.suppress(OSError):
                s.sendall(b"X")
        time.sleep(1)
    for s in sockets:
        s.close()


def normal_latency(seconds: float) -> float:
    """The worst latency of normal requests (a task list, a report) over `seconds`."""
    client, worst = Client("intake"), 0.0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        started = time.monotonic()
        client.call("GET", "/api/v1/tasks/?scope=queue&limit=20")
        worst = max(worst, time.monotonic() - started)
        time.sleep(0.2)
    return worst


RACE_ACTIONS = ["complete", "parking", "extension", "return", "cancel", "release", "claim"]


def race_action(name: str, clients: dict, task: int, case_id: int):
    handler = clients["handler_sani"]
    calls = {
        "complete": lambda: handler.call(
            "POST", f"/api/v1/tasks/{task}/complete/", {"outcome": "done", "result": "ok"}
        ),
        "return": lambda: handler.call(
            "POST", f"/api/v1/tasks/{task}/complete/", {"outcome": "return", "reason": "not ours"}
        ),
        "parking": lambda: handler.call(
            "POST", f"/api/v1/tasks/{task}/parking/", {"reason": "road works"}
        ),
        "extension": lambda: handler.call(
            "POST",
            f"/api/v1/tasks/{task}/extension/",
            {"amount": 2, "unit": "natural_hours", "reason": "more"},
        ),
        "release": lambda: handler.call("POST", f"/api/v1/tasks/{task}/release/"),
        "claim": lambda: handler.call("POST", f"/api/v1/tasks/{task}/claim/"),
        "cancel": lambda: clients["shiftlead"].call(
            "POST", f"/api/v1/cases/{case_id}/cancel/", {"reason": "race"}
        ),
    }
    return calls[name]


def races(category: int) -> tuple[int, int]:
    """Every pair of conflicting actions raced on one handling task; (pairs, 5xx answers)."""
    from workflows.models import Case

    names = ["inspector", "intake", "shiftlead", "dispatcher", "handler_sani"]
    clients = {n: Client(n) for n in names}
    racers = {n: Client(n) for n in ("handler_sani", "shiftlead")}
    pairs = list(itertools.combinations_with_replacement(RACE_ACTIONS, 2))
    errors = 0
    for a, b in pairs:
        number = report(clients["inspector"], category)
        if not number:
            continue
        act(clients["intake"], number, "accept")
        act(clients["shiftlead"], number, "file")
        act(clients["dispatcher"], number, "dispatch")
        task = open_task(number, "handling")
        clients["handler_sani"].call("POST", f"/api/v1/tasks/{task}/claim/")
        case_id = Case.objects.get(number=number).pk
        barrier, results = threading.Barrier(2), []
        pair = [(a, clients), (b, racers)]

        def run(name, who, barrier=barrier, results=results, task=task, case_id=case_id):
            barrier.wait(timeout=10)
            results.append(race_action(name, who, task, case_id)()[0])

        threads = [threading.Thread(target=run, args=p) for p in pair]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        errors += sum(1 for s in results if s >= 500)
    return len(pairs), errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=12.0, help="length of each phase")
    parser.add_argument("--clients", type=int, default=3, help="traffic threads")
    parser.add_argument("--reuse", action="store_true", help="keep the database of a last run")
    parser.add_argument("--pg-restart", action="store_true", help="restart PostgreSQL (shared!)")
    options = parser.parse_args()
    processes = Processes()
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
    try:
        run(options, processes)
    finally:
        processes.stop_all()
        log(f"stopped; logs in {WORK}")


def setup(processes: Processes, reuse: bool) -> None:
    if not reuse:
        log(f"database {DB}: drop, create, migrate, seed_demo, collectstatic")
        psql(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        psql(f"CREATE DATABASE {DB}")
        manage("migrate", "--noinput")
        manage("seed_demo", "--force")
        collected = manage("collectstatic", "--noinput", check=False)
        if collected.returncode:  # the API works without it; pages would not
            log("collectstatic FAILED: " + collected.stdout.strip().splitlines()[0][:200])
    else:
        manage("seed_demo", "--force")  # this run's password for the demo accounts
        # The last run's subscriptions and their rows go before any worker starts.
        psql(
            "DELETE FROM workflows_outboxmessage WHERE channel = 'webhook';"
            " DELETE FROM workflows_webhookdelivery; DELETE FROM workflows_webhooksubscription;",
            DB,
        )
    log(f"Redis db {REDIS_DB} flushed; starting web, worker, beat (Procfile) and nginx")
    redis_flush()
    for name in ("web", "worker", "beat"):
        processes.start(name)
    processes.start("nginx", nginx_conf())
    for _ in range(120):
        with contextlib.suppress(OSError, http.client.HTTPException):
            c = http.client.HTTPConnection("127.0.0.1", NGINX, timeout=5)
            c.request("GET", "/healthz")
            if c.getresponse().status in (200, 503):
                return
        time.sleep(0.5)
    raise RuntimeError(f"the site did not come up; see {WORK}")


def run(options, processes: Processes) -> None:
    for key in (
        "DATABASE_URL",
        "CELERY_BROKER_URL",
        "CACHE_URL",
        "DEBUG",
        "SECRET_KEY",
        "ALLOWED_HOSTS",
    ):
        os.environ[key] = ENV[key]
    fast, slow, failing = Receiver(FAST), Receiver(SLOW, delay=8), Receiver(FAILING, status=500)
    setup(processes, options.reuse)
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cityops.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connections

    from workflows.integrations.webhooks import EVENT_TYPES
    from workflows.models import Case, WebhookDelivery, WebhookSubscription

    owner = get_user_model().objects.get(username="supervisor")

    def subscribe(receiver: Receiver) -> WebhookSubscription:
        return WebhookSubscription.objects.create(
            owner=owner, url=receiver.url, events=list(EVENT_TYPES), secret="f" * 32
        )

    main_hook = subscribe(fast)
    _status, listed = Client("inspector").call("GET", "/api/v1/categories/?limit=500")
    rows = listed.get("results", listed) if isinstance(listed, dict) else listed
    category = next(c["id"] for c in rows if c.get("code") == "0102")
    sampler = Sampler()
    sampler.thread.start()
    time.sleep(6)  # the web processes' cache of subscribed types (5 s)

    stop = threading.Event()
    clients = [
        threading.Thread(target=traffic, args=(stop, category, i * 1000), daemon=True)
        for i in range(options.clients)
    ]
    for t in clients:
        t.start()
    phase_seconds = options.seconds
    STATS.phase = "warm-up"
    while STATS.requests < 30:  # the workers' first requests (imports, connections)
        time.sleep(0.5)

    def phase(name: str, action=None) -> None:
        STATS.phase = name
        log(f"phase: {name}")
        if action:
            action()
        time.sleep(phase_seconds)

    phase("baseline")
    phase("worker SIGKILL", lambda: processes.kill("worker"))
    processes.start("worker")
    phase("redis FLUSHDB", redis_flush)
    if options.pg_restart:
        version = sorted(os.listdir("/etc/postgresql"))[-1]
        phase(
            "postgresql restart",
            lambda: subprocess.run(
                ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
                check=True,
            ),
        )
        connections.close_all()
    phase("slow (8 s) and failing receivers", lambda: (subscribe(slow), subscribe(failing)))
    STATS.phase = "slow clients"
    log("phase: 20 slow-header connections")
    slow_thread = threading.Thread(target=slow_headers, args=(20, phase_seconds), daemon=True)
    slow_thread.start()
    worst = normal_latency(phase_seconds)
    slow_thread.join(timeout=phase_seconds + 10)
    stop.set()
    for t in clients:
        t.join(timeout=60)
    STATS.phase = "races"
    log("phase: every pair of actions raced on one case")
    pairs, race_5xx = races(category)

    log("draining the outbox (at most 150 s)")
    expected = WebhookDelivery.objects.filter(subscription=main_hook)
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline:
        wanted = {str(d) for d in expected.values_list("delivery_id", flat=True)}
        if wanted <= set(fast.posts):
            break
        time.sleep(2)
    STATS.phase = "done"
    sampler.stop.set()

    figures(
        stored=set(
            Case.objects.filter(description__startswith=MARK).values_list("number", flat=True)
        ),
        expected={str(d) for d in expected.values_list("delivery_id", flat=True)},
        logged=expected.filter(delivered_at__isnull=False).count(),
        receivers=(fast, slow, failing),
        breaker=WebhookSubscription.objects.filter(url=failing.url)
        .values_list("attempts_failed_in_a_row", "paused_until")
        .first(),
        sampler=sampler,
        worst=worst,
        races=(pairs, race_5xx),
    )


def figures(*, stored, expected, logged, receivers, breaker, sampler, worst, races) -> None:
    fast, slow, failing = receivers
    checked = manage("check_invariants", check=False)
    answers = [s for rows in STATS.by_phase.values() for s, _t in rows]
    fives = sum(1 for s in answers if 500 <= s < 599)
    print("\n=== fault suite figures ===")
    print(f"requests: {STATS.requests}, 5xx: {fives}, no answer: {answers.count(599)}")
    for name, rows in STATS.by_phase.items():
        statuses = [s for s, _t in rows]
        slowest = max((t for _s, t in rows), default=0.0)
        print(
            f"  {name:34} {len(rows):6} requests,"
            f" {sum(1 for s in statuses if 500 <= s < 599):4} 5xx,"
            f" {statuses.count(599):3} unanswered, slowest {slowest:6.2f} s"
        )
    acknowledged = STATS.acknowledged
    print(
        f"cases reported (acknowledged): {len(acknowledged)}, stored: {len(stored)},"
        f" lost: {len(acknowledged - stored)},"
        f" stored but never acknowledged: {len(stored - acknowledged)}"
    )
    ids = set(fast.posts)
    print(
        f"webhooks to the main receiver: expected {len(expected)}, delivered (distinct ids)"
        f" {len(ids & expected)}, posts {len(fast.posts)}, duplicate posts"
        f" {len(fast.posts) - len(ids)} (each a retry with the same delivery id),"
        f" unknown ids {len(ids - expected)}, delivered in the log {logged}"
    )
    print(
        f"slow receiver (8 s): {len(slow.posts)} posts; failing receiver:"
        f" {len(failing.posts)} posts; its breaker (failures in a row, paused until): {breaker}"
    )
    print(f"longest open transaction: {sampler.longest:.3f} s ({sampler.where})")
    print(f"worst latency of a normal request during the slow-client phase: {worst:.3f} s")
    print(f"races: {races[0]} pairs of actions, {races[1]} 5xx")
    said = (checked.stdout + checked.stderr).strip().splitlines()
    listed = [line for line in said if "case " in line or "violation" in line][-20:]
    print(f"check_invariants: exit {checked.returncode}")
    for line in listed:
        print(f"  {line}")


if __name__ == "__main__":
    main()
