"""`{% sla_badge task %}` / `{% sla_badge case %}`: the SLA state as a coloured tag."""

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from ..models import Case
from ..sla.state import case_sla, task_sla

register = template.Library()

LABELS = {
    "on_track": _("on track"),
    "at_risk": _("at risk"),
    "overdue": _("overdue"),
    "paused": _("paused"),
    "met": _("met"),
    "missed": _("missed"),
}


@register.simple_tag
def sla_badge(obj) -> str:
    now = timezone.now()
    snapshot = case_sla(obj, now) if isinstance(obj, Case) else task_sla(obj, now)
    if snapshot.state is None:
        return ""
    return format_html(
        '<span class="tag {}" title="{}%">{} · {}%</span>',
        snapshot.state,
        snapshot.used_percent,
        LABELS[snapshot.state],
        snapshot.used_percent,
    )
