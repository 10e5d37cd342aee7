"""`manage.py breach_backtest --months N`: replay the last N months day by day and print the
breach model's precision, recall, Brier score and median warning lead time beside the plain
"warn at 75 %" rule (intelligence.services.backtest)."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from intelligence.services.backtest import BacktestResult, breach_backtest


def _clock(value: str) -> dt.time:
    try:
        return dt.time.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--at: not a time of day (HH:MM): {value!r}") from exc


def _cell(value: float | int | None, fmt: str) -> str:
    return "—" if value is None else format(value, fmt)


def report(result: BacktestResult) -> str:
    """The figures as a small table (plain text)."""
    share = result.breached / result.evaluated if result.evaluated else 0.0
    rows = [
        ("warned tasks", "d", "warned"),
        ("of them breached", "d", "true_positives"),
        ("precision", ".3f", "precision"),
        ("recall", ".3f", "recall"),
        ("Brier score", ".4f", "brier"),
        ("median lead time (h)", ".1f", "median_lead_hours"),
    ]
    lines = [
        f"Breach backtest {timezone.localtime(result.start):%Y-%m-%d} → "
        f"{timezone.localtime(result.end):%Y-%m-%d}: {result.moments} replay moments, "
        f"warning level {result.level:.2f}",
        f"tasks evaluated: {result.evaluated} (open at a replay moment, outcome known); "
        f"breached: {result.breached} ({share:.1%})",
        "",
        f"{'':24}{'model':>12}{'warn at 75 %':>16}",
    ]
    for label, fmt, name in rows:
        model, plain = getattr(result.model, name), getattr(result.plain, name)
        lines.append(f"{label:24}{_cell(model, fmt):>12}{_cell(plain, fmt):>16}")
    lines.append("")
    lines.append(f"{result.seconds_per_moment:.2f} s per replay moment")
    return "\n".join(lines)


class Command(BaseCommand):
    help = (
        "Replay the last N months day by day: what the breach model would have predicted "
        "(using only tasks finished before each day) against what happened, beside the plain "
        "'warn at 75 %' rule."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--months", type=int, default=3, help="months to replay (30 days each)")
        parser.add_argument("--at", default="10:00", help="local time of each day's replay")
        parser.add_argument("--level", type=float, default=None, help="warning level (0–1)")

    def handle(self, *args, months: int, at: str, level: float | None, **options) -> None:
        if months < 1 or months > 60:
            raise CommandError("--months must be between 1 and 60")
        if level is not None and not 0 < level < 1:
            raise CommandError("--level must be between 0 and 1")
        now = timezone.now()
        local_today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
        start = local_today - dt.timedelta(days=30 * months)
        result = breach_backtest(start=start, end=now, at=_clock(at), now=now, level=level)
        self.stdout.write(report(result))
