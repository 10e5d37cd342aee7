"""Dispatch suggestions in a real browser: the dispatcher sees the suggested units with their
reasons beside the unit choice, takes the first with one click, dispatches, and what was
taken is recorded; the report form suggests categories as the complaint is typed.

Playwright drives Debian's chromium against the live server (skipped only where either is
missing). Set CITYOPS_SHOTS_DIR to also save desktop and 390-px screenshots.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from intelligence.models import SuggestionLog
from workflows.models import Case, Category

SHOTS = os.environ.get("CITYOPS_SHOTS_DIR", "")
pytestmark = pytest.mark.django_db(transaction=True)


def shoot(page, name: str) -> None:
    if not SHOTS:
        return
    folder = Path(SHOTS)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}-desktop.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(folder / f"{name}-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def login(chromium, live_server, username: str):
    context = chromium.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")
    page.click("form button[type=submit]")
    page.wait_for_url(re.compile(r"/tasks/$"))
    return context, page


def _wait_for(check, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    return check()


def test_dispatcher_takes_the_first_suggestion(trained, demo, walk, chromium, live_server):
    lamp = Category.objects.get(scheme=demo.scheme, kind="event", code="0104")  # 道路不洁
    created = walk.report(category=lamp.pk, description="晚上整条街的路灯都不亮，太黑了")
    walk.act("intake", created["id"], "accept")
    walk.act("shiftlead", created["id"], "file")
    task = walk.queued("dispatcher", created["id"])
    walk.claim("dispatcher", task["id"])

    context, page = login(chromium, live_server, "dispatcher")
    try:
        page.goto(f"{live_server.url}/tasks/{task['id']}/")
        card = page.locator(".suggestions")
        first = card.locator("[data-suggest-list] > li").first
        first.wait_for()
        assert "市政处" in first.inner_text()  # MUNI, although the category says SANI
        reasons = first.locator(".suggest-reasons li")
        assert "Words that weighed most" in reasons.first.inner_text()
        assert "路灯" in reasons.first.inner_text()
        similar = first.locator(".reason-similar_case").first.inner_text()
        assert re.search(r"Similar past case \d{4}-\d{6}", similar), similar
        # The routing answer (the category's default unit) is shown beside the model's.
        assert "Routing rules" in card.locator("[data-suggest-rule]").inner_text()
        shoot(page, "dispatch-suggestions")
        first.locator("button", has_text="Take this").click()
        muni = demo.org.units["MUNI"].pk
        assert page.locator("#id_dispatch_unit").input_value() == str(muni)
        assert "chosen" in (first.get_attribute("class") or "")
        page.locator("#outcome-dispatch button[type=submit]").click()
        page.wait_for_load_state()
        log = _wait_for(lambda: SuggestionLog.objects.exclude(taken="").first())
        assert log is not None, "the choice was not recorded"
        assert (log.surface, log.taken, log.chosen) == ("dispatch", "first", "MUNI")
        assert log.case_id == created["id"]
        assert Case.objects.get(pk=created["id"]).responsible_unit_id == muni
    finally:
        context.close()


def test_report_form_suggests_categories_as_one_types(trained, chromium, live_server):
    context, page = login(chromium, live_server, "inspector")
    try:
        page.goto(f"{live_server.url}/cases/new/")
        page.fill("#id_description", "学校门口下水道堵了，污水冒出来")
        first = page.locator(".suggestions [data-suggest-list] > li").first
        first.wait_for()
        assert "下水道堵塞" in first.inner_text()
        first.locator("button").click()
        chosen = page.locator("#id_category option:checked").inner_text()
        assert "下水道堵塞" in chosen
        shoot(page, "report-suggestions")
    finally:
        context.close()
