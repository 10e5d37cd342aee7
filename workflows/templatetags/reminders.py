"""催办 on the case page: `{% case_reminders case as rem %}` gives the count, the recent
reminders and, for the command centre while the case is open, the form (with what was just
posted when the page is shown again after a refusal)."""

from __future__ import annotations

from django import template

from workflows.access import can_remind_case

from ..forms import RemindForm
from ..models import Case
from ..selectors.reminders import reminder_count

register = template.Library()


@register.simple_tag(takes_context=True)
def case_reminders(context, case: Case) -> dict:
    request = context["request"]
    posted = request.POST if request.method == "POST" and "message" in request.POST else None
    may = case.is_open and can_remind_case(request.user, case)
    return {
        "count": reminder_count(case),
        "form": (RemindForm(posted) if posted is not None else RemindForm()) if may else None,
    }
