"""What users do with suggestions: each shown suggestion is logged, and the choice then
submitted is recorded as the first suggestion, another one, or none of them."""

from __future__ import annotations

from django.utils import timezone

from workflows.models import Case

from ..models import SuggestionLog, Surface, Taken


def suggestion_shown(
    *,
    actor,
    surface: str,
    kind: str,
    suggested: list[str],
    model_version: str,
    case: Case | None = None,
) -> SuggestionLog:
    """Log a suggestion shown on a page (one row, autocommit: no transaction to join); `kind`
    says whether the user picks a unit or a category there."""
    return SuggestionLog.objects.create(
        surface=Surface(surface),
        kind=kind,
        user=actor,
        case=case,
        model_version=model_version,
        suggested=suggested,
    )


def suggestion_choice_record(*, actor, log: SuggestionLog, chosen: str) -> SuggestionLog:
    """The code the user submitted (empty: none chosen): first, another suggestion, or none.
    Submitting again (e.g. after a refused form) replaces the earlier record."""
    if chosen and log.suggested and chosen == log.suggested[0]:
        taken = Taken.FIRST
    elif chosen and chosen in log.suggested:
        taken = Taken.OTHER
    else:
        taken = Taken.NONE
    log.chosen, log.taken, log.decided_at = chosen, taken, timezone.now()
    log.save(update_fields=["chosen", "taken", "decided_at"])
    return log
