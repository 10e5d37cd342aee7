"""import_history: closed, read-only historical cases, all or nothing, idempotent by
external_id, CSV (UTF-8 or GB18030) or XLSX."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from cityops.tabular import RowsRejected
from indicators.models import Fact
from intelligence.models import ImportedCase
from intelligence.services.history import history_import
from workflows.models import Case, CaseTask

from .conftest import COLUMNS, history_rows, write_csv

pytestmark = pytest.mark.django_db


def test_rows_become_closed_imported_cases_without_tasks(demo, history_file):
    result = history_import(path=history_file)
    assert (result.created, result.unchanged) == (200, 0)
    imported = Case.objects.filter(pk__in=result.case_ids)
    assert imported.count() == 200
    assert set(imported.values_list("status", "stage")) == {("closed", "ended")}
    assert not imported.filter(process__isnull=False).exists()
    assert not CaseTask.objects.filter(case__in=imported).exists()  # no task list shows them
    first = imported.order_by("created_at").first()
    assert first.responsible_unit.code == "SANI"
    assert first.category.code == "0102"
    marker = ImportedCase.objects.get(case=first)
    assert (marker.external_id, marker.where) == ("LEGACY-00000", "line 2")
    # The indicator center counts them as reported.
    assert Fact.objects.filter(case_id__in=result.case_ids, kind="reported").count() == 200


def test_importing_again_changes_nothing(demo, history_file):
    history_import(path=history_file)
    again = history_import(path=history_file)
    assert (again.created, again.unchanged) == (0, 200)
    assert ImportedCase.objects.count() == 200


def test_bad_rows_name_their_lines_and_nothing_is_imported(demo, tmp_path):
    rows = history_rows(per_unit=3)
    rows[1]["unit"] = "NOPE"  # line 3
    rows[2]["reported_at"] = "yesterday"  # line 4
    rows[3]["text"] = "   "  # line 5
    rows[4]["category"] = "GB/T 30428.2/event/9999"  # line 6
    path = write_csv(tmp_path / "bad.csv", rows)
    before = Case.objects.count()
    with pytest.raises(RowsRejected) as caught:
        history_import(path=path)
    errors = "\n".join(caught.value.errors)
    assert "line 4: reported_at is not a date and time" in errors
    assert "line 5: the text is empty" in errors
    assert Case.objects.count() == before
    # The references are checked once every row has its shape.
    rows[2]["reported_at"], rows[3]["text"] = "2026-01-05 10:00", "路灯不亮"
    path = write_csv(tmp_path / "bad2.csv", rows)
    with pytest.raises(RowsRejected) as caught:
        history_import(path=path)
    errors = "\n".join(caught.value.errors)
    assert "line 3: no unit has the code “NOPE”" in errors
    assert "line 6: no category “GB/T 30428.2/event/9999”" in errors
    assert Case.objects.count() == before
    assert not ImportedCase.objects.exists()


def test_the_command_prints_the_errors_and_fails(demo, tmp_path):
    rows = history_rows(per_unit=2)
    rows[0]["unit"] = "NOPE"
    path = write_csv(tmp_path / "bad.csv", rows)
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_history", str(path), stderr=err)
    assert "line 2: no unit has the code “NOPE”" in err.getvalue()
    assert not ImportedCase.objects.exists()


def test_gb18030_csv_and_missing_category(demo, tmp_path):
    rows = history_rows(per_unit=1)
    for row in rows:
        row["category"], row["external_id"] = "", ""
    rows[0]["lat"], rows[0]["lng"] = "91", "116.4"
    path = write_csv(tmp_path / "legacy.csv", rows, encoding="gb18030")
    with pytest.raises(RowsRejected, match="line 2: lat must be a number between -90 and 90"):
        history_import(path=path)
    rows[0]["lat"], rows[0]["lng"] = "", ""
    path = write_csv(tmp_path / "legacy.csv", rows, encoding="gb18030")
    out = io.StringIO()
    call_command("import_history", str(path), stdout=out)
    assert "4 created" in out.getvalue()
    texts = set(Case.objects.filter(status="closed").values_list("description", flat=True))
    assert {r["text"] for r in rows} <= texts
    marker = ImportedCase.objects.first()
    assert marker.has_category is False
    assert marker.case.category.is_active is False  # the placeholder is never offered


def test_xlsx(demo, tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(COLUMNS)
    for row in history_rows(per_unit=2):
        sheet.append([row[c] for c in COLUMNS])
    sheet.append(["2026-02-01 08:00", "", "SANI", "", "", "", "", "X-1"])
    path = tmp_path / "history.xlsx"
    book.save(path)
    with pytest.raises(RowsRejected, match="row 10: the text is empty"):
        history_import(path=path)
    sheet.delete_rows(10)
    book.save(path)
    assert history_import(path=path).created == 8
