"""Which unit should handle a case: routing rules, most specific first, then the category's
default unit, then nobody (the dispatcher decides)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from departments.models import Unit
from departments.reference import Snapshot, reference_snapshot

from ..models import Case, RoutingRule


@dataclass(frozen=True)
class RouteSuggestion:
    unit: Unit | None
    rule: RoutingRule | None
    basis: str  # "rule" | "category_default" | "none"
    explanation: str

    def as_payload(self) -> dict:
        return {
            "suggested_unit": self.unit.pk if self.unit else None,
            "suggested_unit_code": self.unit.code if self.unit else None,
            "rule": self.rule.pk if self.rule else None,
            "basis": self.basis,
            "explanation": self.explanation,
        }


def _active_rules() -> tuple[RoutingRule, ...]:
    """The active rules with what a suggestion shows of them (part of the reference
    snapshot: a rule's save or delete moves its generation)."""
    related = ("unit", "category", "area", "grid")
    return tuple(RoutingRule.objects.filter(is_active=True).select_related(*related))


def _specificity(rule: RoutingRule, depth: dict[int, int]) -> tuple:
    """Grid beats area, a deeper area beats a shallower one, a category beats any category."""
    area_depth = depth.get(rule.area_id, 0) if rule.area_id else 0
    return (rule.category_id is not None, rule.grid_id is not None, area_depth, rule.priority)


def route_suggest(
    case: Case, snapshot: Snapshot | None = None, exclude: frozenset[int] = frozenset()
) -> RouteSuggestion:
    """The unit suggested for a case, and why; never one of `exclude` (units that returned
    the case: services.redispatch)."""
    snapshot = snapshot or reference_snapshot()
    areas = snapshot.units.ancestor_ids(case.area_id)
    depth = {pk: len(areas) - i for i, pk in enumerate(areas)}
    rules = [
        rule
        for rule in snapshot.part("routing_rules", _active_rules)
        if rule.unit.is_active
        and rule.unit_id not in exclude
        and rule.category_id in (None, case.category_id)
        and rule.grid_id in (None, case.grid_id)
        and (rule.area_id is None or rule.area_id in depth)
    ]
    best = max(rules, key=lambda r: _specificity(r, depth), default=None)
    if best is not None:
        return RouteSuggestion(
            best.unit,
            best,
            "rule",
            _("Routing rule #%(id)s: %(rule)s") % {"id": best.pk, "rule": best},
        )
    default = case.category.default_unit
    if default is not None and default.is_active and default.pk not in exclude:
        return RouteSuggestion(
            default,
            None,
            "category_default",
            _("Default unit of category %(code)s %(name)s")
            % {"code": case.category.code, "name": case.category.name},
        )
    return RouteSuggestion(None, None, "none", _("No rule matched: the dispatcher decides."))


def suggestion_explanation(payload: dict, case: Case) -> str:
    """Why the unit was suggested, in the reader's language: the payload's own text is in the
    language of whoever's step created the dispatch task."""
    basis = payload.get("basis")
    if basis == "rule":
        rule = RoutingRule.objects.filter(pk=payload.get("rule")).first()
        text = _("Routing rule #%(id)s: %(rule)s") % {"id": payload.get("rule"), "rule": rule or ""}
    elif basis == "category_default":
        text = _("Default unit of category %(code)s %(name)s") % {
            "code": case.category.code,
            "name": case.category.name,
        }
    elif basis == "none":
        text = _("No rule matched: the dispatcher decides.")
    else:
        return payload.get("explanation", "")
    if payload.get("returned"):
        text = " ".join([text, _("Units that returned the case are not suggested again.")])
    return text
