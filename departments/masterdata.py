"""The city's master data in and out of files: units, staff posts, grid cells.

Each import reads the whole file, checks every row (or feature) against the file and the
database, and writes all of it or nothing (cityops.tabular.RowsRejected lists every problem,
each naming its line, row or feature). Rows are matched by their natural key (unit code;
username + unit + role; cell code): new ones are created, changed ones updated, nothing is
deleted. Each export writes the format its import reads back unchanged.

Formats:
- units: CSV/XLSX with code, name, kind, parent (the parent's code; blank for the city).
- staff: CSV/XLSX with username, name, unit (code), role, include_subunits (yes/no).
- grid: GeoJSON FeatureCollection (departments.geojson) with code, name, area (unit code).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from cityops.tabular import (
    FileFormat,
    ImportResult,
    Progress,
    Row,
    RowsRejected,
    RowsSource,
    choice_error,
    counted,
    duplicate_errors,
    flag_text,
    length_errors,
    no_progress,
    parse_flag,
    read_table,
    read_text,
    write_table,
)

from .geojson import FeatureError, cell_fields, feature_collection, feature_list
from .models import GridCell, Membership, Role, Unit, UnitKind
from .reference import reference_changed
from .selectors import grid_cells, unit_tree

UNIT_COLUMNS = ("code", "name", "kind", "parent")
STAFF_COLUMNS = ("username", "name", "unit", "role", "include_subunits")
GRID_AREA_KINDS = (UnitKind.COMMUNITY, UnitKind.STREET)

_UNIT_LENGTHS = {
    "code": Unit._meta.get_field("code").max_length,
    "name": Unit._meta.get_field("name").max_length,
}


def _rejected_if(errors: list[str]) -> None:
    if errors:
        raise RowsRejected(errors)


def _counts(created: int, updated: int, total: int) -> ImportResult:
    return ImportResult(created=created, updated=updated, unchanged=total - created - updated)


# --- units ---------------------------------------------------------------------------------


def _unit_row_errors(row: Row, known_codes: set[str]) -> list[str]:
    values = row.values
    errors = length_errors(values, _UNIT_LENGTHS)
    errors += choice_error("kind", values["kind"], UnitKind.values)
    parent = values["parent"]
    if parent and parent == values["code"]:
        errors.append(_("a unit cannot be its own parent"))
    elif parent and parent not in known_codes:
        errors.append(_("unknown parent “%(value)s” (no unit has that code)") % {"value": parent})
    return [f"{row.where}: {error}" for error in errors]


def _cycle_errors(rows: list[Row], parents: dict[str, str | None]) -> list[str]:
    """A unit may not end up below itself (the file's parents over the stored ones)."""
    errors = []
    for row in rows:
        code, seen = row.values["code"], set()
        current = parents.get(code)
        while current is not None and current not in seen and current != code:
            seen.add(current)
            current = parents.get(current)
        if current == code:
            message = _("unit %(code)s would be below itself") % {"code": code}
            errors.append(f"{row.where}: {message}")
    return errors


def units_import(
    *, rows_source: RowsSource, fmt: FileFormat | None = None, progress: Progress = no_progress
) -> ImportResult:
    """Upsert units by code from CSV/XLSX: every row valid, or none written."""
    table = read_table(rows_source, fmt=fmt, required=UNIT_COLUMNS)
    with transaction.atomic():
        stored = {unit.code: unit for unit in Unit.objects.select_related("parent")}
        file_codes = {row.values["code"] for row in table.rows}
        known = set(stored) | file_codes
        errors = [e for row in counted(table.rows, progress) for e in _unit_row_errors(row, known)]
        errors += duplicate_errors(
            table.rows,
            key=lambda row: row.values["code"],
            describe=lambda row: _("unit %(code)s") % {"code": row.values["code"]},
        )
        _rejected_if(errors)
        parents = {code: (u.parent.code if u.parent else None) for code, u in stored.items()}
        parents.update((row.values["code"], row.values["parent"] or None) for row in table.rows)
        _rejected_if(_cycle_errors(table.rows, parents))
        return _write_units(table.rows, stored)


def _write_units(rows: list[Row], stored: dict[str, Unit]) -> ImportResult:
    new = [row for row in rows if row.values["code"] not in stored]
    Unit.objects.bulk_create(
        Unit(code=row.values["code"], name=row.values["name"], kind=row.values["kind"])
        for row in new
    )
    units = {unit.code: unit for unit in Unit.objects.all()}  # with the new ones' ids
    changed: list[Unit] = []
    updated = 0
    for row in rows:
        values = row.values
        unit = units[values["code"]]
        parent_id = units[values["parent"]].pk if values["parent"] else None
        wanted = {"name": values["name"], "kind": values["kind"], "parent_id": parent_id}
        if any(getattr(unit, name) != value for name, value in wanted.items()):
            for name, value in wanted.items():
                setattr(unit, name, value)
            changed.append(unit)
            updated += values["code"] in stored
    if changed:
        Unit.objects.bulk_update(changed, fields=["name", "kind", "parent"])
    if new or changed:
        reference_changed()  # bulk writes send no save signals
    return _counts(len(new), updated, len(rows))


def units_export() -> list[dict[str, str]]:
    """Every unit (active or not) as an import row, parents before their children."""
    return [
        {
            "code": unit.code,
            "name": unit.name,
            "kind": unit.kind,
            "parent": unit.parent.code if unit.parent else "",
        }
        for unit, _depth in unit_tree(active_only=False)
    ]


# --- staff ---------------------------------------------------------------------------------


def _staff_row_errors(row: Row, unit_codes: set[str]) -> list[str]:
    values = row.values
    errors = length_errors({"username": values["username"]}, {"username": 150})
    if values["username"]:
        try:
            UnicodeUsernameValidator()(values["username"])
        except ValidationError:
            errors.append(
                _("username “%(value)s” may hold only letters, digits and @.+-_")
                % {"value": values["username"]}
            )
    if len(values["name"]) > 150:
        errors.append(
            _("%(column)s is longer than %(max)d characters") % {"column": "name", "max": 150}
        )
    if not values["unit"]:
        errors.append(_("%(column)s is required") % {"column": "unit"})
    elif values["unit"] not in unit_codes:
        errors.append(
            _("unknown unit “%(value)s” (no unit has that code)") % {"value": values["unit"]}
        )
    errors += choice_error("role", values["role"], Role.values)
    if parse_flag(values["include_subunits"]) is None:
        errors.append(
            _("include_subunits “%(value)s” must be yes or no")
            % {"value": values["include_subunits"]}
        )
    return [f"{row.where}: {error}" for error in errors]


def _name_errors(rows: list[Row]) -> list[str]:
    """A person has one name in a file."""
    names: dict[str, tuple[str, str]] = {}
    errors = []
    for row in rows:
        username, name = row.values["username"], row.values["name"]
        first, source = names.setdefault(username, (name, row.where))
        if name != first:
            message = _(
                "%(username)s is named “%(found)s” here but “%(expected)s” on %(source)s"
            ) % {
                "username": username,
                "found": name,
                "expected": first,
                "source": source,
            }
            errors.append(f"{row.where}: {message}")
    return errors


def staff_import(
    *, rows_source: RowsSource, fmt: FileFormat | None = None, progress: Progress = no_progress
) -> ImportResult:
    """Upsert staff posts (memberships) by username, unit and role from CSV/XLSX; people not yet
    known are created without a usable password (an administrator sets or resets it)."""
    table = read_table(rows_source, fmt=fmt, required=STAFF_COLUMNS)
    with transaction.atomic():
        unit_codes = {row.values["unit"] for row in table.rows}
        units = {u.code: u for u in Unit.objects.filter(code__in=unit_codes)}
        errors = [
            e for row in counted(table.rows, progress) for e in _staff_row_errors(row, set(units))
        ]
        errors += duplicate_errors(
            table.rows,
            key=lambda row: (row.values["username"], row.values["unit"], row.values["role"]),
            describe=lambda row: _("%(username)s as %(role)s in %(unit)s") % row.values,
        )
        errors += _name_errors(table.rows)
        _rejected_if(errors)
        users = _write_people(table.rows)
        return _write_posts(table.rows, users, units)


def _write_people(rows: list[Row]) -> dict[str, Any]:
    User = get_user_model()
    names = {row.values["username"]: row.values["name"] for row in rows}
    users = {u.username: u for u in User.objects.filter(username__in=names)}
    User.objects.bulk_create(
        User(username=username, first_name=name, password=make_password(None))
        for username, name in names.items()
        if username not in users
    )
    renamed = []
    for user in users.values():
        if user.get_full_name() != names[user.username]:
            user.first_name, user.last_name = names[user.username], ""
            renamed.append(user)
    if renamed:
        User.objects.bulk_update(renamed, fields=["first_name", "last_name"])
    return {u.username: u for u in User.objects.filter(username__in=names)}


def _write_posts(rows: list[Row], users: dict[str, Any], units: dict[str, Unit]) -> ImportResult:
    stored = {
        (m.user_id, m.unit_id, m.role): m
        for m in Membership.objects.filter(user__in=users.values())
    }
    new, changed = [], []
    for row in rows:
        v = row.values
        user, unit = users[v["username"]], units[v["unit"]]
        subunits = bool(parse_flag(v["include_subunits"]))
        membership = stored.get((user.pk, unit.pk, v["role"]))
        if membership is None:
            new.append(Membership(user=user, unit=unit, role=v["role"], include_subunits=subunits))
        elif membership.include_subunits != subunits:
            membership.include_subunits = subunits
            changed.append(membership)
    Membership.objects.bulk_create(new)
    if changed:
        Membership.objects.bulk_update(changed, fields=["include_subunits"])
    return _counts(len(new), len(changed), len(rows))


def staff_export() -> list[dict[str, str]]:
    """Every post of an active person as an import row, by username, unit and role."""
    memberships = (
        Membership.objects.filter(user__is_active=True)
        .select_related("user", "unit")
        .order_by("user__username", "unit__code", "role")
    )
    return [
        {
            "username": m.user.username,
            "name": m.user.get_full_name(),
            "unit": m.unit.code,
            "role": m.role,
            "include_subunits": flag_text(m.include_subunits),
        }
        for m in memberships
    ]


# --- grid ----------------------------------------------------------------------------------


def _read_features(rows_source: RowsSource) -> list[Any]:
    text = read_text(rows_source)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        message = _("line %(line)d: not valid JSON (%(error)s)") % {
            "line": exc.lineno,
            "error": exc.msg,
        }
        raise RowsRejected([message]) from exc
    return feature_list(document)  # FeatureError is a RowsRejected


def grid_import(*, rows_source: RowsSource, progress: Progress = no_progress) -> ImportResult:
    """Upsert grid cells by code from a GeoJSON file: every feature valid, or none written."""
    features = _read_features(rows_source)
    if not features:
        raise RowsRejected([_("The file has no features.")])
    cells, errors = [], []
    for number, feature in enumerate(counted(features, progress), start=1):
        where = _("feature %(number)d") % {"number": number}
        try:
            cells.append((where, cell_fields(feature, where=where)))
        except FeatureError as exc:
            errors += exc.errors
    with transaction.atomic():
        areas = {
            u.code: u
            for u in Unit.objects.filter(
                code__in={fields.area_code for _where, fields in cells}, kind__in=GRID_AREA_KINDS
            )
        }
        for where, fields in cells:
            if fields.area_code not in areas:
                message = _("area “%(value)s” is not the code of a community or street") % {
                    "value": fields.area_code
                }
                errors.append(f"{where} ({fields.code}): {message}")
        errors += duplicate_errors(
            [Row(where, {"code": fields.code}) for where, fields in cells],
            key=lambda row: row.values["code"],
            describe=lambda row: _("grid cell %(code)s") % row.values,
        )
        _rejected_if(errors)
        return _write_cells([fields for _where, fields in cells], areas)


def _write_cells(cells, areas: dict[str, Unit]) -> ImportResult:
    stored = {c.code: c for c in GridCell.objects.filter(code__in=[f.code for f in cells])}
    new, changed = [], []
    names = ["name", "area_id", "polygon", "centre_lat", "centre_lng"]
    for fields in cells:
        wanted = {
            "name": fields.name,
            "area_id": areas[fields.area_code].pk,
            "polygon": fields.polygon,
            "centre_lat": fields.centre_lat,
            "centre_lng": fields.centre_lng,
        }
        cell = stored.get(fields.code)
        if cell is None:
            cell = GridCell(code=fields.code, **wanted)
            new.append(cell)
        elif any(getattr(cell, name) != value for name, value in wanted.items()):
            for name, value in wanted.items():
                setattr(cell, name, value)
            changed.append(cell)
        else:
            continue
        cell.derive_bounds()
    GridCell.objects.bulk_create(new)
    if changed:
        bounds = ["min_lat", "max_lat", "min_lng", "max_lng"]
        GridCell.objects.bulk_update(changed, fields=[*names, *bounds])
    if new or changed:
        reference_changed()
    return _counts(len(new), len(changed), len(cells))


def grid_export() -> dict[str, Any]:
    """Every grid cell as a GeoJSON FeatureCollection."""
    return feature_collection(grid_cells())


def grid_write(*, document: dict[str, Any], target: RowsSource) -> None:
    """GeoJSON as UTF-8 (a path or a text stream), one feature a line."""
    if isinstance(target, str | os.PathLike):
        with open(target, "w", encoding="utf-8") as stream:
            grid_write(document=document, target=stream)
        return
    features = ",\n".join(json.dumps(f, ensure_ascii=False) for f in document["features"])
    target.write('{"type": "FeatureCollection", "features": [\n' + features + "\n]}\n")


# --- writing tables ------------------------------------------------------------------------


def table_write(
    *, rows: Iterable[dict[str, str]], columns: tuple[str, ...], target, fmt: FileFormat
) -> None:
    """Units or staff rows to CSV or XLSX (a path, or a text stream for CSV)."""
    title = "units" if columns == UNIT_COLUMNS else "staff"
    write_table(rows=rows, columns=columns, target=target, fmt=fmt, title=title)
