"""Requests/s and latency of the task API over HTTP, through gunicorn, at 1M tasks.

Starts gunicorn (`cityops.wsgi`, `--workers`) on 127.0.0.1 at a free port against
$DATABASE_URL, gets tokens through `POST /api/v1/auth/token/`, and drives load from separate
client processes (`--procs` × `--threads` stdlib `http.client` connections; keep-alive when
the server offers it). Phases, each bounded by `--seconds` and `--max-requests`:

- list: `GET /api/v1/tasks/?scope=queue&limit=25` as `--list-user` (dispatcher).
- claim (preparation, untimed for the goal): `POST /api/v1/tasks/{id}/claim/` on `--complete-n`
  open intake tasks from the queue of `--complete-user` (intake).
- complete: `POST /api/v1/tasks/{id}/complete/` `{"outcome": "accept"}` on those tasks,
  each task once.

Then the SQL queries per list request at limit=5 and limit=100, counted in-process with
Django's test client and CaptureQueriesContext. Completing tasks changes the bench database
(each accepted intake task opens a filing task), like lifecycle.py does.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import resource
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import PROJECT_DIR, percentile, table

GOALS = {"list": (300.0, 100.0), "complete": (100.0, 100.0)}  # req/s at least, p95 ms at most


# --- client side (runs in separate processes) ---------------------------------------------


def _client_thread(port, token, jobs, deadline, out, lock, schedule=None):
    """Send jobs one after another; with a `schedule` (first send time, interval) each job is
    due at its own time and its latency counts from then (an open-loop client: a late server
    is charged for the wait, not hidden by a client that slows down with it)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    lat, errors, statuses = [], 0, {}
    due = schedule[0] if schedule else None
    while time.perf_counter() < deadline:
        with lock:
            job = next(jobs, None)
        if job is None:
            break
        method, path, body = job
        if due is not None:
            time.sleep(max(0.0, due - time.perf_counter()))
            start, due = due, due + schedule[1]
        else:
            start = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            resp.read()
            status = resp.status
            if resp.will_close:
                conn.close()
        except (OSError, http.client.HTTPException):
            conn.close()
            status = 0
        lat.append((time.perf_counter() - start) * 1000)
        statuses[status] = statuses.get(status, 0) + 1
        if not 200 <= status < 300:
            errors += 1
    conn.close()
    out.append((lat, errors, statuses))


def client_process(port, token, jobs, threads, seconds, start_at, queue, pace=None):
    """Run `jobs` (a list of (method, path, body), or ("loop", path) for a repeated GET).
    `pace` (rate in req/s over all clients, this process's number, processes): every
    connection sends at its share of the rate, the connections' times interleaved."""
    if jobs and jobs[0][0] == "loop":
        path, limit = jobs[0][1], jobs[0][2]
        job_iter = (("GET", path, None) for _ in range(limit))
    else:
        job_iter = iter(jobs)
    while time.time() < start_at:
        time.sleep(0.001)
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    deadline = t0 + seconds
    out, lock = [], threading.Lock()
    schedules = [None] * threads
    if pace:
        rate, index, procs = pace
        connections = procs * threads
        schedules = [
            (t0 + (index * threads + i) / rate, connections / rate) for i in range(threads)
        ]
    ts = [
        threading.Thread(
            target=_client_thread, args=(port, token, job_iter, deadline, out, lock, schedule)
        )
        for schedule in schedules
    ]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    wall = time.perf_counter() - t0
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    lat = [x for o in out for x in o[0]]
    statuses = {}
    for o in out:
        for k, v in o[2].items():
            statuses[k] = statuses.get(k, 0) + v
    queue.put(
        {
            "lat": lat,
            "errors": sum(o[1] for o in out),
            "statuses": statuses,
            "wall": wall,
            "cpu": cpu,
        }
    )


