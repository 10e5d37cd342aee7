"""The citizens' progress query of a 12345 order (查询进度): no login, rate-limited per address,
no personal data; a wrong code looks like an unknown number. Citizens rate the handling here
once the order is closed (it feeds the satisfaction indicator)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_http_methods

from ..forms import add_service_errors
from ..integrations.throttling import public_query_allowed
from ..selectors.hotline import order_public, public_progress
from ..services.errors import Conflict
from ..services.hotline import order_rate

PUBLIC_STAGE_LABELS = {
    "received": gettext_lazy("Received by the hotline"),
    "dispatched": gettext_lazy("Sent to the responsible unit"),
    "handling": gettext_lazy("Being handled"),
    "replied": gettext_lazy("Replied; awaiting the callback"),
    "closed": pgettext_lazy("hotline order", "Closed"),  # 办结, not a case's 结案
    "merged": gettext_lazy("Merged with an earlier report of the same problem"),
}


class QueryForm(forms.Form):
    number = forms.CharField(label=gettext_lazy("Order number"), max_length=20)
    code = forms.CharField(
        label=gettext_lazy("Query code (or the last 4 digits of your phone)"), max_length=8
    )


class RateForm(QueryForm):
    rating = forms.ChoiceField(
        label=gettext_lazy("How satisfied are you with the handling?"),
        choices=[
            ("satisfied", gettext_lazy("Satisfied")),
            ("basic", gettext_lazy("Basically satisfied")),
            ("unsatisfied", gettext_lazy("Unsatisfied")),
        ],
        widget=forms.RadioSelect,
    )


def _public(request, form, *, progress=None, rate_form=None, status=200):
    context = {
        "form": form,
        "progress": progress,
        "stage_label": PUBLIC_STAGE_LABELS.get(progress.stage, "") if progress else "",
        "rate_form": rate_form,
    }
    response = render(request, "workflows/hotline_query.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
def public_query_view(request: HttpRequest) -> HttpResponse:
    """Look an order up by its number and query code: no login, no personal data."""
    if request.method == "GET" and "number" not in request.GET:
        return _public(request, QueryForm())
    source = request.POST if request.method == "POST" else request.GET
    form = RateForm(source) if "rating" in source else QueryForm(source)
    if not public_query_allowed(request.META.get("REMOTE_ADDR", "?")):
        form = QueryForm(source)
        form.is_valid()
        form.add_error(None, _("Too many look-ups from your address; try again in a minute."))
        return _public(request, form, status=429)
    if not form.is_valid():
        return _public(request, form, status=400)
    order = order_public(form.cleaned_data["number"], form.cleaned_data["code"])
    if order is None:
        form.add_error(None, _("No order with this number and code."))
        return _public(request, form, status=404)
    if isinstance(form, RateForm):
        try:
            order_rate(order=order, rating=form.cleaned_data["rating"])
        except ValidationError as exc:
            add_service_errors(form, exc)
            return _public(request, form, progress=public_progress(order), status=400)
        except Conflict as exc:
            form.add_error(None, exc.message)
            return _public(request, form, progress=public_progress(order), status=400)
        messages.success(request, _("Thank you for your rating."))
    progress = public_progress(order)
    rate_form = (
        RateForm(initial={"number": order.case.number, "code": form.cleaned_data["code"]})
        if progress.can_rate
        else None
    )
    return _public(request, form, progress=progress, rate_form=rate_form)
