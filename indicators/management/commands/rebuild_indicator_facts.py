"""Recompute the indicator facts from the task rows and compare with the stored ones."""

import time

from django.core.management.base import BaseCommand, CommandError

from indicators.facts import facts_catch_up, facts_rebuild
from indicators.rollup import rollup_rebuild


class Command(BaseCommand):
    help = (
        "Rebuild the indicator facts from scratch and report any difference from the stored "
        "(incrementally maintained) facts and their rollup. --check only reports (exit status "
        "1 on a difference); without it the differing cases and rollup rows are replaced."
    )

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="report only, change nothing")
        parser.add_argument(
            "--catch-up", action="store_true", help="apply pending events first (no settle wait)"
        )
        parser.add_argument(
            "--rollup-only",
            action="store_true",
            help="compare (and repair) only the rollup against the stored facts (minutes, not "
            "the facts' quarter of an hour at 1M tasks)",
        )

    def handle(self, *args, check=False, catch_up=False, rollup_only=False, **options):
        if rollup_only:
            started = time.perf_counter()
            report = rollup_rebuild(apply=not check)
            self.stdout.write(
                f"rollup rows {report['rows']}: missing or differing {report['missing']}, "
                f"extra {report['extra']} ({time.perf_counter() - started:.0f} s)"
            )
            if check and (report["missing"] or report["extra"]):
                raise CommandError("difference in the rollup")
            return
        if catch_up:
            applied = 0
            while step := facts_catch_up(settle_seconds=0):
                applied += step
            self.stdout.write(f"caught up: {applied} events applied")
        report = facts_rebuild(apply=not check)
        rollup = report["rollup"]
        self.stdout.write(
            f"cases {report['cases']}, facts {report['facts']}: "
            f"missing {report['missing']}, extra {report['extra']}; rollup rows "
            f"{rollup['rows']}: missing or differing {rollup['missing']}, extra {rollup['extra']}"
        )
        messages = []
        if report["missing"] or report["extra"]:
            sample = ", ".join(map(str, report["differing_cases"][:10]))
            messages.append(f"difference in cases (ids, first 10): {sample}")
        if rollup["missing"] or rollup["extra"]:
            messages.append("difference in the rollup")
        if messages and check:
            raise CommandError("; ".join(messages))
        for message in messages:
            self.stdout.write(message + " — replaced")
        if not messages:
            self.stdout.write(self.style.SUCCESS("zero difference"))
