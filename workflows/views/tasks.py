"""Task pages: the Inbox / Queue / Done lists, one task with its outcomes, and the task
actions (claim, release, complete, second-level dispatch)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from departments.access import can_act_on_task, staff_scope
from departments.models import Role
from departments.selectors import unit_descendant_ids

from ..forms import OutcomeForm, RequestForm, SubdispatchForm, add_service_errors, outcome_forms
from ..models import CaseTask, PhotoKind, Stage, TaskStatus
from ..selectors.tasks import SCOPES, BadCursor, task_for_user, task_list
from ..services.errors import Conflict
from ..services.outcomes import allowed_outcomes, task_complete
from ..services.tasks import task_claim, task_release, task_subdispatch
from .requests import task_request_context

DEFAULT_SCOPE = "inbox"


def _tasks_url(scope: str) -> str:
    return f"{reverse('workflows:tasks')}?scope={scope}"


def _next_or(request: HttpRequest, fallback: str) -> str:
    """Where a list's button asked to come back to, if it is one of our pages."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return fallback


def _task_or_404(user, task_id: int) -> CaseTask:
    task = task_for_user(user, task_id)
    if task is None:
        raise Http404
    return task


def _sub_unit_ids(task: CaseTask) -> set[int]:
    responsible = task.case.responsible_unit_id
    return unit_descendant_ids([responsible]) - {responsible} if responsible else set()


def _subdispatch_offer(user, task: CaseTask) -> SubdispatchForm | None:
    """The second-level dispatch form, shown to the unit head of an open handling task."""
    if task.stage != Stage.HANDLING or task.status != TaskStatus.OPEN:
        return None
    if not staff_scope(user).holds(task.unit_id, Role.UNIT_HEAD):
        return None
    return SubdispatchForm(sub_unit_ids=_sub_unit_ids(task))


def _task_page(
    request: HttpRequest,
    task: CaseTask,
    *,
    bound: OutcomeForm | None = None,
    subdispatch: SubdispatchForm | None = None,
    request_form: RequestForm | None = None,
    status: int = 200,
) -> HttpResponse:
    names = allowed_outcomes(request.user, task)
    forms = [
        bound if bound and bound.outcome_name == f.outcome_name else f
        for f in outcome_forms(task, names)
    ]
    context = {
        "task": task,
        "case": task.case,
        "outcome_forms": forms,
        # A bound form whose outcome is not offered here (e.g. posted by someone not holding
        # the task): its errors still have to be shown.
        "stray_form": bound if bound is not None and bound.outcome_name not in names else None,
        "can_claim": task.status == TaskStatus.OPEN and can_act_on_task(request.user, task),
        "holds": task.status == TaskStatus.CLAIMED and task.owner_id == request.user.pk,
        "subdispatch_form": subdispatch or _subdispatch_offer(request.user, task),
        "photos": [p for p in task.case.attachments.all() if p.kind == PhotoKind.BEFORE],
        **task_request_context(request.user, task, bound=request_form),
    }
    return render(request, "workflows/task_detail.html", context, status=status)


@login_required
@require_GET
def task_list_view(request: HttpRequest) -> HttpResponse:
    scope = request.GET.get("scope", DEFAULT_SCOPE)
    if scope not in SCOPES:
        scope = DEFAULT_SCOPE
    try:
        page = task_list(request.user, scope, request.GET.get("cursor") or None)
    except BadCursor:
        messages.warning(request, _("That page link is not valid (any more): the first page."))
        page = task_list(request.user, scope)
    context = {"scope": scope, "scopes": SCOPES, "page": page, "here": request.get_full_path()}
    return render(request, "workflows/task_list.html", context)


@login_required
@require_GET
def task_detail_view(request: HttpRequest, task_id: int) -> HttpResponse:
    return _task_page(request, _task_or_404(request.user, task_id))


@login_required
@require_POST
def task_claim_view(request: HttpRequest, task_id: int) -> HttpResponse:
    task = _task_or_404(request.user, task_id)
    try:
        task_claim(actor=request.user, task=task)
    except Conflict as exc:
        messages.error(request, exc.message)
        return redirect(_next_or(request, _tasks_url("queue")))
    messages.success(request, _("The task is in your inbox."))
    return redirect("workflows:task", task_id=task.pk)


@login_required
@require_POST
def task_release_view(request: HttpRequest, task_id: int) -> HttpResponse:
    task = _task_or_404(request.user, task_id)
    try:
        task_release(actor=request.user, task=task)
    except Conflict as exc:
        messages.error(request, exc.message)
        return redirect("workflows:task", task_id=task.pk)
    messages.success(request, _("The task is back in its queue."))
    return redirect(_next_or(request, _tasks_url("inbox")))


@login_required
@require_POST
def task_complete_view(request: HttpRequest, task_id: int) -> HttpResponse:
    task = _task_or_404(request.user, task_id)
    outcome = request.POST.get("outcome", "")
    form = OutcomeForm(request.POST, request.FILES, task=task, outcome=outcome)
    if form.is_valid():
        try:
            task_complete(
                actor=request.user,
                task=task,
                outcome=outcome,
                data=form.service_data(),
                photos=form.service_photos(),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except Conflict as exc:
            messages.error(request, exc.message)
            return redirect("workflows:task", task_id=task.pk)
        else:
            messages.success(
                request,
                _("Case %(number)s: %(outcome)s.") % {"number": task.case, "outcome": form.label},
            )
            return redirect(_tasks_url("inbox"))
    return _task_page(request, task, bound=form, status=400)


@login_required
@require_POST
def task_subdispatch_view(request: HttpRequest, task_id: int) -> HttpResponse:
    task = _task_or_404(request.user, task_id)
    form = SubdispatchForm(request.POST, sub_unit_ids=_sub_unit_ids(task))
    if form.is_valid():
        try:
            task_subdispatch(actor=request.user, task=task, unit=form.cleaned_data["unit"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        except Conflict as exc:
            messages.error(request, exc.message)
            return redirect("workflows:task", task_id=task.pk)
        else:
            messages.success(
                request, _("Sent to %(unit)s.") % {"unit": form.cleaned_data["unit"].name}
            )
            return redirect("workflows:task", task_id=task.pk)
    return _task_page(request, task, subdispatch=form, status=400)
