"""Grid cells as GeoJSON features (RFC 7946) and back.

`cell_feature` turns a stored cell into a Feature for the API, the maps and the export;
`cell_fields` reads a Feature (an import's, or a person's) into the values of a cell, checking
everything that can be checked without the database, and naming the feature in each error.

A Feature looks like this (coordinates are [longitude, latitude], WGS-84; the ring is closed,
its last position repeating the first):

    {"type": "Feature", "id": "D01-S01-C1-G1",
     "geometry": {"type": "Polygon", "coordinates": [[[121.40, 31.20], …, [121.40, 31.20]]]},
     "properties": {"code": "D01-S01-C1-G1", "name": "…", "area": "D01-S01-C1",
                    "area_name": "…", "centre": [121.405, 31.205]}}

The model keeps the ring open (without the repeated position), as the point lookup reads it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from cityops.tabular import RowsRejected

from .models import GridCell, Unit

MAX_RING_POSITIONS = 10_000  # a grid cell is a street block, not a coastline
CODE_MAX_LENGTH = GridCell._meta.get_field("code").max_length
NAME_MAX_LENGTH = GridCell._meta.get_field("name").max_length
AREA_MAX_LENGTH = Unit._meta.get_field("code").max_length


class FeatureError(RowsRejected):
    """A feature cannot become a grid cell; `errors` lists every problem, each naming it."""


@dataclass(frozen=True)
class CellFields:
    """A grid cell's values as read from a feature; `area_code` is still to be resolved."""

    code: str
    name: str
    area_code: str
    polygon: list[list[float]] | None  # the open outer ring, [lng, lat] pairs
    centre_lat: float | None
    centre_lng: float | None


# --- to GeoJSON ------------------------------------------------------------------------------


def closed_ring(ring: list[list[float]]) -> list[list[float]]:
    """The ring with its first position repeated at the end, as GeoJSON wants."""
    positions = [[float(p[0]), float(p[1])] for p in ring]
    if positions and positions[0] != positions[-1]:
        positions.append(list(positions[0]))
    return positions


def make_feature(
    *,
    code: str,
    name: str,
    area: str,
    polygon: list[list[float]] | None,
    centre_lat: float | None,
    centre_lng: float | None,
    area_name: str | None = None,
) -> dict[str, Any]:
    """A Feature from a cell's values (`polygon` the open ring, as the model keeps it)."""
    geometry = None
    if polygon:
        geometry = {"type": "Polygon", "coordinates": [closed_ring(polygon)]}
    centre = None
    if centre_lat is not None and centre_lng is not None:
        centre = [centre_lng, centre_lat]
    properties = {"code": code, "name": name, "area": area, "area_name": area_name}
    if area_name is None:
        del properties["area_name"]
    properties["centre"] = centre
    return {"type": "Feature", "id": code, "geometry": geometry, "properties": properties}


def cell_feature(cell: GridCell) -> dict[str, Any]:
    """One cell as a Feature; its area must be loaded (select_related("area"))."""
    return make_feature(
        code=cell.code,
        name=cell.name,
        area=cell.area.code,
        area_name=cell.area.name,
        polygon=cell.polygon,
        centre_lat=cell.centre_lat,
        centre_lng=cell.centre_lng,
    )


