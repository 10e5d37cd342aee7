"""Task pages: the Inbox / Queue / Done lists, one task with its outcomes, and the task
actions (claim, release, complete, second-level dispatch)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from workflows import access

from ..forms import OutcomeForm, SubdispatchForm
from ..selectors.tasks import (
    COUNT_CAP,
    SCOPES,
    inbox_count,
    next_task,
    queue_count,
    subdispatch_count,
    subdispatch_list,
    task_list,
)
from ..services.outcomes import task_complete
from ..services.tasks import task_claim, task_release, task_subdispatch
from ..shortcuts import task_or_404
from .actions import next_or
from .pagination import page_or_first
from .task_page import render_task_page, sub_unit_ids, task_action, task_service_action

DEFAULT_SCOPE = "inbox"
# The page's lists: the API's (SCOPES) and the unit head's second-level dispatch queue.
SUBDISPATCH = "subdispatch"
PAGE_SCOPES = (*SCOPES, SUBDISPATCH)


def _tasks_url(scope: str) -> str:
    return f"{reverse('workflows:tasks')}?scope={scope}"


def _list_page(user, scope: str, cursor: str | None):
    if scope == SUBDISPATCH:
        return subdispatch_list(user, cursor)
    return task_list(user, scope, cursor)


@login_required
@require_GET
def task_list_view(request: HttpRequest) -> HttpResponse:
    """Where everyone lands: the inbox, with how many tasks wait in each list (the unit head's
    second-level dispatch queue only for unit heads)."""
    scope = request.GET.get("scope", DEFAULT_SCOPE)
    if scope not in PAGE_SCOPES:
        scope = DEFAULT_SCOPE
    user = request.user
    page = page_or_first(request, lambda cursor: _list_page(user, scope, cursor))
    counts = {"inbox": inbox_count(user), "queue": queue_count(user)}
    if access.heads_a_unit(user):
        counts[SUBDISPATCH] = subdispatch_count(user)
    context = {
        "scope": scope,
        "scopes": SCOPES,
        "page": page,
        "here": request.get_full_path(),
        "counts": counts,
        "count_cap": COUNT_CAP,
    }
    return render(request, "workflows/task_list.html", context)


@login_required
@require_GET
def task_detail_view(request: HttpRequest, task_id: int) -> HttpResponse:
    task = task_or_404(request.user, task_id)
    if task.stage.startswith("hl_"):  # a 12345 order's task: acted on from the order's page
        return redirect(
            reverse("workflows:hotline-order", args=[task.case_id]) + f"#task-{task.pk}"
        )
    return render_task_page(request, task)


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
        then=lambda _task: _next_work(request),
    )


def _next_work(request: HttpRequest) -> str:
    """After a task is done: the next task in the inbox, else the list where work waits,
    with a message saying so."""
    following = next_task(request.user)
    if following is not None:
        messages.info(request, _("Your next task: case %(number)s.") % {"number": following.case})
        return reverse("workflows:task", args=[following.pk])
    waiting = queue_count(request.user)
    if waiting:
        messages.info(
            request,
            ngettext(
                "Your inbox is empty: %(count)s task waits in the queue.",
                "Your inbox is empty: %(count)s tasks wait in the queue.",
                waiting,
            )
            % {"count": f"{waiting}+" if waiting >= COUNT_CAP else waiting},
        )
        return _tasks_url("queue")
    messages.info(request, _("No more tasks for now."))
    return _tasks_url("inbox")


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
        then=_tasks_url(SUBDISPATCH),
    )
