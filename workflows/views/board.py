"""Supervision pages: the SLA board per responsible unit, its drill-down, the breach list, the
supervision orders (督办), and issuing and replying to an order from the case page.

Only supervisors, admins and unit heads have these pages; anyone else gets 404.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from departments.models import AREA_KINDS, Unit

from ..forms import category_choices
from ..selectors.cases import case_for_user
from ..selectors.lookups import parse_id
from ..selectors.sla import (
    BOARD_STATES,
    board_case_list,
    board_counts,
    board_totals,
    breaches,
    order_for_user,
    order_page,
)
from ..services.supervision import order_issue, order_reply
from ..shortcuts import case_or_404, require_board
from .actions import next_or, service_action
from .cases import render_case_page
from .pagination import page_or_first

STATE_LABELS = {
    "at_risk": gettext_lazy("At risk"),
    "overdue": gettext_lazy("Overdue"),
    "paused": gettext_lazy("Paused"),
    "supervised": gettext_lazy("Under supervision (督办)"),
}


# --- forms (shape only: the selectors and services decide) -------------------------------------


def _areas():
    return Unit.objects.filter(kind__in=AREA_KINDS, is_active=True).order_by("code")


class BoardFilterForm(forms.Form):
    category = forms.TypedChoiceField(
        label=gettext_lazy("Category"),
        coerce=int,
        choices=category_choices,
        required=False,
        empty_value=None,
    )
    area = forms.ModelChoiceField(
        label=gettext_lazy("Area"), queryset=_areas(), required=False, empty_label="—"
    )
    since = forms.DateField(
        label=gettext_lazy("Reported from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    until = forms.DateField(
        label=gettext_lazy("Reported until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def selector_filters(self) -> dict:
        """The valid filters as the selectors take them: the period is whole local days,
        `until` included."""
        self.is_valid()  # invalid fields are left out (and shown on the form)
        data = getattr(self, "cleaned_data", {})
        since, until = data.get("since"), data.get("until")
        area = data.get("area")
        return {
            "category_id": data.get("category"),
            "area_id": area.pk if area else None,
            "since": _day_start(since) if since else None,
            "until": _day_start(until + dt.timedelta(days=1)) if until else None,
        }


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


class OrderIssueForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=2000, required=False)
    reply_due_at = forms.DateTimeField(
        label=gettext_lazy("Reply due"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
    )


class OrderReplyForm(forms.Form):
    reply = forms.CharField(label=gettext_lazy("Reply"), max_length=4000, required=False)


# --- helpers ---------------------------------------------------------------------------------


def _errors(form: forms.Form) -> str:
    """Every error message of the form (its own and the service's), as one line."""
    return " ".join(str(m) for messages_ in form.errors.values() for m in messages_)


def _unit(request: HttpRequest) -> Unit | None:
    """The unit of `?unit=<id>`, or None."""
    unit_id = parse_id(request.GET.get("unit"))
    return Unit.objects.filter(pk=unit_id).first() if unit_id else None


# --- pages -----------------------------------------------------------------------------------


@login_required
@require_GET
def board_view(request: HttpRequest) -> HttpResponse:
    require_board(request.user)
    form = BoardFilterForm(request.GET)
    rows = board_counts(request.user, **form.selector_filters())
    context = {
        "form": form,
        "rows": rows,
        "totals": board_totals(rows),
        "query": request.GET.urlencode(),
        "now": timezone.now(),
    }
    return render(request, "workflows/board.html", context)


@login_required
@require_GET
def board_cases_view(request: HttpRequest) -> HttpResponse:
    require_board(request.user)
    state = request.GET.get("state", "")
    unit = _unit(request)
    if state not in BOARD_STATES or unit is None:
        raise Http404
    form = BoardFilterForm(request.GET)
    result = board_case_list(request.user, unit_id=unit.pk, state=state, **form.selector_filters())
    back = request.GET.copy()
    for name in ("unit", "state"):
        back.pop(name, None)
    context = {
        "unit": unit,
        "state": state,
        "state_label": STATE_LABELS[state],
        "result": result,
        "board_query": back.urlencode(),
        "now": timezone.now(),
    }
    return render(request, "workflows/board_cases.html", context)


@login_required
@require_GET
def breaches_view(request: HttpRequest) -> HttpResponse:
    require_board(request.user)
    form = BoardFilterForm(request.GET)
    filters = form.selector_filters()
    unit = _unit(request)
    kwargs = {
        "unit_id": unit.pk if unit else None,
        "category_id": filters["category_id"],
        "area_id": filters["area_id"],
    }
    page = page_or_first(request, lambda cursor: breaches(request.user, cursor=cursor, **kwargs))
    query = request.GET.copy()
    query.pop("cursor", None)
    context = {
        "form": form,
        "unit": unit,
        "page": page,
        "query": query.urlencode(),
        "now": timezone.now(),
    }
    return render(request, "workflows/board.html", {**context, "view": "breaches"})


@login_required
@require_GET
def orders_view(request: HttpRequest) -> HttpResponse:
    """Open to everyone: a handler sees the orders about the tasks they hold, a unit head
    those to their units, a supervisor those on their board (selectors.sla.order_page)."""
    page = page_or_first(request, lambda cursor: order_page(request.user, cursor=cursor))
    context = {"page": page, "now": timezone.now(), "here": request.get_full_path()}
    return render(request, "workflows/orders.html", context)


# --- actions ---------------------------------------------------------------------------------


@login_required
@require_POST
def case_supervise_view(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_or_404(request.user, case_id)
    form = OrderIssueForm(request.POST)
    here = reverse("workflows:case", args=[case.pk])
    return service_action(
        request,
        lambda: order_issue(actor=request.user, case=case, **form.cleaned_data),
        form=form,
        # Shown again with the message; the card keeps what was typed (request.POST).
        invalid=lambda: _case_again(request, case, form),
        success=_("The supervision order is issued."),
        then=here,
        back=here,
    )


@login_required
@require_POST
def order_reply_view(request: HttpRequest, order_id: int) -> HttpResponse:
    order = order_for_user(request.user, order_id)
    if order is None:
        raise Http404
    back = next_or(request, reverse("workflows:case", args=[order.case_id]))
    form = OrderReplyForm(request.POST)

    def invalid() -> HttpResponse:
        case = case_for_user(request.user, order.case_id)
        if case is None:  # a unit head always sees the cases of their units; be safe
            messages.error(request, _errors(form))
            return redirect(reverse("workflows:orders"))
        return _case_again(request, case, form)

    return service_action(
        request,
        lambda: order_reply(actor=request.user, order=order, reply=form.cleaned_data["reply"]),
        form=form,
        invalid=invalid,
        success=_("Your reply is recorded."),
        then=back,
        back=back,
    )


def _case_again(request: HttpRequest, case, form: forms.Form) -> HttpResponse:
    """The case page again (400) with the form's errors as one message."""
    messages.error(request, _errors(form))
    return render_case_page(request, case, status=400)
