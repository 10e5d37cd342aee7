"""`manage.py suggestions_train`: a new dispatch-suggestion model version from the closed cases."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from intelligence.services.reporting import figures_lines
from intelligence.services.train import TooLittleHistory, suggestion_model_train


class Command(BaseCommand):
    help = (
        "Train the dispatch-suggestion model on every closed case: measured on the most recent "
        "20 %% held out (top-1 / top-3 on units and categories, beside the majority-class "
        "baseline), then stored as a new version and made active."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--holdout", type=float, default=0.2, help="share of the most recent cases held out"
        )
        parser.add_argument(
            "--inactive", action="store_true", help="store the version without activating it"
        )

    def handle(self, *args, holdout: float, inactive: bool, **options):
        if not 0 < holdout < 1:
            raise CommandError(_("--holdout is a share between 0 and 1."))
        try:
            model = suggestion_model_train(holdout=holdout, activate=not inactive)
        except TooLittleHistory as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            _(
                "Version %(version)s: %(cases)s closed cases (%(units)s units, %(categories)s "
                "categories), the most recent %(held)s held out; %(seconds)s s, %(size)s kB."
            )
            % {
                "version": model.version,
                "cases": model.cases,
                "units": model.units,
                "categories": model.categories,
                "held": model.held_out,
                "seconds": model.seconds,
                "size": model.size // 1024,
            }
        )
        for line in figures_lines(model.metrics):
            self.stdout.write(line)
        self.stdout.write(
            _("Active: suggestions use it now.") if model.is_active else _("Stored, not active.")
        )
