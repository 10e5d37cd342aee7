"""The monthly bulletin (月度通报): city figures with month-on-month changes, composite scores and
rankings of units and areas, the units and categories with most overdue cases; as data for the
HTML page, and as PDF (reportlab, its built-in CID font for Chinese: no system library) and
XLSX. `manage.py indicator_bulletin --month 2026-11` writes the files."""

from __future__ import annotations

import io

from django.utils import timezone
from django.utils.translation import gettext as _

from departments.models import Unit, UnitKind
from workflows.access import KpiScope

from . import reports
from .exports import table_rows, xlsx_bytes
from .selectors.periods import Period
from .selectors.values import Selection

HEADLINE = [
    "reported",
    "filed",
    "handling_due",
    "handled",
    "overdue_unhandled",
    "due_closing",
    "closed",
    "closed_on_time",
    "handling_rate",
    "handled_on_time_rate",
    "closing_rate",
    "closed_on_time_rate",
    "rework_rate",
    "extension_rate",
    "mean_handling_hours",
]
RANK_CODES = [
    "handling_rate",
    "handled_on_time_rate",
    "rework_rate",
    "overdue_unhandled_rate",
    "extension_rate",
]


def bulletin_data(period: Period, scope: KpiScope) -> dict:
    labels = reports.Labels()
    city = Unit.objects.filter(kind=UnitKind.CITY).order_by("code").first()
    city_id = city.pk if city else None
    now = Selection(period, scope_q=scope.fact_q())
    before = Selection(period.previous(), scope_q=scope.fact_q())
    head_now = reports.table(now, None, HEADLINE, labels=labels)
    head_before = reports.table(before, None, HEADLINE, labels=labels)
    headline = []
    for col, cell, prev in zip(
        head_now["columns"],
        head_now["rows"][0]["cells"],
        head_before["rows"][0]["cells"],
        strict=True,
    ):
        change = None
        if cell["value"] is not None and prev["value"] is not None:
            change = cell["value"] - prev["value"]
        unit = "pp" if col["unit"] == "percent" else ""
        digits = 0 if col["unit"] == "count" else 2
        headline.append(
            {
                **col,
                **cell,
                "previous": prev["text"],
                "previous_value": prev["value"],
                "change_value": change,
                "change": "—" if change is None else f"{change:+,.{digits}f} {unit}".strip(),
            }
        )
    units = reports.table(
        now,
        "unit",
        RANK_CODES,
        labels=labels,
        city_id=city_id,
        keys_visible=reports.unit_keys(scope),
    )
    units["rows"].sort(key=lambda r: (r.get("rank") is None, r.get("rank") or 0))
    areas = {}
    for level in ("district", "street"):
        t = reports.table(
            now,
            level,
            RANK_CODES,
            labels=labels,
            city_id=city_id,
            keys_visible=lambda k: scope.everything or scope.sees_area(k),
        )
        t["rows"].sort(key=lambda r: (r.get("rank") is None, r.get("rank") or 0))
        areas[level] = t
    overdue_units = reports.table(
        now,
        "unit",
        ["overdue_unhandled", "handled_late"],
        labels=labels,
        keys_visible=reports.unit_keys(scope),
    )
    overdue_units["rows"] = sorted(
        (r for r in overdue_units["rows"] if r["cells"][0]["value"] or r["cells"][1]["value"]),
        key=lambda r: -((r["cells"][0]["value"] or 0) + (r["cells"][1]["value"] or 0)),
    )[:5]
    overdue_majors = reports.table(
        now, "major", ["overdue_unhandled", "handled_late"], labels=labels
    )
    overdue_majors["rows"] = sorted(
        (r for r in overdue_majors["rows"] if r["key"]),
        key=lambda r: -((r["cells"][0]["value"] or 0) + (r["cells"][1]["value"] or 0)),
    )[:5]
    return {
        "period": period,
        "city": city,
        "generated": timezone.localtime(),
        "headline": headline,
        "units": units,
        "areas": areas,
        "overdue_units": overdue_units,
        "overdue_majors": overdue_majors,
        # (name, version) of each indicator used, in the order of their codes
        "versions": [
            (name, version)
            for _code, name, version in sorted(
                {
                    (c["code"], c["name"], c["version"])
                    for c in head_now["columns"] + units["columns"]
                }
            )
        ],
    }


