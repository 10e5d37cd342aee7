"""`manage.py export_categories [PATH]`: write categories in the import format."""

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from cityops.commands import ExportCommand
from workflows.services.categories import categories_export, categories_write


class Command(ExportCommand):
    help = (
        "Export categories in the columns import_categories reads, so the file re-imports "
        "unchanged. Without PATH, CSV goes to standard output."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--scheme", help="only this scheme's code, e.g. GB/T 30428.2")

    def run_export(self, *, target, fmt, scheme: str | None = None, **options) -> int:
        rows = categories_export(scheme=scheme)
        if scheme is not None and not rows:
            raise CommandError(_("No categories in scheme %(scheme)s.") % {"scheme": scheme})
        categories_write(rows=rows, target=target, fmt=fmt)
        return len(rows)
