"""`manage.py import_categories PATH`: load a category code list from CSV or XLSX."""

from django.utils.translation import ngettext

from cityops.commands import ImportCommand
from workflows.services.categories import categories_import


class Command(ImportCommand):
    help = (
        "Import categories from a CSV or XLSX file (columns as in the reference categories.csv). "
        "Every row must be valid, or nothing is imported."
    )

    def run_import(self, *, source, fmt, progress, **options):
        return categories_import(rows_source=source, fmt=fmt)

    def summary_extra(self, result) -> str:
        return "; " + ngettext(
            "%(count)d scheme created", "%(count)d schemes created", result.schemes_created
        ) % {"count": result.schemes_created}
