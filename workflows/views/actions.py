"""Page actions: call one service and turn what it raises into what a person sees.

- ValidationError (bad input): shown on the form, per field where the form has the field and
  above it otherwise, and the page rendered again with status 400 (`invalid`);
- Conflict (the state does not allow it now) and PermissionDenied (not this actor's to do): an
  error message and a redirect to `back`, or, without `back`, above the form (400);
- Http404 (not found or not the viewer's): Django's 404 page, as for a GET.
Success is a message and a redirect (post/redirect/get), so a reload does not post again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from ..forms import add_service_errors
from ..services.errors import Conflict

Result = TypeVar("Result")


def next_or(request: HttpRequest, fallback: str) -> str:
    """Where the posted form asked to come back to (`next`), if it is one of our pages."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return fallback


def _said(value: str | Callable[[Result], str], result: Result) -> str:
    return value(result) if callable(value) else value


def service_action(
    request: HttpRequest,
    call: Callable[[], Result],
    *,
    success: str | Callable[[Result], str],
    then: str | Callable[[Result], str],
    back: str | None = None,
    form: forms.Form | None = None,
    invalid: Callable[[], HttpResponse] | None = None,
) -> HttpResponse:
    """Run `call()` (the service, with the form's cleaned data when there is a form) and answer
    as the module says: `success` and `then` may take the service's result; `back` is where a
    conflict goes (default `then` without a form, the form otherwise); `invalid()` renders the
    page again with the bound form."""
    if form is not None and not form.is_valid():
        return _again(invalid)
    try:
        result = call()
    except ValidationError as exc:
        if form is None:
            return _refused(request, " ".join(exc.messages), back, then)
        add_service_errors(form, exc)
        return _again(invalid)
    except (Conflict, PermissionDenied) as exc:
        if isinstance(exc, Conflict):
            message = exc.message
        else:
            message = str(exc) or _("You may not do this.")
        if back is None and form is not None:
            form.add_error(None, message)
            return _again(invalid)
        return _refused(request, message, back, then)
    messages.success(request, _said(success, result))
    return redirect(_said(then, result))


def _again(invalid: Callable[[], HttpResponse] | None) -> HttpResponse:
    if invalid is None:
        raise ValueError("an action with a form needs `invalid` to show the form again")
    return invalid()


def _refused(request: HttpRequest, message: str, back: str | None, then) -> HttpResponseRedirect:
    target = back if back is not None else then
    if not isinstance(target, str):
        raise ValueError("`then` needs the result: give `back` for a refused action")
    messages.error(request, message)
    return redirect(target)
