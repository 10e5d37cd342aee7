"""The clients of bench/lifecycle.py: started together behind a barrier, as processes (forked,
the way CityOps is deployed) or as threads of one process, each reporting what it did."""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


@dataclass
class Client:
    """What one client (thread or process) did between the start barrier and its end."""

    case_seconds: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    cpu: float = 0.0  # CPU seconds of the client's own thread
    server_cpu: float | None = 0.0  # CPU seconds of its PostgreSQL backend (None: not local)

    def failed(self, exc: BaseException) -> None:
        self.errors.append("".join(traceback.format_exception_only(type(exc), exc)).strip())


@dataclass
class Run:
    """What the clients of one run did together."""

    elapsed: float = 0.0
    clients: list[Client] = field(default_factory=list)

    @property
    def cases(self) -> int:
        return sum(len(c.case_seconds) for c in self.clients)

    @property
    def case_seconds(self) -> list[float]:
        return [s for c in self.clients for s in c.case_seconds]

    @property
    def errors(self) -> list[str]:
        return [e for c in self.clients for e in c.errors]

    @property
    def client_cpu(self) -> float:
        return sum(c.cpu for c in self.clients)

    @property
    def server_cpu(self) -> float | None:
        backends = [c.server_cpu for c in self.clients]
        return None if None in backends else sum(backends)

    @property
    def rate(self) -> float:
        return self.cases / self.elapsed if self.elapsed else 0.0


# A client: (index, barrier) -> Client. It connects, waits at the barrier, runs its cases.
Worker = Callable[[int, object], Client]


def run_clients(clients: int, worker: Worker, processes: bool) -> Run:
    """Start the clients together; the clock runs from the barrier to the last one's end.

    Processes are how CityOps is deployed (web and worker processes, each with its own
    interpreter); threads share one interpreter lock, so Python work is serialised."""
    if not processes:
        return _run_threads(clients, worker)
    # Objects of the parent stay frozen out of the children's garbage collection, so that
    # collecting does not touch (and copy) every page the children share with the parent.
    gc.freeze()
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(clients + 1), ctx.Queue()
    procs = [
        ctx.Process(target=_process_main, args=(worker, i, barrier, results))
        for i in range(clients)
    ]
    for p in procs:
        p.start()
    with contextlib.suppress(threading.BrokenBarrierError):  # a client failed: it says why
        barrier.wait()
    started = time.perf_counter()
    run = Run(clients=[results.get() for _ in procs])
    run.elapsed = time.perf_counter() - started
    for p in procs:
        p.join()
    return run


def _process_main(worker: Worker, index: int, barrier, results) -> None:
    try:
        results.put(worker(index, barrier))
    except BaseException as exc:  # the parent must not wait for ever
        barrier.abort()
        client = Client()
        client.failed(exc)
        results.put(client)
        raise


def _run_threads(clients: int, worker: Worker) -> Run:
    barrier = threading.Barrier(clients + 1)
    run = Run(clients=[Client() for _ in range(clients)])

    def target(i: int) -> None:
        run.clients[i] = worker(i, barrier)

    threads = [threading.Thread(target=target, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    run.elapsed = time.perf_counter() - started
    return run
