"""`manage.py suggestions_evaluate PATH`: the active model's figures on a labelled file."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from cityops.tabular import RowsRejected
from intelligence.services.history import history_rows
from intelligence.services.reporting import figures_lines
from intelligence.services.suggest import active_model
from intelligence.services.train import Dataset, evaluate


class Command(BaseCommand):
    help = (
        "Print top-1 / top-3 accuracy on units and categories, beside the majority-class "
        "baseline, of the active dispatch-suggestion model on a labelled file in the "
        "import_history format (CSV or XLSX)."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")

    def handle(self, *args, path: str, **options):
        loaded = active_model()
        if loaded is None:
            raise CommandError(_("No active model: run suggestions_train first."))
        try:
            rows = history_rows(Path(path))
        except OSError as exc:
            raise CommandError(str(exc)) from exc
        except RowsRejected as exc:
            for error in exc.errors:
                self.stderr.write(error)
            raise CommandError(_("The file has errors; nothing was evaluated.")) from exc
        data = Dataset(
            [r.text for r in rows],
            [r.unit for r in rows],
            [r.category for r in rows],
            [r.where for r in rows],
        )
        version, model = loaded
        self.stdout.write(_("Model %(version)s on %(path)s:") % {"version": version, "path": path})
        for line in figures_lines(evaluate(model, data)):
            self.stdout.write(line)
