"""On a phone (390×844, touch), an inspector reports a case with the position taken from the
device (emulated geolocation) and a photo from the camera input, shrunk on the device before
upload (static/cityops/photos.js). Playwright drives Debian's chromium against pytest-django's
live server."""

from __future__ import annotations

import os
import re
import struct
import zlib
from pathlib import Path

import pytest
from django.conf import settings

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")

from tests.workflows.test_browser import city  # noqa: E402, F401  (the demo city, accounts)
from workflows.models import Case  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
# A point inside grid cell D01-S01-C1-G1 (31.20–31.21 N, 121.40–121.41 E) of the demo city.
HERE = {"latitude": 31.2046, "longitude": 121.4071}

pytestmark = pytest.mark.django_db(transaction=True)


def noisy_png(width: int, height: int) -> bytes:
    """A PNG of random pixels: it does not compress, so it is as large as a camera photo."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\0" + os.urandom(width * 3) for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 1))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def phone(monkeypatch, settings):
    # The live server here serves STATIC_ROOT (collectstatic's output, absent in a clone):
    # point it at the repository's own static files (the pages use nothing else).
    settings.STATIC_ROOT = settings.BASE_DIR / "static"
    if not CHROMIUM.exists():
        pytest.skip(f"no browser: {CHROMIUM} is not installed (apt install chromium)")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        context = browser.new_context(
            viewport={"width": 390, "height": 844},
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            locale="en-US",
            geolocation=HERE,
            permissions=["geolocation"],
        )
        yield context.new_page()
        browser.close()


@pytest.mark.usefixtures("city")
def test_an_inspector_reports_from_a_phone_with_position_and_photo(live_server, phone):
    page = phone
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "inspector")
    page.fill("#id_password", "pw")
    page.click("form button[type=submit]")
    page.wait_for_url(re.compile(r"/tasks/$"))
    # nothing runs off the screen
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.click("nav >> text=Report a case")
    page.wait_for_selector("[data-map=report][data-grid-loaded='24']")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.select_option("#id_category", label="0102 暴露垃圾")
    page.fill("#id_description", "Garbage piled up by the bus stop")
    page.click("[data-locate]")
    # The position arrives asynchronously (polled through the protocol: the page's CSP
    # forbids the eval that wait_for_function uses).
    sync_api.expect(page.locator("#id_lat")).to_have_value("31.204600")
    assert page.input_value("#id_lat") == "31.204600"
    assert page.input_value("#id_lng") == "121.407100"
    assert page.input_value("#id_grid") == "D01-S01-C1-G1"  # snapped to its grid cell
    address = page.input_value("#id_address")
    assert address  # filled from the grid cell: area and cell names
    assert page.get_attribute("#id_photos", "capture") == "environment"

    photo = noisy_png(2000, 1800)
    assert len(photo) > settings.CITYOPS_PHOTO_MAX_BYTES  # too large unless shrunk
    page.set_input_files(
        "#id_photos", files=[{"name": "camera.png", "mimeType": "image/png", "buffer": photo}]
    )
    page.wait_for_selector("#id_photos[data-resized='1']")
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/cases/\d+/$"))

    case = Case.objects.get()
    assert (case.lat, case.lng) == (HERE["latitude"], HERE["longitude"])
    assert case.grid.code == "D01-S01-C1-G1" and case.address == address
    (stored,) = case.attachments.all()
    assert stored.content_type == "image/jpeg" and stored.file.name.endswith(".jpg")
    assert stored.size < settings.CITYOPS_PHOTO_MAX_BYTES
    # the case page shows the location on its map, and fits the phone
    page.wait_for_selector("[data-map=case][data-grid-loaded='24']")
    assert page.locator(".photos img").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
