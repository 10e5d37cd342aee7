"""The suggestion API: POST /api/v1/suggestions/dispatch/ (scope `cases:read` for API keys)
and the choice a page's user submitted after seeing one."""

from __future__ import annotations

from dataclasses import asdict

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from workflows.access import can_view_case
from workflows.models import DESCRIPTION_MAX_LENGTH, ApiKey, Case, Category

from ..models import SuggestionLog, Surface
from ..services.feedback import suggestion_choice_record, suggestion_shown
from ..services.suggest import dispatch_suggest

MAX_ID = 2**31 - 1


class DispatchInput(serializers.Serializer):
    text = serializers.CharField(
        max_length=DESCRIPTION_MAX_LENGTH,
        help_text="The complaint in the citizen's or inspector's words (Chinese or English).",
    )
    lat = serializers.FloatField(required=False, min_value=-90, max_value=90)
    lng = serializers.FloatField(required=False, min_value=-180, max_value=180)
    category = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="Known category, by id or scheme/kind/code: the routing rules use it.",
    )
    surface = serializers.ChoiceField(
        choices=Surface.choices,
        required=False,
        help_text="Pages only: log the suggestion shown there (its id comes back as `log`).",
    )
    choose = serializers.ChoiceField(
        choices=["unit", "category"],
        required=False,
        help_text="Pages only: what the user picks there (what the log compares).",
    )
    case = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)

    def validate(self, attrs):
        if ("lat" in attrs) != ("lng" in attrs):
            raise serializers.ValidationError({"lng": [_("Give both lat and lng, or neither.")]})
        return attrs


class ReasonOutput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["words", "similar_case", "rule"])
    label = serializers.CharField(help_text="The reason in words, in the caller's language.")
    words = serializers.ListField(child=serializers.CharField(), required=False)
    case = serializers.CharField(required=False, help_text="Number of a similar past case.")
    similarity = serializers.FloatField(required=False, help_text="Cosine similarity, 0–1.")
    excerpt = serializers.CharField(required=False)
    category = serializers.CharField(required=False)


class UnitChoiceOutput(serializers.Serializer):
    unit = serializers.CharField(source="code", help_text="Unit code.")
    id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    score = serializers.FloatField(help_text="Probability, 0–1.")
    reasons = ReasonOutput(many=True)


class CategoryChoiceOutput(serializers.Serializer):
    category = serializers.CharField(source="code", help_text="scheme/kind/code")
    id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    score = serializers.FloatField(help_text="Probability, 0–1.")
    reasons = ReasonOutput(many=True)


class RuleOutput(serializers.Serializer):
    unit = serializers.CharField()
    name = serializers.CharField()
    basis = serializers.ChoiceField(choices=["rule", "category_default"])
    explanation = serializers.CharField()


class DispatchOutput(serializers.Serializer):
    model = serializers.CharField(help_text='The model version, or "cold-start".')
    cold_start = serializers.BooleanField()
    note = serializers.CharField(allow_blank=True)
    units = UnitChoiceOutput(many=True)
    categories = CategoryChoiceOutput(many=True)
    rule = RuleOutput(
        allow_null=True,
        help_text="What the routing rules answer for the (given or first) category and the "
        "place: they decide where a rule matches.",
    )
    log = serializers.IntegerField(allow_null=True, required=False)


def _category(ref: str) -> Category | None:
    if not ref:
        return None
    rows = Category.objects.select_related("default_unit")
    if ref.isdigit():
        found = rows.filter(pk=int(ref)).first() if int(ref) <= MAX_ID else None
    else:
        parts = ref.rsplit("/", 2)
        found = (
            rows.filter(scheme__code=parts[0], kind=parts[1], code=parts[2]).first()
            if len(parts) == 3
            else None
        )
    if found is None:
        raise serializers.ValidationError({"category": [_("No category has this id or key.")]})
    return found


class DispatchSuggestionView(APIView):
    """Ranked responsible units and categories for a complaint's text, each with its
    probability and reasons (the words that weighed most, similar past cases), and what the
    routing rules answer. Read-only: it never waits for a case's lock."""

    required_scope = "cases:read"

    @extend_schema(
        operation_id="suggestions_dispatch", request=DispatchInput, responses=DispatchOutput
    )
    def post(self, request: Request) -> Response:
        form = DispatchInput(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        suggestion = dispatch_suggest(
            text=data["text"],
            lat=data.get("lat"),
            lng=data.get("lng"),
            category=_category(data.get("category", "")),
        )
        body = asdict(suggestion)
        body["log"] = None
        if data.get("surface") and not isinstance(request.auth, ApiKey):
            case = Case.objects.filter(pk=data["case"]).first() if data.get("case") else None
            if case is not None and not can_view_case(request.user, case):
                case = None
            kind = data.get("choose", "unit")
            choices = suggestion.categories if kind == "category" else suggestion.units
            body["log"] = suggestion_shown(
                actor=request.user,
                surface=data["surface"],
                kind=kind,
                suggested=[c.code for c in choices],
                model_version=suggestion.model,
                case=case,
            ).pk
        return Response(DispatchOutput(body).data)


class ChoiceInput(serializers.Serializer):
    chosen = serializers.CharField(
        allow_blank=True, max_length=100, help_text="The code submitted; empty: none."
    )


class ChoiceOutput(serializers.Serializer):
    taken = serializers.ChoiceField(choices=["first", "other", "none"])


class SuggestionChoiceView(APIView):
    """Record what the user submitted after a logged suggestion (pages call it on submit)."""

    required_scope = None  # staff only: API keys never log page suggestions

    @extend_schema(operation_id="suggestions_choice", request=ChoiceInput, responses=ChoiceOutput)
    def post(self, request: Request, log_id: int) -> Response:
        log = SuggestionLog.objects.filter(pk=log_id, user=request.user).first()
        if log is None:
            raise Http404
        form = ChoiceInput(data=request.data)
        form.is_valid(raise_exception=True)
        log = suggestion_choice_record(
            actor=request.user, log=log, chosen=form.validated_data["chosen"]
        )
        return Response({"taken": log.taken})
