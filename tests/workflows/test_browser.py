"""A real browser on the pages: an inspector logs in and reports a case with a photo.

Playwright drives Debian's chromium against pytest-django's live server; skipped where
Playwright or chromium is not installed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

sync_api = pytest.importorskip("playwright.sync_api")

from departments.demo import seed_accounts, seed_organisation  # noqa: E402
from tests.images import png_bytes  # noqa: E402
from workflows.management.commands.seed_demo import DEMO_CATEGORIES, DEMO_SCHEME  # noqa: E402
from workflows.models import Case, CategoryScheme  # noqa: E402
from workflows.services.categories import categories_import  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
GRID = "D01-S01-C1-G1"
PNG = png_bytes()  # a real image: uploads are decoded

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def city(transactional_db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    org = seed_organisation()
    categories_import(rows_source=DEMO_CATEGORIES)
    org.city.category_scheme = CategoryScheme.objects.get(code=DEMO_SCHEME)
    org.city.save(update_fields=["category_scheme"])
    seed_accounts("pw")
    return org


@pytest.fixture
def page(chromium):
    context = chromium.new_context(locale="en-US")
    yield context.new_page()
    context.close()


def test_an_inspector_logs_in_and_reports_a_case(city, live_server, page):
    page.goto(f"{live_server.url}/")
    page.fill("#id_username", "inspector")
    page.fill("#id_password", "pw")
    page.click("form button[type=submit]")
    page.wait_for_url(re.compile(r"/tasks/$"))

    page.click("nav >> text=Report a case")
    page.select_option("#id_category", label="0102 暴露垃圾")
    page.fill("#id_description", "Garbage piled up at the corner")
    page.select_option("#id_grid", value=GRID)
    page.fill("#id_address", "1 Donghua Road")
    assert page.input_value("#id_source") == "inspector"
    page.set_input_files(
        "#id_photos", files=[{"name": "before.png", "mimeType": "image/png", "buffer": PNG}]
    )
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/cases/\d+/$"))

    case = Case.objects.get()
    assert page.url.endswith(f"/cases/{case.pk}/")
    assert case.grid.code == GRID and case.reported_by.username == "inspector"
    assert page.locator("h1").inner_text().startswith(f"Case {case.number}")
    assert page.locator(".photos img").count() == 1
    assert "Reported" in page.locator(".timeline li").first.inner_text()
