"""`manage.py export_units [PATH]`: write the units in the format import_units reads."""

from cityops.commands import ExportCommand
from departments.masterdata import UNIT_COLUMNS, table_write, units_export


class Command(ExportCommand):
    help = "Export every unit as import_units reads it (CSV or XLSX); without PATH, CSV to stdout."

    def run_export(self, *, target, fmt, **options) -> int:
        rows = units_export()
        table_write(rows=rows, columns=UNIT_COLUMNS, target=target, fmt=fmt)
        return len(rows)
