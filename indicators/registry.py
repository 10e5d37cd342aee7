"""The indicator registry (口径) as data: the base counts every formula is written over, the
built-in definitions (data/indicators.json, copied from kpi.md), and the formula arithmetic.

A formula is {"numerator": [terms], "denominator": [terms] (optional), "scale": number}; a term
is {"count": <base count>, "weight": number (default 1), "filters": {dimension: value}}. The
value is scale × Σ weight·count ÷ Σ weight·count, and None ("—") when the denominator is 0.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.utils.translation import gettext_lazy as _

DATA = Path(__file__).resolve().parent / "data" / "indicators.json"


@dataclass(frozen=True)
class BaseCount:
    """Which facts a base count adds up: their kind, and optionally stage, on_time, flag;
    `sums` adds the facts' value instead of counting them."""

    code: str
    label: object
    kind: str
    stage: str = ""
    on_time: bool | None = None
    flag: bool | None = None
    sums: bool = False


BASE_COUNTS: dict[str, BaseCount] = {
    b.code: b
    for b in [
        BaseCount("reported", _("reported"), "reported"),
        BaseCount("valid", _("valid reports"), "valid"),
        BaseCount("filed", _("filed"), "filed"),
        BaseCount("filed_on_time", _("filed on time"), "filed", on_time=True),
        BaseCount("dispatch_due", _("due for dispatch"), "task", stage="dispatch"),
        BaseCount("dispatched", _("dispatched"), "dispatched"),
        BaseCount("dispatched_on_time", _("dispatched on time"), "dispatched", on_time=True),
        BaseCount("dispatched_accurate", _("accurate dispatches"), "dispatched", flag=True),
        # States over the period, not occurrences in it (see selectors.values.state_q):
        # due for handling = dispatches active in the period (dispatched before its end, not
        # ended before its start: carried over or new), so handled ≤ due for handling.
        BaseCount("handling_due", _("due for handling"), "assignment"),
        BaseCount("handled", _("handled"), "handled"),
        BaseCount("handled_on_time", _("handled on time"), "handled", on_time=True),
        BaseCount("handled_late", _("handled late"), "handled", on_time=False),
        BaseCount("overdue_unhandled", _("overdue, not handled"), "assignment"),
        BaseCount("closed", _("closed"), "closed"),
        BaseCount("closed_on_time", _("closed on time"), "closed", on_time=True),
        BaseCount("rework", _("reworks"), "rework"),
        BaseCount("extension", _("extensions"), "extension"),
        BaseCount("extension_hours", _("extension hours"), "extension", sums=True),
        BaseCount("parked", _("parked"), "parked"),
        BaseCount("verify_due", _("due verifications"), "task", stage="verify"),
        BaseCount("verify_on_time", _("on-time verifications"), "task", "verify", on_time=True),
        BaseCount("check_due", _("due checks"), "task", stage="check"),
        BaseCount("check_on_time", _("on-time checks"), "task", stage="check", on_time=True),
        BaseCount("handling_minutes", _("handling working minutes"), "handled", sums=True),
        # The 12345 hotline (indicators.hotline_facts): one deciding callback per order that
        # reached the citizen, flag = satisfied or basically satisfied.
        BaseCount("callbacks", _("callbacks reached"), "callback"),
        BaseCount(
            "satisfied", _("satisfied or basically satisfied callbacks"), "callback", flag=True
        ),
        BaseCount("hl_unreached", _("callbacks that could not reach the citizen"), "hl_unreached"),
        BaseCount("hl_sign_due", _("sign-for tasks received"), "hl_sign"),
        BaseCount("hl_signed_on_time", _("signed for in time"), "hl_sign", on_time=True),
        BaseCount("hl_due", _("orders due for reply"), "hl_due"),
        BaseCount("hl_due_on_time", _("orders replied to in time"), "hl_due", on_time=True),
        BaseCount("hl_replied", _("orders replied to"), "hl_reply"),
        BaseCount("hl_solved", _("orders solved"), "hl_reply", flag=True),
        BaseCount("hl_rehandled", _("re-handlings"), "hl_rehandle"),
        BaseCount("hl_returns", _("returns"), "hl_return"),
        BaseCount("hl_returns_accepted", _("returns accepted"), "hl_return", flag=True),
        BaseCount("hl_ratings", _("citizen ratings"), "hl_rating"),
        BaseCount("hl_rated_satisfied", _("satisfied citizen ratings"), "hl_rating", flag=True),
        BaseCount("hl_repeats", _("repeat reports merged"), "hl_repeat"),
        # Dispatch suggestions (indicators.suggestion_facts): each recorded decision; stage =
        # first / other / none, flag = one of the suggestions was taken.
        BaseCount("suggestions_decided", _("decisions after a suggestion"), "suggestion"),
        BaseCount("suggestions_first", _("first suggestion taken"), "suggestion", stage="first"),
        BaseCount("suggestions_taken", _("a suggestion taken"), "suggestion", flag=True),
    ]
}
STATE_COUNTS = ("handling_due", "overdue_unhandled")

