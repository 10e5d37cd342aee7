"""What every benchmark script shares: Django set-up on PostgreSQL, timing statistics, tables.

The scripts run standalone (`python bench/<script>.py`), outside the test suite.
"""

from __future__ import annotations

import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent


def django_setup(*, media_root: bool = False, prepared: bool = False) -> None:
    """Set up Django against $DATABASE_URL; refuse to run on anything but PostgreSQL.

    Query logging is switched off (settings.DEBUG=False after set-up) so that Django's debug
    cursor does not add its own cost to every timed query. With `media_root`, uploaded files
    go to a throw-away directory instead of the project's var/media. With `prepared`, the
    connections use server-side binding and psycopg's automatic prepared statements
    (OPTIONS server_side_binding=True, prepare_threshold=5), to measure that settings change.
    """
    if str(PROJECT_DIR) not in sys.path:
        sys.path.insert(0, str(PROJECT_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cityops.settings")
    if media_root:
        os.environ["MEDIA_ROOT"] = tempfile.mkdtemp(prefix="cityops-bench-media-")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit(
            "Refusing to run: the benchmarks need PostgreSQL. Set DATABASE_URL, e.g. "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/cityops_bench"
        )
    settings.DEBUG = False
    if prepared:
        options = {"server_side_binding": True, "prepare_threshold": 5}
        settings.DATABASES["default"].setdefault("OPTIONS", {}).update(options)
        connection.settings_dict.setdefault("OPTIONS", {}).update(options)


def prepared_note(prepared: bool) -> str:
    """What the connections use, read from the settings (the project enables prepared
    statements unless DB_PREPARE_THRESHOLD is empty)."""
    from django.db import connection

    options = connection.settings_dict.get("OPTIONS", {})
    if options.get("server_side_binding") and options.get("prepare_threshold") is not None:
        how = f"server-side binding, prepared statements after {options['prepare_threshold']} runs"
    else:
        how = "client-side binding, no prepared statements"
    return f"{how} ({'bench option --prepared' if prepared else 'settings as configured'})"


def machine_note() -> str:
    """How busy the machine is right now (over one second); a warning if something else runs."""
    busy = _busy_share()
    if busy is None:
        return f"load average {os.getloadavg()[0]:.2f}"
    if busy > 0.25:
        return (
            f"WARNING: the machine is {100 * busy:.0f}% busy before the start: other work is "
            "running and the figures will suffer."
        )
    return f"machine {100 * busy:.0f}% busy before the start"


def _busy_share() -> float | None:
    def sample() -> tuple[int, int]:
        fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + fields[4]
        return sum(fields[:8]) - idle, sum(fields[:8])

    try:
        busy0, total0 = sample()
        time.sleep(1.0)
        busy1, total1 = sample()
    except (OSError, ValueError, IndexError):
        return None
    return (busy1 - busy0) / max(total1 - total0, 1)


def database_label() -> str:
    from django.db import connection

    s = connection.settings_dict
    return f"{s['USER']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


class Timings:
    """Wall-clock samples of one operation, in milliseconds."""

    def __init__(self, samples: list[float]) -> None:
        self.samples = samples

    @classmethod
    def measure(cls, fn: Callable[[], object], runs: int, warmup: int = 5) -> Timings:
        for _ in range(warmup):
            fn()
        samples = []
        for _ in range(runs):
            start = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - start) * 1000)
        return cls(samples)

    @property
    def p50(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        return percentile(self.samples, 95)

    @property
    def max(self) -> float:
        return max(self.samples)


def table(headers: list[str], rows: list[list[object]]) -> str:
    """A plain-text table, columns right-aligned except the first."""
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(r: list[str]) -> str:
        return "  ".join(
            c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(r)
        )

    out = [line(cells[0]), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells[1:]]
    return "\n".join(out)


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def thread_cpu() -> float:
    """CPU seconds of the calling thread (the whole client in process mode)."""
    usage = resource.getrusage(resource.RUSAGE_THREAD)
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
