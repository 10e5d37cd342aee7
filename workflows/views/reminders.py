"""催办 from the case page: the command centre reminds the case's current holders."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from ..forms import RemindForm
from ..services.reminders import case_remind
from ..shortcuts import case_or_404
from .actions import service_action
from .cases import render_case_page


def _sent(event) -> str:
    count = len(event.payload["to"])
    return ngettext(
        "Reminder sent to %(count)s person.", "Reminder sent to %(count)s people.", count
    ) % {"count": count}


@login_required
@require_POST
def case_remind_view(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_or_404(request.user, case_id)
    form = RemindForm(request.POST)
    here = reverse("workflows:case", args=[case.pk])

    def invalid() -> HttpResponse:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return render_case_page(request, case, status=400)

    return service_action(
        request,
        lambda: case_remind(actor=request.user, case=case, message=form.cleaned_data["message"]),
        form=form,
        invalid=invalid,
        success=_sent,
        then=here,
        back=here,
    )
