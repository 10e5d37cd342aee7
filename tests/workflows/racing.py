"""Threads started together behind a barrier, for the tests that race actions on PostgreSQL
with real transactions (each thread has its own connection, closed when it ends)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connection


def race(*calls: Callable):
    """Run the calls at once, one thread each: what each returned or raised, in call order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i):
        try:
            barrier.wait()
            results[i] = calls[i]()
        except Exception as exc:  # collected: the test asserts on it
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def race_n(n: int, target: Callable[[int], object]):
    """`target(0)` … `target(n - 1)` at once (see `race`)."""
    return race(*(lambda i=i: target(i) for i in range(n)))
