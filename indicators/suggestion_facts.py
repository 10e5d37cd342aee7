"""The dispatch suggestions' facts (智能分派 acceptance), derived per case from the choices
recorded on its pages (intelligence's SuggestionLog rows): a pure function of those rows, like
every case's facts.

- suggestion — each decision recorded after a suggestion shown on one of the case's pages, at
  the decision; unit = the case's handling unit (how often the suggestions were right for that
  unit's cases), actor = the user who decided; stage = which choice was submitted: "first"
  (the first suggestion), "other" (another suggestion) or "none"; flag = one of the suggestions
  was taken (first or other).

Decisions made before a case exists (the report form, the hotline desk) have no case and are
not counted here (the suggestion admin shows every decision). A decision is picked up with the
case's next event (the page's own submission is one), or by `rebuild_indicator_facts`.
"""

from __future__ import annotations

from collections.abc import Callable

from intelligence.models import SuggestionLog

KIND = "suggestion"


def suggestion_decisions(case_ids) -> dict[int, list[tuple]]:
    """{case id: [(decided at, user id, taken), ...]} of the decided suggestions, in order."""
    out: dict[int, list[tuple]] = {}
    rows = (
        SuggestionLog.objects.filter(case_id__in=list(case_ids), decided_at__isnull=False)
        .exclude(taken="")
        .order_by("decided_at", "id")
        .values_list("case_id", "decided_at", "user_id", "taken")
    )
    for case_id, at, user_id, taken in rows:
        out.setdefault(case_id, []).append((at, user_id, taken))
    return out


def suggestion_facts(case, decisions: list[tuple], add: Callable) -> None:
    """One fact per decision; `add(kind, at, **fields)` (indicators.facts.case_facts)."""
    for at, user_id, taken in decisions:
        add(
            KIND,
            at,
            unit_id=case.responsible_unit_id,
            actor_id=user_id,
            stage=taken,
            flag=taken in ("first", "other"),
        )
