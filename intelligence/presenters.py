"""What the pages show of predictions and hotspots: the row, its reason, its links."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone

from .explain import breach_reason, hotspot_reason, percent
from .models import BreachPrediction, HotspotAlert


@dataclass(frozen=True)
class PredictionRow:
    prediction: BreachPrediction
    percent: int
    reason: str


@dataclass(frozen=True)
class HotspotRow:
    alert: HotspotAlert
    reason: str
    cases_url: str


def prediction_rows(predictions: list[BreachPrediction]) -> list[PredictionRow]:
    return [
        PredictionRow(
            p,
            percent(p.probability),
            breach_reason(p, unit=p.unit, category=p.case.category, stage=p.task.stage),
        )
        for p in predictions
    ]


def cases_url(alert: HotspotAlert) -> str:
    """The case search filtered to the surge: its category, its street, its days."""
    query = {
        "category": alert.category_id,
        "area": alert.area.code,
        "reported_after": timezone.localdate(alert.window_start).isoformat(),
        "reported_before": timezone.localdate(alert.last_seen_at).isoformat(),
    }
    return f"{reverse('workflows:cases')}?{urlencode(query)}"


def hotspot_rows(alerts: list[HotspotAlert]) -> list[HotspotRow]:
    return [HotspotRow(a, hotspot_reason(a), cases_url(a)) for a in alerts]
