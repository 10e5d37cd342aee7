"""Notification pages: the user's notifications, newest first, and marking them read."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from ..services.notifications import BadCursor, notification_page, notifications_mark_read

MAX_ID = 2**63 - 1


def _ids(request: HttpRequest) -> list[int] | None:
    """The posted `ids` (one notification's button), or None for "mark all read"."""
    raw = request.POST.getlist("ids")
    if not raw:
        return None
    return [int(v) for v in raw if v.isascii() and v.isdigit() and 0 < int(v) <= MAX_ID]


def _next_or_list(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return reverse("workflows:notifications")


@login_required
@require_GET
def notification_list_view(request: HttpRequest) -> HttpResponse:
    try:
        page = notification_page(request.user, request.GET.get("cursor") or None)
    except BadCursor:
        messages.warning(request, _("That page link is not valid (any more): the first page."))
        page = notification_page(request.user)
    return render(
        request, "workflows/notifications.html", {"page": page, "here": request.get_full_path()}
    )


@login_required
@require_POST
def notification_read_view(request: HttpRequest) -> HttpResponse:
    marked = notifications_mark_read(actor=request.user, ids=_ids(request))
    if marked:
        messages.success(
            request,
            ngettext(
                "%(count)d notification marked read.",
                "%(count)d notifications marked read.",
                marked,
            )
            % {"count": marked},
        )
    return redirect(_next_or_list(request))
