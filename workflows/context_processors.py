"""Template context for every page: the unread count of the notification bell."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from .services.notifications import unread_count

BELL_CAP = 100  # the bell shows "99+" beyond this: no need to count further


def notifications(request: HttpRequest) -> dict:
    """`unread_notifications` for signed-in users, counted only if a template shows it (one
    query over the partial unread index, capped)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": SimpleLazyObject(lambda: unread_count(user, cap=BELL_CAP))}
