"""Category code lists: imported from CSV or XLSX as a whole (or not at all), and exported back."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from cityops import tabular
from cityops.tabular import FileFormat, RowsRejected, RowsSource, read_table, write_table
from departments.models import Unit
from departments.reference import reference_changed

from ..models import Category, CategoryKind, CategoryScheme, LimitUnit, Urgency

REQUIRED_COLUMNS = (
    "scheme",
    "kind",
    "major_code",
    "major_name",
    "minor_code",
    "minor_name",
    "default_unit",
    "limit_value",
    "limit_unit",
    "urgency",
)
CONDITION_COLUMNS = ("filing_conditions", "closing_conditions")
# Optional: listed by Open311 (yes/no); blank or absent keeps the stored value (new: yes).
PUBLIC_COLUMN = "public"
OPTIONAL_COLUMNS = (*CONDITION_COLUMNS, PUBLIC_COLUMN)
EXPORT_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS

_MAJOR_CODE = re.compile(r"[0-9]{2}")
_MINOR_CODE = re.compile(r"[0-9]{4,5}")
_POSITIVE_INT = re.compile(r"[0-9]+")
_MAX_LIMIT_VALUE = 2_147_483_647  # PositiveIntegerField's ceiling on PostgreSQL
# Text columns checked against the model's max_length, so a long value fails validation
# instead of the database write (SQLite would not even complain).
_MAX_LENGTHS = {
    "scheme": CategoryScheme._meta.get_field("code").max_length,
    "major_name": Category._meta.get_field("major_name").max_length,
    "minor_name": Category._meta.get_field("name").max_length,
}


# The file was rejected; `errors` lists every problem found, each naming its line or row.
CategoryImportError = RowsRejected


@dataclass(frozen=True)
class ImportResult(tabular.ImportResult):
    schemes_created: int = 0


@dataclass(frozen=True)
class _Row:
    where: str  # "line 5" (CSV) or "row 5" (XLSX), already translated
    values: dict[str, str]

    @property
    def key(self) -> tuple[str, str, str]:
        return self.values["scheme"], self.values["kind"], self.values["minor_code"]


@dataclass(frozen=True)
class _Table:
    rows: list[_Row]
    has_conditions: dict[str, bool]  # optional columns present in the header


@dataclass
class _Context:
    units: dict[str, Unit]
    schemes: dict[str, CategoryScheme]
    categories: dict[tuple[str, str, str], Category]
    code_lengths: dict[str, int] = field(default_factory=dict)  # of codes already stored


# --- reading -------------------------------------------------------------------------------


def _read_table(rows_source: RowsSource, fmt: FileFormat | None) -> _Table:
    table = read_table(rows_source, fmt=fmt, required=REQUIRED_COLUMNS, optional=OPTIONAL_COLUMNS)
    rows = [_Row(row.where, row.values) for row in table.rows]
    return _Table(rows, {column: column in table.columns for column in OPTIONAL_COLUMNS})


# --- validation ----------------------------------------------------------------------------


def _code_errors(values: dict[str, str]) -> list[str]:
    """Major codes are 2 digits; minor codes 4 or 5 digits starting with their major code."""
    errors = []
    kind, major, minor = values["kind"], values["major_code"], values["minor_code"]
    if kind not in CategoryKind.values:
        errors.append(
            _("unknown kind “%(value)s” (expected %(choices)s)")
            % {"value": kind, "choices": ", ".join(CategoryKind.values)}
        )
    if not _MAJOR_CODE.fullmatch(major):
        errors.append(_("major_code “%(value)s” must be 2 digits") % {"value": major})
    if not _MINOR_CODE.fullmatch(minor):
        errors.append(_("minor_code “%(value)s” must be 4 or 5 digits") % {"value": minor})
    elif _MAJOR_CODE.fullmatch(major) and not minor.startswith(major):
        errors.append(
            _("minor_code “%(minor)s” does not start with its major_code “%(major)s”")
            % {"minor": minor, "major": major}
        )
    return errors


def _limit_errors(values: dict[str, str]) -> list[str]:
    """The time limit is a positive whole number of a known unit; urgency is normal or urgent."""
    errors = []
    limit_value, limit_unit = values["limit_value"], values["limit_unit"]
    urgency = values["urgency"]
    if not _POSITIVE_INT.fullmatch(limit_value) or not 0 < int(limit_value) <= _MAX_LIMIT_VALUE:
        errors.append(
            _("limit_value “%(value)s” must be a positive whole number") % {"value": limit_value}
        )
    if limit_unit not in LimitUnit.values:
        errors.append(
            _("unknown limit_unit “%(value)s” (expected %(choices)s)")
            % {"value": limit_unit, "choices": ", ".join(LimitUnit.values)}
        )
    if urgency and urgency not in Urgency.values:
        errors.append(
            _("unknown urgency “%(value)s” (expected %(choices)s)")
            % {"value": urgency, "choices": ", ".join(Urgency.values)}
        )
    return errors


def _unit_errors(values: dict[str, str], context: _Context) -> list[str]:
    """A default unit, when given, is the code of an existing unit."""
    code = values["default_unit"]
    if code and code not in context.units:
        return [_("unknown default_unit “%(value)s” (no unit has that code)") % {"value": code}]
    return []


def _public_errors(values: dict[str, str]) -> list[str]:
    value = values.get(PUBLIC_COLUMN, "")
    if value.strip() and tabular.parse_flag(value) is None:
        return [_("public “%(value)s” must be yes or no") % {"value": value}]
    return []


def _row_errors(row: _Row, context: _Context) -> list[str]:
    values = row.values
    errors = (
        tabular.length_errors(values, _MAX_LENGTHS)
        + _code_errors(values)
        + _limit_errors(values)
        + _unit_errors(values, context)
        + _public_errors(values)
    )
    return [f"{row.where}: {e}" for e in errors]


def _duplicate_errors(rows: list[_Row]) -> list[str]:
    """A category (scheme, kind, minor code) appears once in a file."""
    first_seen: dict[tuple[str, str, str], str] = {}
    errors = []
    for row in rows:
        if row.key in first_seen:
            message = _("%(kind)s %(code)s of %(scheme)s repeats %(first)s") % {
                "kind": row.values["kind"],
                "code": row.values["minor_code"],
                "scheme": row.values["scheme"],
                "first": first_seen[row.key],
            }
            errors.append(f"{row.where}: {message}")
        first_seen.setdefault(row.key, row.where)
    return errors


def _code_length_errors(rows: list[_Row], context: _Context) -> list[str]:
    """All minor codes of a scheme have one length, including the codes already stored."""
    stored = _("the stored categories")
    lengths = {scheme: (length, stored) for scheme, length in context.code_lengths.items()}
    errors = []
    for row in rows:
        scheme, code = row.values["scheme"], row.values["minor_code"]
        if not _MINOR_CODE.fullmatch(code):
            continue  # already reported
        length, source = lengths.setdefault(scheme, (len(code), row.where))
        if len(code) != length:
            message = _(
                "minor_code “%(code)s” has %(found)d digits, but %(scheme)s uses "
                "%(expected)d-digit codes (%(source)s)"
            ) % {
                "code": code,
                "found": len(code),
                "scheme": scheme,
                "expected": length,
                "source": source,
            }
            errors.append(f"{row.where}: {message}")
    return errors


def _major_name_errors(rows: list[_Row]) -> list[str]:
    """A major class has one name within a scheme and kind."""
    names: dict[tuple[str, str, str], tuple[str, str]] = {}
    errors = []
    for row in rows:
        v = row.values
        key = (v["scheme"], v["kind"], v["major_code"])
        name, source = names.setdefault(key, (v["major_name"], row.where))
        if v["major_name"] != name:
            message = _("major_name “%(found)s” differs from “%(expected)s” (%(source)s)") % {
                "found": v["major_name"],
                "expected": name,
                "source": source,
            }
            errors.append(f"{row.where}: {message}")
    return errors


def _validate(rows: list[_Row], context: _Context) -> list[str]:
    """Every problem of every row, in file order within each kind of check."""
    errors = [e for row in rows for e in _row_errors(row, context)]
    errors += _duplicate_errors(rows)
    errors += _code_length_errors(rows, context)
    errors += _major_name_errors(rows)
    return errors


# --- writing -------------------------------------------------------------------------------


def _load_context(rows: list[_Row]) -> _Context:
    """Units, schemes and stored categories the file refers to, in three queries."""
    unit_codes = {row.values["default_unit"] for row in rows} - {""}
    scheme_codes = {row.values["scheme"] for row in rows}
    categories = Category.objects.filter(scheme__code__in=scheme_codes).select_related("scheme")
    context = _Context(
        units={u.code: u for u in Unit.objects.filter(code__in=unit_codes)},
        schemes={s.code: s for s in CategoryScheme.objects.filter(code__in=scheme_codes)},
        categories={(c.scheme.code, c.kind, c.code): c for c in categories},
    )
    for scheme, _kind, code in context.categories:
        context.code_lengths.setdefault(scheme, len(code))
    return context


def _create_schemes(rows: list[_Row], context: _Context) -> int:
    """Schemes named in the file but not stored yet are created with an empty name."""
    missing = sorted({row.values["scheme"] for row in rows} - set(context.schemes))
    if missing:
        CategoryScheme.objects.bulk_create(CategoryScheme(code=code) for code in missing)
        # Re-read rather than rely on bulk_create returning primary keys on every backend.
        context.schemes.update((s.code, s) for s in CategoryScheme.objects.filter(code__in=missing))
    return len(missing)


def _fields(row: _Row, table: _Table, context: _Context) -> dict[str, Any]:
    """The stored values a row asks for; absent optional columns (and a blank public) leave
    the stored values alone."""
    values = row.values
    unit = context.units.get(values["default_unit"])
    fields: dict[str, Any] = {
        "major_code": values["major_code"],
        "major_name": values["major_name"],
        "name": values["minor_name"],
        "default_unit_id": unit.pk if unit else None,
        "limit_value": int(values["limit_value"]),
        "limit_unit": values["limit_unit"],
        "urgency": values["urgency"] or Urgency.NORMAL,
    }
    for column in CONDITION_COLUMNS:
        if table.has_conditions[column]:
            fields[column] = values[column]
    if table.has_conditions[PUBLIC_COLUMN] and values[PUBLIC_COLUMN].strip():
        fields["public"] = tabular.parse_flag(values[PUBLIC_COLUMN])
    return fields


def _upsert(table: _Table, context: _Context) -> ImportResult:
    """Create new categories, update changed ones, count the rest as unchanged."""
    schemes_created = _create_schemes(table.rows, context)
    to_create: list[Category] = []
    to_update: list[Category] = []
    changed_fields: set[str] = set()
    for row in table.rows:
        fields = _fields(row, table, context)
        existing = context.categories.get(row.key)
        if existing is None:
            scheme = context.schemes[row.values["scheme"]]
            to_create.append(
                Category(scheme=scheme, kind=row.values["kind"], code=row.key[2], **fields)
            )
            continue
        changed = {name for name, value in fields.items() if getattr(existing, name) != value}
        if changed:
            for name in changed:
                setattr(existing, name, fields[name])
            to_update.append(existing)
            changed_fields |= changed
    Category.objects.bulk_create(to_create)
    if to_update:
        # get_field() resolves attnames, so "default_unit_id" names the foreign key.
        Category.objects.bulk_update(to_update, fields=sorted(changed_fields))
    if to_create or to_update:
        reference_changed()  # routing rules in the snapshot show category names
    unchanged = len(table.rows) - len(to_create) - len(to_update)
    return ImportResult(len(to_create), len(to_update), unchanged, schemes_created)


def categories_import(*, rows_source: RowsSource, fmt: FileFormat | None = None) -> ImportResult:
    """Upsert categories by (scheme, kind, code) from CSV/XLSX: every row valid, or none written."""
    table = _read_table(rows_source, fmt)
    with transaction.atomic():
        context = _load_context(table.rows)
        errors = _validate(table.rows, context)
        if errors:
            raise CategoryImportError(errors)
        return _upsert(table, context)


# --- export --------------------------------------------------------------------------------


def _export_row(category: Category) -> dict[str, str]:
    return {
        "scheme": category.scheme.code,
        "kind": category.kind,
        "major_code": category.major_code,
        "major_name": category.major_name,
        "minor_code": category.code,
        "minor_name": category.name,
        "default_unit": category.default_unit.code if category.default_unit else "",
        "limit_value": str(category.limit_value),
        "limit_unit": category.limit_unit,
        "urgency": category.urgency,
        "filing_conditions": category.filing_conditions,
        "closing_conditions": category.closing_conditions,
        PUBLIC_COLUMN: tabular.flag_text(category.public),
    }


def categories_export(*, scheme: str | None = None) -> list[dict[str, str]]:
    """Categories as import rows (EXPORT_COLUMNS order), so an export re-imports unchanged."""
    categories = Category.objects.select_related("scheme", "default_unit").order_by(
        "scheme__code", "kind", "code"
    )
    if scheme is not None:
        categories = categories.filter(scheme__code=scheme)
    return [_export_row(category) for category in categories]


def categories_write(
    *, rows: Iterable[dict[str, str]], target: RowsSource, fmt: FileFormat
) -> None:
    """Write export rows as UTF-8 CSV (text stream or path) or XLSX (binary stream or path)."""
    if fmt == "xlsx":  # numbers as numbers in a spreadsheet
        rows = ({**row, "limit_value": int(row["limit_value"])} for row in rows)
    write_table(rows=rows, columns=EXPORT_COLUMNS, target=target, fmt=fmt, title="categories")
