"""Category import/export: the reference code list, validation as a whole, round trips."""

import csv
import io
from pathlib import Path

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from departments.models import Unit, UnitKind
from workflows.models import Category, CategoryKind, CategoryScheme
from workflows.services.categories import (
    EXPORT_COLUMNS,
    REQUIRED_COLUMNS,
    CategoryImportError,
    categories_export,
    categories_import,
    categories_write,
)

# The sample of both code schemes that the project ships (workflows/data/README.md).
REFERENCE_CSV = Path(__file__).resolve().parents[2] / "workflows/data/categories.csv"
UNIT_CODES = ("WATER", "SANI", "ENF", "MUNI", "GREEN", "POLICE", "HOUSING", "TRANS", "POWER")
UNIT_CODES += ("TELECOM", "GAS", "FIRE", "CIVIL", "SPORTS")
HEADER = ",".join(REQUIRED_COLUMNS)
GOOD_ROW = "GB/T 30428.2,component,01,公用设施,0101,上水井盖,WATER,2,natural_hours,urgent"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def units() -> dict[str, Unit]:
    return {
        code: Unit.objects.create(code=code, name=code.title(), kind=UnitKind.HANDLING)
        for code in UNIT_CODES
    }


def reference_rows() -> list[dict[str, str]]:
    with REFERENCE_CSV.open(encoding="utf-8-sig", newline="") as stream:
        return list(csv.DictReader(stream))


def write_csv(path: Path, *lines: str, bom: bool = False) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig" if bom else "utf-8")
    return path


def import_errors(path: Path) -> list[str]:
    with pytest.raises(CategoryImportError) as caught:
        categories_import(rows_source=path)
    assert Category.objects.count() == 0
    assert CategoryScheme.objects.count() == 0
    return caught.value.errors


# --- the reference file --------------------------------------------------------------------


def test_reference_file_imports_every_row_into_both_schemes():
    rows = reference_rows()

    result = categories_import(rows_source=REFERENCE_CSV)

    assert len(rows) == 69
    assert (result.created, result.updated, result.unchanged) == (len(rows), 0, 0)
    assert result.schemes_created == 2
    assert Category.objects.count() == len(rows)
    assert set(CategoryScheme.objects.values_list("code", flat=True)) == {
        "GB/T 30428.2",
        "GB/T 47678.5-2026",
    }


def test_component_and_event_with_the_same_code_are_distinct():
    categories_import(rows_source=REFERENCE_CSV)

    component = Category.objects.get(scheme__code="GB/T 30428.2", kind="component", code="0102")
    event = Category.objects.get(scheme__code="GB/T 30428.2", kind="event", code="0102")

    assert component.pk != event.pk
    assert (component.name, component.default_unit.code) == ("污水井盖", "WATER")
    assert (component.limit_value, component.limit_unit, component.urgency) == (
        2,
        "natural_hours",
        "urgent",
    )
    assert (event.name, event.default_unit.code, event.major_name) == (
        "暴露垃圾",
        "SANI",
        "市容环境",
    )
    assert (event.limit_value, event.limit_unit, event.urgency) == (4, "working_hours", "normal")


def test_matter_scheme_keeps_five_digit_codes():
    categories_import(rows_source=REFERENCE_CSV)

    matter = Category.objects.get(scheme__code="GB/T 47678.5-2026", code="06042")

    assert (matter.kind, matter.major_code, matter.name) == ("matter", "06", "垃圾站(箱)满溢")


def test_reimport_changes_nothing():
    categories_import(rows_source=REFERENCE_CSV)

    result = categories_import(rows_source=REFERENCE_CSV)

    assert (result.created, result.updated, result.unchanged) == (0, 0, 69)
    assert result.schemes_created == 0


def test_changed_limit_updates_only_that_category(tmp_path):
    categories_import(rows_source=REFERENCE_CSV)
    text = REFERENCE_CSV.read_text(encoding="utf-8")
    changed = text.replace(
        "0104,雨水箅子,WATER,1,working_days,normal", "0104,雨水箅子,WATER,3,working_days,normal"
    )
    assert changed != text
    path = tmp_path / "changed.csv"
    path.write_text(changed, encoding="utf-8")

    result = categories_import(rows_source=path)

    assert (result.created, result.updated, result.unchanged) == (0, 1, 68)
    category = Category.objects.get(kind="component", code="0104")
    assert (category.limit_value, category.limit_unit) == (3, "working_days")


def test_changed_unit_is_updated(tmp_path, units):
    categories_import(rows_source=write_csv(tmp_path / "a.csv", HEADER, GOOD_ROW))

    result = categories_import(
        rows_source=write_csv(tmp_path / "b.csv", HEADER, GOOD_ROW.replace("WATER", "MUNI"))
    )

    assert (result.created, result.updated, result.unchanged) == (0, 1, 0)
    assert Category.objects.get().default_unit == units["MUNI"]


