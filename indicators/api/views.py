"""The indicator API: the registry, values per object and period, and the cases behind a value.
API keys need the scope `indicators:read`; what the caller may see follows the same KPI rules
as the pages (workflows.access.kpi_scope)."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from workflows.access import kpi_scope
from workflows.selectors.tasks import BadCursor

from .. import reports
from ..models import Indicator
from ..selectors.values import GROUPS, TIME_GROUPS, indicator_values
from ..views.params import BadInput, count_from, counts_q, selection_from

OBJECTS = {"unit": "unit", "area": "district", "post": "person", "category": "major"}
PERIOD_PARAMS = [
    OpenApiParameter("period", str, description="day | week | month | quarter | year | custom"),
    OpenApiParameter("key", str, description="2026-11-03, 2026-W45, 2026-11, 2026-Q4, 2026"),
    OpenApiParameter("from", str, description="custom range start (YYYY-MM-DD)"),
    OpenApiParameter("to", str, description="custom range end (YYYY-MM-DD)"),
    OpenApiParameter("unit", int, description="only this unit (with sub-units unless subunits=0)"),
    OpenApiParameter("area", int, description="only this area (district, street, community)"),
    OpenApiParameter("source", str),
    OpenApiParameter("urgency", str),
]


def _scope(request):
    scope = kpi_scope(request.user)
    if not scope.any:
        raise Http404
    return scope


def _selection(request, scope):
    try:
        return selection_from(request.query_params, scope)
    except BadInput as exc:
        raise ValidationError({"period": [str(exc)]}) from None


IndicatorOutput = inline_serializer(
    "Indicator",
    many=True,
    fields={
        "code": serializers.CharField(),
        "name_zh": serializers.CharField(),
        "name_en": serializers.CharField(),
        "definition_zh": serializers.CharField(),
        "definition_en": serializers.CharField(),
        "formula": serializers.JSONField(),
        "unit": serializers.CharField(),
        "direction": serializers.CharField(),
        "owner": serializers.CharField(),
        "version": serializers.IntegerField(),
    },
)


class IndicatorListView(APIView):
    required_scope = "indicators:read"

    @extend_schema(responses=IndicatorOutput, summary="The indicator registry (口径)")
    def get(self, request: Request) -> Response:
        _scope(request)
        fields = [
            "code",
            "name_zh",
            "name_en",
            "definition_zh",
            "definition_en",
            "formula",
            "unit",
            "direction",
            "owner",
            "version",
        ]
        return Response(list(Indicator.objects.filter(is_active=True).values(*fields)))


class IndicatorValuesView(APIView):
    required_scope = "indicators:read"

    @extend_schema(
        summary="Indicator values per object over a period",
        parameters=[
            OpenApiParameter("indicator", str, many=True, description="codes (repeat or comma)"),
            OpenApiParameter("object", str, description="unit | area | post | category"),
            OpenApiParameter("group", str, description="a dimension or day/week/month/…"),
            *PERIOD_PARAMS,
        ],
        responses=inline_serializer(
            "IndicatorValues",
            {
                "period": serializers.DictField(),
                "group": serializers.CharField(allow_null=True),
                "indicators": serializers.ListField(child=serializers.DictField()),
                "rows": serializers.ListField(child=serializers.DictField()),
            },
        ),
    )
    def get(self, request: Request) -> Response:
        scope = _scope(request)
        selection = _selection(request, scope)
        codes = [c for v in request.query_params.getlist("indicator") for c in v.split(",") if c]
        indicators = reports.indicators_by_code(codes)
        if not codes or len(indicators) != len(set(codes)):
            raise ValidationError({"indicator": ["Give known indicator codes."]})
        obj = request.query_params.get("object")
        group = request.query_params.get("group") or OBJECTS.get(obj or "")
        if obj and obj not in OBJECTS:
            raise ValidationError({"object": [f"One of: {', '.join(OBJECTS)}."]})
        if group and group not in GROUPS and group not in TIME_GROUPS:
            raise ValidationError({"group": ["Unknown grouping."]})
        values, _raw = indicator_values(indicators, selection, group)
        labels = reports.Labels()
        visible = reports.unit_keys(scope) if group == "unit" else (lambda k: True)
        rows = [
            {
                "key": key,
                "label": labels.label(group, key),
                "values": {
                    i.code: (None if v[i.code] is None else round(v[i.code], 4)) for i in indicators
                },
                "cases": request.build_absolute_uri(
                    reports.indicator_drill_url(indicators[0], selection, group, key).replace(
                        "/indicators/cases/", "/api/v1/indicators/cases/"
                    )
                ),
            }
            for key, v in values.items()
            if (group is None or key is not None) and visible(key)
        ]
        return Response(
            {
                "period": {
                    "kind": selection.period.kind,
                    "key": selection.period.key,
                    "from": selection.period.start,
                    "to": selection.period.end,
                },
                "group": group,
                "indicators": [
                    {"code": i.code, "version": i.version, "unit": i.unit} for i in indicators
                ],
                "rows": rows,
            }
        )


class IndicatorCasesView(APIView):
    required_scope = "indicators:read"

    @extend_schema(
        summary="The cases counted in a value (only those the caller may see)",
        parameters=[
            OpenApiParameter(
                "count", str, description="a base count, e.g. handled, or several: a,b"
            ),
            OpenApiParameter("group", str),
            OpenApiParameter("value", str, description="the group value"),
            OpenApiParameter("cursor", str),
            *PERIOD_PARAMS,
        ],
        responses=inline_serializer(
            "IndicatorCases",
            {
                "results": serializers.ListField(child=serializers.DictField()),
                "next_cursor": serializers.CharField(allow_null=True),
            },
        ),
    )
    def get(self, request: Request) -> Response:
        scope = _scope(request)
        selection = _selection(request, scope)
        params = request.query_params
        try:
            counts = count_from(params)
        except BadInput as exc:
            raise ValidationError({"count": [str(exc)]}) from None
        group = params.get("group") or None
        if group and group not in GROUPS and group not in TIME_GROUPS:
            raise ValidationError({"group": ["Unknown grouping."]})
        key = params.get("value") if group else None
        if (
            key is not None
            and group not in TIME_GROUPS
            and group not in ("major", "source", "urgency", "role", "stage")
        ):
            try:
                key = int(key)
            except ValueError:
                raise ValidationError({"value": ["A number."]}) from None
        try:
            page = reports.drill_page(
                request.user, counts_q(counts, selection, group, key), params.get("cursor") or None
            )
        except BadCursor:
            raise ValidationError({"cursor": ["Not a cursor of this list."]}) from None
        return Response(
            {
                "results": [
                    {
                        "id": c.pk,
                        "number": c.number,
                        "status": c.status,
                        "created_at": c.created_at,
                        "category": c.category.code,
                        "responsible_unit": c.responsible_unit.code if c.responsible_unit else None,
                    }
                    for c in page.rows
                ],
                "next_cursor": page.next_cursor,
            }
        )
