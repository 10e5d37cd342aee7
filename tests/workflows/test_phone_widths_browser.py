"""Nothing runs off a phone's screen (issue 10): every page a supervisor reaches, at 390 px wide
in a real browser, is no wider than the screen (wide tables scroll inside their box)."""

from __future__ import annotations

import re

import pytest

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

PAGES = [
    "/tasks/",
    "/cases/",
    "/cases/new/",
    "/board/",
    "/supervision/",
    "/notifications/",
    "/hotline/",
    "/indicators/",
    "/indicators/analysis/",
    "/indicators/dictionary/",
    "/indicators/bulletin/",
    "/indicators/bottlenecks/",
    "/screen/",
]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_no_page_is_wider_than_a_phone(walk, chromium, live_server, settings, language):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    case = walk.report(description="人行道上暴露垃圾，影响通行" * 4)
    walk.to_handling(case["id"])
    context = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "supervisor")
    page.fill("#id_password", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(re.compile(r"/(tasks|indicators)/$"))
    too_wide = {}
    for url in [*PAGES, f"/cases/{case['id']}/"]:
        response = page.goto(f"{live_server.url}{url}")
        assert response.status == 200, url
        page.wait_for_load_state("networkidle")
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 390:
            too_wide[url] = width
    page.goto(f"{live_server.url}/hotline/query/")  # the citizens' page, logged in or not
    if page.evaluate("document.documentElement.scrollWidth") > 390:
        too_wide["/hotline/query/"] = page.evaluate("document.documentElement.scrollWidth")
    context.close()
    assert too_wide == {}
