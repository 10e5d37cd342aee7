"""Reading a selection (period, filters, scope) from a request; bad input is a clear error."""

from __future__ import annotations

import operator
from functools import reduce

from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext as _

from departments.models import Unit, UnitKind
from workflows.access import KpiScope, kpi_scope

from ..registry import BASE_COUNTS
from ..selectors.periods import PeriodError, period_parse
from ..selectors.values import GROUPS, SELECTION_FILTERS, TIME_GROUPS, Selection, drill_q

AREA_COLUMN = {
    UnitKind.CITY: "city",
    UnitKind.DISTRICT: "district",
    UnitKind.STREET: "street",
    UnitKind.COMMUNITY: "community",
}


class BadInput(ValueError):
    pass


def scope_or_404(user) -> KpiScope:
    scope = kpi_scope(user)
    if not scope.any:
        raise Http404
    return scope


def _int(value, name):
    try:
        return int(value)
    except (TypeError, ValueError):
        raise BadInput(_("%(name)s must be a number.") % {"name": name}) from None


def selection_from(params, scope: KpiScope) -> Selection:
    """period=month&key=2026-11 (or period=custom&from=…&to=…), unit=, area=, major=, source=,
    urgency=, kind=, f_<dimension>= (drill-down), subunits=0."""
    try:
        period = period_parse(
            params.get("period") or "month",
            params.get("key"),
            params.get("from"),
            params.get("to"),
        )
    except PeriodError as exc:
        raise BadInput(str(exc)) from None
    filters: dict = {}
    if params.get("unit"):
        filters["unit"] = _int(params["unit"], _("Unit"))
    if params.get("area"):
        area = Unit.objects.filter(pk=_int(params["area"], _("Area"))).first()
        if area is None or area.kind not in AREA_COLUMN:
            raise BadInput(_("Unknown area."))
        filters[AREA_COLUMN[area.kind]] = area.pk
    for name in ("major", "source", "urgency", "kind", "type"):
        if params.get(name):
            filters[name] = params[name]
    for name, value in params.items():
        if name.startswith("f_") and value != "":
            dim = name[2:]
            if dim not in SELECTION_FILTERS:
                raise BadInput(_("Unknown filter: %(name)s") % {"name": dim})
            filters[dim] = value
    for name in ("unit", "city", "district", "street", "community", "grid", "category", "person"):
        if name in filters:
            filters[name] = _int(filters[name], name)
    return Selection(period, filters, scope.fact_q(), params.get("subunits") != "0")


def group_from(params, default=None) -> str | None:
    group = params.get("group") or default
    if group and group not in GROUPS and group not in TIME_GROUPS:
        raise BadInput(_("Unknown grouping: %(name)s") % {"name": group})
    return group


def count_from(params) -> list[str]:
    """The base counts of a figure: one, or several joined by "," (a sum of counts, such as
    应结案数 = 处置数 + 超期未处置数: its cases are those of each)."""
    counts = (params.get("count") or "").split(",")
    for count in counts:
        if count not in BASE_COUNTS:
            raise BadInput(_("Unknown count: %(name)s") % {"name": count})
    return counts


def counts_q(counts: list[str], selection: Selection, group, key) -> Q:
    """The facts behind a figure of one or several base counts."""
    return reduce(operator.or_, (drill_q(c, selection, group, key) for c in counts))
