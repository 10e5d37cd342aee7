"""The dispatcher's map frames the case and its open neighbours (issue 10): in a real browser the
nearby map zooms out from the case until the neighbours are in view, instead of staying on the
case's own grid cell with the neighbours off screen."""

from __future__ import annotations

import re

import pytest

from workflows.models import CaseTask

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_dispatcher_sees_the_neighbours_on_the_map(walk, chromium, live_server, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    case = walk.report(grid="D01-S01-C1-G1", description="井盖缺失")
    neighbour = walk.report(lat=31.2105, lng=121.4105, grid="", description="垃圾 近处")
    walk.to_handling(neighbour["id"])  # open, at SANI, about 800 m away
    walk.act("intake", case["id"], "accept")
    walk.act("shiftlead", case["id"], "file")
    task = CaseTask.objects.get(case_id=case["id"], stage="dispatch", status="open")

    context = chromium.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/")
    page.fill("#id_username", "dispatcher")
    page.fill("#id_password", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(re.compile(r"/tasks/$"))
    page.goto(f"{live_server.url}/tasks/{task.pk}/")
    nearby = page.locator("[data-map=nearby][data-framed]")
    nearby.wait_for(timeout=15000)
    assert float(nearby.get_attribute("data-framed")) < 16  # zoomed out from the case
    box = nearby.bounding_box()
    dots = [
        dot.bounding_box()
        for dot in nearby.locator("path.leaflet-interactive[fill='#0b6bcb'][stroke='#fff']").all()
    ]
    inside = [
        d
        for d in dots
        if d
        and d["width"]
        and box["x"] <= d["x"] <= box["x"] + box["width"]
        and box["y"] <= d["y"] <= box["y"] + box["height"]
    ]
    assert inside, "the open neighbour is not drawn inside the map"
    context.close()
