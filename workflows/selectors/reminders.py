"""Reminders (催办) on a case: how many were sent (the audit events are the record)."""

from __future__ import annotations

from ..models import Case, CaseEvent

REMIND = "remind"  # the event's action


def reminder_count(case: Case) -> int:
    """How many reminders the case has had (read on its timeline index)."""
    return CaseEvent.objects.filter(case=case, action=REMIND).count()
