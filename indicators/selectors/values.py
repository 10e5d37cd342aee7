"""Indicator values from the facts: base counts per group for a period, then the formulas.

One grouped query per distinct filter set of the formulas asked for, plus one for the state
count (overdue and not handled at the period's end): the cost depends on the period's facts,
never on a scan of the events.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Q, Sum

from departments.reference import reference_snapshot

from ..models import ROLLUP_EXCLUDED_Q, Fact
from ..registry import BASE_COUNTS, STATE_COUNTS, TERM_FILTERS, filter_key, formula_value
from .periods import Period, period_containing
from .rollup import rollup_built, rollup_grain, rollup_rows, rollup_state_counts

# Grouping dimensions: name → the fact column.
GROUPS = {
    "unit": "unit_id",
    "city": "city_id",
    "district": "district_id",
    "street": "street_id",
    "community": "community_id",
    "grid": "grid_id",
    "major": "major_code",
    "category": "category_id",
    "source": "source",
    "urgency": "urgency",
    "type": "request_type",  # a hotline order's request type
    "person": "actor_id",
    "role": "role",
    "stage": "stage",
}
TIME_GROUPS = ("day", "week", "month", "quarter", "year")
# Filters of a selection: name → fact column (ids, codes).
SELECTION_FILTERS = {**GROUPS, "kind": "category_kind"}


@dataclass
class Selection:
    """What is evaluated: a period, filters (dimension → value), the viewer's scope (a Q on the
    facts), and whether a unit filter / grouping takes in its sub-units."""

    period: Period
    filters: dict = field(default_factory=dict)
    scope_q: Q = field(default_factory=Q)
    subunits: bool = True

    def dims_q(self, tree=None) -> Q:
        """The viewer's scope and the filters (no period)."""
        q = self.scope_q
        for name, value in self.filters.items():
            q &= _filter_q(name, value, self.subunits, tree)
        return q

    def fact_q(self, tree=None) -> Q:
        q = Q(day__gte=self.period.start, day__lte=self.period.end) & self.dims_q(tree)
        return q & _not_parked_at(self.period)


def _not_parked_at(period: Period) -> Q:
    """Parked assignments (and their handling) leave the handling indicators while parked."""
    end = period.end_instant
    return Q(parked_at__isnull=True) | Q(parked_at__gte=end) | Q(resumed_at__lt=end)


def _descendants(tree, unit_id: int) -> set[int]:
    tree = tree or reference_snapshot().units
    children = defaultdict(list)
    for uid, parent in tree.parent_of.items():
        children[parent].append(uid)
    out, todo = set(), [unit_id]
    while todo:
        uid = todo.pop()
        if uid not in out:
            out.add(uid)
            todo.extend(children[uid])
    return out


def _matches(b, kind, stage, on_time, flag) -> bool:
    return (
        b.kind == kind
        and (not b.stage or b.stage == stage)
        and (b.on_time is None or b.on_time == on_time)
        and (b.flag is None or b.flag == flag)
    )


def _group_value(group: str | None, row: dict):
    if group is None:
        return None
    if group in TIME_GROUPS:
        return period_containing(group, row["day"]).key
    return row[GROUPS[group]]


def base_counts(
    selection: Selection, counts: set[str], group: str | None = None, filter_sets=((),)
) -> dict:
    """{group value: {filter key: {base count: number}}} for the base counts asked for, from
    the rollup where it can answer (filter sets without term filters), else from the facts."""
    tree = reference_snapshot().units
    wanted = [BASE_COUNTS[c] for c in counts if c not in STATE_COUNTS]
    kinds = sorted({b.kind for b in wanted})
    out: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(float)))
    column = None if group is None or group in TIME_GROUPS else GROUPS[group]
    columns = ["kind", "stage", "on_time", "flag"]
    if group:
        columns.append("day" if group in TIME_GROUPS else column)
    grain = _rollup_grain(selection, column, tree)
    for fkey in filter_sets:
        if not kinds:
            break
        rows = _count_rows(selection, tree, fkey, kinds, columns, group, grain, column)
        for row in rows:
            g = _group_value(group, row)
            for b in wanted:
                if _matches(b, row["kind"], row["stage"], row["on_time"], row["flag"]):
                    out[g][fkey][b.code] += (row["s"] or 0) if b.sums else row["n"]
    for count in STATE_COUNTS:
        if count not in counts:
            continue
        for fkey in filter_sets:
            if grain and not fkey:
                _rollup_states(out, count, selection, group, grain, tree)
                continue
            term_q = Q(**{TERM_FILTERS[k]: v for k, v in fkey})
            if group in TIME_GROUPS:
                for sub in _time_buckets(selection, group):
                    n = Fact.objects.filter(state_q(count, sub) & term_q).count()
                    out[sub.period.key][fkey][count] += n
            else:
                for g, n in state_counts(count, selection, group, term_q).items():
                    out[g][fkey][count] += n
    if group == "unit" and selection.subunits:
        _roll_up(out, tree)
    return out


def _rollup_grain(selection: Selection, column: str | None, tree) -> str | None:
    """The rollup grain that answers this selection, or None (count from the facts)."""
    grain = rollup_grain(selection.dims_q(tree), column)
    return grain if grain and rollup_built() else None


