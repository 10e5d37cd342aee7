"""API view of the case search on a map: the located cases of a search as GeoJSON points."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..models import CaseStatus, Stage
from ..selectors.case_search import (
    CaseSearchFilter,
    case_map_points,
    case_point,
    case_search,
)
from ..shortcuts import case_or_404
from .schema import filter_parameters
from .serializers import MAX_ID, parse

NEARBY_DEGREES = 0.01  # about 1 km around the case, either way


class CaseMapQuery(serializers.Serializer):
    bbox = serializers.CharField(
        required=False,
        max_length=100,
        help_text="min longitude,min latitude,max longitude,max latitude (WGS-84).",
    )
    near = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text="A case id: the open cases within about 1 km of it (the case left out).",
    )

    def validate_bbox(self, value: str) -> tuple[float, float, float, float] | None:
        if not value:
            return None
        try:
            min_lng, min_lat, max_lng, max_lat = (float(v) for v in value.split(","))
        except ValueError:
            raise serializers.ValidationError(_("Give four numbers separated by commas.")) from None
        if not (-180 <= min_lng <= max_lng <= 180 and -90 <= min_lat <= max_lat <= 90):
            raise serializers.ValidationError(_("This is not a box on the globe."))
        return min_lng, min_lat, max_lng, max_lat


class CasePointProperties(serializers.Serializer):
    number = serializers.CharField()
    category = serializers.CharField()
    stage = serializers.CharField()
    stage_label = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    url = serializers.CharField(help_text="The case's page.")


class CasePoint(serializers.Serializer):
    type = serializers.CharField(help_text='"Feature"')
    id = serializers.IntegerField()
    geometry = serializers.JSONField(help_text='{"type": "Point", "coordinates": [lng, lat]}')
    properties = CasePointProperties()


class CaseMapOutput(serializers.Serializer):
    type = serializers.CharField(help_text='"FeatureCollection"')
    features = CasePoint(many=True)
    truncated = serializers.BooleanField(help_text="More cases matched than are shown.")


def _label(choices, value: str) -> str:
    return choices(value).label if value in choices.values else value


def point_feature(row: tuple) -> dict:
    pk, number, lat, lng, stage, status, category = row
    return {
        "type": "Feature",
        "id": pk,
        "geometry": {"type": "Point", "coordinates": [lng, lat]},
        "properties": {
            "number": number,
            "category": category,
            "stage": stage,
            "stage_label": str(_label(Stage, stage)),
            "status": status,
            "status_label": str(_label(CaseStatus, status)),
            "url": reverse("workflows:case", args=[pk]),
        },
    }


class CaseMapView(APIView):
    """GET ?<the case search's filters>&bbox=&near= → the located cases as GeoJSON points,
    newest first, at most CITYOPS_MAP_MAX_POINTS (`truncated` says when there were more)."""

    required_scope = "cases:read"

    @extend_schema(
        operation_id="cases_map",
        parameters=[*filter_parameters(CaseSearchFilter), CaseMapQuery],
        responses=CaseMapOutput,
    )
    def get(self, request: Request) -> Response:
        query = parse(CaseMapQuery, request.query_params)
        params = request.query_params
        bbox, exclude = query.get("bbox"), None
        if query.get("near"):
            case = case_or_404(request.user, query["near"])
            point = case_point(case)
            if point is None:
                raise serializers.ValidationError({"near": [_("This case has no location.")]})
            (lat, lng), d = point, NEARBY_DEGREES
            bbox = (lng - d, lat - d, lng + d, lat + d)
            params = params.copy()
            params["status"] = CaseStatus.OPEN
            exclude = case.pk
        search = case_search(request.user, params)
        if not search.is_valid():
            raise serializers.ValidationError(search.errors)
        points = case_map_points(
            search, limit=settings.CITYOPS_MAP_MAX_POINTS, bbox=bbox, exclude=exclude
        )
        return Response(
            {
                "type": "FeatureCollection",
                "features": [point_feature(row) for row in points.rows],
                "truncated": points.truncated,
            }
        )
