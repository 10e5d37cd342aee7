"""`manage.py import_history PATH`: past cases from a legacy system, as closed history."""

from cityops.commands import ImportCommand
from intelligence.services.history import history_import


class Command(ImportCommand):
    help = (
        "Import past cases (CSV in UTF-8 or GB18030, or XLSX) with the columns reported_at, "
        "text, unit and optionally category (scheme/kind/code), closed_at, lat, lng, "
        "external_id. Every row must be valid, or nothing is imported; rows whose external_id "
        "was imported before are skipped."
    )
    what = "cases"

    def run_import(self, *, source, fmt, progress, **options):
        return history_import(path=source, fmt=fmt, progress=progress)
