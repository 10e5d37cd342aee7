"""Map settings for the templates: {% map_attrs %} gives the data- attributes every map
element carries (the grid's URL, the base map's tiles and attribution, MAP_TILE_URL)."""

from __future__ import annotations

from django import template
from django.conf import settings
from django.urls import reverse
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def map_attrs() -> str:
    return format_html(
        'data-grid-url="{}" data-tiles="{}" data-attribution="{}"',
        reverse("api:grid"),
        settings.MAP_TILE_URL,
        settings.MAP_TILE_ATTRIBUTION,
    )