# --- server side ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_cpu(pid: int) -> float:
    """utime+stime (incl. waited-for children) of a process, in seconds; 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def tree_pids(root: int) -> list[int]:
    pids, frontier = [root], [root]
    while frontier:
        pid = frontier.pop()
        try:
            kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            kids = []
        pids += [int(k) for k in kids]
        frontier += [int(k) for k in kids]
    return pids


def postgres_pids() -> list[int]:
    pids = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                if p.joinpath("comm").read_text().strip() in ("postgres", "postmaster"):
                    pids.append(int(p.name))
            except OSError:
                pass
    return pids


def cpu_snapshot(server_pid: int) -> dict[int, tuple[str, float]]:
    snap = {pid: ("gunicorn", proc_cpu(pid)) for pid in tree_pids(server_pid)}
    snap.update({pid: ("postgres", proc_cpu(pid)) for pid in postgres_pids()})
    return snap


def cpu_delta(before, after) -> dict[str, float]:
    out = {"gunicorn": 0.0, "postgres": 0.0}
    for pid, (kind, cpu) in after.items():
        out[kind] += cpu - before.get(pid, (kind, 0.0))[1]
    return out


def server_command(port: int, server: str, workers: int) -> list[str]:
    """gunicorn as deployed (`deploy/gunicorn.conf.py`: sync workers forked from a preloaded
    application, access log), or plain `--workers N` sync workers without the config."""
    gunicorn = [str(PROJECT_DIR / ".venv/bin/gunicorn"), "cityops.wsgi"]
    if server == "deploy":
        return [*gunicorn, "-c", "deploy/gunicorn.conf.py", "--bind", f"127.0.0.1:{port}"]
    return [*gunicorn, "--workers", str(workers), "--bind", f"127.0.0.1:{port}"]


def start_server(port: int, server: str, workers: int) -> subprocess.Popen:
    env = dict(os.environ)
    env.update(
        DEBUG="False",
        SECRET_KEY="bench",
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="False",
        LOG_LEVEL="WARNING",
    )
    if server == "deploy":
        env.setdefault("GUNICORN_LOG_LEVEL", "warning")
    else:
        env.setdefault("GUNICORN_CMD_ARGS", "--log-level warning")
    cmd = server_command(port, server, workers)
    log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"api_http_gunicorn_{port}.log"
    with open(log_path, "w") as log:  # gunicorn keeps its own copy of the descriptor
        return subprocess.Popen(cmd, cwd=PROJECT_DIR, env=env, stdout=log, stderr=log)


def wait_ready(port: int, server: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if server.poll() is not None:
            sys.exit(f"gunicorn exited with {server.returncode}; see its log in /tmp")
        try:
            status, _ = call(port, "GET", "/api/v1/categories/")
            if status in (200, 401, 403):
                return
        except OSError:
            pass
        time.sleep(0.3)
    sys.exit("gunicorn did not answer in time")


def call(port, method, path, body=None, token=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    try:
        return resp.status, json.loads(data or b"null")
    except ValueError:
        return resp.status, data[:200]


def get_token(port: int, username: str) -> str:
    for password in dict.fromkeys([os.environ.get("DEMO_PASSWORD"), "cityops-demo"]):
        if not password:
            continue
        status, data = call(
            port, "POST", "/api/v1/auth/token/", {"username": username, "password": password}
        )
        if status == 200:
            return data["token"]
    sys.exit(f"could not get a token for {username}: {status} {data}")


# --- phases ---------------------------------------------------------------------------------


def run_phase(name, port, token, jobs_per_proc, args, server_pid, rate=None, seconds=None):
    """Closed loop (each connection sends when its last answer came), or at `rate` req/s;
    at most `seconds` (default --seconds)."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    start_at = time.time() + 1.5  # let the spawned interpreters start first
    seconds = seconds or args.seconds
    if rate is not None:
        seconds = max(seconds, 2 * args.paced_seconds)
    procs = [
        ctx.Process(
            target=client_process,
            args=(port, token, jobs, args.threads, seconds, start_at, queue)
            + ((rate, index, len(jobs_per_proc)),) * (rate is not None),
        )
        for index, jobs in enumerate(jobs_per_proc)
    ]
    for p in procs:
        p.start()
    while time.time() < start_at:
        time.sleep(0.001)
    before = cpu_snapshot(server_pid)
    results = [queue.get() for _ in procs]
    after = cpu_snapshot(server_pid)
    for p in procs:
        p.join()
    lat = [x for r in results for x in r["lat"]]
    wall = max(r["wall"] for r in results)
    statuses = {}
    for r in results:
        for k, v in r["statuses"].items():
            statuses[k] = statuses.get(k, 0) + v
    server = cpu_delta(before, after)
    n = len(lat)
    return {
        "name": name,
        "paced": rate is not None,
        "conc": f"{len(procs)}x{args.threads}",
        "n": n,
        "rps": n / wall if wall else 0.0,
        "p50": percentile(lat, 50) if lat else None,
        "p95": percentile(lat, 95) if lat else None,
        "errors": sum(r["errors"] for r in results),
        "statuses": statuses,
        "client_cpu": sum(r["cpu"] for r in results) / wall * 100,
        "gunicorn_cpu": server["gunicorn"] / wall * 100,
        "pg_cpu": server["postgres"] / wall * 100,
        "cpu_ms": (sum(r["cpu"] for r in results), server["gunicorn"], server["postgres"]),
    }


