"""What the pages, the API, the exports and the bulletin show: indicator tables with labels,
formatted values and drill-down links, trends, the map, the funnel, the big-screen payload.
Reads only (facts and reference data)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from departments.models import GridCell, Unit, UnitKind
from workflows.access import KpiScope
from workflows.models import Case, RequestType, Source, Stage, Urgency

from .models import Indicator
from .selectors.composite import composite_score, composite_terms
from .selectors.periods import Period, period_containing, periods_between
from .selectors.values import TIME_GROUPS, Selection, indicator_values

DASHBOARD_CODES = [
    "reported",
    "filed",
    "handling_due",
    "handled",
    "closed",
    "overdue_unhandled",
    "handling_rate",
    "handled_on_time_rate",
    "closing_rate",
    "closed_on_time_rate",
    "rework_rate",
    "mean_handling_hours",
]
TABLE_CODES = [
    "handling_due",
    "handled",
    "handled_on_time",
    "overdue_unhandled",
    "handling_rate",
    "handled_on_time_rate",
    "overdue_unhandled_rate",
    "rework_rate",
    "extension_rate",
]
# The 12345 hotline's page (issue 12): its KPIs per unit, area, request type, category.
HOTLINE_CODES = [
    "hl_response_rate",
    "hl_on_time_rate",
    "hl_replied",
    "hl_solved_rate",
    "satisfaction_rate",
    "hl_rating_rate",
    "hl_overall_satisfaction",
    "hl_rehandle_rate",
    "hl_return_rate",
    "hl_repeats",
]
HOTLINE_GROUPS = ("unit", "district", "street", "type", "major", "category")


def indicator_name(indicator: Indicator) -> str:
    return indicator.name_zh if (get_language() or "").startswith("zh") else indicator.name_en


def indicator_definition(indicator: Indicator) -> str:
    zh = (get_language() or "").startswith("zh")
    return indicator.definition_zh if zh else indicator.definition_en


def fmt(value, unit: str) -> str:
    """A value as people read it; "—" when its denominator is zero."""
    if value is None:
        return "—"
    if unit == "percent":
        return f"{value:.2f} %"
    if unit == "hours":
        return f"{value:.1f} h"
    if unit == "points":
        return f"{value:.1f}"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def indicators_by_code(codes) -> list[Indicator]:
    found = {i.code: i for i in Indicator.objects.filter(code__in=list(codes), is_active=True)}
    return [found[c] for c in codes if c in found]


def drill_count(indicator: Indicator) -> str:
    """The base counts a figure's link opens: a rate's numerator's first term; a count's
    terms, joined by "," (应结案数 opens the handled and the overdue unhandled cases)."""
    terms = indicator.formula["numerator"]
    if indicator.formula.get("denominator"):
        return terms[0]["count"]
    return ",".join(dict.fromkeys(t["count"] for t in terms))


def drill_filters(indicator: Indicator) -> dict:
    """The term filters of the counts a figure's link opens (a rate's numerator's first term;
    for a count, the filters all its terms share: a sum of differently filtered terms opens
    the cases of every term's count under their common filters)."""
    terms = indicator.formula["numerator"]
    shared = dict(terms[0].get("filters") or {})
    if not indicator.formula.get("denominator"):
        for term in terms[1:]:
            other = term.get("filters") or {}
            shared = {k: v for k, v in shared.items() if other.get(k) == v}
    return shared


def indicator_drill_url(indicator: Indicator, selection: Selection, group=None, key=None) -> str:
    """The link behind an indicator's figure: its counts with its terms' filters."""
    return drill_url(drill_count(indicator), selection, group, key, drill_filters(indicator))


def drill_url(
    count: str, selection: Selection, group: str | None = None, key=None, filters=None
) -> str:
    params = {"count": count, **period_params(selection.period)}
    params.update({f"f_{k}": v for k, v in {**selection.filters, **(filters or {})}.items()})
    if group and key is not None:
        params["group"], params["value"] = group, key
    if not selection.subunits:
        params["subunits"] = "0"
    return _cases_path(get_script_prefix()) + "?" + urlencode(params)


@lru_cache(maxsize=8)
def _cases_path(prefix: str) -> str:
    """The drill-down page's path under a script prefix (a table links every cell to it)."""
    return reverse("indicators:cases")


