"""`manage.py import_categories PATH`: load a category code list from CSV or XLSX."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from workflows.services.categories import CategoryImportError, categories_import


class Command(BaseCommand):
    # argparse needs plain str: help texts stay untranslated, as in Django's own commands.
    help = (
        "Import categories from a CSV or XLSX file (columns as in the reference categories.csv). "
        "Every row must be valid, or nothing is imported."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="a .csv (UTF-8) or .xlsx file")
        parser.add_argument(
            "--format",
            dest="fmt",
            choices=["csv", "xlsx"],
            help="file format; by default guessed from the extension",
        )

    def handle(self, *args, path: str, fmt: str | None, **options) -> None:
        source = Path(path)
        try:
            result = categories_import(rows_source=source, fmt=fmt)
        except OSError as exc:
            message = _("Cannot read %(path)s: %(error)s") % {"path": path, "error": exc}
            raise CommandError(message) from exc
        except CategoryImportError as exc:
            for error in exc.errors:
                self.stderr.write(error)
            raise CommandError(
                ngettext(
                    "%(count)d error in %(name)s; nothing was imported.",
                    "%(count)d errors in %(name)s; nothing was imported.",
                    len(exc.errors),
                )
                % {"count": len(exc.errors), "name": source.name}
            ) from exc
        schemes = ngettext(
            "%(count)d scheme created", "%(count)d schemes created", result.schemes_created
        ) % {"count": result.schemes_created}
        self.stdout.write(
            _(
                "Imported %(name)s: %(rows)d rows — %(created)d created, %(updated)d updated, "
                "%(unchanged)d unchanged; %(schemes)s"
            )
            % {
                "name": source.name,
                "rows": result.rows,
                "created": result.created,
                "updated": result.updated,
                "unchanged": result.unchanged,
                "schemes": schemes,
            }
        )
