"""Tables as rows, and rows as an XLSX workbook (openpyxl)."""

from __future__ import annotations

import io

from django.utils.translation import gettext as _


def table_rows(table: dict) -> list[list]:
    head = [_("Name")] + [c["name"] for c in table["columns"]]
    scored = any(r.get("score") is not None for r in table["rows"])
    if scored:
        head += [_("Composite score"), _("Rank")]
    out = [head]
    for row in table["rows"]:
        line = [row["label"]] + [
            (round(c["value"], 2) if c["value"] is not None else "—") for c in row["cells"]
        ]
        if scored:
            line += [row.get("score") if row.get("score") is not None else "—", row.get("rank")]
        out.append(line)
    return out


def xlsx_bytes(sheets: list[tuple[str, list[list]]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets:
        sheet = book.create_sheet(title=title[:31])
        for row in rows:
            sheet.append(row)
        sheet.column_dimensions["A"].width = 28
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