def period_params(period: Period) -> dict:
    if period.kind == "custom":
        return {"period": "custom", "from": period.start.isoformat(), "to": period.end.isoformat()}
    return {"period": period.kind, "key": period.key}


class Labels:
    """Names of group values (units, areas, categories, sources, people) in the language."""

    def __init__(self) -> None:
        self.units = {u.pk: u for u in Unit.objects.all()}
        self._grids = None
        self._people = None

    def label(self, group: str | None, key) -> str:
        if key is None or key == "":
            return _("(none)") if group else _("All")
        if group in ("unit", "city", "district", "street", "community"):
            unit = self.units.get(key)
            return unit.name if unit else str(key)
        if group == "grid":
            if self._grids is None:
                self._grids = dict(GridCell.objects.values_list("pk", "name"))
            return self._grids.get(key, str(key))
        if group == "source":
            return str(dict(Source.choices).get(key, key))
        if group == "urgency":
            return str(dict(Urgency.choices).get(key, key))
        if group == "type":
            return str(dict(RequestType.choices).get(key, key))
        if group == "stage":
            return str(dict(Stage.choices).get(key, key))
        if group == "major":
            return _major_names().get(key, key)
        if group == "category":
            return _category_names().get(key, str(key))
        if group == "person":
            if self._people is None:
                self._people = dict(get_user_model().objects.values_list("pk", "username"))
            return self._people.get(key, str(key))
        return str(key)


def _major_names() -> dict:
    from workflows.models import Category

    rows = Category.objects.values_list("kind", "major_code", "major_name").distinct()
    return {kind[:1].upper() + code: name for kind, code, name in rows}


def _category_names() -> dict:
    from workflows.models import Category

    return {
        pk: f"{code} {name}"
        for pk, code, name in Category.objects.values_list("pk", "code", "name")
    }


def table(
    selection: Selection,
    group: str | None,
    codes,
    *,
    labels: Labels | None = None,
    city_id=None,
    keys_visible=None,
) -> dict:
    """An indicator table: {columns, rows: [{key, label, cells: [{value, text, url}], score}]}."""
    indicators = indicators_by_code(codes)
    values, _raw = indicator_values(indicators, selection, group)
    labels = labels or Labels()
    terms = composite_terms(city_id)
    score_inds = indicators_by_code([t["indicator"] for t in terms])
    scores = {}
    if group and city_id is not None:
        svals, _raw2 = indicator_values(score_inds, selection, group)
        scores = {k: composite_score(v, terms) for k, v in svals.items()}
    keys = [k for k in values if k is not None or group is None]
    if keys_visible is not None:
        keys = [k for k in keys if keys_visible(k)]
    if group in TIME_GROUPS:
        keys.sort()
    elif group in ("unit", "district", "street", "community", "city"):
        order = {
            pk: n for n, pk in enumerate(sorted(labels.units, key=lambda p: labels.units[p].code))
        }
        keys.sort(key=lambda k: order.get(k, 10**9))
    rows = []
    for key in keys:
        cells = []
        for ind in indicators:
            value = values[key].get(ind.code)
            cells.append(
                {
                    "code": ind.code,
                    "value": value,
                    "text": fmt(value, ind.unit),
                    "url": indicator_drill_url(ind, selection, group, key),
                }
            )
        rows.append(
            {
                "key": key,
                "label": labels.label(group, key),
                "cells": cells,
                "score": scores.get(key),
            }
        )
    if scores:
        ranked = sorted((r for r in rows if r["score"] is not None), key=lambda r: -r["score"])
        for n, row in enumerate(ranked, 1):
            row["rank"] = n
    return {
        "columns": [
            {"code": i.code, "name": indicator_name(i), "unit": i.unit, "version": i.version}
            for i in indicators
        ],
        "rows": rows,
    }


def unit_keys(scope: KpiScope, kinds=(UnitKind.HANDLING,)):
    """Which unit rows a table shows: handling units the viewer may see."""
    allowed = set(Unit.objects.filter(kind__in=kinds).values_list("pk", flat=True))
    return lambda key: key in allowed and scope.sees_unit(key)


