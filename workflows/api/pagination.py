"""Cursor pages for every list endpoint of the API:

    {"results": [...], "next": URL of the next page or null, ...}

A list endpoint declares `cursor = cursor_field()` and `limit = limit_field(...)` on its query
serializer, parses the query, and answers `page_response(request, query, fetch, render)`:
`fetch(cursor)` is the selector reading one keyset page after the cursor (None: the first
page), `render(rows)` turns its rows into the results. A cursor we did not make is a 400 with
the API's error body, on the field `cursor`. `next` repeats the request's own URL and query
with the new cursor, so filters carry over to the next page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from ..selectors.tasks import BadCursor

CURSOR_MAX_LENGTH = 200
BAD_CURSOR = _("This cursor is not valid: start from the first page.")


class Page(Protocol):
    """What the selectors' page types have (TaskPage, CaseSearchPage, BreachPage, …)."""

    @property
    def rows(self) -> list: ...

    @property
    def next_cursor(self) -> str | None: ...


PageT = TypeVar("PageT", bound=Page)


def cursor_field() -> serializers.CharField:
    """The `cursor` query parameter: blank or absent for the first page."""
    return serializers.CharField(required=False, allow_blank=True, max_length=CURSOR_MAX_LENGTH)


def limit_field(*, default: int, maximum: int) -> serializers.IntegerField:
    """The `limit` query parameter: rows per page, 1 to `maximum`."""
    return serializers.IntegerField(min_value=1, max_value=maximum, default=default)


def read_page(query: dict, fetch: Callable[[str | None], PageT]) -> PageT:
    """`fetch` the page after the query's cursor; a cursor we did not make is a 400."""
    try:
        return fetch(query.get("cursor") or None)
    except BadCursor as exc:
        raise serializers.ValidationError({"cursor": [BAD_CURSOR]}) from exc


def next_url(request: Request, cursor: str | None) -> str | None:
    """The request's URL with `cursor` in place of its own, or None at the last page."""
    if not cursor:
        return None
    return replace_query_param(request.build_absolute_uri(), "cursor", cursor)


def page_response(
    request: Request,
    query: dict,
    fetch: Callable[[str | None], Page],
    render: Callable[[list], list],
    **extra,
) -> Response:
    """One page of a list endpoint: {"results": render(rows), "next": url|null, **extra}."""
    page = read_page(query, fetch)
    results = render(page.rows)
    return Response({"results": results, "next": next_url(request, page.next_cursor), **extra})