def feature_collection(cells: Iterable[GridCell]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": [cell_feature(cell) for cell in cells]}


# --- from GeoJSON ----------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    """A finite JSON number (not a bool, not a string), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _position(value: Any) -> list[float] | None:
    """[lng, lat] within the globe (a third value, the altitude, is allowed and dropped)."""
    if not isinstance(value, list) or len(value) not in (2, 3):
        return None
    lng, lat = _number(value[0]), _number(value[1])
    if lng is None or lat is None or not (-180 <= lng <= 180 and -90 <= lat <= 90):
        return None
    return [lng, lat]


def _ring(geometry: Any) -> tuple[list[list[float]] | None, list[str]]:
    """The open outer ring of a Polygon geometry (None for a null geometry), or errors."""
    if geometry is None:
        return None, []
    if not isinstance(geometry, dict) or geometry.get("type") != "Polygon":
        found = geometry.get("type") if isinstance(geometry, dict) else type(geometry).__name__
        return None, [_("geometry must be a Polygon (found %(found)s)") % {"found": found}]
    rings = geometry.get("coordinates")
    if not isinstance(rings, list) or len(rings) != 1:
        return None, [_("a Polygon must have exactly one ring (holes are not supported)")]
    raw = rings[0]
    if not isinstance(raw, list) or not 4 <= len(raw) <= MAX_RING_POSITIONS:
        return None, [
            _("the ring must have between 4 and %(max)d positions") % {"max": MAX_RING_POSITIONS}
        ]
    positions = [_position(value) for value in raw]
    bad = [str(index + 1) for index, position in enumerate(positions) if position is None]
    if bad:
        message = _("position(s) %(numbers)s are not [longitude, latitude] in range")
        return None, [message % {"numbers": ", ".join(bad[:5])}]
    if positions[0] != positions[-1]:
        return None, [_("the ring is not closed (its last position must repeat the first)")]
    ring = positions[:-1]
    if len({tuple(p) for p in ring}) < 3:
        return None, [_("the ring needs at least 3 distinct positions")]
    return ring, []


def _text(properties: dict, name: str, max_length: int) -> tuple[str, list[str]]:
    value = properties.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        return "", [_("property “%(name)s” is required") % {"name": name}]
    if not isinstance(value, str | int) or isinstance(value, bool):
        return "", [_("property “%(name)s” must be text") % {"name": name}]
    text = str(value).strip()
    if len(text) > max_length:
        message = _("property “%(name)s” is longer than %(max)d characters")
        return "", [message % {"name": name, "max": max_length}]
    return text, []


def _centre(properties: dict, ring: list[list[float]] | None) -> tuple[list | None, list[str]]:
    """The given centre, or the mean of the ring's positions, or None without either."""
    if properties.get("centre") is not None:
        centre = _position(properties["centre"])
        if centre is None:
            return None, [_("property “centre” must be [longitude, latitude] in range")]
        return centre, []
    if ring:
        lng = sum(p[0] for p in ring) / len(ring)
        lat = sum(p[1] for p in ring) / len(ring)
        return [round(lng, 6), round(lat, 6)], []
    return None, []


def cell_fields(feature: Any, *, where: str) -> CellFields:
    """Read one Feature, or raise FeatureError whose messages start with `where`
    ("feature 3", already translated)."""
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise FeatureError([f"{where}: " + _("not a GeoJSON Feature")])
    properties = feature.get("properties")
    if not isinstance(properties, dict):
        raise FeatureError([f"{where}: " + _("the feature has no properties")])
    code, errors = _text(properties, "code", CODE_MAX_LENGTH)
    name, name_errors = _text(properties, "name", NAME_MAX_LENGTH)
    area, area_errors = _text(properties, "area", AREA_MAX_LENGTH)
    ring, ring_errors = _ring(feature.get("geometry"))
    centre, centre_errors = _centre(properties, ring)
    errors += name_errors + area_errors + ring_errors + centre_errors
    if errors:
        label = f"{where} ({code})" if code else where
        raise FeatureError([f"{label}: {error}" for error in errors])
    return CellFields(
        code=code,
        name=name,
        area_code=area,
        polygon=ring,
        centre_lat=centre[1] if centre else None,
        centre_lng=centre[0] if centre else None,
    )


def feature_list(document: Any) -> list[Any]:
    """The features of a FeatureCollection (or a single Feature), or FeatureError."""
    if isinstance(document, dict) and document.get("type") == "Feature":
        return [document]
    if isinstance(document, dict) and document.get("type") == "FeatureCollection":
        features = document.get("features")
        if isinstance(features, list):
            return features
    raise FeatureError([_("The file is not a GeoJSON FeatureCollection.")])
