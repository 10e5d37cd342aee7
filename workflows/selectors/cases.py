"""Reads of cases: one case as its viewer may see it, its timeline, its open tasks."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F, QuerySet
from django.db.models.fields.tuple_lookups import Tuple, TupleLessThan

from workflows.access import can_view_case, case_visibility_q

from ..models import Case, CaseEvent, CaseTask, TaskStatus
from .tasks import cursor_decode, cursor_encode


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


def cases_visible(user) -> QuerySet[Case]:
    return (
        Case.objects.filter(case_visibility_q(user))
        .select_related("category", "area", "responsible_unit")
        .order_by("-created_at", "-id")
    )


@dataclass(frozen=True)
class CasePage:
    rows: list[Case]
    next_cursor: str | None


def case_page(
    user, *, status: str | None = None, cursor: str | None = None, limit: int = 25
) -> CasePage:
    """Cases the user may see, newest first, paged by (created_at, id); raises BadCursor."""
    qs = cases_visible(user)
    if status:
        qs = qs.filter(status=status)
    if cursor:
        when, pk = cursor_decode(cursor)
        qs = qs.filter(TupleLessThan(Tuple(F("created_at"), F("id")), (when, pk)))
    rows = list(qs.order_by("-created_at", "-id")[: limit + 1])
    if len(rows) <= limit:
        return CasePage(rows, None)
    rows = rows[:limit]
    return CasePage(rows, cursor_encode(rows[-1].created_at, rows[-1].pk))


def photo_for_user(user, photo_id: int):
    """The photo (with its case and category) if the user may see it (access.can_view_photo),
    else None: missing and not-yours look the same."""
    from workflows.access import can_view_photo

    from ..models import Attachment

    photo = Attachment.objects.select_related("case", "case__category").filter(pk=photo_id).first()
    if photo is None or not can_view_photo(user, photo):
        return None
    return photo
