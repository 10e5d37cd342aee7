"""Notification pages: the user's notifications, newest first, and marking them read."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from ..selectors.lookups import parse_id
from ..services.notifications import notification_page, notifications_mark_read
from .actions import next_or
from .pagination import page_or_first


def _ids(request: HttpRequest) -> list[int] | None:
    """The posted `ids` (one notification's button), or None for "mark all read"."""
    raw = request.POST.getlist("ids")
    if not raw:
        return None
    return [pk for pk in map(parse_id, raw) if pk is not None]


@login_required
@require_GET
def notification_list_view(request: HttpRequest) -> HttpResponse:
    page = page_or_first(request, lambda cursor: notification_page(request.user, cursor))
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
    return redirect(next_or(request, reverse("workflows:notifications")))
