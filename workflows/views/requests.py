"""Requests about a handling task, made from its page: more time (延期), parking (挂账),
waiting for the reporter, and noting that the information arrived. What the task page shows
of them is in views.task_page; the decisions are the review task's ordinary outcomes."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cityops import display

from ..forms import ExtensionRequestForm, InfoWaitForm, ParkingRequestForm, RequestForm
from ..services.requests import (
    extension_request,
    info_received,
    info_wait,
    parking_request,
    request_withdraw,
)
from ..shortcuts import task_or_404
from .task_page import amount_label, task_action, task_service_action


def _request(request: HttpRequest, task_id: int, form_class: type[RequestForm], service, said):
    """Parse the form, call the service; `said(result)` is the success message."""
    task = task_or_404(request.user, task_id)
    form = form_class(request.POST)
    return task_action(
        request,
        task,
        lambda: service(actor=request.user, task=task, **form.cleaned_data),
        form=form,
        success=said,
    )


@login_required
@require_POST
def task_extension_view(request: HttpRequest, task_id: int) -> HttpResponse:
    return _request(
        request,
        task_id,
        ExtensionRequestForm,
        extension_request,
        lambda r: (
            _("Asked for %(amount)s more: the clock stands still until it is decided.")
            % {"amount": amount_label(r.amount, r.amount_unit)}
        ),
    )


@login_required
@require_POST
def task_parking_view(request: HttpRequest, task_id: int) -> HttpResponse:
    return _request(
        request,
        task_id,
        ParkingRequestForm,
        parking_request,
        lambda r: _("Parking requested: the shift leader decides."),
    )


@login_required
@require_POST
def task_waiting_info_view(request: HttpRequest, task_id: int) -> HttpResponse:
    return _request(
        request,
        task_id,
        InfoWaitForm,
        info_wait,
        lambda t: _("Waiting for the reporter: the clock stands still."),
    )


@login_required
@require_POST
def task_info_received_view(request: HttpRequest, task_id: int) -> HttpResponse:
    return task_service_action(
        request,
        task_id,
        info_received,
        success=lambda t: (
            _("Information received: the clock runs again, due %(due)s.")
            % {"due": display.when(t.due_at)}
        ),
    )


@login_required
@require_POST
def task_withdraw_request_view(request: HttpRequest, task_id: int) -> HttpResponse:
    return task_service_action(
        request,
        task_id,
        request_withdraw,
        success=lambda t: _("Request withdrawn: its decision is no longer needed."),
    )
