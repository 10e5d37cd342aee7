"""Human-readable reasons for predictions and hotspots, in the active language."""

from __future__ import annotations

from django.utils.translation import gettext as _

from workflows.models import Stage


def percent(probability: float) -> int:
    """Whole percent; an estimate short of certainty never reads 100 %."""
    value = round(100 * probability)
    return min(value, 99) if probability < 1 else 100


def duration_text(minutes: float | None, *, working: bool) -> str:
    """ "6.2 working h", "40 working min", "3.0 h" …"""
    if minutes is None:
        return "—"
    if minutes < 60:
        value = {"n": round(minutes)}
        return (_("%(n)d working min") if working else _("%(n)d min")) % value
    value = {"n": f"{minutes / 60:.1f}"}
    return (_("%(n)s working h") if working else _("%(n)s h")) % value


def _typical_part(prediction, unit, category, stage: str) -> str:
    values = {
        "unit": getattr(unit, "code", "") or "",
        "category": getattr(category, "name", "") or "",
        "stage": Stage(stage).label if stage in Stage.values else stage,
        "typical": duration_text(prediction.typical_minutes, working=prediction.working),
        "n": prediction.samples,
    }
    if prediction.typical_minutes is None:
        return _("No finished task to learn from yet.")
    texts = {
        "unit_category_stage": _(
            "%(unit)s usually needs %(typical)s for %(category)s (median of %(n)d past tasks)."
        ),
        "unit_stage": _(
            "%(unit)s usually needs %(typical)s at %(stage)s (median of %(n)d past tasks)."
        ),
        "stage": _("Tasks at %(stage)s usually need %(typical)s (median of %(n)d past tasks)."),
    }
    fallback = _("Past tasks usually needed %(typical)s (median of %(n)d).")
    return texts.get(prediction.basis, fallback) % values


def breach_reason(prediction, *, unit=None, category=None, stage: str = "") -> str:
    """ "SANI usually needs 6.2 working h for 暴露垃圾 (…); 1.5 working h left; 14 open tasks
    (usually 6)." """
    left = _("%(left)s left; %(backlog)d open tasks at the unit (usually %(usual)s).") % {
        "left": duration_text(max(prediction.left_minutes, 0.0), working=prediction.working),
        "backlog": prediction.backlog,
        "usual": f"{prediction.typical_backlog:.0f}",
    }
    return f"{_typical_part(prediction, unit, category, stage)} {left}"


def hotspot_reason(alert) -> str:
    """ "12 reports of 暴露垃圾 in 3 days against 2.1 expected." """
    return _("%(n)d reports of %(category)s in %(days)d days against %(expected)s expected.") % {
        "n": alert.observed,
        "category": alert.category.name,
        "days": alert.window_days,
        "expected": f"{alert.expected:.1f}",
    }
