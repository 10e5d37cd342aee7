"""`manage.py import_units PATH`: load the organisation's units from CSV or XLSX."""

from cityops.commands import ImportCommand
from departments.masterdata import units_import


class Command(ImportCommand):
    help = (
        "Import units from a CSV or XLSX file with the columns code, name, kind, parent (the "
        "parent's code). Every row must be valid, or nothing is imported."
    )
    what = "units"

    def run_import(self, *, source, fmt, progress, **options):
        return units_import(rows_source=source, fmt=fmt, progress=progress)
