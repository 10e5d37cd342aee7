"""Dashboard, drill-down, data dictionary and the big screen."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from departments.models import AREA_KINDS, Unit, UnitKind
from workflows.models import Source, Urgency
from workflows.selectors.tasks import BadCursor

from .. import reports
from ..models import Indicator
from ..registry import BASE_COUNTS
from ..selectors.periods import KINDS
from .exports import table_response
from .params import (
    BadInput,
    count_from,
    counts_q,
    group_from,
    scope_or_404,
    selection_from,
)


def bad_request(request, message: str) -> HttpResponse:
    return render(request, "indicators/error.html", {"message": message}, status=400)


def period_kind_choices() -> list[tuple[str, str]]:
    """The period kinds with their names, for the period pickers."""
    names = {
        "day": _("Day"),
        "week": _("ISO week"),
        "month": _("Month"),
        "quarter": _("Quarter"),
        "year": _("Year"),
        "custom": _("Custom range"),
    }
    return [(kind, names[kind]) for kind in KINDS]


def filter_context(request, selection, scope) -> dict:
    units = Unit.objects.filter(kind=UnitKind.HANDLING, is_active=True).order_by("code")
    areas = Unit.objects.filter(kind__in=AREA_KINDS, is_active=True).order_by("code")
    return {
        "period_kinds": period_kind_choices(),
        "period": selection.period,
        "params": request.GET,
        "units": [u for u in units if scope.sees_unit(u.pk)],
        "areas": [a for a in areas if scope.everything or scope.sees_area(a.pk)],
        "sources": Source.choices,
        "urgencies": Urgency.choices,
        "selection": selection,
        "query": request.GET.urlencode(),
    }


@login_required
@require_GET
def dashboard_view(request: HttpRequest) -> HttpResponse:
    scope = scope_or_404(request.user)
    try:
        selection = selection_from(request.GET, scope)
    except BadInput as exc:
        return bad_request(request, str(exc))
    labels = reports.Labels()
    city = Unit.objects.filter(kind=UnitKind.CITY).order_by("code").first()
    units = reports.table(
        selection,
        "unit",
        reports.TABLE_CODES,
        labels=labels,
        city_id=city.pk if city else None,
        keys_visible=reports.unit_keys(scope),
    )
    if request.GET.get("export") in ("csv", "xlsx"):
        return table_response(units, request.GET["export"], _("units"), selection)
    overall = reports.table(selection, None, reports.DASHBOARD_CODES, labels=labels)
    cards = [
        {"name": col["name"], **cell}
        for col, cell in zip(overall["columns"], overall["rows"][0]["cells"], strict=True)
    ]
    areas = {
        level: reports.table(
            selection,
            level,
            ["handling_rate", "handled_on_time_rate", "overdue_unhandled"],
            labels=labels,
            city_id=city.pk if city else None,
            keys_visible=lambda k: scope.sees_area(k) or scope.everything,
        )
        for level in ("district", "street")
    }
    on_time = {
        "x": [r["label"] for r in units["rows"]],
        "series": [
            {
                "name": col["name"],
                "data": [r["cells"][n]["value"] for r in units["rows"]],
                "links": [r["cells"][n]["url"] for r in units["rows"]],
            }
            for n, col in enumerate(units["columns"])
            if col["code"] in ("handling_rate", "handled_on_time_rate")
        ],
    }
    charts = {
        "trend": reports.trend(selection, "month", ["reported", "closed", "overdue_unhandled"]),
        "on_time": on_time,
        "mix": reports.pie(selection, "major", labels=labels),
        "funnel": reports.funnel(selection),
        "map": reports.grid_map(selection, labels),
    }
    context = {
        **filter_context(request, selection, scope),
        "cards": cards,
        "units_table": units,
        "areas": areas,
        "charts": charts,
        "scope": scope,
    }
    return render(request, "indicators/dashboard.html", context)


@login_required
@require_GET
def drill_view(request: HttpRequest) -> HttpResponse:
    """The cases counted in a figure: the same filter, only cases the viewer may see."""
    scope = scope_or_404(request.user)
    try:
        selection = selection_from(request.GET, scope)
        counts = count_from(request.GET)
        group = group_from(request.GET)
        key = request.GET.get("value") if group else None
        if group and group not in ("major", "source", "urgency", "type", "role", "stage") and key:
            key = int(key) if group not in ("day", "week", "month", "quarter", "year") else key
    except (BadInput, ValueError) as exc:
        return bad_request(request, str(exc))
    q = counts_q(counts, selection, group, key)
    try:
        page = reports.drill_page(request.user, q, cursor=request.GET.get("cursor") or None)
    except BadCursor:
        return bad_request(request, _("That page link is not valid (any more)."))
    labels = reports.Labels()
    query = request.GET.copy()
    query.pop("cursor", None)
    context = {
        "count": {"label": " + ".join(str(BASE_COUNTS[c].label) for c in counts)},
        "selection": selection,
        "filters": [
            (name, labels.label(name if name != "kind" else None, value))
            for name, value in selection.filters.items()
        ],
        "group_label": labels.label(group, key) if group else "",
        "cases": page.rows,
        "next_cursor": page.next_cursor,
        "query": query.urlencode(),
    }
    return render(request, "indicators/cases.html", context)


@login_required
@require_GET
def dictionary_view(request: HttpRequest) -> HttpResponse:
    """The data dictionary (口径): every indicator, its definition, formula and versions."""
    scope_or_404(request.user)
    indicators = Indicator.objects.prefetch_related("versions").order_by("position", "code")
    rows = [
        {
            "indicator": i,
            "name": reports.indicator_name(i),
            "definition": reports.indicator_definition(i),
            "formula": formula_text(i.formula),
            "versions": list(i.versions.all()),
        }
        for i in indicators
    ]
    return render(request, "indicators/dictionary.html", {"rows": rows})


def formula_text(formula: dict) -> str:
    def terms(ts) -> str:
        parts = []
        for t in ts:
            text = str(BASE_COUNTS[t["count"]].label)
            if t.get("weight", 1) != 1:
                text = f"{t['weight']} × {text}"
            if t.get("filters"):
                text += " [" + ", ".join(f"{k}={v}" for k, v in t["filters"].items()) + "]"
            parts.append(text)
        return " + ".join(parts)

    text = terms(formula["numerator"])
    if formula.get("denominator"):
        text = f"({text}) ÷ ({terms(formula['denominator'])})"
    scale = formula.get("scale", 1)
    if scale == 100:
        text += " × 100 %"
    elif scale != 1:
        text += f" × {scale:g}"
    return text


@login_required
@require_GET
def screen_view(request: HttpRequest) -> HttpResponse:
    """The command-centre big screen (大屏): refreshes itself every 30 s from screen_data."""
    scope = scope_or_404(request.user)
    return render(request, "indicators/screen.html", {"payload": reports.screen_payload(scope)})


@login_required
@require_GET
def screen_data_view(request: HttpRequest) -> JsonResponse:
    return JsonResponse(reports.screen_payload(scope_or_404(request.user)))
