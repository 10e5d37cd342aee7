"""Importing past cases from a legacy system (CSV or XLSX, UTF-8 or GB18030).

Every row is checked first; one bad row (unknown unit or category, bad date, empty text…) is an
error naming its line and nothing of the file is imported. Good files become closed, read-only
case rows (no process, no tasks: no task list shows them) marked by `ImportedCase`; a row whose
`external_id` was imported before is skipped, so importing a file again changes nothing.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cityops.tabular import (
    Progress,
    Row,
    RowsRejected,
    Table,
    counted,
    guess_format,
    no_progress,
    read_table,
)
from departments.models import GridCell, Unit
from departments.reference import reference_snapshot
from departments.selectors import grid_cell_at
from indicators.facts import facts_replace
from workflows.models import (
    DESCRIPTION_MAX_LENGTH,
    ArchiveType,
    Case,
    CaseSequence,
    CaseStatus,
    Category,
    CategoryKind,
    CategoryScheme,
    LimitUnit,
    Source,
    Stage,
)

from ..models import ImportedCase

REQUIRED = ("reported_at", "text", "unit")
OPTIONAL = ("category", "closed_at", "lat", "lng", "external_id")
DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M")
DAY_FORMATS = ("%Y-%m-%d", "%Y/%m/%d")
# The category of imported rows the file gave none for: inactive, never offered for new cases.
PLACEHOLDER_SCHEME = "history-import"
PLACEHOLDER_CODE = "9999"


@dataclass
class HistoryRow:
    where: str  # "line 5" (CSV) or "row 5" (XLSX)
    reported_at: dt.datetime
    text: str
    unit: str
    category: str | None = None
    closed_at: dt.datetime | None = None
    lat: float | None = None
    lng: float | None = None
    external_id: str | None = None


@dataclass
class HistoryResult:
    rows: int = 0
    created: int = 0
    unchanged: int = 0  # external_id imported before
    updated: int = 0  # never: imported cases are read-only
    case_ids: list[int] = field(default_factory=list)


# --- reading --------------------------------------------------------------------------------


def history_table(path: Path, fmt: str | None = None) -> Table:
    """The file's rows (cityops.tabular: CSV or XLSX); a CSV that is not UTF-8 is read as
    GB18030, which legacy Chinese systems export."""
    source: Path | io.StringIO = path
    if guess_format(path, fmt) == "csv":
        raw = path.read_bytes()
        try:
            raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                source = io.StringIO(raw.decode("gb18030"))
            except UnicodeDecodeError as exc:
                raise RowsRejected([_("The file is neither UTF-8 nor GB18030 text.")]) from exc
    return read_table(source, fmt=guess_format(path, fmt), required=REQUIRED, optional=OPTIONAL)


def _when(value: str, where: str, name: str, errors: list[str]) -> dt.datetime | None:
    parsed = None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        for fmt in DATE_FORMATS + DAY_FORMATS:
            try:
                parsed = dt.datetime.strptime(value, fmt)
                break
            except ValueError:
                continue
    if parsed is None:
        errors.append(
            _("%(where)s: %(column)s is not a date and time: “%(value)s”")
            % {"where": where, "column": name, "value": value[:40]}
        )
        return None
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


def _number(value: str, where: str, name: str, bounds: tuple[float, float], errors):
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is None or not bounds[0] <= number <= bounds[1]:
        errors.append(
            _("%(where)s: %(column)s must be a number between %(low)s and %(high)s")
            % {"where": where, "column": name, "low": bounds[0], "high": bounds[1]}
        )
        return None
    return number


def parse_row(row: Row, errors: list[str]) -> HistoryRow | None:
    """One row checked for its shape (dates, numbers, text); None when it has errors."""
    before, where, v = len(errors), row.where, row.values
    text = v.get("text", "")
    if not text:
        errors.append(_("%(where)s: the text is empty") % {"where": where})
    elif len(text) > DESCRIPTION_MAX_LENGTH:
        errors.append(
            _("%(where)s: the text is longer than %(max)s characters")
            % {"where": where, "max": DESCRIPTION_MAX_LENGTH}
        )
    if not v.get("unit"):
        errors.append(_("%(where)s: the unit is empty") % {"where": where})
    reported = _when(v.get("reported_at", ""), where, "reported_at", errors)
    closed = None
    if v.get("closed_at"):
        closed = _when(v["closed_at"], where, "closed_at", errors)
        if closed and reported and closed < reported:
            errors.append(_("%(where)s: closed_at is before reported_at") % {"where": where})
    lat = _number(v.get("lat", ""), where, "lat", (-90, 90), errors)
    lng = _number(v.get("lng", ""), where, "lng", (-180, 180), errors)
    if (lat is None) != (lng is None) and len(errors) == before:
        errors.append(_("%(where)s: give both lat and lng, or neither") % {"where": where})
    if len(errors) > before:
        return None
    return HistoryRow(
        where=where,
        reported_at=reported,
        text=text,
        unit=v["unit"],
        category=v.get("category") or None,
        closed_at=closed,
        lat=lat,
        lng=lng,
        external_id=v.get("external_id") or None,
    )


def history_rows(
    path: Path, *, fmt: str | None = None, progress: Progress = no_progress
) -> list[HistoryRow]:
    """Every row of the file, checked for shape; RowsRejected names the bad lines."""
    table = history_table(path, fmt)
    errors: list[str] = []
    parsed = [r for row in counted(table.rows, progress) if (r := parse_row(row, errors))]
    if errors:
        raise RowsRejected(errors)
    return parsed


# --- importing ------------------------------------------------------------------------------


def _categories() -> dict[str, Category]:
    return {
        f"{c.scheme.code}/{c.kind}/{c.code}": c for c in Category.objects.select_related("scheme")
    }


def _check_references(rows: list[HistoryRow]) -> tuple[dict, dict]:
    """Units and categories the rows name must exist; external ids must be unique in a file."""
    units = {u.code: u for u in Unit.objects.filter(code__in={r.unit for r in rows})}
    categories = _categories() if any(r.category for r in rows) else {}
    errors: list[str] = []
    seen: dict[str, str] = {}
    for r in rows:
        if r.unit not in units:
            errors.append(
                _("%(where)s: no unit has the code “%(code)s”") % {"where": r.where, "code": r.unit}
            )
        if r.category and r.category not in categories:
            errors.append(
                _("%(where)s: no category “%(key)s” (write scheme/kind/code)")
                % {"where": r.where, "key": r.category}
            )
        if r.external_id:
            if r.external_id in seen:
                errors.append(
                    _("%(where)s: external_id “%(id)s” repeats %(first)s")
                    % {"where": r.where, "id": r.external_id, "first": seen[r.external_id]}
                )
            seen.setdefault(r.external_id, r.where)
    if errors:
        raise RowsRejected(errors)
    return units, categories


def placeholder_category() -> Category:
    """The inactive category of imported rows without one."""
    scheme, _created = CategoryScheme.objects.get_or_create(
        code=PLACEHOLDER_SCHEME, defaults={"name": "历史导入 / history import"}
    )
    category, _created = Category.objects.get_or_create(
        scheme=scheme,
        kind=CategoryKind.EVENT,
        code=PLACEHOLDER_CODE,
        defaults={
            "major_code": "99",
            "major_name": "历史导入",
            "name": "未分类（历史导入）",
            "limit_value": 1,
            "limit_unit": LimitUnit.WORKING_DAYS,
            "is_active": False,
            "public": False,
        },
    )
    return category


@transaction.atomic
def history_import(
    *,
    actor=None,
    path: Path,
    fmt: str | None = None,
    progress: Progress = no_progress,
    batch: int = 2000,
) -> HistoryResult:
    """Import the file's rows as closed historical cases, all or nothing."""
    rows = history_rows(path, fmt=fmt, progress=progress)
    units, categories = _check_references(rows)
    result = HistoryResult(rows=len(rows))
    known = set(
        ImportedCase.objects.filter(
            external_id__in=[r.external_id for r in rows if r.external_id]
        ).values_list("external_id", flat=True)
    )
    fresh = [r for r in rows if r.external_id not in known or r.external_id is None]
    result.unchanged = len(rows) - len(fresh)
    if not fresh:
        return result
    placeholder = placeholder_category() if any(not r.category for r in fresh) else None
    tree = reference_snapshot().units
    numbers = _numbers(fresh)
    cells: dict[tuple[float, float], GridCell | None] = {}
    for start in range(0, len(fresh), batch):
        chunk = fresh[start : start + batch]
        cases = [
            _case(r, units[r.unit], categories.get(r.category) or placeholder, tree, numbers, cells)
            for r in chunk
        ]
        Case.objects.bulk_create(cases)
        ImportedCase.objects.bulk_create(
            [
                ImportedCase(
                    case=case,
                    external_id=r.external_id,
                    source_file=path.name[:255],
                    where=r.where[:40],
                    has_category=bool(r.category),
                )
                for case, r in zip(cases, chunk, strict=True)
            ]
        )
        result.case_ids.extend(c.pk for c in cases)
    result.created = len(fresh)
    facts_replace(result.case_ids)  # the indicator center counts them as reported
    return result


