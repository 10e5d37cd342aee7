"""A real browser on the indicator pages: the supervisor lands on the dashboard, its charts and
the grid map draw, a number opens its cases; the big screen and a self-service view draw too.

Playwright drives Debian's chromium against pytest-django's live server; skipped where
Playwright or chromium is not installed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

sync_api = pytest.importorskip("playwright.sync_api")

from departments.demo import seed_accounts, seed_organisation  # noqa: E402
from indicators.demo import seed_history  # noqa: E402
from workflows.management.commands.seed_demo import DEMO_CATEGORIES, DEMO_SCHEME  # noqa: E402
from workflows.models import CategoryScheme  # noqa: E402
from workflows.services.categories import categories_import  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def city(transactional_db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    org = seed_organisation()
    categories_import(rows_source=DEMO_CATEGORIES)
    org.city.category_scheme = CategoryScheme.objects.get(code=DEMO_SCHEME)
    org.city.save(update_fields=["category_scheme"])
    seed_accounts("pw")
    seed_history(days=45, per_day=(4, 6))
    return org


def _static(route):
    """The live server's thread misses the script prefix of the relative STATIC_URL: serve
    the project's static files (found by the staticfiles finders) to the browser directly."""
    from django.contrib.staticfiles import finders

    path = finders.find(route.request.url.split("/static/", 1)[1].split("?")[0])
    if path is None:
        route.fulfill(status=404)
    else:
        route.fulfill(path=path)


@pytest.fixture
def page(monkeypatch):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        context = browser.new_context(locale="en-US")
        page = context.new_page()
        page.route("**/static/**", _static)
        yield page
        browser.close()


def test_dashboard_map_screen_and_analysis_draw_and_a_number_opens_its_cases(
    city, live_server, page
):
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{live_server.url}/")
    page.fill("#id_username", "supervisor")
    page.fill("#id_password", "pw")
    page.click("form button[type=submit]")
    page.wait_for_url(re.compile(r"/indicators/$"))
    page.goto(f"{live_server.url}/indicators/?period=custom&from=2025-01-01&to=2027-12-31")
    for key in ("trend", "on_time", "mix", "funnel", "map"):
        page.wait_for_selector(f"[data-key={key}] canvas")
    page.click("[data-metric=overdue_share]")  # the map recoloured by overdue share
    page.wait_for_selector("#grid-map canvas")
    page.click(".kpi-card >> nth=0")  # "reported": the cases it counts
    page.wait_for_url(re.compile(r"/indicators/cases/\?count=reported"))
    assert page.locator("a[href^='/cases/']").count() > 0
    page.goto(f"{live_server.url}/screen/")
    page.wait_for_selector("[data-key=map] canvas")
    page.goto(f"{live_server.url}/indicators/analysis/?group=major&chart=pie&ind=reported")
    page.wait_for_selector("[data-key=chart] canvas")
    assert errors == []
