"""The clerks' day in a real browser, with no typed URL: each person opens the site, logs in,
and reaches every step by clicking from where they land. An inspector reports; intake accepts;
the shift leader files; the dispatcher dispatches; the handler handles; the inspector's check
fails and the rework is in the handler's inbox without claiming; it passes; the case closes.

Playwright drives Debian's chromium against pytest-django's live server. Skipped only where
chromium (or the Playwright package) is missing. Set CITYOPS_SHOTS_DIR to also save
screenshots of the pages on the way, desktop and 390 px wide.
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from pathlib import Path

import pytest

from workflows.models import Case, CaseEvent, CaseTask

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
SHOTS = os.environ.get("CITYOPS_SHOTS_DIR", "")

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def session(chromium, live_server, settings):
    """`with session("intake") as page:` a fresh browser window, the site opened at its
    address and the person logged in: the page is where they land."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

    @contextmanager
    def open_as(username: str):
        context = chromium.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.goto(f"{live_server.url}/")
        page.fill("#id_username", username)
        page.fill("#id_password", "pw")
        page.click("form button[type=submit]")
        page.wait_for_url(re.compile(r"/tasks/$"))
        try:
            yield page
        finally:
            context.close()

    return open_as


def shoot(page, name: str) -> None:
    """Desktop and phone (390 px) screenshots when CITYOPS_SHOTS_DIR is set."""
    if not SHOTS:
        return
    folder = Path(SHOTS)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}-desktop.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(folder / f"{name}-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def take_from_queue(page, case: Case, outcome: str, shot: str = "") -> None:
    """From the inbox the person lands on: the queue count, the queue, claim and open, one
    outcome; they land on their next work."""
    assert page.locator("#count-queue").inner_text() == "1"
    if shot:
        shoot(page, f"{shot}-inbox")
    page.click("main >> text=Open the queue")
    row = page.locator("table.tasks tr", has_text=case.number)
    if shot:
        shoot(page, f"{shot}-queue")
    row.locator("button", has_text="Claim and open").click()
    page.wait_for_url(re.compile(r"/tasks/\d+/$"))
    if shot:
        shoot(page, f"{shot}-task")
    page.locator(f"#outcome-{outcome} button[type=submit]").click()
    page.wait_for_load_state()
    assert "No more tasks for now." in page.locator(".messages").inner_text()


def test_the_clerk_flows_run_by_clicking_alone(demo, session):
    with session("inspector") as page:
        page.click("nav >> text=Report a case")
        page.select_option("#id_category", value=str(demo.garbage.pk))
        page.fill("#id_description", "人行道上暴露垃圾 Garbage piled up at the corner")
        page.select_option("#id_grid", value=demo.grid)
        page.fill("#id_address", "1 Donghua Road")
        page.set_input_files(
            "#id_photos", files=[{"name": "before.png", "mimeType": "image/png", "buffer": PNG}]
        )
        page.click("main form button[type=submit]")
        page.wait_for_url(re.compile(r"/cases/\d+/$"))
    case = Case.objects.get()

    with session("intake") as page:
        take_from_queue(page, case, "accept", shot="intake")
    with session("shiftlead") as page:
        take_from_queue(page, case, "file")
    with session("dispatcher") as page:
        take_from_queue(page, case, "dispatch", shot="dispatcher")
    case.refresh_from_db()
    assert (case.stage, case.responsible_unit.code) == ("handling", "SANI")

    def handle(page, result: str) -> None:
        page.fill("#id_done_result", result)
        page.set_input_files(
            "#id_done_photos", files=[{"name": "after.png", "mimeType": "image/png", "buffer": PNG}]
        )
        page.locator("#outcome-done button[type=submit]").click()
        page.wait_for_load_state()

    with session("handler_sani") as page:
        page.click("main >> text=Open the queue")
        page.locator("table.tasks tr", has_text=case.number).locator("button").click()
        page.wait_for_url(re.compile(r"/tasks/\d+/$"))
        handle(page, "已清理 Cleaned")

    with session("inspector") as page:
        page.click("main >> text=Open the queue")
        page.locator("table.tasks tr", has_text=case.number).locator("button").click()
        page.wait_for_url(re.compile(r"/tasks/\d+/$"))
        page.fill("#id_fail_reason", "仍有垃圾 Still dirty")
        page.locator("#outcome-fail button[type=submit]").click()
        page.wait_for_load_state()

    rework = CaseTask.objects.get(case=case, stage="handling", status="claimed")
    with session("handler_sani") as page:
        # The rework is already in the inbox where the handler lands: open it, no claiming.
        assert page.locator("#count-inbox").inner_text() == "1"
        shoot(page, "handler-rework-inbox")
        row = page.locator("table.tasks tr", has_text=case.number)
        assert row.locator("button", has_text="Claim").count() == 0
        row.locator("a.btn", has_text="Open").click()
        page.wait_for_url(re.compile(rf"/tasks/{rework.pk}/$"))
        handle(page, "再次清理 Cleaned again")

    with session("inspector") as page:
        take_from_queue(page, case, "pass")
    with session("shiftlead") as page:
        take_from_queue(page, case, "close")

    case.refresh_from_db()
    assert (case.status, case.rework_count) == ("closed", 1)
    claims = CaseEvent.objects.filter(task=rework, action="claim")
    assert not claims.exists()  # the handler never claimed the rework
    assert CaseEvent.objects.filter(task=rework, action="rework_assign").exists()
