"""Case search: the filters of the case list (page, API, export, map), limited to the cases
the user may see (workflows.access.case_visibility_q), sorted and paged by keyset.

Free text matches every word of the query as a substring of the description or the address.
On PostgreSQL the words are looked up in the stored column `search_ngrams` and its GIN index
(every character and pair of characters of the text, see migration 0007_search_case_search);
words longer than two characters are then checked as substrings. SQLite uses icontains.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

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
)
from django.db.models.expressions import RawSQL
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan
from django.db.models.functions import Cast, Coalesce, Collate
from django.db.models.lookups import GreaterThanOrEqual, LessThan
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters.widgets import DateRangeWidget

from departments.reference import reference_snapshot
from workflows.access import can_search_reporter, case_search_visibility_q

from ..models import Case, CaseStatus, CaseTask, Category, Source, Stage, TaskStatus, Urgency
from .tasks import BadCursor, cursor_decode, cursor_encode

MAX_QUERY_LENGTH = 100
MAX_WORDS = 5
DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
NUMBER_MAX_LENGTH = 20  # Case.number
# The n-grams of the text (a column PostgreSQL generates, migration 0007) and the text.
NGRAMS_COLUMN = '"workflows_case"."search_ngrams"'
TEXT_SQL = '("workflows_case"."description" || \' \' || "workflows_case"."address")'
BOOL = BooleanField()

SORTS = {
    # key: (label, expression, descending)
    "-created": (_("Newest first"), F("created_at"), True),
    "created": (_("Oldest first"), F("created_at"), False),
    # The stored key (Case.due_sort: the due time, cases without one last), indexed.
    "due": (_("Due soonest"), F("due_sort"), False),
}
# A search by case number (a whole number or its start) lists the cases in number order, newest
# number first, which is what someone typing a number expects: "Newest first" and "Oldest
# first" mean by number there. Numbers are unique, so they need no id to break ties.
NUMBER_SORTS = {"-created": "-number", "created": "number"}
SLA_STATES = [
    ("on_track", _("On track")),
    ("at_risk", _("At risk")),
    ("overdue", _("Overdue")),
    ("paused", _("Clock stopped")),
    ("met", _("Closed in time")),
    ("missed", _("Closed late")),
    ("none", _("No due time")),
]


def number_order():
    """The case number as its index keeps it: byte order ("C") on PostgreSQL, where the index
    case_number_c (migration 0015) serves both the order and a prefix (LIKE 'prefix%' becomes
    a range on it); SQLite compares text byte by byte already."""
    return Collate(F("number"), "C") if connection.vendor == "postgresql" else F("number")


# --- free text ---------------------------------------------------------------------------------


def search_words(text: str) -> list[str]:
    """The words of a free-text query (blank-separated), lower-cased, at most MAX_WORDS."""
    return [w.lower() for w in text.replace("\x00", " ").split()][:MAX_WORDS]


def ngrams(word: str) -> list[str]:
    """What the index holds of a word: its pairs of neighbouring characters, or the single
    character of a one-character word."""
    if len(word) == 1:
        return [word]
    return sorted({word[i : i + 2] for i in range(len(word) - 1)})


def _text_array(grams: list[str]) -> str:
    """The n-grams as an SQL literal, not a parameter: a prepared statement's generic plan
    would not know which n-grams, so not how many cases hold them."""
    quoted = ("'" + g.replace("'", "''").replace("%", "%%") + "'" for g in grams)
    return "ARRAY[" + ", ".join(quoted) + "]::text[]"


@lru_cache(maxsize=1)
def _common_ngrams() -> dict[str, float]:
    """The commonest n-grams and their shares of the cases, from PostgreSQL's statistics of
    the column (read once per process; ANALYZE refreshes them, autovacuum runs it)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats "
            "WHERE tablename = 'workflows_case' AND attname = 'search_ngrams'"
        )
        row = cursor.fetchone()
    if not row or not row[0]:
        return {}
    return dict(zip(row[0], row[1], strict=False))


def rarest(grams: list[str]) -> str:
    """The pair of a word found in the fewest cases (one missing from the statistics is rarer
    than any listed)."""
    common = _common_ngrams()
    return min(grams, key=lambda g: (common.get(g, 0.0), g))


