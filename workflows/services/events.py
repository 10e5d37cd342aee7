"""Writing the audit trail: one append-only row per state change, inside the caller's
transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db.models import Model
from django.utils import timezone

from cityops.compiled_queries import insert_saving

from ..integrations.webhooks import webhooks_emit_for_event, webhooks_emit_for_events
from ..models import Case, CaseEvent, CaseTask


def event_new(
    *,
    case: Case,
    action: str,
    actor=None,
    task: CaseTask | None = None,
    stage_from: str = "",
    stage_to: str = "",
    unit_id: int | None = None,
    payload: dict | None = None,
    created_at: dt.datetime | None = None,
) -> CaseEvent:
    """An event not written yet (for `events_record_many`); `actor=None`: the system acted."""
    return CaseEvent(
        case=case,
        task=task,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        stage_from=stage_from,
        stage_to=stage_to,
        unit_id=unit_id if unit_id is not None else (task.unit_id if task else None),
        payload=payload or {},
        created_at=created_at or timezone.now(),
    )


def event_record(*, saves: Sequence[tuple[Model, Sequence[str]]] = (), **fields) -> CaseEvent:
    """Append the event `event_new(**fields)` builds, and queue its webhooks. `saves`, rows the
    change moved with the columns to write (its case, an order), are written in the same
    statement (compiled_queries.insert_saving)."""
    event = event_new(**fields)
    insert_saving(event, *saves)
    webhooks_emit_for_event(event)  # no query while nobody subscribes (cached types)
    return event


def events_record_many(events: list[CaseEvent]) -> list[CaseEvent]:
    """Append many events (built with `event_new`) in one statement and queue their webhooks
    in one more: what a batch of system changes (the escalation sweep) writes."""
    if not events:
        return events
    CaseEvent.objects.bulk_create(events)
    webhooks_emit_for_events(events)
    return events


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
