"""Writing the audit trail: one append-only row per state change, inside the caller's
transaction."""

from __future__ import annotations

from django.utils import timezone

from cityops.compiled_queries import insert

from ..integrations.webhooks import webhooks_emit_for_event
from ..models import Case, CaseEvent, CaseTask


def event_record(
    *,
    case: Case,
    action: str,
    actor=None,
    task: CaseTask | None = None,
    stage_from: str = "",
    stage_to: str = "",
    unit_id: int | None = None,
    payload: dict | None = None,
) -> CaseEvent:
    """Append an event (and queue its webhooks); `actor=None` means the system acted."""
    event = CaseEvent(
        case=case,
        task=task,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        stage_from=stage_from,
        stage_to=stage_to,
        unit_id=unit_id if unit_id is not None else (task.unit_id if task else None),
        payload=payload or {},
        created_at=timezone.now(),
    )
    insert(event)
    webhooks_emit_for_event(event)  # no query while nobody subscribes (cached types)
    return event


def task_event(
    *, task: CaseTask, action: str, actor, payload: dict | None = None, unit_id=None
) -> CaseEvent:
    """An event about a task that leaves the case's stage where it is (claim, release,
    requests, pauses …)."""
    return event_record(
        case=task.case,
        task=task,
        action=action,
        actor=actor,
        stage_from=task.stage,
        stage_to=task.stage,
        unit_id=unit_id,
        payload=payload,
    )
