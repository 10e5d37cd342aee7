"""Cursor pages of the server-rendered lists (the API's are in api.pagination)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.contrib import messages
from django.http import HttpRequest
from django.utils.translation import gettext as _

from ..selectors.tasks import BadCursor

Page = TypeVar("Page")


def page_or_first(request: HttpRequest, fetch: Callable[[str | None], Page]) -> Page:
    """The page after the request's `?cursor=` (`fetch(cursor)`); a cursor we did not make (an
    old or edited link) shows the first page with a warning instead of an error."""
    try:
        return fetch(request.GET.get("cursor") or None)
    except BadCursor:
        messages.warning(request, _("That page link is not valid (any more): the first page."))
        return fetch(None)
