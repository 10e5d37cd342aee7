"""Dispatch suggestions (智能分派): ranked units and categories for a complaint's text, each
with its probability and reasons, from the active model version, or, at a cold start, from
keyword matching on category names and the routing rules.

Read-only: no transaction, no row lock, no process lock; a page or an API call asks for one
beside the transition, never inside it. The routing rules still decide where they match
(workflows.services.routing): their answer is returned beside the model's.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils.translation import gettext as _

from departments.models import GridCell, Unit
from departments.reference import reference_snapshot
from departments.selectors import grid_cell_at
from workflows.models import Case, Category
from workflows.services.routing import route_suggest

from ..models import SuggestionModel
from .textmodel import Neighbour, Prediction, Ranked, TextModel, words
from .train import category_key

COLD_START = "cold-start"
TOP = 3
SIMILAR_PER_CHOICE = 2


@dataclass
class Choice:
    code: str  # unit code, or scheme/kind/code of a category
    name: str
    score: float
    reasons: list[dict] = field(default_factory=list)
    id: int | None = None


@dataclass
class Suggestion:
    model: str
    cold_start: bool
    note: str
    units: list[Choice]
    categories: list[Choice]
    rule: dict | None = None


# --- the active model, loaded once per process and version ---------------------------------

_loaded: tuple[tuple, str, TextModel] | None = None
_loading = threading.Lock()


def active_model() -> tuple[str, TextModel] | None:
    """The active version and its model (loaded again only when another version is active)."""
    global _loaded
    row = (
        SuggestionModel.objects.filter(is_active=True)
        .values_list("pk", "created_at", "version")
        .first()
    )
    if row is None:
        return None
    key = row[:2]  # id and time: a re-used id (a test database) is another version
    if _loaded is None or _loaded[0] != key:
        with _loading:
            if _loaded is None or _loaded[0] != key:
                data = SuggestionModel.objects.values_list("artifact", flat=True).get(pk=row[0])
                _loaded = (key, row[2], TextModel.loads(bytes(data)))
    return _loaded[1], _loaded[2]


# --- suggesting -----------------------------------------------------------------------------


def dispatch_suggest(
    *,
    text: str,
    lat: float | None = None,
    lng: float | None = None,
    category: Category | None = None,
) -> Suggestion:
    """Units and categories for this complaint, best first, with their reasons."""
    cell = grid_cell_at(lat, lng) if lat is not None and lng is not None else None
    loaded = active_model()
    if loaded is None:
        suggestion = _keyword_suggest(text, category, cell)
    else:
        version, model = loaded
        suggestion = _model_suggest(version, model.predict(text, k=TOP), text)
    routed_category = category or _category_of(suggestion)
    if routed_category is not None:
        suggestion.rule = _rule(routed_category, cell)
    return suggestion


def _model_suggest(version: str, prediction: Prediction, text: str) -> Suggestion:
    units = _units({r.label for r in prediction.units})
    categories = _categories({r.label for r in prediction.categories})
    return Suggestion(
        model=version,
        cold_start=False,
        note="",
        units=[
            _choice(r, units.get(r.label), prediction.neighbours, lambda n: n.unit)
            for r in prediction.units
        ],
        categories=[
            _choice(r, categories.get(r.label), prediction.neighbours, lambda n: n.category)
            for r in prediction.categories
        ],
    )


def _choice(ranked: Ranked, known, neighbours: list[Neighbour], label_of) -> Choice:
    pk, name = known or (None, ranked.label)
    reasons: list[dict] = []
    if ranked.terms:
        reasons.append(
            {
                "kind": "words",
                "words": ranked.terms,
                "label": _("Words that weighed most: %(words)s")
                % {"words": "、".join(ranked.terms)},
            }
        )
    for n in [n for n in neighbours if label_of(n) == ranked.label][:SIMILAR_PER_CHOICE]:
        reasons.append(
            {
                "kind": "similar_case",
                "case": n.ref,
                "similarity": round(n.similarity, 2),
                "excerpt": n.text,
                "label": _("Similar past case %(number)s (similarity %(sim).2f): %(text)s")
                % {"number": n.ref, "sim": n.similarity, "text": n.text},
            }
        )
    return Choice(ranked.label, name, round(ranked.score, 4), reasons, pk)


def _units(codes: set[str]) -> dict[str, tuple[int, str]]:
    snapshot = reference_snapshot()
    named = snapshot.part("intelligence.unit_names", _unit_names)
    return {c: named[c] for c in codes if c in named}


def _unit_names() -> dict[str, tuple[int, str]]:
    return {code: (pk, name) for pk, code, name in Unit.objects.values_list("pk", "code", "name")}


def _categories(keys: set[str]) -> dict[str, tuple[int, str]]:
    q = Q(pk__in=[])
    for key in keys:
        parts = key.rsplit("/", 2)  # scheme codes have slashes: "GB/T 30428.2"
        if len(parts) == 3:
            q |= Q(scheme__code=parts[0], kind=parts[1], code=parts[2])
    rows = Category.objects.filter(q).values_list("pk", "scheme__code", "kind", "code", "name")
    return {
        category_key(scheme, kind, code): (pk, f"{code} {name}")
        for pk, scheme, kind, code, name in rows
    }


def _category_of(suggestion: Suggestion) -> Category | None:
    if not suggestion.categories or suggestion.categories[0].id is None:
        return None
    return (
        Category.objects.select_related("default_unit")
        .filter(pk=suggestion.categories[0].id)
        .first()
    )


def _rule(category: Category, cell: GridCell | None) -> dict | None:
    """What the routing rules answer for this category and place (they decide when a rule
    matches)."""
    case = Case(category=category, grid=cell, area=cell.area if cell else None)
    route = route_suggest(case)
    if route.unit is None:
        return None
    return {
        "unit": route.unit.code,
        "name": route.unit.name,
        "basis": route.basis,
        "explanation": route.explanation,
    }


# --- cold start: keyword matching on category names -----------------------------------------


def _keyword_suggest(text: str, category: Category | None, cell: GridCell | None) -> Suggestion:
    """Categories whose names' words are in the text (more of the name: better), their units
    by the routing rules; a given category comes first."""
    found = set(words(text)) | _bigrams(text.lower())
    scored: list[tuple[float, Category, list[str]]] = []
    for cat in _active_categories():
        name_terms = set(words(cat.name)) | _bigrams(cat.name)
        major_terms = set(words(cat.major_name)) | _bigrams(cat.major_name)
        hits = sorted(t for t in name_terms & found if len(t) >= 2)
        major_hits = sorted(t for t in (major_terms - name_terms) & found if len(t) >= 2)
        covered = {
            i + k
            for t in hits
            for i in range(len(cat.name))
            if cat.name.startswith(t, i)
            for k in range(len(t))
        }
        score = len(hits) + len(covered) / len(cat.name) + 0.5 * len(major_hits)
        score += 5 if category and cat.pk == category.pk else 0
        if score > 0:
            scored.append((score, cat, hits + major_hits))
    scored.sort(key=lambda s: (-s[0], s[1].code))
    top = scored[:TOP]
    total = sum(s for s, _c, _h in top) or 1
    categories = [
        Choice(
            category_key(cat.scheme.code, cat.kind, cat.code),
            f"{cat.code} {cat.name}",
            round(score / total, 4),
            [
                {
                    "kind": "words",
                    "words": hits,
                    "label": _("Words of the category's name in the text: %(words)s")
                    % {"words": "、".join(hits) or "—"},
                }
            ],
            cat.pk,
        )
        for score, cat, hits in top
    ]
    units: dict[str, Choice] = {}
    for choice, (_score, cat, _hits) in zip(categories, top, strict=True):
        route = route_suggest(Case(category=cat, grid=cell, area=cell.area if cell else None))
        if route.unit is None:
            continue
        unit = units.setdefault(
            route.unit.code, Choice(route.unit.code, route.unit.name, 0.0, [], route.unit.pk)
        )
        unit.score = round(unit.score + choice.score, 4)
        unit.reasons.append(
            {
                "kind": "rule",
                "label": f"{choice.name}: {route.explanation}",
                "category": choice.code,
            }
        )
    return Suggestion(
        model=COLD_START,
        cold_start=True,
        note=_(
            "Too little history to learn from yet: these come from the category names and "
            "the routing rules."
        ),
        units=sorted(units.values(), key=lambda c: -c.score),
        categories=categories,
    )


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1) if text[i : i + 2].strip()}


def _active_categories() -> list[Category]:
    return list(
        Category.objects.filter(is_active=True)
        .exclude(kind="hotline")
        .select_related("scheme", "default_unit")
    )
