"""Base counts from the rollup (models.FactRollup) instead of the facts, when it can answer:
the rollup is complete, the dimensions asked for (grouping, filters, the viewer's scope) are
kept by one of its grains, and no term filter is asked for. The facts the rollup leaves out
(models.ROLLUP_EXCLUDED_Q: parked ones, backwards assignments) are added from the facts.

A period reads whole months from the month rows and its ragged ends from the day rows; a
state count sums the assignments' steps up to a day (indicators.rollup.fact_entries):
handling_due over [S, E] = Σ@due+ to E − Σ@due- to S−1; overdue_unhandled at E = Σ@over+ to E
− Σ@over- to E.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, Sum

from ..models import ROLLUP_DIMS, ROLLUP_GRAINS, FactCursor, FactRollup

BUILT = "rollup"  # the FactCursor row indicators.rollup writes once the rollup is complete
_TRI = {1: True, 0: False, -1: None}
_ONE_DAY = dt.timedelta(days=1)


def rollup_built() -> bool:
    return FactCursor.objects.filter(name=BUILT).exists()


def _q_fields(q) -> set[str] | None:
    """The fields a filter compares (equality or membership, not negated); None otherwise."""
    if isinstance(q, Q):
        if q.negated:
            return None
        out: set[str] = set()
        for child in q.children:
            fields = _q_fields(child)
            if fields is None:
                return None
            out |= fields
        return out
    lookup, value = q
    name, _, op = lookup.partition("__")
    if op not in ("", "in") or value is None or value == "":
        return None
    if name == "pk":  # KpiScope's "nothing" term (pk__in=[])
        return set() if op == "in" and not list(value) else None
    return {name}


def rollup_grain(dims_q: Q, group_column: str | None) -> str | None:
    """The smallest grain that keeps every dimension asked for, or None."""
    fields = _q_fields(dims_q)
    if fields is None:
        return None
    if group_column:
        fields.add(group_column)
    if not fields <= set(ROLLUP_DIMS) | {"stage"}:
        return None
    fields.discard("stage")
    for grain, dims in ROLLUP_GRAINS.items():
        if fields <= set(dims):
            return grain
    return None


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def span_q(start: dt.date, end: dt.date, daily: bool = False) -> Q:
    """The rows of [start, end]: month rows for the whole months, day rows for the rest."""
    first = start if start.day == 1 else _next_month(start)
    stop = _month_start(end + _ONE_DAY)  # months before it end within the range
    if daily or first >= stop:
        return Q(span="d", day__gte=start, day__lte=end)
    q = Q(span="m", day__gte=first, day__lt=stop)
    if start < first:
        q |= Q(span="d", day__gte=start, day__lt=first)
    if stop <= end:
        q |= Q(span="d", day__gte=stop, day__lte=end)
    return q


def _group_key(column: str, value):
    """A grouping value as the facts have it (ids: 0 is NULL there; a stage stays "")."""
    return value if column == "stage" else (value or None)


def _row(row: dict, group_column: str | None) -> dict:
    row["on_time"], row["flag"] = _TRI[row["on_time"]], _TRI[row["flag"]]
    if group_column:
        row[group_column] = _group_key(group_column, row[group_column])
    row["s"] = row["s"] / 100 if row["s"] else 0
    return row


def rollup_rows(
    grain: str, dims_q: Q, kinds, period, columns: list[str], group_column=None, daily=False
) -> list[dict]:
    """Rows like the facts' grouped rows (the columns, n, s) for the rollup's facts of the
    period; a "day" column holds the month's first day where whole months are read, so day
    and week buckets must ask for `daily` rows."""
    start, end = period.start, period.end
    rows = (
        FactRollup.objects.filter(span_q(start, end, daily), dims_q, grain=grain, kind__in=kinds)
        .values(*columns)
        .annotate(n=Sum("n"), s=Sum("s"))
        .order_by()
    )
    return [_row(r, group_column) for r in rows]


def _prefix_rows(grain: str, dims_q: Q, kinds, points, group_column) -> dict:
    """{(kind, group value): [(span, day, n)]} of the step rows needed for sums up to points."""
    last = max(points)
    q = Q(span="m", day__lte=_month_start(last))
    for x in points:
        if _next_month(x) - _ONE_DAY != x:
            q |= Q(span="d", day__gte=_month_start(x), day__lte=x)
    columns = ["span", "day", "kind", *([group_column] if group_column else [])]
    rows = (
        FactRollup.objects.filter(q, dims_q, grain=grain, kind__in=kinds)
        .values(*columns)
        .annotate(n=Sum("n"))
        .order_by()
    )
    out: dict = {}
    for r in rows:
        g = _group_key(group_column, r[group_column]) if group_column else None
        out.setdefault((r["kind"], g), []).append((r["span"], r["day"], r["n"]))
    return out


def _sum_to(steps, x: dt.date) -> int:
    """Σ of the steps on days ≤ x: month rows of the months before x's (and x's own when x is
    its last day), day rows of x's month up to x."""
    month, whole = _month_start(x), _next_month(x) - _ONE_DAY == x
    total = 0
    for span, day, n in steps:
        if span == "m":
            if day < month or (whole and day == month):
                total += n
        elif not whole and month <= day <= x:
            total += n
    return total


def rollup_state_counts(count: str, grain: str, dims_q: Q, periods, group_column=None) -> dict:
    """{period index: {group value: n}} of a state count over the rollup's assignments."""
    if count == "handling_due":
        kinds, points = (
            ("@due+", "@due-"),
            [p.end for p in periods] + [p.start - _ONE_DAY for p in periods],
        )
    else:
        kinds, points = ("@over+", "@over-"), [p.end for p in periods]
    steps = _prefix_rows(grain, dims_q, kinds, points, group_column)
    out: dict = {}
    groups = {g for _, g in steps}
    for i, p in enumerate(periods):
        per_group = out.setdefault(i, {})
        for g in groups:
            if count == "handling_due":
                n = _sum_to(steps.get(("@due+", g), []), p.end) - _sum_to(
                    steps.get(("@due-", g), []), p.start - _ONE_DAY
                )
            else:
                n = _sum_to(steps.get(("@over+", g), []), p.end) - _sum_to(
                    steps.get(("@over-", g), []), p.end
                )
            if n:
                per_group[g] = n
    return out
