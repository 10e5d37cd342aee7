"""Case search: the filters of the case list (page, API, export, map), limited to the cases
the user may see (workflows.access.case_visibility_q), sorted and paged by keyset.

Free text matches every word of the query as a substring of the description or the address.
On PostgreSQL the words are first looked up in the `case_text_ngrams` GIN index (every
character and pair of characters of the text, see migration 0007_search_case_search), then
checked with LIKE; SQLite falls back to icontains.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import django_filters
from django import forms
from django.conf import settings
from django.db import connection
from django.db.models import (
    BigIntegerField,
    BooleanField,
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters.widgets import DateRangeWidget

from departments.models import Unit
from departments.selectors import unit_descendant_ids
from workflows.access import can_search_reporter, case_visibility_q

from ..models import Case, CaseStatus, CaseTask, Category, Source, Stage, TaskStatus, Urgency
from .tasks import BadCursor, cursor_decode, cursor_encode

MAX_QUERY_LENGTH = 100
MAX_WORDS = 5
DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
# The text the index covers; the same expression as the index of migration 0007.
TEXT_SQL = '("workflows_case"."description" || \' \' || "workflows_case"."address")'
NO_DUE = dt.datetime(9000, 1, 1, tzinfo=dt.UTC)  # cases without a due time sort last

SORTS = {
    # key: (label, expression, descending)
    "-created": (_("Newest first"), F("created_at"), True),
    "created": (_("Oldest first"), F("created_at"), False),
    "due": (_("Due soonest"), Coalesce(F("due_at"), Value(NO_DUE)), False),
}
SLA_STATES = [
    ("on_track", _("On track")),
    ("at_risk", _("At risk")),
    ("overdue", _("Overdue")),
    ("paused", _("Clock stopped")),
    ("met", _("Closed in time")),
    ("missed", _("Closed late")),
    ("none", _("No due time")),
]


# --- free text ---------------------------------------------------------------------------------


def search_words(text: str) -> list[str]:
    """The words of a free-text query (blank-separated), lower-cased, at most MAX_WORDS."""
    return [w.lower() for w in text.split()][:MAX_WORDS]


def ngrams(word: str) -> list[str]:
    """What the index holds of a word: its pairs of neighbouring characters, or the single
    character of a one-character word."""
    if len(word) == 1:
        return [word]
    return sorted({word[i : i + 2] for i in range(len(word) - 1)})


def _like_pattern(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def text_q(words: list[str]) -> Q:
    """Every word a substring of the description or the address."""
    q = Q()
    if connection.vendor == "postgresql":
        for word in words:
            q &= Q(
                RawSQL(
                    f"cityops_ngrams({TEXT_SQL}) @> %s::text[] AND lower({TEXT_SQL}) LIKE %s",
                    (ngrams(word), _like_pattern(word)),
                    output_field=BooleanField(),
                )
            )
        return q
    for word in words:
        q &= Q(description__icontains=word) | Q(address__icontains=word)
    return q


# --- SLA state -----------------------------------------------------------------------------------


def _paused() -> Exists:
    return Exists(
        CaseTask.objects.filter(
            case_id=OuterRef("pk"),
            stage=Stage.HANDLING,
            status__in=[TaskStatus.OPEN, TaskStatus.CLAIMED],
            paused_since__isnull=False,
        )
    )


def sla_q(state: str, now: dt.datetime) -> Q:
    """Cases in an SLA state, as workflows.sla.state.case_sla classifies them (on_track and
    at_risk read the alias `risk_from`: the queryset needs `.alias(risk_from=risk_from())`)."""
    running = Q(status=CaseStatus.OPEN, due_at__isnull=False) & ~Q(_paused())
    if state == "overdue":
        return running & Q(due_at__lte=now)
    if state == "at_risk":
        return running & Q(due_at__gt=now, risk_from__lte=now)
    if state == "on_track":
        return running & Q(due_at__gt=now, risk_from__gt=now)
    if state == "paused":
        return Q(status=CaseStatus.OPEN, stage=Stage.HANDLING, due_at__isnull=False) & Q(_paused())
    if state == "met":
        return Q(status=CaseStatus.CLOSED, due_at__isnull=False, closed_at__lte=F("due_at"))
    if state == "missed":
        return Q(status=CaseStatus.CLOSED, due_at__isnull=False, closed_at__gt=F("due_at"))
    if state == "none":
        return Q(due_at__isnull=True)
    raise ValueError(state)


def risk_from() -> ExpressionWrapper:
    """When a case turns at risk: the at-risk share of the time from its report to its due."""
    share = settings.CITYOPS_SLA_AT_RISK_PERCENT / 100
    allotted = ExpressionWrapper(F("due_at") - F("created_at"), output_field=DurationField())
    used = allotted * share
    if connection.vendor == "sqlite":  # durations are microseconds there: keep them whole
        used = Cast(used, output_field=BigIntegerField())
    used = ExpressionWrapper(used, output_field=DurationField())
    return ExpressionWrapper(F("created_at") + used, output_field=DateTimeField())


# --- the filters -------------------------------------------------------------------------------


class UnitRefField(forms.CharField):
    """A unit by code (or id): the filter then covers it and every unit below it."""

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        unit = Unit.objects.filter(
            Q(code=value) | (Q(pk=int(value)) if value.isdigit() and len(value) < 12 else Q())
        ).first()
        if unit is None:
            raise forms.ValidationError(_("Unknown unit or area."), code="unknown")
        return unit


class UnitRefFilter(django_filters.Filter):
    field_class = UnitRefField

    def filter(self, qs, value):
        if value is None:
            return qs
        return qs.filter(**{f"{self.field_name}__in": sorted(unit_descendant_ids([value.pk]))})


def _dates() -> DateRangeWidget:
    return DateRangeWidget(attrs={"type": "date"})


def _refuse_phone(value: str) -> None:
    if value:
        raise forms.ValidationError(
            _("Your post may not search by the reporter's phone."), code="forbidden"
        )


class CaseSearchFilter(django_filters.FilterSet):
    """The case search's query: every filter optional, all of them combined with AND."""

    q = django_filters.CharFilter(
        label=_("Text"),
        method="filter_text",
        max_length=MAX_QUERY_LENGTH,
        help_text=_("Words of the description or address."),
    )
    number = django_filters.CharFilter(
        label=_("Case number"), method="filter_number", max_length=20
    )
    phone = django_filters.CharFilter(
        label=_("Reporter phone"), method="filter_phone", max_length=120
    )
    category = django_filters.ModelChoiceFilter(
        label=_("Category"),
        queryset=Category.objects.filter(is_active=True).order_by("kind", "code"),
    )
    unit = UnitRefFilter(
        label=_("Responsible unit"),
        field_name="responsible_unit_id",
        help_text=_("Unit code; its sub-units are included."),
    )
    area = UnitRefFilter(
        label=_("Area"),
        field_name="area_id",
        help_text=_("Code of a district, street or community; the areas below it are included."),
    )
    stage = django_filters.ChoiceFilter(label=_("Stage"), choices=Stage.choices)
    status = django_filters.ChoiceFilter(label=_("Status"), choices=CaseStatus.choices)
    source = django_filters.ChoiceFilter(label=_("Source"), choices=Source.choices)
    urgency = django_filters.ChoiceFilter(label=_("Urgency"), choices=Urgency.choices)
    sla = django_filters.ChoiceFilter(label=_("Deadline"), choices=SLA_STATES, method="filter_sla")
    reported = django_filters.DateFromToRangeFilter(
        label=_("Reported between"), field_name="created_at"
    )
    closed = django_filters.DateFromToRangeFilter(label=_("Ended between"), field_name="closed_at")
    sort = django_filters.ChoiceFilter(
        label=_("Sort"),
        choices=[(key, label) for key, (label, _e, _d) in SORTS.items()],
        method="filter_nothing",  # applied by the page, with the cursor
        empty_label=None,
    )

    class Meta:
        model = Case
        fields: list[str] = []

    def __init__(self, data=None, *args, user=None, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.user = user
        # Only the posts that may see reporters search by them; others are told so.
        self.sees_reporter = user is None or can_search_reporter(user)
        if not self.sees_reporter:
            self.filters["phone"].extra["validators"] = [_refuse_phone]

    def filter_text(self, qs, name, value):
        words = search_words(value)
        return qs.filter(text_q(words)) if words else qs

    def filter_number(self, qs, name, value):
        value = value.strip()
        return qs.filter(number__startswith=value) if value else qs

    def filter_phone(self, qs, name, value):
        value = value.strip()
        return qs.filter(reporter_contact=value) if value else qs

    def filter_sla(self, qs, name, value):
        if value in ("at_risk", "on_track"):
            qs = qs.alias(risk_from=risk_from())
        return qs.filter(sla_q(value, timezone.now()))

    def filter_nothing(self, qs, name, value):
        return qs


def case_search(user, params) -> CaseSearchFilter:
    """The filter of the user's case search; `.is_valid()` then `.qs` (visible cases only)."""
    visible = Case.objects.filter(case_visibility_q(user))
    return CaseSearchFilter(params, queryset=visible, user=user)


def sort_key(search: CaseSearchFilter) -> str:
    value = search.form.cleaned_data.get("sort") if search.form.is_valid() else None
    return value if value in SORTS else "-created"


def with_rows(qs: QuerySet[Case]) -> QuerySet[Case]:
    return qs.select_related("category", "area", "responsible_unit")


@dataclass(frozen=True)
class CaseSearchPage:
    rows: list[Case]
    next_cursor: str | None


def _ordered(search: CaseSearchFilter) -> tuple[QuerySet[Case], bool]:
    """The valid search's rows in its sort order (annotated `sort_value`), and whether the
    order is descending."""
    _label, expression, descending = SORTS[sort_key(search)]
    order = ["-sort_value", "-id"] if descending else ["sort_value", "id"]
    return with_rows(search.qs).alias(sort_value=expression).order_by(*order), descending


def case_search_page(
    search: CaseSearchFilter, *, cursor: str | None = None, limit: int = DEFAULT_PAGE_SIZE
) -> CaseSearchPage:
    """One page of a valid search in its sort order, after `cursor`; raises BadCursor."""
    qs, descending = _ordered(search)
    if cursor:
        value, pk = cursor_decode(cursor)
        compare = TupleLessThan if descending else TupleGreaterThan
        qs = qs.filter(compare(Tuple(F("sort_value"), F("id")), (value, pk)))
    rows = list(qs[: limit + 1])
    if len(rows) <= limit:
        return CaseSearchPage(rows, None)
    rows = rows[:limit]
    last = rows[-1]
    value = (last.due_at or NO_DUE) if sort_key(search) == "due" else last.created_at
    return CaseSearchPage(rows, cursor_encode(value, last.pk))


def case_search_rows(search: CaseSearchFilter, limit: int) -> Iterator[Case]:
    """The first `limit` rows of a valid search in its sort order, read in chunks (exports)."""
    qs, _descending = _ordered(search)
    return qs[:limit].iterator(chunk_size=500)


__all__ = [
    "BadCursor",
    "CaseSearchFilter",
    "CaseSearchPage",
    "case_search",
    "case_search_page",
    "case_search_rows",
    "sort_key",
]
