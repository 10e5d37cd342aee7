"""The case search page (/cases/): filters, sorted keyset pages, a map of the results, the
export of the filtered list (CSV, XLSX) and the user's saved searches."""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterable, Iterator

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from departments.models import Role, Unit
from workflows.access import staff_scope

from ..forms import SavedFilterForm
from ..models import Case, SavedCaseFilter
from ..selectors.case_search import (
    CaseSearchFilter,
    case_search,
    case_search_page,
    case_search_rows,
)
from ..services.saved_filters import saved_filter_delete, saved_filter_save
from .actions import service_action
from .pagination import page_or_first

PAGE_SIZE = 25
# Roles whose units get a ready-made "overdue cases of my unit" search.
UNIT_ROLES = (Role.HANDLER, Role.UNIT_HEAD)

EXPORT_COLUMNS = [
    gettext_lazy("Case number"),
    gettext_lazy("Reported"),
    gettext_lazy("Category code"),
    gettext_lazy("Category"),
    gettext_lazy("Description"),
    gettext_lazy("Address"),
    gettext_lazy("Area"),
    gettext_lazy("Responsible unit"),
    gettext_lazy("Source"),
    gettext_lazy("Urgency"),
    gettext_lazy("Stage"),
    gettext_lazy("Status"),
    gettext_lazy("Due"),
    gettext_lazy("Ended"),
]


def filter_query(search: CaseSearchFilter) -> str:
    """The search's filters as a query string (no cursor, no blanks), for links and saving."""
    data = search.data
    keys = [k for k in search.form.fields if data.get(k)]
    return urlencode([(k, data.get(k)) for k in keys])


def unit_shortcuts(user) -> list[tuple[str, str]]:
    """(label, query) of "overdue cases of <unit>" for the units the user works in."""
    scope = staff_scope(user)
    ids = {unit for unit, role in scope.pairs if role in UNIT_ROLES}
    units = Unit.objects.filter(pk__in=ids, parent__isnull=False).order_by("code")[:3]
    return [
        (
            _("Overdue cases of %(unit)s") % {"unit": unit.name},
            urlencode({"unit": unit.code, "status": "open", "sla": "overdue"}),
        )
        for unit in units
    ]


def _list_context(request: HttpRequest, search: CaseSearchFilter) -> dict:
    valid = search.is_valid()
    page = (
        page_or_first(
            request, lambda cursor: case_search_page(search, cursor=cursor, limit=PAGE_SIZE)
        )
        if valid
        else None
    )
    query = filter_query(search) if valid else ""
    return {
        "search": search,
        "form": search.form,
        "cases": page.rows if page else [],
        "next_cursor": page.next_cursor if page else None,
        "query": query,
        "now": timezone.now(),
        "saved": SavedCaseFilter.objects.filter(user=request.user),
        "shortcuts": unit_shortcuts(request.user),
        "save_form": SavedFilterForm(initial={"query": query}),
        "export_limit": settings.CITYOPS_CASE_EXPORT_MAX,
    }


@login_required
@require_GET
def case_list_view(request: HttpRequest) -> HttpResponse:
    search = case_search(request.user, request.GET)
    status = 200 if search.is_valid() else 400
    return render(
        request, "workflows/case_list.html", _list_context(request, search), status=status
    )


# --- export --------------------------------------------------------------------------------------


def _local(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _safe(value: str) -> str:
    """A cell a spreadsheet will not run as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def export_rows(cases: Iterable[Case]) -> Iterator[list[str]]:
    yield [str(c) for c in EXPORT_COLUMNS]
    for case in cases:
        yield [
            _safe(str(v))
            for v in (
                case.number,
                _local(case.created_at),
                case.category.code,
                case.category.name,
                case.description,
                case.address,
                case.area.name if case.area else "",
                case.responsible_unit.name if case.responsible_unit else "",
                case.get_source_display(),
                case.get_urgency_display(),
                case.get_stage_display(),
                case.get_status_display(),
                _local(case.due_at),
                _local(case.closed_at),
            )
        ]


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_response(rows: Iterator[list[str]], filename: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    body = (writer.writerow(row) for row in rows)
    response = StreamingHttpResponse(
        _with_bom(body), content_type="text/csv; charset=utf-8"
    )  # the BOM lets spreadsheet programs read the file as UTF-8
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def _with_bom(lines: Iterator[str]) -> Iterator[str]:
    yield "\ufeff"
    yield from lines


def _xlsx_response(rows: Iterator[list[str]], filename: str) -> FileResponse:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Cases"))
    for row in rows:
        sheet.append(row)
    spool = tempfile.SpooledTemporaryFile(max_size=8 << 20)  # noqa: SIM115 (FileResponse closes it)
    book.save(spool)
    spool.seek(0)
    return FileResponse(spool, as_attachment=True, filename=f"{filename}.xlsx")


@login_required
@require_GET
def case_export_view(request: HttpRequest, fmt: str) -> HttpResponse:
    """The filtered list as CSV or XLSX, in its sort order, at most CITYOPS_CASE_EXPORT_MAX
    rows (the page says so; narrow the filters for the rest)."""
    search = case_search(request.user, request.GET)
    if not search.is_valid():
        return render(
            request, "workflows/case_list.html", _list_context(request, search), status=400
        )
    rows = export_rows(case_search_rows(search, settings.CITYOPS_CASE_EXPORT_MAX))
    filename = "cases-" + timezone.localtime().strftime("%Y%m%d-%H%M")
    if fmt == "xlsx":
        return _xlsx_response(rows, filename)
    return _csv_response(rows, filename)


# --- saved searches ------------------------------------------------------------------------------


def _clean_query(user, raw: str) -> str:
    """Only the filters of a valid search are kept."""
    search = case_search(user, QueryDict(raw))
    return filter_query(search) if search.is_valid() else ""


@login_required
@require_POST
def saved_filter_save_view(request: HttpRequest) -> HttpResponse:
    form = SavedFilterForm(request.POST)
    back = reverse("workflows:cases")

    def save():
        query = _clean_query(request.user, form.cleaned_data["query"])
        return saved_filter_save(actor=request.user, name=form.cleaned_data["name"], query=query)

    return service_action(
        request,
        save,
        form=form,
        invalid=lambda: _invalid_save(request, form),
        success=lambda saved: _("The search “%(name)s” is saved.") % {"name": saved.name},
        then=lambda saved: f"{back}?{saved.query}",
    )


def _invalid_save(request: HttpRequest, form: SavedFilterForm) -> HttpResponse:
    search = case_search(request.user, QueryDict(form.data.get("query", "")))
    context = _list_context(request, search) | {"save_form": form}
    return render(request, "workflows/case_list.html", context, status=400)


@login_required
@require_POST
def saved_filter_delete_view(request: HttpRequest, saved_id: int) -> HttpResponse:
    back = reverse("workflows:cases")
    return service_action(
        request,
        lambda: saved_filter_delete(actor=request.user, saved_id=saved_id),
        success=_("The saved search is deleted."),
        then=back,
    )