def test_import_uses_a_bounded_number_of_queries(django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        categories_import(rows_source=REFERENCE_CSV)
    with django_assert_max_num_queries(10):
        categories_import(rows_source=REFERENCE_CSV)


# --- optional columns and lenient input ----------------------------------------------------


def test_bom_blank_urgency_and_blank_unit_are_accepted(tmp_path):
    row = "GB/T 30428.2,event,01,市容环境,0101,私搭乱建,,15,working_days,"

    categories_import(rows_source=write_csv(tmp_path / "bom.csv", HEADER, row, "", bom=True))

    category = Category.objects.get()
    assert (category.urgency, category.default_unit) == ("normal", None)


def test_conditions_are_imported_and_kept_when_the_columns_are_absent(tmp_path):
    header = HEADER + ",filing_conditions,closing_conditions"
    with_conditions = GOOD_ROW + ',"井盖缺失或破损,\n影响通行",已补装'
    categories_import(rows_source=write_csv(tmp_path / "a.csv", header, with_conditions))

    result = categories_import(rows_source=write_csv(tmp_path / "b.csv", HEADER, GOOD_ROW))

    category = Category.objects.get()
    assert result.unchanged == 1
    assert category.filing_conditions == "井盖缺失或破损,\n影响通行"
    assert category.closing_conditions == "已补装"


def test_the_public_flag_is_imported_and_kept_when_blank_or_absent(tmp_path):
    header = HEADER + ",public"
    categories_import(rows_source=write_csv(tmp_path / "a.csv", header, GOOD_ROW + ",否"))
    assert Category.objects.get().public is False

    categories_import(rows_source=write_csv(tmp_path / "b.csv", header, GOOD_ROW + ","))
    categories_import(rows_source=write_csv(tmp_path / "c.csv", HEADER, GOOD_ROW))
    assert Category.objects.get().public is False

    categories_import(rows_source=write_csv(tmp_path / "d.csv", header, GOOD_ROW + ",yes"))
    assert Category.objects.get().public is True


def test_a_new_category_without_the_flag_is_public(tmp_path):
    categories_import(rows_source=write_csv(tmp_path / "a.csv", HEADER + ",public", GOOD_ROW + ","))

    assert Category.objects.get().public is True


def test_a_bad_public_flag_rejects_the_file_and_names_the_line(tmp_path):
    header = HEADER + ",public"
    other = GOOD_ROW.replace("0101,上水井盖", "0102,污水井盖") + ",no"

    errors = import_errors(write_csv(tmp_path / "p.csv", header, other, GOOD_ROW + ",maybe"))

    assert errors == ["line 3: public “maybe” must be yes or no"]


def test_line_numbers_follow_multiline_values(tmp_path):
    header = HEADER + ",filing_conditions,closing_conditions"
    first = GOOD_ROW + ',"one\ntwo\nthree",'
    bad = GOOD_ROW.replace("0101", "0102").replace("WATER", "NOPE") + ",,"

    errors = import_errors(write_csv(tmp_path / "multi.csv", header, first, bad))

    assert errors == ["line 5: unknown default_unit “NOPE” (no unit has that code)"]


# --- validation: nothing is written, every error names its line ----------------------------


def test_unknown_unit_rejects_the_whole_file_and_names_the_line(tmp_path):
    bad = GOOD_ROW.replace("0101,上水井盖,WATER", "0102,污水井盖,NOWHERE")

    errors = import_errors(write_csv(tmp_path / "unit.csv", HEADER, GOOD_ROW, bad, ""))

    assert len(errors) == 1
    assert errors[0].startswith("line 3: ")
    assert "NOWHERE" in errors[0]


def test_bad_codes_are_reported(tmp_path):
    rows = (
        GOOD_ROW.replace(",01,", ",1,"),  # major code not 2 digits
        GOOD_ROW.replace("0101", "01A1"),  # minor code not digits
        GOOD_ROW.replace("0101", "010"),  # minor code too short
        GOOD_ROW.replace("component", "thing"),  # unknown kind
    )

    errors = import_errors(write_csv(tmp_path / "codes.csv", HEADER, *rows))

    assert errors == [
        "line 2: major_code “1” must be 2 digits",
        "line 3: minor_code “01A1” must be 4 or 5 digits",
        "line 4: minor_code “010” must be 4 or 5 digits",
        f"line 5: unknown kind “thing” (expected {', '.join(CategoryKind.values)})",
    ]


def test_minor_code_must_start_with_major_code(tmp_path):
    errors = import_errors(write_csv(tmp_path / "m.csv", HEADER, GOOD_ROW.replace("0101", "0201")))

    assert errors == ["line 2: minor_code “0201” does not start with its major_code “01”"]


def test_bad_limits_and_urgency_are_reported(tmp_path):
    rows = (
        GOOD_ROW.replace("natural_hours", "fortnights"),
        GOOD_ROW.replace("0101", "0102").replace(",2,", ",0,"),
        GOOD_ROW.replace("0101", "0103").replace(",2,", ",1.5,"),
        GOOD_ROW.replace("0101", "0104").replace("urgent", "asap"),
    )

    errors = import_errors(write_csv(tmp_path / "limits.csv", HEADER, *rows))

    assert errors[0].startswith("line 2: unknown limit_unit “fortnights”")
    assert errors[1:3] == [
        "line 3: limit_value “0” must be a positive whole number",
        "line 4: limit_value “1.5” must be a positive whole number",
    ]
    assert errors[3].startswith("line 5: unknown urgency “asap”")
    assert len(errors) == 4


def test_all_errors_of_all_rows_are_collected(tmp_path):
    bad = "GB/T 30428.2,component,1,公用设施,0101x,,NOWHERE,-1,days,"

    errors = import_errors(write_csv(tmp_path / "all.csv", HEADER, GOOD_ROW, bad))

    assert all(e.startswith("line 3: ") for e in errors)
    assert len(errors) == 6  # minor_name, major_code, minor_code, limit_value, limit_unit, unit


def test_duplicate_category_in_file_is_rejected(tmp_path):
    other_kind = GOOD_ROW.replace("component", "event")

    errors = import_errors(write_csv(tmp_path / "dup.csv", HEADER, GOOD_ROW, other_kind, GOOD_ROW))

    assert errors == ["line 4: component 0101 of GB/T 30428.2 repeats line 2"]


def test_codes_of_one_scheme_have_one_length(tmp_path):
    five = GOOD_ROW.replace("0101", "01010")

    errors = import_errors(write_csv(tmp_path / "len.csv", HEADER, GOOD_ROW, five))

    assert errors == [
        "line 3: minor_code “01010” has 5 digits, but GB/T 30428.2 uses 4-digit codes (line 2)"
    ]


def test_code_length_is_checked_against_stored_categories(tmp_path):
    categories_import(rows_source=write_csv(tmp_path / "a.csv", HEADER, GOOD_ROW))
    five = GOOD_ROW.replace("0101", "01010")

    with pytest.raises(CategoryImportError) as caught:
        categories_import(rows_source=write_csv(tmp_path / "b.csv", HEADER, five))

    assert caught.value.errors == [
        "line 2: minor_code “01010” has 5 digits, but GB/T 30428.2 uses 4-digit codes "
        "(the stored categories)"
    ]
    assert Category.objects.count() == 1


def test_one_major_class_has_one_name(tmp_path):
    renamed = GOOD_ROW.replace("0101,上水井盖", "0102,污水井盖").replace("公用设施", "公共设施")

    errors = import_errors(write_csv(tmp_path / "major.csv", HEADER, GOOD_ROW, renamed))

    assert errors == ["line 3: major_name “公共设施” differs from “公用设施” (line 2)"]


def test_header_must_name_the_required_columns(tmp_path):
    header = HEADER.replace(",limit_unit", "").replace("urgency", "urgency,notes")

    errors = import_errors(write_csv(tmp_path / "header.csv", header, GOOD_ROW))

    assert errors == ["line 1: missing column(s): limit_unit", "line 1: unknown column(s): notes"]


def test_row_with_too_many_values_is_rejected(tmp_path):
    errors = import_errors(write_csv(tmp_path / "wide.csv", HEADER, GOOD_ROW + ",extra"))

    assert errors == ["line 2: 11 values, but the header has 10 columns"]


def test_not_utf8_and_unknown_format_are_rejected(tmp_path):
    latin = tmp_path / "latin.csv"
    latin.write_bytes((HEADER + "\n" + GOOD_ROW + "\n").encode("gb18030"))
    other = write_csv(tmp_path / "rows.txt", HEADER, GOOD_ROW)

    assert import_errors(latin)[0].startswith("The file is not UTF-8 text")
    assert import_errors(other) == ["Cannot tell the file format: use a .csv or .xlsx file."]


# --- XLSX and export round trips -----------------------------------------------------------


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    workbook.save(path)
    return path


def test_xlsx_imports_like_the_csv(tmp_path):
    rows = reference_rows()
    path = write_xlsx(
        tmp_path / "categories.xlsx",
        [list(REQUIRED_COLUMNS)] + [[row[c] for c in REQUIRED_COLUMNS] for row in rows],
    )

    result = categories_import(rows_source=path)
    again = categories_import(rows_source=REFERENCE_CSV)

    assert (result.created, result.schemes_created) == (69, 2)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 69)


