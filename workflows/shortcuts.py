"""What pages and API views start with: the object the caller may see or 404, and the board
gate. Http404 is the same answer on both sides (Django's 404 page, or the API's error body
from api.errors): "not found" and "not yours" cannot be told apart, because the selectors
return None for both.
"""

from __future__ import annotations

from django.http import Http404

from .access import can_see_board
from .models import Case, CaseTask
from .selectors.cases import case_for_user
from .selectors.tasks import task_for_user, task_to_act_on


def case_or_404(user, case_id: int) -> Case:
    """The case with what its page shows, if the user may see it."""
    case = case_for_user(user, case_id)
    if case is None:
        raise Http404
    return case


def task_or_404(user, task_id: int) -> CaseTask:
    """The task with what its page shows, if the user may see it."""
    task = task_for_user(user, task_id)
    if task is None:
        raise Http404
    return task


def task_to_act_on_or_404(user, task_id: int) -> CaseTask:
    """The task with only its case (which the services lock through), if the user may see it:
    what an API action needs, read with a statement compiled once."""
    task = task_to_act_on(user, task_id)
    if task is None:
        raise Http404
    return task


def require_board(user) -> None:
    """The SLA board, breaches and supervision orders are for supervisors, admins and unit
    heads; anyone else gets 404 (nothing says they exist)."""
    if not can_see_board(user):
        raise Http404
