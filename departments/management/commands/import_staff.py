"""`manage.py import_staff PATH`: load staff posts from CSV or XLSX."""

from cityops.commands import ImportCommand
from departments.masterdata import staff_import


class Command(ImportCommand):
    help = (
        "Import staff posts from a CSV or XLSX file with the columns username, name, unit (code), "
        "role, include_subunits (yes/no). New people get no usable password. Every row must be "
        "valid, or nothing is imported."
    )
    what = "staff"

    def run_import(self, *, source, fmt, progress, **options):
        return staff_import(rows_source=source, fmt=fmt, progress=progress)
