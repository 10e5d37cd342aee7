"""Tables in files, for every import and export of reference data (categories, units, staff):
CSV (UTF-8) or XLSX in, the same out, and the one error every import raises.

Imports read a whole file first, check every row, and write nothing unless all rows are valid;
each error names where it was found ("line 5" in a CSV, "row 5" in a spreadsheet, "feature 3"
in GeoJSON), so a person can fix the file.
"""

from __future__ import annotations

import csv
import io
import os
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

import openpyxl
from django.utils.translation import gettext as _
from openpyxl.utils.exceptions import InvalidFileException

FileFormat = Literal["csv", "xlsx"]
RowsSource = str | os.PathLike[str] | IO[str] | IO[bytes]
# Told how many rows (or features) of how many have been checked; a command draws a bar.
Progress = Callable[[int, int], None]
PROGRESS_STEP = 200  # rows between two calls


def no_progress(done: int, total: int) -> None:
    """The default Progress: nobody is watching."""


def counted(items: Sequence[Any], progress: Progress) -> Iterable[Any]:
    """The items, telling `progress` every PROGRESS_STEP of them and at the end."""
    total = len(items)
    for index, item in enumerate(items, start=1):
        yield item
        if index % PROGRESS_STEP == 0 or index == total:
            progress(index, total)


class RowsRejected(Exception):
    """A file was rejected; `errors` lists every problem found, each naming its line or row."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = list(errors)


@dataclass(frozen=True)
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def rows(self) -> int:
        return self.created + self.updated + self.unchanged


@dataclass(frozen=True)
class Row:
    where: str  # "line 5" (CSV) or "row 5" (XLSX), already translated
    values: dict[str, str]


@dataclass(frozen=True)
class Table:
    rows: list[Row]
    columns: list[str]  # as named in the header, in file order


# --- reading -------------------------------------------------------------------------------


def guess_format(rows_source: RowsSource, fmt: str | None) -> FileFormat:
    """An explicit format wins; otherwise the file name's extension decides."""
    if fmt is None:
        is_path = isinstance(rows_source, str | os.PathLike)
        name = rows_source if is_path else getattr(rows_source, "name", "")
        fmt = Path(str(name)).suffix.lower().lstrip(".")
    if fmt == "csv":
        return "csv"
    if fmt == "xlsx":
        return "xlsx"
    raise RowsRejected([_("Cannot tell the file format: use a .csv or .xlsx file.")])


def read_text(rows_source: RowsSource) -> str:
    """Text files are UTF-8, with or without a byte-order mark."""
    if isinstance(rows_source, str | os.PathLike):
        data: str | bytes = Path(rows_source).read_bytes()
    else:
        data = rows_source.read()
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        message = _("The file is not UTF-8 text (byte %(position)d).") % {"position": exc.start}
        raise RowsRejected([message]) from exc


def _read_csv(rows_source: RowsSource) -> list[tuple[str, list[str]]]:
    """Records with the physical line each starts on (a quoted value may span lines)."""
    reader = csv.reader(io.StringIO(read_text(rows_source), newline=""))
    records: list[tuple[str, list[str]]] = []
    start = 1
    try:
        for cells in reader:
            records.append((_("line %(number)d") % {"number": start}, cells))
            start = reader.line_num + 1
    except csv.Error as exc:
        where = _("line %(number)d") % {"number": reader.line_num}
        raise RowsRejected([f"{where}: {exc}"]) from exc
    return records


def _cell_text(value: Any) -> str:
    """Spreadsheet cells as the text a CSV would hold; 2.0 typed into Excel reads as "2"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read_xlsx(rows_source: RowsSource) -> list[tuple[str, list[str]]]:
    """The first sheet's rows, numbered as the spreadsheet numbers them."""
    try:
        workbook = openpyxl.load_workbook(rows_source, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError) as exc:
        message = _("Not a readable XLSX workbook: %(error)s") % {"error": exc}
        raise RowsRejected([message]) from exc
    try:
        sheet = workbook.worksheets[0]
        return [
            (_("row %(number)d") % {"number": number}, [_cell_text(v) for v in values])
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
        ]
    finally:
        workbook.close()


def _header(where: str, cells: list[str], required: Sequence[str], known: Sequence[str]):
    """The header names exactly the known columns, every required one among them."""
    names = [cell.strip() for cell in cells]
    errors = []
    missing = [c for c in required if c not in names]
    if missing:
        errors.append(_("missing column(s): %(columns)s") % {"columns": ", ".join(missing)})
    unknown = [c for c in names if c and c not in known]
    if unknown:
        errors.append(_("unknown column(s): %(columns)s") % {"columns": ", ".join(unknown)})
    repeated = sorted({c for c in names if c and names.count(c) > 1})
    if repeated:
        errors.append(_("repeated column(s): %(columns)s") % {"columns": ", ".join(repeated)})
    if errors:
        raise RowsRejected([f"{where}: {e}" for e in errors])
    return names


