"""Reads of cases: one case as its viewer may see it, its timeline, its open tasks."""

from __future__ import annotations

from django.db.models import QuerySet

from workflows.access import can_view_case

from ..models import Case, CaseEvent, CaseTask, TaskStatus


def case_for_user(user, case_id: int) -> Case | None:
    """The case if the user may see it, else None (missing and not-yours look the same)."""
    case = (
        Case.objects.select_related(
            "category", "area", "grid", "city", "responsible_unit", "duplicate_of"
        )
        .filter(pk=case_id)
        .first()
    )
    if case is None or not can_view_case(user, case):
        return None
    return case


def case_timeline(case: Case) -> QuerySet[CaseEvent]:
    return case.events.select_related("actor", "unit", "task").order_by("created_at", "id")


def case_open_tasks(case: Case) -> QuerySet[CaseTask]:
    return (
        case.tasks.filter(status__in=[TaskStatus.OPEN, TaskStatus.CLAIMED])
        .select_related("unit", "owner", "calendar")
        .order_by("created_at")
    )


def photo_for_user(user, photo_id: int):
    """The photo (with its case and category) if the user may see it (access.can_view_photo),
    else None: missing and not-yours look the same."""
    from workflows.access import can_view_photo

    from ..models import Attachment

    photo = Attachment.objects.select_related("case", "case__category").filter(pk=photo_id).first()
    if photo is None or not can_view_photo(user, photo):
        return None
    return photo
