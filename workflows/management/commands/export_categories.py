"""`manage.py export_categories [PATH]`: write categories in the import format."""

import io
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from workflows.services.categories import categories_export, categories_write


class Command(BaseCommand):
    # argparse needs plain str: help texts stay untranslated, as in Django's own commands.
    help = (
        "Export categories in the columns import_categories reads, so the file re-imports "
        "unchanged. Without PATH, CSV goes to standard output."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", nargs="?", help="a .csv or .xlsx file to write")
        parser.add_argument("--scheme", help="only this scheme's code, e.g. GB/T 30428.2")
        parser.add_argument(
            "--format",
            dest="fmt",
            choices=["csv", "xlsx"],
            help="file format; by default .xlsx paths are XLSX, anything else CSV",
        )

    def handle(self, *args, path: str | None, scheme: str | None, fmt: str | None, **options):
        if fmt is None:
            fmt = "xlsx" if path and Path(path).suffix.lower() == ".xlsx" else "csv"
        if fmt == "xlsx" and not path:
            raise CommandError(_("XLSX is written to a file: give a PATH."))
        rows = categories_export(scheme=scheme)
        if scheme is not None and not rows:
            raise CommandError(_("No categories in scheme %(scheme)s.") % {"scheme": scheme})
        if path is None:
            buffer = io.StringIO()
            categories_write(rows=rows, target=buffer, fmt="csv")
            self.stdout.write(buffer.getvalue(), ending="")
            return
        try:
            categories_write(rows=rows, target=Path(path), fmt=fmt)
        except OSError as exc:
            message = _("Cannot write %(path)s: %(error)s") % {"path": path, "error": exc}
            raise CommandError(message) from exc
        self.stderr.write(
            ngettext(
                "Exported %(count)d category to %(path)s.",
                "Exported %(count)d categories to %(path)s.",
                len(rows),
            )
            % {"count": len(rows), "path": path}
        )
