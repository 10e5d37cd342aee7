"""The composite score (综合评价): a weighted sum of rates, weights per city (kpi.md's preset
by default), and rankings of units and areas by it."""

from __future__ import annotations

from ..models import CompositeWeights, Indicator
from ..registry import composite_preset
from .values import Selection, indicator_values


def composite_terms(city_id: int | None) -> list[dict]:
    row = CompositeWeights.objects.filter(city_id=city_id).first() if city_id else None
    return row.terms if row else composite_preset()


def composite_score(values: dict, terms: list[dict]) -> float | None:
    """Σ weight × rate (or 1 − rate when inverted), rates as fractions; None ("—") when a rate
    it needs has a zero denominator."""
    total = 0.0
    for term in terms:
        value = values.get(term["indicator"])
        if value is None:
            return None
        rate = value / 100
        total += term["weight"] * ((1 - rate) if term.get("invert") else rate)
    return round(total, 2)


def ranking(selection: Selection, group: str, city_id: int | None) -> list[dict]:
    """Rows {key, score, values} for each group value, best score first ("—" last)."""
    terms = composite_terms(city_id)
    codes = [t["indicator"] for t in terms]
    indicators = list(Indicator.objects.filter(code__in=codes))
    values, _raw = indicator_values(indicators, selection, group)
    rows = [
        {"key": key, "score": composite_score(v, terms), "values": v}
        for key, v in values.items()
        if key is not None
    ]
    rows.sort(key=lambda r: (r["score"] is None, -(r["score"] or 0)))
    for rank, row in enumerate(rows, 1):
        row["rank"] = rank if row["score"] is not None else None
    return rows