def _numbers(rows: list[HistoryRow]) -> Iterator[str]:
    """Case numbers for the rows, in order: each year's counter moved once, under its lock."""
    years: dict[int, int] = {}
    for r in rows:
        year = timezone.localtime(r.reported_at).year
        years[year] = years.get(year, 0) + 1
    first: dict[int, int] = {}
    for year in sorted(years):
        CaseSequence.objects.get_or_create(year=year)
        seq = CaseSequence.objects.select_for_update().get(year=year)
        first[year], seq.last = seq.last, seq.last + years[year]
        seq.save(update_fields=["last"])
    for r in rows:
        year = timezone.localtime(r.reported_at).year
        first[year] += 1
        yield f"{year}-{first[year]:06d}"


def _case(row: HistoryRow, unit: Unit, category: Category, tree, numbers, cells) -> Case:
    cell = None
    if row.lat is not None and row.lng is not None:
        point = (row.lat, row.lng)
        if point not in cells:
            cells[point] = grid_cell_at(*point)
        cell = cells[point]
    closed = row.closed_at or row.reported_at
    return Case(
        number=next(numbers),
        city_id=tree.city_id(unit.pk),
        category=category,
        description=row.text,
        lat=row.lat,
        lng=row.lng,
        grid=cell,
        area=cell.area if cell else None,
        source=Source.INSPECTOR,
        urgency=category.urgency,
        stage=Stage.ENDED,
        status=CaseStatus.CLOSED,
        responsible_unit=unit,
        archive_type=ArchiveType.NORMAL,
        created_at=row.reported_at,
        closed_at=closed,
    )
