"""`{% board_intelligence user %}`: the SLA board's panel of tasks predicted to breach and
active hotspots (the full lists are the intelligence pages)."""

from __future__ import annotations

from django import template
from django.conf import settings

from ..presenters import hotspot_rows, prediction_rows
from ..selectors import hotspots, predicted_breaches

register = template.Library()

PANEL_ROWS = 5


@register.inclusion_tag("intelligence/_board_panel.html")
def board_intelligence(user) -> dict:
    level = settings.CITYOPS_BREACH_WARN_PROBABILITY
    predicted = predicted_breaches(user, minimum=level, limit=PANEL_ROWS)
    return {
        "predicted": prediction_rows(predicted),
        "hotspots": hotspot_rows(hotspots(user, active_only=True, limit=PANEL_ROWS)),
        "level": round(100 * level),
    }