def text_q(words: list[str]) -> Q:
    """Every word a substring of the description or the address."""
    q = Q()
    if connection.vendor == "postgresql":
        for word in words:
            # Every character and pair is in the column: for words of one or two characters
            # it answers exactly. A longer word is looked up by its rarest pair, then checked
            # whole with strpos (rather than LIKE, whose guessed selectivity on an expression
            # misleads the plan): asking for all its pairs at once would make the planner
            # multiply their shares, expect a handful of rows for a common word, and read
            # and sort thousands instead of walking the date index.
            grams = ngrams(word)
            if len(word) > 2:
                grams = [rarest(grams)]
            q &= Q(RawSQL(f"{NGRAMS_COLUMN} @> {_text_array(grams)}", (), BOOL))
            if len(word) > 2:
                q &= Q(RawSQL(f"strpos(lower({TEXT_SQL}), %s) > 0", (word,), BOOL))
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
    """A unit by code (or id): the filter then covers it and every unit below it. Cleans to
    the ids of the unit and its sub-units, read from the reference snapshot (one small
    statement, where looking the unit up and then the tree took two)."""

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        units = reference_snapshot().units
        unit_id = units.by_code.get(value)
        if unit_id is None and value.isdigit() and len(value) < 12:
            unit_id = int(value) if int(value) in units.parent_of else None
        if unit_id is None:
            raise forms.ValidationError(_("Unknown unit or area."), code="unknown")
        return sorted(units.descendant_ids([unit_id]))


class UnitRefFilter(django_filters.Filter):
    field_class = UnitRefField

    def filter(self, qs, value):
        if value is None:
            return qs
        return qs.filter(**{f"{self.field_name}__in": value})


def number_prefix_q(prefix: str) -> Q:
    """Numbers starting with `prefix`, as the range [prefix, prefix with its last character
    moved up by one) of the number's byte order (`number_order`): the index case_number_c
    serves it also in a generic prepared plan, where a LIKE pattern bound as a parameter is
    not turned into a range. (Case numbers are ASCII; any other prefix is a plain LIKE.)"""
    if not prefix.isascii() or prefix[-1] == "\x7f":
        return Q(number__startswith=prefix)
    after = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    key = number_order()
    return Q(GreaterThanOrEqual(key, prefix)) & Q(LessThan(key, after))


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
        label=_("Case number"),
        method="filter_number",
        max_length=NUMBER_MAX_LENGTH,
        help_text=_("A number or its start; the cases are listed by number, newest first."),
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
        return qs.filter(number_prefix_q(value)) if value else qs

    def filter_phone(self, qs, name, value):
        value = value.strip()
        return qs.filter(reporter_contact=value) if value else qs

    def filter_sla(self, qs, name, value):
        if value in ("at_risk", "on_track"):
            qs = qs.alias(risk_from=risk_from())
        return qs.filter(sla_q(value, timezone.now()))

    def filter_nothing(self, qs, name, value):
        return qs


def case_point(case: Case) -> tuple[float, float] | None:
    """(lat, lng) of a case: where it was reported, or its grid cell's centre."""
    if case.lat is not None and case.lng is not None:
        return case.lat, case.lng
    grid = case.grid
    if grid is not None and grid.centre_lat is not None and grid.centre_lng is not None:
        return grid.centre_lat, grid.centre_lng
    return None


def case_search(user, params) -> CaseSearchFilter:
    """The filter of the user's case search; `.is_valid()` then `.qs` (visible cases only)."""
    visible = Case.objects.filter(case_search_visibility_q(user))
    return CaseSearchFilter(params, queryset=visible, user=user)


def sort_key(search: CaseSearchFilter) -> str:
    """The search's sort: the chosen one (default newest first), by number for a number search
    (NUMBER_SORTS: "-number" or "number")."""
    data = search.form.cleaned_data if search.form.is_valid() else {}
    value = data.get("sort")
    key = value if value in SORTS else "-created"
    if (data.get("number") or "").strip() and key in NUMBER_SORTS:
        return NUMBER_SORTS[key]
    return key


def search_order(search: CaseSearchFilter) -> tuple[object, bool, bool]:
    """(sort expression, descending, whether the id breaks ties) of a valid search."""
    key = sort_key(search)
    if key in ("number", "-number"):
        return number_order(), key == "-number", False
    _label, expression, descending = SORTS[key]
    return expression, descending, True


def search_order_by(search: CaseSearchFilter) -> tuple[object, list[str]]:
    """The sort expression (to alias as `sort_value`) and the order_by fields of a search."""
    expression, descending, by_id = search_order(search)
    sign = "-" if descending else ""
    return expression, [f"{sign}sort_value"] + ([f"{sign}id"] if by_id else [])


