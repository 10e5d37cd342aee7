"""`{{ value|when }}`: a datetime (or an ISO 8601 string of one, as event payloads hold) as
local, readable time (cityops.display)."""

from django import template

from cityops import display

register = template.Library()


@register.filter
def when(value) -> str:
    return display.when(value)