def trend(selection: Selection, kind: str, codes, months_back: int = 12) -> dict:
    """Monthly (or other) trend of some indicators ending with the selection's period."""
    end = selection.period.end
    start = period_containing(kind, end).start
    for _step in range(months_back - 1):
        start = period_containing(kind, start - dt.timedelta(days=1)).start
    span = Selection(
        Period("custom", start, end), selection.filters, selection.scope_q, selection.subunits
    )
    indicators = indicators_by_code(codes)
    values, _raw = indicator_values(indicators, span, kind)
    buckets = [p.key for p in periods_between(kind, start, end)]
    while len(buckets) > 1 and not any(values.get(buckets[0], {}).values()):
        buckets.pop(0)  # before the first recorded case: no point in a row of zeros
    return {
        "x": buckets,
        "series": [
            {
                "name": indicator_name(i),
                "data": [_round(values.get(b, {}).get(i.code)) for b in buckets],
                "links": [indicator_drill_url(i, span, kind, b) for b in buckets],
            }
            for i in indicators
        ],
    }


def _round(value):
    return None if value is None else round(value, 2)


def funnel(selection: Selection) -> list[dict]:
    codes = ["reported", "valid", "filed", "handling_due", "handled", "closed"]
    indicators = indicators_by_code(codes)
    values, _raw = indicator_values(indicators, selection)
    return [
        {
            "name": indicator_name(i),
            "value": values.get(None, {}).get(i.code) or 0,
            "link": indicator_drill_url(i, selection),
        }
        for i in indicators
    ]


def pie(selection: Selection, group: str, code: str = "reported", labels=None) -> list[dict]:
    labels = labels or Labels()
    indicators = indicators_by_code([code])
    values, _raw = indicator_values(indicators, selection, group)
    rows = [
        {
            "name": labels.label(group, k),
            "value": v.get(code) or 0,
            "link": drill_url(code, selection, group, k),
        }
        for k, v in values.items()
        if k is not None and v.get(code)
    ]
    return sorted(rows, key=lambda r: -r["value"])


