"""Dispatch suggestions over HTTP, through gunicorn: p50/p95 and requests/s of
`POST /api/v1/suggestions/dispatch/` with the active model (goal p95 ≤ 50 ms through the API).

Needs an active suggestion version in $DATABASE_URL (`bench/suggestions.py` stores one).
Starts gunicorn (`cityops.wsgi`, `--workers`) on 127.0.0.1 at a free port, gives the user
`bench-suggest` a token, warms every worker up (each loads the model on its first suggestion:
seconds, not counted), then drives `--procs` × `--threads` keep-alive connections (stdlib
`http.client`, separate processes; bench/api_http.py's client) with texts the history never
had, at most `--requests` requests or `--seconds` seconds. Prints the latency, the throughput
and the CPU of gunicorn, PostgreSQL and the clients over the measured phase.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db with a trained version> \\
        .venv/bin/python bench/suggestions_http.py --workers 2
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from api_http import free_port, run_phase, split, start_server, wait_ready
from harness import database_label, django_setup, machine_note, table

GOAL_P95_MS = 50.0
PATH = "/api/v1/suggestions/dispatch/"


def token_for(username: str) -> tuple[str, str]:
    """A token for the bench user and the active version (exits without one)."""
    django_setup()
    from django.contrib.auth import get_user_model

    from intelligence.models import SuggestionModel
    from workflows.integrations.tokens import token_issue

    active = SuggestionModel.objects.filter(is_active=True).first()
    if active is None:
        sys.exit("no active suggestion version: run bench/suggestions.py first")
    user, _ = get_user_model().objects.get_or_create(username=username)
    return token_issue(user)[0], f"{active.version} ({active.cases} cases)"


def jobs(texts: list[str]) -> list[tuple]:
    return [("POST", PATH, json.dumps({"text": t}, ensure_ascii=False).encode()) for t in texts]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--procs", type=int, default=2, help="client processes")
    parser.add_argument("--threads", type=int, default=2, help="connections per client process")
    parser.add_argument("--seconds", type=float, default=30.0, help="at most, measured phase")
    parser.add_argument("--requests", type=int, default=3000, help="at most, measured phase")
    parser.add_argument("--units", type=int, default=30)
    args = parser.parse_args()
    import suggestions

    token, version = token_for("bench-suggest")
    print(f"database {database_label()}, model {version}; {machine_note()}")
    texts = suggestions.synthetic(args.requests + 200, args.units, seed=99).texts
    port = free_port()
    server = start_server(port, args.workers)
    try:
        wait_ready(port, server)
        # Warm-up: enough concurrent requests that every worker has loaded the model.
        warm_args = argparse.Namespace(threads=2, seconds=120.0)
        warm = run_phase("warm-up", port, token, split(jobs(texts[:200]), 2), warm_args, server.pid)
        print(f"warm-up: {warm['n']} requests, p95 {warm['p95']:.0f} ms (model loads)")
        # One connection (latency without queueing), then --procs × --threads.
        one = argparse.Namespace(threads=1, seconds=args.seconds)
        half = len(texts[200:]) // 2
        phases = [
            run_phase(
                "one at a time", port, token, [jobs(texts[200 : 200 + half])], one, server.pid
            ),
            run_phase(
                "concurrent",
                port,
                token,
                split(jobs(texts[200 + half :]), args.procs),
                args,
                server.pid,
            ),
        ]
    finally:
        server.terminate()
        server.wait(timeout=30)
    rows = [
        [
            m["name"],
            m["conc"],
            m["n"],
            f"{m['rps']:.1f}",
            f"{m['p50']:.1f}",
            f"{m['p95']:.1f}",
            f"{m['errors']} {m['statuses']}",
            f"{m['gunicorn_cpu']:.0f} / {m['pg_cpu']:.0f} / {m['client_cpu']:.0f}",
            f"{m['cpu_ms'][1] / m['n'] * 1000:.1f}" if m["n"] else "",
        ]
        for m in phases
    ]
    headers = ["phase", "conc", "requests", "req/s", "p50 ms", "p95 ms", "errors"]
    headers += ["CPU %: gunicorn / PG / clients", "gunicorn CPU ms / request"]
    print(table(headers, rows))
    m = phases[0]
    verdict = "met" if m["p95"] <= GOAL_P95_MS and not m["errors"] else "MISSED"
    print(f"goal: API p95 (one at a time) {m['p95']:.1f} ms ≤ {GOAL_P95_MS:.0f} ms: {verdict}")
    print(f"after: {machine_note()}")


if __name__ == "__main__":
    main()
