"""`manage.py export_grid [PATH]`: write the grid as GeoJSON, as import_grid reads it."""

from cityops.commands import ExportCommand
from departments.masterdata import grid_export, grid_write


class Command(ExportCommand):
    help = "Export every grid cell as a GeoJSON FeatureCollection; without PATH, to stdout."
    formats = ("geojson",)
    binary_formats = ()

    def run_export(self, *, target, fmt, **options) -> int:
        document = grid_export()
        grid_write(document=document, target=target)
        return len(document["features"])