def split(items, parts):
    return [items[i::parts] for i in range(parts)]


def open_intake_ids(port, token, wanted):
    ids, path = [], "/api/v1/tasks/?scope=queue&limit=100"
    while path and len(ids) < wanted:
        status, data = call(port, "GET", path, token=token)
        if status != 200:
            sys.exit(f"queue of the complete user: {status} {data}")
        ids += [t["id"] for t in data["results"] if t.get("stage", "intake") == "intake"]
        nxt = data.get("next")
        path = nxt[nxt.index("/api/") :] if nxt else None
    return ids[:wanted]


def queries_per_list(username: str, limits=(5, 100)) -> dict[int, int]:
    from harness import django_setup

    django_setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    from workflows.integrations.tokens import token_issue

    user = get_user_model().objects.get(username=username)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(user)[0]}")
    out = {}
    for limit in limits:
        url = f"/api/v1/tasks/?scope=queue&limit={limit}"
        client.get(url)  # warm-up
        with CaptureQueriesContext(connection) as ctx:
            resp = client.get(url)
        assert resp.status_code == 200, resp.status_code
        out[limit] = (len(ctx.captured_queries), len(resp.json()["results"]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--server",
        choices=["deploy", "sync"],
        default="deploy",
        help="deploy: deploy/gunicorn.conf.py as production runs it; sync: --workers sync workers",
    )
    ap.add_argument("--workers", type=int, default=3, help="sync workers (--server sync)")
    ap.add_argument("--procs", type=int, default=2, help="client processes")
    ap.add_argument("--threads", type=int, default=8, help="connections per client process")
    ap.add_argument("--seconds", type=float, default=20.0, help="at most, per phase")
    ap.add_argument("--max-requests", type=int, default=20000, help="list phase, in all")
    ap.add_argument("--limit", type=int, default=25, help="page size of the list phase")
    ap.add_argument("--list-user", default="dispatcher")
    ap.add_argument("--complete-user", default="intake")
    ap.add_argument("--complete-n", type=int, default=2500)
    ap.add_argument("--skip-complete", action="store_true")
    ap.add_argument(
        "--paced-seconds",
        type=float,
        default=10.0,
        help="after each saturated phase, send at the goal's rate for this long (0: skip)",
    )
    args = ap.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("Refusing to run: set DATABASE_URL to the PostgreSQL bench database.")
    from harness import machine_note

    print(machine_note())
    port = free_port()
    server = start_server(port, args.server, args.workers)
    rows, phases = [], []
    try:
        wait_ready(port, server)
        print(
            f"{' '.join(server_command(port, args.server, args.workers)[1:])}, "
            f"clients {args.procs} processes x {args.threads} connections, "
            f"<= {args.seconds:.0f} s per phase"
        )
        list_token = get_token(port, args.list_user)
        path = f"/api/v1/tasks/?scope=queue&limit={args.limit}"
        status, data = call(port, "GET", path, token=list_token)
        print(
            f"{args.list_user} queue: HTTP {status}, {len(data.get('results', []))} rows on page 1"
        )
        for _ in range(20):  # warm the workers
            call(port, "GET", path, token=list_token)
        per_proc = args.max_requests // args.procs
        phases.append(
            run_phase(
                f"GET tasks?scope=queue&limit={args.limit}",
                port,
                list_token,
                [[("loop", path, per_proc)]] * args.procs,
                args,
                server.pid,
            )
        )
        if args.paced_seconds:
            rate = GOALS["list"][0]
            per_proc = round(rate * args.paced_seconds / args.procs)
            phases.append(
                run_phase(
                    f"GET tasks?scope=queue&limit={args.limit} at {rate:.0f}/s",
                    port,
                    list_token,
                    [[("loop", path, per_proc)]] * args.procs,
                    args,
                    server.pid,
                    rate=rate,
                )
            )

        if not args.skip_complete:
            tok = get_token(port, args.complete_user)
            rate = GOALS["complete"][0]
            paced_n = round(rate * args.paced_seconds)
            ids = open_intake_ids(port, tok, args.complete_n + paced_n)
            print(f"{args.complete_user}: {len(ids)} open intake tasks taken from the queue")
            claims = [("POST", f"/api/v1/tasks/{i}/claim/", b"") for i in ids]
            claim = run_phase(
                "POST tasks/{id}/claim/ (prep)",
                port,
                tok,
                split(claims, args.procs),
                args,
                server.pid,
                seconds=max(args.seconds, 120.0),  # every task the complete phases use
            )
            phases.append(claim)
            body = json.dumps({"outcome": "accept"}).encode()
            done = [("POST", f"/api/v1/tasks/{i}/complete/", body) for i in ids]
            saturated, paced = done[: len(done) - paced_n], done[len(done) - paced_n :]
            phases.append(
                run_phase(
                    "POST tasks/{id}/complete/",
                    port,
                    tok,
                    split(saturated, args.procs),
                    args,
                    server.pid,
                )
            )
            if paced:
                phases.append(
                    run_phase(
                        f"POST tasks/{{id}}/complete/ at {rate:.0f}/s",
                        port,
                        tok,
                        split(paced, args.procs),
                        args,
                        server.pid,
                        rate=rate,
                    )
                )
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()

    for p in phases:
        rows.append(
            [
                p["name"],
                p["conc"],
                p["n"],
                p["rps"],
                p["p50"],
                p["p95"],
                p["errors"],
                p["client_cpu"],
                p["gunicorn_cpu"],
                p["pg_cpu"],
            ]
        )
    print()
    print(
        table(
            [
                "endpoint",
                "conc",
                "requests",
                "req/s",
                "p50 ms",
                "p95 ms",
                "errors",
                "client CPU%",
                "gunicorn CPU%",
                "postgres CPU%",
            ],
            rows,
        )
    )
    print("(CPU% = CPU seconds per wall second over the phase, 100% = one core; 2 cores)")
    for p in phases:
        if p["errors"]:
            print(f"  {p['name']}: HTTP statuses {p['statuses']}")
    print()
    for p in phases:
        key = "list" if p["name"].startswith("GET") else "complete"
        if "prep" in p["name"]:
            continue
        rps_goal, p95_goal = GOALS[key]
        ok_rps = p["rps"] >= rps_goal * (0.98 if p["paced"] else 1.0)  # paced: kept the rate
        ok_p95 = p["p95"] is not None and p["p95"] <= p95_goal
        kind = "at the goal's rate" if p["paced"] else "saturated"
        print(
            f"{p['name']} ({kind}): {p['rps']:.0f} req/s (goal >= {rps_goal:.0f}) "
            f"{'met' if ok_rps else 'MISSED'}; p95 {p['p95'] or 0:.1f} ms "
            f"(goal <= {p95_goal:.0f}) {'met' if ok_p95 else 'MISSED'}; "
            f"errors {p['errors']}"
        )

    counts = queries_per_list(args.list_user)
    print()
    print(f"SQL queries per list request ({args.list_user}, scope=queue, in-process test client):")
    for limit, (q, nrows) in counts.items():
        print(f"  limit={limit:>3}: {q} queries for {nrows} rows")
    qs = {q for q, _ in counts.values()}
    print(f"  constant in the page size: {'yes' if len(qs) == 1 else 'NO'}")


if __name__ == "__main__":
    main()
