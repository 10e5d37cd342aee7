"""The 12345 hotline's indicators: one table per grouping (unit, area, request type,
category), every figure opening the orders it counts."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from departments.models import UnitKind

from .. import reports
from .exports import table_response
from .pages import bad_request, filter_context
from .params import BadInput, group_from, scope_or_404, selection_from

GROUP_LABELS = {
    "unit": gettext_lazy("Unit"),
    "district": gettext_lazy("District"),
    "street": gettext_lazy("Street"),
    "type": gettext_lazy("Request type"),
    "major": gettext_lazy("Major category"),
    "category": gettext_lazy("Category"),
}


def _visible(group: str, scope):
    if group == "unit":
        return reports.unit_keys(scope, kinds=(UnitKind.HANDLING, UnitKind.HOTLINE))
    if group in ("district", "street"):
        return lambda key: scope.sees_area(key) or scope.everything
    return None  # the facts themselves are already limited to the viewer's scope


@login_required
@require_GET
def hotline_view(request: HttpRequest) -> HttpResponse:
    scope = scope_or_404(request.user)
    try:
        selection = selection_from(request.GET, scope)
        group = group_from(request.GET, "unit")
        if group not in reports.HOTLINE_GROUPS:
            raise BadInput(_("Unknown grouping: %(name)s") % {"name": group})
    except BadInput as exc:
        return bad_request(request, str(exc))
    table = reports.table(
        selection, group, reports.HOTLINE_CODES, keys_visible=_visible(group, scope)
    )
    if request.GET.get("export") in ("csv", "xlsx"):
        return table_response(table, request.GET["export"], _("hotline"), selection)
    overall = reports.table(selection, None, reports.HOTLINE_CODES)
    cards = (
        [
            {"name": col["name"], **cell}
            for col, cell in zip(overall["columns"], overall["rows"][0]["cells"], strict=True)
        ]
        if overall["rows"]
        else []
    )
    query = request.GET.copy()
    query.pop("group", None)
    context = {
        **filter_context(request, selection, scope),
        "cards": cards,
        "table": table,
        "group": group,
        "groups": [(g, GROUP_LABELS[g]) for g in reports.HOTLINE_GROUPS],
        "first": GROUP_LABELS[group],
        "base_query": query.urlencode(),
    }
    return render(request, "indicators/hotline.html", context)
