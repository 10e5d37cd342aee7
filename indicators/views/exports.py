"""Tables as CSV and XLSX (the same rows the page shows, so the same access rules)."""

from __future__ import annotations

import csv
import io

from django.http import HttpResponse

from ..exports import table_rows, xlsx_bytes


def table_response(table: dict, fmt: str, name: str, selection) -> HttpResponse:
    rows = table_rows(table)
    filename = f"indicators-{name}-{selection.period.key}".replace("..", "_")
    if fmt == "xlsx":
        response = HttpResponse(
            xlsx_bytes([(name, rows)]),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
        return response
    buffer = io.StringIO()
    buffer.write("\ufeff")  # Excel opens UTF-8 CSV with Chinese correctly
    csv.writer(buffer).writerows(rows)
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response