# Filters a derived indicator's term may carry: dimension → the fact column it compares.
TERM_FILTERS = {
    "kind": "category_kind",  # category class: component / event
    "major": "major_code",
    "source": "source",
    "urgency": "urgency",
    "type": "request_type",  # a hotline order's request type
}


class FormulaError(ValueError):
    pass


def formula_check(formula) -> dict:
    """The formula, validated; FormulaError names what is wrong."""
    if not isinstance(formula, dict) or not formula.get("numerator"):
        raise FormulaError(_("A formula needs a numerator (a list of counts)."))
    clean: dict = {}
    for part in ("numerator", "denominator"):
        terms = formula.get(part)
        if terms is None:
            continue
        if not isinstance(terms, list) or not terms:
            raise FormulaError(_("The %(part)s must be a non-empty list.") % {"part": part})
        clean[part] = []
        for term in terms:
            if not isinstance(term, dict) or term.get("count") not in BASE_COUNTS:
                raise FormulaError(_("Unknown base count in %(term)s.") % {"term": term})
            weight = term.get("weight", 1)
            if not isinstance(weight, int | float) or isinstance(weight, bool):
                raise FormulaError(_("A weight must be a number."))
            filters = term.get("filters") or {}
            if not isinstance(filters, dict) or set(filters) - set(TERM_FILTERS):
                raise FormulaError(
                    _("Filters may only be: %(names)s.") % {"names": ", ".join(TERM_FILTERS)}
                )
            clean[part].append(
                {"count": term["count"], "weight": weight, "filters": dict(sorted(filters.items()))}
            )
    scale = formula.get("scale", 1)
    if not isinstance(scale, int | float) or isinstance(scale, bool) or scale == 0:
        raise FormulaError(_("The scale must be a non-zero number."))
    clean["scale"] = scale
    return clean


def filter_key(filters: dict) -> tuple:
    return tuple(sorted((filters or {}).items()))


def formula_filter_sets(formula: dict) -> set[tuple]:
    """The distinct filter sets a formula's terms need (one fact query each)."""
    return {
        filter_key(t.get("filters"))
        for part in ("numerator", "denominator")
        for t in formula.get(part) or []
    }


def formula_value(formula: dict, counts: dict[tuple, dict[str, float]]) -> float | None:
    """counts[filter_key][base count] → the value; None when the denominator is zero."""

    def total(terms) -> float:
        return sum(
            t.get("weight", 1) * counts.get(filter_key(t.get("filters")), {}).get(t["count"], 0)
            for t in terms
        )

    numerator = total(formula["numerator"])
    scale = formula.get("scale", 1)
    if not formula.get("denominator"):
        return numerator * scale if scale != 1 else numerator
    denominator = total(formula["denominator"])
    if denominator == 0:
        return None
    return numerator / denominator * scale


@cache
def builtin_data() -> dict:
    return json.loads(DATA.read_text(encoding="utf-8"))


def composite_preset() -> list[dict]:
    return [dict(t) for t in builtin_data()["composite_preset"]]
