"""Task pages: the Inbox / Queue / Done lists, one task with its outcomes, and the task
actions (claim, release, complete, second-level dispatch)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from ..forms import OutcomeForm, SubdispatchForm
from ..selectors.tasks import SCOPES, task_list
from ..services.outcomes import task_complete
from ..services.tasks import task_claim, task_release, task_subdispatch
from ..shortcuts import task_or_404
from .actions import next_or
from .pagination import page_or_first
from .task_page import render_task_page, sub_unit_ids, task_action, task_service_action

DEFAULT_SCOPE = "inbox"


def _tasks_url(scope: str) -> str:
    return f"{reverse('workflows:tasks')}?scope={scope}"


@login_required
@require_GET
def task_list_view(request: HttpRequest) -> HttpResponse:
    scope = request.GET.get("scope", DEFAULT_SCOPE)
    if scope not in SCOPES:
        scope = DEFAULT_SCOPE
    page = page_or_first(request, lambda cursor: task_list(request.user, scope, cursor))
    context = {"scope": scope, "scopes": SCOPES, "page": page, "here": request.get_full_path()}
    return render(request, "workflows/task_list.html", context)


@login_required
@require_GET
def task_detail_view(request: HttpRequest, task_id: int) -> HttpResponse:
    return render_task_page(request, task_or_404(request.user, task_id))


@login_required
@require_POST
def task_claim_view(request: HttpRequest, task_id: int) -> HttpResponse:
    back = next_or(request, _tasks_url("queue"))
    said = _("The task is in your inbox.")
    return task_service_action(request, task_id, task_claim, success=said, back=back)


@login_required
@require_POST
def task_release_view(request: HttpRequest, task_id: int) -> HttpResponse:
    then = next_or(request, _tasks_url("inbox"))
    said = _("The task is back in its queue.")
    return task_service_action(request, task_id, task_release, success=said, then=then)


@login_required
@require_POST
def task_complete_view(request: HttpRequest, task_id: int) -> HttpResponse:
    task = task_or_404(request.user, task_id)
    outcome = request.POST.get("outcome", "")
    form = OutcomeForm(request.POST, request.FILES, task=task, outcome=outcome)
    return task_action(
        request,
        task,
        lambda: task_complete(
            actor=request.user,
            task=task,
            outcome=outcome,
            data=form.service_data(),
            photos=form.service_photos(),
        ),
        form=form,
        success=_("Case %(number)s: %(outcome)s.") % {"number": task.case, "outcome": form.label},
        then=_tasks_url("inbox"),
    )


@login_required
@require_POST
def task_subdispatch_view(request: HttpRequest, task_id: int) -> HttpResponse:
    task = task_or_404(request.user, task_id)
    form = SubdispatchForm(request.POST, sub_unit_ids=sub_unit_ids(task))
    return task_action(
        request,
        task,
        lambda: task_subdispatch(actor=request.user, task=task, unit=form.cleaned_data["unit"]),
        form=form,
        success=lambda _task: _("Sent to %(unit)s.") % {"unit": form.cleaned_data["unit"].name},
    )