def test_xlsx_numeric_limit_and_errors_name_the_row(tmp_path):
    good = GOOD_ROW.split(",")
    good[7] = 2.0  # typed into Excel as a number
    bad = GOOD_ROW.replace("0101", "0102").replace("WATER", "NOPE").split(",")

    with pytest.raises(CategoryImportError) as caught:
        categories_import(
            rows_source=write_xlsx(tmp_path / "bad.xlsx", [HEADER.split(","), good, bad])
        )
    result = categories_import(
        rows_source=write_xlsx(tmp_path / "ok.xlsx", [HEADER.split(","), good])
    )

    assert caught.value.errors == ["row 3: unknown default_unit “NOPE” (no unit has that code)"]
    assert result.created == 1
    assert Category.objects.get().limit_value == 2


def test_xlsx_from_a_binary_stream_needs_no_extension(tmp_path):
    path = write_xlsx(tmp_path / "x.xlsx", [HEADER.split(","), GOOD_ROW.split(",")])

    result = categories_import(rows_source=io.BytesIO(path.read_bytes()), fmt="xlsx")

    assert result.created == 1


def test_export_has_the_import_columns_in_order():
    categories_import(rows_source=REFERENCE_CSV)

    rows = categories_export(scheme="GB/T 47678.5-2026")

    assert len(rows) == 10
    assert list(rows[0]) == list(EXPORT_COLUMNS)
    assert rows[0] == {
        "scheme": "GB/T 47678.5-2026",
        "kind": "matter",
        "major_code": "06",
        "major_name": "市容环境",
        "minor_code": "06010",
        "minor_name": "暴露垃圾",
        "default_unit": "SANI",
        "limit_value": "4",
        "limit_unit": "working_hours",
        "urgency": "normal",
        "filing_conditions": "",
        "closing_conditions": "",
        "public": "yes",
    }


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_reimports_unchanged(tmp_path, fmt):
    categories_import(rows_source=REFERENCE_CSV)
    hidden = Category.objects.filter(code="0101").update(
        filing_conditions="=井盖缺失", closing_conditions="已修复", public=False
    )
    path = tmp_path / f"export.{fmt}"

    categories_write(rows=categories_export(), target=path, fmt=fmt)
    Category.objects.update(public=True)  # the file must bring the flag back
    result = categories_import(rows_source=path)

    assert (result.created, result.updated, result.unchanged) == (0, hidden, 69 - hidden)
    assert set(Category.objects.filter(code="0101").values_list("filing_conditions", "public")) == {
        ("=井盖缺失", False)
    }
    assert Category.objects.filter(public=False).count() == hidden


