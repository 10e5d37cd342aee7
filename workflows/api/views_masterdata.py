"""API views of the city's master data: the unit tree and the grid (GeoJSON).

Both change a few times a year: answers carry an ETag of the reference data generation
(departments.reference), so a client or the maps ask again cheaply (304 Not Modified).
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from departments.geojson import feature_collection
from departments.models import UnitKind
from departments.reference import reference_generation
from departments.selectors import grid_cells, unit_tree

from ..selectors.lookups import unit_by_ref
from .serializers import parse

CACHE_CONTROL = "private, max-age=300"


class GridQuery(serializers.Serializer):
    area = serializers.CharField(
        required=False,
        max_length=40,
        help_text="An area (city, district, street or community) by code or id: only the "
        "cells within it, at any depth.",
    )


class GridGeometry(serializers.Serializer):
    type = serializers.ChoiceField(choices=["Polygon"])
    coordinates = serializers.ListField(
        child=serializers.ListField(
            child=serializers.ListField(child=serializers.FloatField(), min_length=2)
        ),
        help_text="One closed ring of [longitude, latitude] positions (WGS-84).",
    )


class GridProperties(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    area = serializers.CharField(help_text="The code of the community or street it lies in.")
    area_name = serializers.CharField()
    centre = serializers.ListField(
        child=serializers.FloatField(), allow_null=True, help_text="[longitude, latitude]"
    )


class GridFeature(serializers.Serializer):
    type = serializers.ChoiceField(choices=["Feature"])
    id = serializers.CharField()
    geometry = GridGeometry(allow_null=True)
    properties = GridProperties()


class GridOutput(serializers.Serializer):
    type = serializers.ChoiceField(choices=["FeatureCollection"])
    features = GridFeature(many=True)


class UnitNodeOutput(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=UnitKind.choices)
    kind_display = serializers.CharField(source="get_kind_display")
    parent = serializers.CharField(source="parent.code", allow_null=True, default=None)
    depth = serializers.IntegerField(help_text="0 for the city; parents come before children.")


class UnitTreeOutput(serializers.Serializer):
    results = UnitNodeOutput(many=True)


def _cached(request: Request, tag: str, build) -> Response:
    """200 with the body and an ETag, or 304 when the client holds this generation already."""
    etag = f'"{tag}-{reference_generation()}-{request.LANGUAGE_CODE}"'
    if etag in request.headers.get("If-None-Match", ""):
        response = Response(status=304)
    else:
        response = Response(build())
    response["ETag"] = etag
    response["Cache-Control"] = CACHE_CONTROL
    response["Vary"] = "Accept-Language, Authorization, Cookie"
    return response


class GridView(APIView):
    """The grid cells as a GeoJSON FeatureCollection (RFC 7946), for maps and integrators."""

    required_scope = "cases:read"

    @extend_schema(operation_id="grid_list", parameters=[GridQuery], responses=GridOutput)
    def get(self, request: Request) -> Response:
        query = parse(GridQuery, request.query_params)
        area = None
        if query.get("area"):
            area = unit_by_ref(query["area"])
            if area is None or not area.is_area:
                raise serializers.ValidationError(
                    {"area": [_("No area (city, district, street or community) has this code.")]}
                )
        tag = f"grid-{area.pk if area else 'all'}"
        return _cached(request, tag, lambda: feature_collection(grid_cells(area)))


class UnitTreeView(APIView):
    """The organisation: every active unit with its code, name, kind and parent, as a tree in
    depth-first order."""

    required_scope = "cases:read"

    @extend_schema(operation_id="units_list", responses=UnitTreeOutput)
    def get(self, request: Request) -> Response:
        def build() -> dict:
            nodes = []
            for unit, depth in unit_tree():
                unit.depth = depth
                nodes.append(unit)
            return UnitTreeOutput({"results": nodes}).data

        return _cached(request, "units", build)
