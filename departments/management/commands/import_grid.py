"""`manage.py import_grid PATH`: load grid cells from a GeoJSON FeatureCollection."""

from cityops.commands import ImportCommand
from departments.masterdata import grid_import


class Command(ImportCommand):
    help = (
        "Import grid cells from a GeoJSON FeatureCollection whose features have the properties "
        "code, name and area (a community's or street's code) and a Polygon. Every feature must "
        "be valid, or nothing is imported."
    )
    formats = ("geojson",)
    what = "features"

    def run_import(self, *, source, fmt, progress, **options):
        return grid_import(rows_source=source, progress=progress)
