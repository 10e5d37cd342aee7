"""Create or refresh the demo city: organisation, grid, calendar, categories, accounts."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from departments.demo import seed_accounts, seed_organisation
from indicators.demo import seed_history
from intelligence.demo import seed_intelligence
from intelligence.services.train import TooLittleHistory, demo_model_train
from workflows.demo import seed_cases, seed_orders, seed_short_limit_category
from workflows.models import CategoryScheme
from workflows.services.categories import categories_import

DEMO_CATEGORIES = Path(__file__).resolve().parents[2] / "data" / "categories.csv"
DEMO_SCHEME = "GB/T 30428.2"


class Command(BaseCommand):
    help = (
        "Seed the demo city (idempotent). Refuses to create accounts when DEBUG=False "
        "unless --force."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="create the demo accounts even with DEBUG=False"
        )
        parser.add_argument(
            "--password",
            default=None,
            help="demo password (default: $DEMO_PASSWORD or cityops-demo)",
        )

    def handle(self, *args, force: bool = False, password: str | None = None, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "DEBUG=False: refusing to create demo accounts with a known "
                "password. Pass --force if you really mean it."
            )
        org = seed_organisation()
        result = categories_import(rows_source=DEMO_CATEGORIES)
        org.city.category_scheme = CategoryScheme.objects.get(code=DEMO_SCHEME)
        org.city.save(update_fields=["category_scheme"])
        password = password or settings.DEMO_PASSWORD
        users = seed_accounts(password)
        seed_short_limit_category(scheme_id=org.city.category_scheme_id)
        cases = seed_cases(scheme_id=org.city.category_scheme_id)
        history = seed_history()  # months of ended cases for the indicator pages
        orders = seed_orders()
        try:  # dispatch suggestions learn from that history (a few seconds)
            model = demo_model_train(history_written=history > 0)
        except TooLittleHistory as exc:
            self.stdout.write(str(exc))
        else:
            if model is not None:
                self.stdout.write(f"Dispatch-suggestion model {model.version} trained.")
        # Last: a burst of reports, then a breach sweep and a hotspot scan over everything.
        burst, sweep, scan = seed_intelligence(scheme_id=org.city.category_scheme_id)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo city ready: {len(org.units)} handling units, categories "
                f"({result.created} new, {result.updated} updated, {result.unchanged} unchanged), "
                f"accounts {', '.join(users)}; {cases} demo cases and {orders} hotline orders "
                f"created, {history} cases of history; {burst} burst reports, "
                f"{sweep.scored} open tasks scored ({sweep.warned} early warnings), "
                f"{scan.raised} hotspot alerts."
            )
        )
