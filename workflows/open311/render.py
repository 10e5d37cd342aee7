"""GeoReport v2 bodies as JSON or XML: one data structure, two renderings with the same content.

XML follows the spec's examples: a list becomes a root (or parent) element whose children are
named after the item kind (`<services><service>…`), `None` an empty element, booleans
`true`/`false`.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from xml.etree import ElementTree as ET

from django.http import HttpResponse
from django.utils import timezone

FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}

# Child element names of the lists nested inside objects.
ITEM_TAGS = {
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
}


def iso(value: dt.datetime | None) -> str | None:
    """ISO 8601 with the offset, in the local time zone (e.g. 2026-05-01T09:30:00+08:00)."""
    if value is None:
        return None
    return timezone.localtime(value).isoformat(timespec="seconds")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            _fill(ET.SubElement(element, key), child)
    elif isinstance(value, list):
        tag = ITEM_TAGS.get(element.tag, "item")
        for child in value:
            _fill(ET.SubElement(element, tag), child)
    else:
        element.text = _text(value)


def xml_bytes(data: Any, root: str, item: str | None = None) -> bytes:
    """`data` as an XML document: a list under `<root>` as `<item>` children, a dict as `<root>`."""
    element = ET.Element(root)
    if isinstance(data, list):
        for child in data:
            _fill(ET.SubElement(element, item or "item"), child)
    else:
        _fill(element, data)
    return ET.tostring(element, encoding="utf-8", xml_declaration=True)


def render(data: Any, fmt: str, *, root: str, item: str | None = None, status: int = 200):
    """The response in the requested format (`fmt` is one of FORMATS)."""
    if fmt == "xml":
        body = xml_bytes(data, root, item)
    else:
        body = json.dumps(data, ensure_ascii=False).encode()
    return HttpResponse(body, status=status, content_type=FORMATS[fmt])


def render_error(status: int, description: str, fmt: str = "json"):
    """The spec's error body: `[{"code": 400, "description": "…"}]` / `<errors><error>…`."""
    data = [{"code": status, "description": str(description)}]
    return render(
        data, fmt if fmt in FORMATS else "json", root="errors", item="error", status=status
    )