# --- management commands -------------------------------------------------------------------


def test_import_command_prints_the_counts():
    out = io.StringIO()

    call_command("import_categories", str(REFERENCE_CSV), stdout=out)

    assert out.getvalue().strip() == (
        "Imported categories.csv: 69 rows — 69 created, 0 updated, 0 unchanged; 2 schemes created"
    )


def test_import_command_fails_with_every_error_and_imports_nothing(tmp_path):
    bad = GOOD_ROW.replace("WATER", "NOWHERE")
    path = write_csv(tmp_path / "bad.csv", HEADER, GOOD_ROW.replace("0101", "0102"), bad)
    err = io.StringIO()

    with pytest.raises(CommandError, match=r"1 error in bad\.csv; nothing was imported"):
        call_command("import_categories", str(path), stdout=io.StringIO(), stderr=err)

    assert "line 3: unknown default_unit “NOWHERE”" in err.getvalue()
    assert Category.objects.count() == 0


def test_import_command_reports_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_categories", str(tmp_path / "missing.csv"))


def test_export_command_writes_csv_to_stdout():
    categories_import(rows_source=REFERENCE_CSV)
    out = io.StringIO()

    call_command("export_categories", "--scheme", "GB/T 47678.5-2026", stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0] == ",".join(EXPORT_COLUMNS)
    assert (
        lines[1]
        == "GB/T 47678.5-2026,matter,06,市容环境,06010,暴露垃圾,SANI,4,working_hours,normal,,,yes"
    )
    assert len(lines) == 11


def test_export_command_writes_xlsx_that_reimports(tmp_path):
    categories_import(rows_source=REFERENCE_CSV)
    path = tmp_path / "all.xlsx"

    call_command("export_categories", str(path), stderr=io.StringIO())
    result = categories_import(rows_source=path)

    assert result.unchanged == 69


def test_export_command_rejects_an_unknown_scheme():
    with pytest.raises(CommandError, match="No categories in scheme"):
        call_command("export_categories", "--scheme", "NOPE", stdout=io.StringIO())


@pytest.mark.parametrize("command", ["import_categories", "export_categories"])
def test_command_help_renders(command, capsys):
    with pytest.raises(SystemExit) as caught:
        call_command(command, "--help")

    assert caught.value.code == 0
    assert "--format" in capsys.readouterr().out
