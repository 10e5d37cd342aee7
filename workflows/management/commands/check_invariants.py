"""`manage.py check_invariants`: list the cases whose open tasks, pending requests and stage
disagree (rules in workflows.selectors.invariants); exits 1 when there is any."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from workflows.selectors.invariants import invariant_violations


class Command(BaseCommand):
    help = "Check that every case's open tasks, pending requests and stage agree."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=100, help="List at most this many.")

    def handle(self, *args, limit: int, **options):
        started = time.monotonic()
        total, shown = invariant_violations(limit=max(limit, 1))
        seconds = time.monotonic() - started
        for v in shown:
            self.stdout.write(f"{v.number} (case {v.case_id}): {v.rule}")
        if total:
            raise CommandError(
                f"{total} invariant violation(s) found in {seconds:.2f} s"
                + (f" (first {len(shown)} listed)" if total > len(shown) else ""),
                returncode=1,
            )
        self.stdout.write(f"check_invariants: 0 violations ({seconds:.2f} s)")