def _sheet_rows(table: dict, first: str) -> list[list]:
    rows = table_rows(table)
    rows[0][0] = first
    return rows


def _number(value: float | None) -> float | str:
    return "—" if value is None else round(value, 2)


def bulletin_xlsx(data: dict) -> bytes:
    head = [[_("Indicator"), _("This month"), _("Previous month"), _("Change"), _("Version")]]
    # numbers (as the other sheets), so that the figures can be computed with in Excel
    head += [
        [
            h["name"],
            *(_number(h[key]) for key in ("value", "previous_value", "change_value")),
            f"v{h['version']}",
        ]
        for h in data["headline"]
    ]
    return xlsx_bytes(
        [
            (_("Headline"), head),
            (_("Units"), _sheet_rows(data["units"], _("Unit"))),
            (_("Districts"), _sheet_rows(data["areas"]["district"], _("District"))),
            (_("Streets"), _sheet_rows(data["areas"]["street"], _("Street"))),
            (_("Overdue units"), _sheet_rows(data["overdue_units"], _("Unit"))),
            (_("Overdue categories"), _sheet_rows(data["overdue_majors"], _("Category"))),
        ]
    )


def bulletin_pdf(data: dict) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    body = ParagraphStyle("b", fontName="STSong-Light", fontSize=9, leading=13)
    title = ParagraphStyle("t", parent=body, fontSize=16, leading=22)
    h2 = ParagraphStyle("h", parent=body, fontSize=12, leading=18, spaceBefore=8)

    def grid(rows):
        cells = [[Paragraph(str(v if v is not None else "—"), body) for v in r] for r in rows]
        t = Table(cells, repeatRows=1)
        t.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e4e7eb")),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        return t

    period = data["period"]
    city = data["city"].name if data["city"] else ""
    story = [
        Paragraph(f"{city} {_('Monthly bulletin')} {period.key}", title),
        Paragraph(
            f"{period.start:%Y-%m-%d} – {period.end:%Y-%m-%d} · {_('generated')} "
            f"{data['generated']:%Y-%m-%d %H:%M}",
            body,
        ),
        Spacer(1, 4 * mm),
        Paragraph(_("Headline figures"), h2),
        grid(
            [[_("Indicator"), _("This month"), _("Previous month"), _("Change")]]
            + [[h["name"], h["text"], h["previous"], h["change"]] for h in data["headline"]]
        ),
        Paragraph(_("Ranking of handling units (composite score)"), h2),
        grid(_sheet_rows(data["units"], _("Unit"))),
        Paragraph(_("Ranking of districts"), h2),
        grid(_sheet_rows(data["areas"]["district"], _("District"))),
        Paragraph(_("Ranking of streets"), h2),
        grid(_sheet_rows(data["areas"]["street"], _("Street"))),
        Paragraph(_("Units with most overdue cases"), h2),
        grid(_sheet_rows(data["overdue_units"], _("Unit"))),
        Paragraph(_("Categories with most overdue cases"), h2),
        grid(_sheet_rows(data["overdue_majors"], _("Category"))),
        Paragraph(
            _("Indicator versions used: %(v)s")
            % {"v": ", ".join(f"{name} v{v}" for name, v in data["versions"])},
            body,
        ),
    ]
    buffer = io.BytesIO()
    SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=14 * mm,
        rightMargin=14 * mm,
        topMargin=14 * mm,
        bottomMargin=14 * mm,
        title=f"{city} {period.key}",
    ).build(story)
    return buffer.getvalue()
