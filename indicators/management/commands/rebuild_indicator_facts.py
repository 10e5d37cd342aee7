"""Recompute the indicator facts from the task rows and compare with the stored ones."""

from django.core.management.base import BaseCommand, CommandError

from indicators.facts import facts_catch_up, facts_rebuild


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

    def handle(self, *args, check: bool = False, catch_up: bool = False, **options):
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
