"""A real browser walks one 12345 order: an agent takes the call and dispatches it to a lead and
two assisting units, each unit works it, the lead replies, the callback is unsatisfied through
the unit's fault, the lead re-handles it and the second callback closes it; the citizen then
looks it up on the public page. Screenshots go to CITYOPS_SHOTS when set."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.utils import translation

sync_api = pytest.importorskip("playwright.sync_api")

from departments.demo import seed_accounts, seed_organisation  # noqa: E402
from workflows.models import CaseStatus, HotlineOrder  # noqa: E402
from workflows.services.hotline import hotline_categories_load  # noqa: E402

from .test_hotline import HOTLINE_CSV  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def city(transactional_db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.CITYOPS_HOTLINE_CALLBACK_NEXT_DAY = False
    seed_organisation()
    seed_accounts("pw")
    hotline_categories_load(HOTLINE_CSV)


@pytest.fixture
def browser(monkeypatch):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


def _shot(page, name: str) -> None:
    folder = os.environ.get("CITYOPS_SHOTS")
    if folder:
        page.screenshot(path=f"{folder}/{name}.png", full_page=True)


def _as(browser, live_server, username: str):
    page = browser.new_context(locale="en-US").new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")
    page.click("form button[type=submit]")
    page.wait_for_url(re.compile(r"/tasks/$"))
    return page


def _submit(page, task_stage_text: str, outcome_label: str, fill=None) -> None:
    """Open the order page's task card of that stage, the outcome (named by its message id,
    shown as the English catalogue has it), fill it, submit."""
    with translation.override("en"):
        outcome_label = translation.gettext(outcome_label)
    card = page.locator(".task-actions", has_text=task_stage_text).first
    details = card.locator("details", has=page.locator(f"summary:text-is('{outcome_label}')"))
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    if fill:
        fill(details)
    details.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator(".messages li.success").count() == 1, page.content()[:3000]


def test_lead_and_two_assisting_units_to_rehandling_in_a_browser(city, live_server, browser):
    agent = _as(browser, live_server, "agent1")
    agent.click("nav >> text=12345 hotline")
    agent.fill("#id_caller_name", "张三")
    agent.fill("#id_caller_phone", "13812341234")
    agent.select_option("#id_request_type", "complaint")
    agent.select_option("#id_category", label="010101 城乡建设 / 市容环卫 / 垃圾清运不及时")
    agent.fill("#id_text", "垃圾三天没人清运，路面也坏了")
    agent.select_option("#id_reply_channel", "sms")
    agent.click("#take-call button[type=submit]")
    agent.wait_for_url(re.compile(r"/hotline/orders/\d+/$"))
    order_url = agent.url
    order = HotlineOrder.objects.get()
    _shot(agent, "browser-1-intake")

    def dispatch(d):
        d.locator("select[name=lead_unit]").select_option("SANI")
        d.locator("input[name=assist_units][value=MUNI]").check()
        d.locator("input[name=assist_units][value=ENF]").check()

    _submit(agent, "Hotline intake", "Dispatch (派单)", dispatch)

    units = {
        u: _as(browser, live_server, u) for u in ("handler_sani", "handler_muni", "handler_enf")
    }
    for name, page in units.items():
        page.goto(order_url)
        stage = "Sign-for, lead unit" if name == "handler_sani" else "Sign-for, assisting unit"
        _submit(page, stage, "Sign for it (签收)")
    assert "13812341234" not in units["handler_muni"].content()  # masked for assisting units
    assert "138****1234" in units["handler_muni"].content()
    for name in ("handler_muni", "handler_enf"):
        _submit(
            units[name],
            "Assisting feedback",
            "Give feedback to the lead unit (协办反馈)",
            lambda d, n=name: d.locator("textarea[name=feedback]").fill(f"{n}: done"),
        )
    _shot(units["handler_sani"], "browser-2-lead-before-reply")
    units["handler_sani"].goto(order_url)

    def reply(d):
        d.locator("textarea[name=reply]").fill("已清运并修复路面")
        d.locator("select[name=reply_contact]").select_option("phone")
        d.locator("select[name=reply_result]").select_option("solved")

    _submit(units["handler_sani"], "Handling and reply", "Reply to the citizen (答复)", reply)
    agent.goto(order_url)

    def unsatisfied(d):
        d.locator("textarea[name=notes]").fill("路面仍未修好")
        d.locator("input[name=unit_fault]").check()

    _submit(agent, "Callback", "Unsatisfied (不满意)", unsatisfied)
    units["handler_sani"].goto(order_url)
    _shot(units["handler_sani"], "browser-3-rehandle")
    _submit(units["handler_sani"], "Re-handling", "Reply to the citizen (答复)", reply)
    agent.goto(order_url)
    _submit(agent, "Callback", "Basically satisfied (基本满意)")
    _shot(agent, "browser-4-closed")
    order.refresh_from_db()
    assert order.case.status == CaseStatus.CLOSED and order.rehandle_count == 1

    citizen = browser.new_context(locale="en-US").new_page()
    citizen.goto(f"{live_server.url}/hotline/query/")
    citizen.fill("#id_number", order.case.number)
    citizen.fill("#id_code", order.query_code)
    citizen.click("#query-form button[type=submit]")
    citizen.wait_for_load_state()
    assert "已清运并修复路面" in citizen.content() and "张三" not in citizen.content()
    _shot(citizen, "browser-5-public")