def with_rows(qs: QuerySet[Case]) -> QuerySet[Case]:
    return qs.select_related("category", "area", "responsible_unit")


@dataclass(frozen=True)
class CaseSearchPage:
    rows: list[Case]
    next_cursor: str | None


def _ordered(search: CaseSearchFilter) -> QuerySet[Case]:
    """The valid search's rows in its sort order (aliased `sort_value`)."""
    expression, order = search_order_by(search)
    return with_rows(search.qs).alias(sort_value=expression).order_by(*order)


def number_cursor_encode(number: str) -> str:
    return base64.urlsafe_b64encode(f"#{number}".encode()).decode().rstrip("=")


def number_cursor_decode(cursor: str) -> str:
    """The case number a number search's cursor carries; BadCursor if it carries none (a
    cursor of another sort, or a forged one)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadCursor("Invalid cursor.") from exc
    number = raw[1:]
    if not raw.startswith("#") or not 0 < len(number) <= NUMBER_MAX_LENGTH:
        raise BadCursor("Invalid cursor.")
    if not number.isprintable():
        raise BadCursor("Invalid cursor.")
    return number


def case_search_page(
    search: CaseSearchFilter, *, cursor: str | None = None, limit: int = DEFAULT_PAGE_SIZE
) -> CaseSearchPage:
    """One page of a valid search in its sort order, after `cursor`; raises BadCursor."""
    qs = _ordered(search)
    _expression, descending, by_id = search_order(search)
    if cursor and by_id:
        value, pk = cursor_decode(cursor)
        compare = TupleLessThan if descending else TupleGreaterThan
        qs = qs.filter(compare(Tuple(F("sort_value"), F("id")), (value, pk)))
    elif cursor:  # by number, which is unique
        after = number_cursor_decode(cursor)
        qs = qs.filter(**{"sort_value__lt" if descending else "sort_value__gt": after})
    rows = list(qs[: limit + 1])
    if len(rows) <= limit:
        return CaseSearchPage(rows, None)
    rows = rows[:limit]
    last = rows[-1]
    if not by_id:
        return CaseSearchPage(rows, number_cursor_encode(last.number))
    value = last.due_sort if sort_key(search) == "due" else last.created_at
    return CaseSearchPage(rows, cursor_encode(value, last.pk))


def case_search_rows(search: CaseSearchFilter, limit: int) -> Iterator[Case]:
    """The first `limit` rows of a valid search in its sort order, read in chunks (exports)."""
    return _ordered(search)[:limit].iterator(chunk_size=500)


# --- map points ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MapPoints:
    rows: list[tuple]  # (id, number, lat, lng, stage, status, category name)
    truncated: bool


def case_map_points(
    search: CaseSearchFilter,
    *,
    limit: int,
    bbox: tuple[float, float, float, float] | None = None,
    exclude: int | None = None,
) -> MapPoints:
    """Located cases of a valid search, newest first, at most `limit` (`truncated` says there
    were more); within `bbox` (min lng, min lat, max lng, max lat) when given. A case reported
    by its grid cell alone stands at the cell's centre."""
    qs = search.qs.annotate(
        point_lat=Coalesce("lat", "grid__centre_lat"), point_lng=Coalesce("lng", "grid__centre_lng")
    ).filter(point_lat__isnull=False, point_lng__isnull=False)
    if bbox is not None:
        min_lng, min_lat, max_lng, max_lat = bbox
        qs = qs.filter(point_lat__range=(min_lat, max_lat), point_lng__range=(min_lng, max_lng))
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    # Newest first; a number search newest number first, as its list (the number's index).
    expression, order = F("created_at"), ["-sort_value", "-id"]
    if sort_key(search) in ("number", "-number"):
        expression, order = number_order(), ["-sort_value"]
    rows = list(
        qs.alias(sort_value=expression)
        .order_by(*order)
        .values_list("id", "number", "point_lat", "point_lng", "stage", "status", "category__name")[
            : limit + 1
        ]
    )
    return MapPoints(rows[:limit], len(rows) > limit)


__all__ = [
    "BadCursor",
    "CaseSearchFilter",
    "CaseSearchPage",
    "case_map_points",
    "case_point",
    "case_search",
    "case_search_page",
    "case_search_rows",
    "search_order_by",
    "sort_key",
]
