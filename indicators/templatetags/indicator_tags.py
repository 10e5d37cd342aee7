"""Template helpers of the indicator center: the nav gate and the case page's stage bar."""

from django import template

from workflows.access import can_view_kpis

from ..reports import case_stage_times

register = template.Library()


@register.filter
def sees_kpis(user) -> bool:
    return can_view_kpis(user)


@register.inclusion_tag("indicators/_stage_bar.html")
def case_stage_bar(case):
    """The case's own time per stage: waiting before claim and working after it."""
    return {"stages": case_stage_times(case.pk)}
