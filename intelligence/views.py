"""Supervisor pages of the intelligence app: tasks predicted to miss their due time, and
hotspot alerts with their cases. Same audience as the SLA board (404 for anyone else)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from workflows.access import can_see_board

from .presenters import hotspot_rows, prediction_rows
from .selectors import hotspots, predicted_breaches, repeated_spots


def require_board(user) -> None:
    """The SLA board's audience (supervisors, admins, unit heads); 404 for anyone else."""
    if not can_see_board(user):
        raise Http404


@login_required
@require_GET
def predicted_view(request: HttpRequest) -> HttpResponse:
    require_board(request.user)
    level = settings.CITYOPS_BREACH_WARN_PROBABILITY
    rows = prediction_rows(predicted_breaches(request.user, minimum=level, limit=200))
    context = {"rows": rows, "level": round(100 * level), "now": timezone.now()}
    return render(request, "intelligence/predicted.html", context)


@login_required
@require_GET
def hotspots_view(request: HttpRequest) -> HttpResponse:
    require_board(request.user)
    context = {
        "rows": hotspot_rows(hotspots(request.user, limit=100)),
        "spots": repeated_spots(request.user, minimum=settings.CITYOPS_DUPLICATE_HOTSPOT),
        "repeat_level": settings.CITYOPS_DUPLICATE_HOTSPOT,
        "now": timezone.now(),
    }
    return render(request, "intelligence/hotspots.html", context)