def grid_map(selection: Selection, labels=None) -> dict:
    """GeoJSON of the grid cells from the database, with counts and overdue shares per cell."""
    indicators = indicators_by_code(["reported", "handling_due", "overdue_unhandled"])
    values, _raw = indicator_values(indicators, selection, "grid")
    features, data = [], []
    for cell in GridCell.objects.exclude(polygon=None).order_by("code"):
        ring = cell.polygon or []
        if len(ring) < 3:
            continue
        features.append(
            {
                "type": "Feature",
                "properties": {"name": cell.name},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
        v = values.get(cell.pk, {})
        due = v.get("handling_due") or 0
        overdue = v.get("overdue_unhandled") or 0
        data.append(
            {
                "name": cell.name,
                "value": v.get("reported") or 0,
                "overdue_share": round(overdue / due * 100, 1) if due else None,
                "link": drill_url("reported", selection, "grid", cell.pk),
            }
        )
    return {"geo": {"type": "FeatureCollection", "features": features}, "data": data}


def screen_payload(scope: KpiScope) -> dict:
    """The big screen: today's numbers, live new cases, overdue by unit, the map."""
    today = timezone.localdate()
    day = Selection(Period("day", today, today), scope_q=scope.fact_q())
    codes = ["reported", "filed", "handled", "closed", "overdue_unhandled"]
    indicators = indicators_by_code(codes)
    values, _raw = indicator_values(indicators, day)
    labels = Labels()
    overdue = table(
        day, "unit", ["overdue_unhandled"], labels=labels, keys_visible=unit_keys(scope)
    )["rows"]
    overdue = sorted(
        (r for r in overdue if r["cells"][0]["value"]), key=lambda r: -r["cells"][0]["value"]
    )[:10]
    recent = (
        Case.objects.filter(created_at__gte=timezone.now() - dt.timedelta(days=2))
        .filter(scope.case_q())
        .select_related("category", "area")
        .order_by("-created_at")[:12]
    )
    month = Selection(period_containing("month", today), scope_q=scope.fact_q())
    return {
        "generated": timezone.localtime().strftime("%Y-%m-%d %H:%M:%S"),
        "today": [
            {
                "name": indicator_name(i),
                "text": fmt(values.get(None, {}).get(i.code), i.unit),
                "link": indicator_drill_url(i, day),
            }
            for i in indicators
        ],
        "overdue_by_unit": {
            "x": [r["label"] for r in overdue],
            "series": [
                {
                    "name": _("Overdue, not handled"),
                    "data": [r["cells"][0]["value"] for r in overdue],
                    "links": [r["cells"][0]["url"] for r in overdue],
                }
            ],
        },
        "recent": [
            {
                "number": c.number,
                "time": timezone.localtime(c.created_at).strftime("%H:%M"),
                "category": c.category.name,
                "area": c.area.name if c.area else "",
                "link": reverse("workflows:case", args=[c.pk]),
            }
            for c in recent
        ],
        "map": grid_map(month, labels),
    }


@dataclass(frozen=True)
class DrillPage:
    rows: list
    next_cursor: str | None


def drill_page(user, q, cursor: str | None = None, limit: int = 50) -> DrillPage:
    """The cases behind a figure that the user may see (the one access module), newest
    first, paged by (created_at, id); raises BadCursor on a cursor we did not make."""
    from django.db.models import F
    from django.db.models.fields.tuple_lookups import Tuple, TupleLessThan

    from workflows.access import case_visibility_q
    from workflows.models import Case as CaseModel
    from workflows.selectors.tasks import cursor_decode, cursor_encode

    from .selectors.values import drill_case_ids

    qs = (
        CaseModel.objects.filter(case_visibility_q(user))
        .filter(pk__in=drill_case_ids(q))
        .select_related("category", "area", "responsible_unit")
        .order_by("-created_at", "-id")
    )
    if cursor:
        when, pk = cursor_decode(cursor)
        qs = qs.filter(TupleLessThan(Tuple(F("created_at"), F("id")), (when, pk)))
    rows = list(qs[: limit + 1])
    if len(rows) <= limit:
        return DrillPage(rows, None)
    rows = rows[:limit]
    return DrillPage(rows, cursor_encode(rows[-1].created_at, rows[-1].pk))


def _percentile(sorted_values: list[float], p: float):
    if not sorted_values:
        return None
    k = (len(sorted_values) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(sorted_values) - 1)
    return round(sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo), 1)


def bottlenecks(selection: Selection, labels: Labels | None = None) -> list[dict]:
    """Per stage and unit: waiting before claim (natural minutes) and working after claim
    (working minutes on the calendar), p50 / p90 / max, of the tasks opened in the period."""
    from .models import Fact

    labels = labels or Labels()
    rows = (
        Fact.objects.filter(selection.fact_q(), kind="task", end_at__isnull=False)
        .values_list("stage", "unit_id", "wait_minutes", "work_minutes")
        .order_by()
    )
    groups: dict[tuple, tuple[list, list]] = {}
    for stage, unit_id, wait, work in rows.iterator(chunk_size=5000):
        waits, works = groups.setdefault((stage, unit_id), ([], []))
        if wait is not None:
            waits.append(wait)
        if work is not None:
            works.append(work)
    order = list(Stage.values)
    out = []
    for (stage, unit_id), (waits, works) in sorted(
        groups.items(),
        key=lambda kv: (
            order.index(kv[0][0]) if kv[0][0] in order else 99,
            labels.label("unit", kv[0][1]),
        ),
    ):
        waits.sort()
        works.sort()
        out.append(
            {
                "stage": labels.label("stage", stage),
                "unit": labels.label("unit", unit_id),
                "tasks": max(len(waits), len(works)),
                "wait": [
                    _percentile(waits, 0.5),
                    _percentile(waits, 0.9),
                    waits[-1] if waits else None,
                ],
                "work": [
                    _percentile(works, 0.5),
                    _percentile(works, 0.9),
                    works[-1] if works else None,
                ],
                "link": drill_url(
                    "dispatch_due" if stage == "dispatch" else "handling_due",
                    selection,
                    "unit",
                    unit_id,
                ),
            }
        )
    return out


def case_stage_times(case_id: int) -> list[dict]:
    """One case's own time per stage (waiting and working minutes), for its page."""
    from .models import Fact

    labels = Labels()
    rows = Fact.objects.filter(case_id=case_id, kind="task").order_by("at", "id")
    out = []
    for f in rows:
        out.append(
            {
                "stage": labels.label("stage", f.stage),
                "unit": labels.label("unit", f.unit_id),
                "wait": f.wait_minutes or 0,
                "work": f.work_minutes or 0,
                "on_time": f.on_time,
            }
        )
    total = sum(r["wait"] + r["work"] for r in out) or 1
    for r in out:
        r["wait_pct"] = round(r["wait"] / total * 100, 1)
        r["work_pct"] = round(r["work"] / total * 100, 1)
    return out