def _count_rows(selection, tree, fkey, kinds, columns, group, grain, column):
    """The grouped rows (columns, n, s) of one filter set: the rollup's and the facts it
    leaves out, or all from the facts."""
    facts = Fact.objects.filter(
        selection.fact_q(tree) & Q(**{TERM_FILTERS[k]: v for k, v in fkey}), kind__in=kinds
    )
    if grain and not fkey:
        daily = group in ("day", "week")
        yield from rollup_rows(
            grain, selection.dims_q(tree), kinds, selection.period, columns, column, daily
        )
        facts = facts.filter(ROLLUP_EXCLUDED_Q)
    yield from facts.values(*columns).annotate(n=Count("id"), s=Sum("value")).order_by()


def _rollup_states(out, count: str, selection: Selection, group, grain, tree) -> None:
    """A state count from the rollup's steps plus the assignments it leaves out."""
    timed = group in TIME_GROUPS
    subs = _time_buckets(selection, group) if timed else [selection]
    column = None if timed or group is None else GROUPS[group]
    per_period = rollup_state_counts(
        count, grain, selection.dims_q(tree), [s.period for s in subs], column
    )
    # The assignments the rollup leaves out, every period in one statement (state_q as is).
    left_out = Fact.objects.filter(ROLLUP_EXCLUDED_Q, kind="assignment")
    per_sub = {f"p{i}": Count("id", filter=state_q(count, sub)) for i, sub in enumerate(subs)}
    if column:
        extra = list(left_out.values(column).annotate(**per_sub).order_by())
    else:
        extra = [{column: None, **left_out.aggregate(**per_sub)}]
    for i, sub in enumerate(subs):
        left = [(r[column], r[f"p{i}"]) for r in extra if r[f"p{i}"]]
        for g, n in [*per_period[i].items(), *left]:
            key = sub.period.key if timed else g
            out[key][()][count] += n
        if timed or group is None:
            out[sub.period.key if timed else None][()][count] += 0  # the row exists


def _time_buckets(selection: Selection, kind: str) -> list[Selection]:
    from .periods import periods_between

    return [
        Selection(p, selection.filters, selection.scope_q, selection.subunits)
        for p in periods_between(kind, selection.period.start, selection.period.end)
    ]


def state_q(count: str, selection: Selection) -> Q:
    """The assignments a state count counts, over the whole history (not only the period's
    own facts), never those parked at the period's end:
    handling_due — active in the period: dispatched before its end, not ended before its start;
    overdue_unhandled — at the period's end: dispatched, past due, not handled (nor ended)."""
    start, end = selection.period.start_instant, selection.period.end_instant
    if count == "handling_due":
        q = Q(kind="assignment", at__lt=end) & (Q(end_at__isnull=True) | Q(end_at__gte=start))
    else:
        q = Q(kind="assignment", at__lt=end, due_at__lt=end) & (
            Q(end_at__isnull=True) | Q(end_at__gt=end)
        )
    q &= selection.scope_q & _not_parked_at(selection.period)
    for name, value in selection.filters.items():
        q &= _filter_q(name, value, selection.subunits)
    return q


def state_counts(count: str, selection: Selection, group: str | None, extra=None) -> dict:
    """{group value: how many} for a state count."""
    rows = Fact.objects.filter(state_q(count, selection) & (extra or Q()))
    if group:
        return dict(rows.values_list(GROUPS[group]).annotate(n=Count("id")).order_by())
    return {None: rows.count()}


def _roll_up(out: dict, tree) -> None:
    """Each unit's counts added to its ancestors (a unit with its sub-units)."""
    own = {g: {f: dict(c) for f, c in v.items()} for g, v in out.items() if g is not None}
    for uid, per_filter in own.items():
        for ancestor in tree.ancestor_ids(uid)[1:]:
            for fkey, counts in per_filter.items():
                for code, n in counts.items():
                    out[ancestor][fkey][code] += n


def indicator_values(indicators, selection: Selection, group: str | None = None) -> dict:
    """{group value: {indicator code: value or None}} and the base counts behind them."""
    counts = {
        t["count"]
        for i in indicators
        for part in ("numerator", "denominator")
        for t in i.formula.get(part) or []
    }
    filter_sets = set().union(*(_filter_sets(i.formula) for i in indicators)) or {()}
    raw = base_counts(selection, counts, group, sorted(filter_sets))
    return {
        g: {i.code: formula_value(i.formula, per_filter) for i in indicators}
        for g, per_filter in raw.items()
    }, raw


def _filter_sets(formula) -> set:
    return {
        filter_key(t.get("filters"))
        for part in ("numerator", "denominator")
        for t in formula.get(part) or []
    }


def drill_q(count: str, selection: Selection, group: str | None, key) -> Q:
    """The facts behind one base count of one cell (the same filter as the figure)."""
    b = BASE_COUNTS[count]
    selection = Selection(
        selection.period,
        {**selection.filters, **({group: key} if group and group not in TIME_GROUPS else {})},
        selection.scope_q,
        selection.subunits,
    )
    if group in TIME_GROUPS and key:
        from .periods import period_parse

        selection.period = period_parse(group, str(key))
    if count in STATE_COUNTS:
        return state_q(count, selection)
    q = selection.fact_q() & Q(kind=b.kind)
    if b.stage:
        q &= Q(stage=b.stage)
    if b.on_time is not None:
        q &= Q(on_time=b.on_time)
    if b.flag is not None:
        q &= Q(flag=b.flag)
    return q


def _filter_q(name, value, subunits, tree=None) -> Q:
    if name == "unit" and subunits:
        return Q(unit_id__in=sorted(_descendants(tree, int(value))))
    return Q(**{SELECTION_FILTERS[name]: value})


def drill_case_ids(q: Q):
    """The ids of the cases behind a figure (a subquery)."""
    return Fact.objects.filter(q).values("case_id")
