"""`manage.py export_staff [PATH]`: write the staff posts in the format import_staff reads."""

from cityops.commands import ExportCommand
from departments.masterdata import STAFF_COLUMNS, staff_export, table_write


class Command(ExportCommand):
    help = (
        "Export every staff post as import_staff reads it (CSV or XLSX); without PATH, to stdout."
    )

    def run_export(self, *, target, fmt, **options) -> int:
        rows = staff_export()
        table_write(rows=rows, columns=STAFF_COLUMNS, target=target, fmt=fmt)
        return len(rows)