def _table(records: list[tuple[str, list[str]]], required: Sequence[str], known: Sequence[str]):
    """Rows keyed by column name; blank rows are skipped, values stripped."""
    if not records:
        raise RowsRejected([_("The file is empty.")])
    names = _header(*records[0], required=required, known=known)
    rows, errors = [], []
    for where, cells in records[1:]:
        values = [cell.strip() for cell in cells]
        if not any(values):
            continue
        if any(values[len(names) :]):
            message = _("%(found)d values, but the header has %(expected)d columns") % {
                "found": len(values),
                "expected": len(names),
            }
            errors.append(f"{where}: {message}")
            continue
        values += [""] * (len(names) - len(values))
        rows.append(Row(where, {n: v for n, v in zip(names, values, strict=True) if n}))
    if errors:
        raise RowsRejected(errors)
    return Table(rows, [n for n in names if n])


def read_table(
    rows_source: RowsSource,
    *,
    fmt: str | None,
    required: Sequence[str],
    optional: Sequence[str] = (),
) -> Table:
    """The rows of a CSV or XLSX file whose header has the required columns (and perhaps some
    optional ones); any other column, or a file that cannot be read, is refused."""
    found = guess_format(rows_source, fmt)
    records = _read_csv(rows_source) if found == "csv" else _read_xlsx(rows_source)
    return _table(records, required, (*required, *optional))


def duplicate_errors(rows: Iterable[Row], key: Callable[[Row], Any], describe) -> list[str]:
    """One error for each row whose key an earlier row had: "line 4: <describe(row)> repeats
    line 2"."""
    first_seen: dict[Any, str] = {}
    errors = []
    for row in rows:
        found = key(row)
        if found in first_seen:
            message = _("%(what)s repeats %(first)s") % {
                "what": describe(row),
                "first": first_seen[found],
            }
            errors.append(f"{row.where}: {message}")
        first_seen.setdefault(found, row.where)
    return errors


_YES = {"yes", "true", "1", "y", "是"}
_NO = {"no", "false", "0", "n", "否", ""}


def parse_flag(value: str) -> bool | None:
    """yes/no, true/false, 1/0, 是/否 (blank is no); None for anything else."""
    text = value.strip().lower()
    return True if text in _YES else False if text in _NO else None


def flag_text(value: bool) -> str:
    """A flag as the exports write it (and `parse_flag` reads back)."""
    return "yes" if value else "no"


def length_errors(values: dict[str, str], max_lengths: dict[str, int]) -> list[str]:
    """Each column given is required and fits its database column."""
    errors = []
    for column, max_length in max_lengths.items():
        if not values.get(column):
            errors.append(_("%(column)s is required") % {"column": column})
        elif len(values[column]) > max_length:
            errors.append(
                _("%(column)s is longer than %(max)d characters")
                % {"column": column, "max": max_length}
            )
    return errors


def choice_error(column: str, value: str, choices: Sequence[str]) -> list[str]:
    """[] when the value is one of the choices, else the error naming them."""
    if value in choices:
        return []
    return [
        _("unknown %(column)s “%(value)s” (expected %(choices)s)")
        % {"column": column, "value": value, "choices": ", ".join(choices)}
    ]


# --- writing -------------------------------------------------------------------------------


def _write_csv(rows: Iterable[dict[str, Any]], columns: Sequence[str], target: RowsSource):
    if isinstance(target, str | os.PathLike):
        with open(target, "w", newline="", encoding="utf-8") as stream:
            _write_csv(rows, columns, stream)
        return
    writer = csv.DictWriter(target, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)


def _write_xlsx(
    rows: Iterable[dict[str, Any]], columns: Sequence[str], target: RowsSource, title: str
):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = title
    sheet.append(list(columns))
    for row in rows:
        sheet.append([row[c] for c in columns])
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            if cell.data_type == "f":  # text such as "=…" is data here, never a formula
                cell.data_type = "s"
    workbook.save(target)


def write_table(
    *,
    rows: Iterable[dict[str, Any]],
    columns: Sequence[str],
    target: RowsSource,
    fmt: FileFormat,
    title: str = "data",
) -> None:
    """Write rows as UTF-8 CSV (text stream or path) or XLSX (binary stream or path)."""
    if fmt == "xlsx":
        _write_xlsx(rows, columns, target, title)
    else:
        _write_csv(rows, columns, target)
