"""Uploads are decoded and re-encoded (a polyglot is refused, metadata is dropped, names are
random) and photos are served only to those who may see the case (access.can_view_photo)."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from tests.images import image_bytes
from workflows.models import Attachment, Case, CaseEvent, CaseStatus

pytestmark = pytest.mark.django_db

POLYGLOT = (
    b"\x89PNG\r\n\x1a\n"
    + b"<html><script>fetch('/api/v1/tasks/').then(r=>r.text()).then(alert)</script></html>"
)


def _exif_jpeg(size=(64, 48)) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SpyCam Inc."  # Make
    exif[0x0110] = "Model X"  # Model
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to show upright
    exif[0x8825] = {1: "N", 2: (31.0, 14.0, 0.0)}  # GPSInfo
    return image_bytes("JPEG", size=size, exif=exif.tobytes(), comment=b"secret comment")


def _report(api, demo, *photos):
    return api("inspector").post(
        "/api/v1/cases/",
        {"category": demo.garbage.pk, "description": "d", "grid": demo.grid, "photos": photos},
        format="multipart",
    )


def test_a_png_html_polyglot_named_html_is_refused_and_nothing_is_saved(demo, api, png):
    polyglot = SimpleUploadedFile("x.html", POLYGLOT, content_type="image/png")
    response = _report(api, demo, png(), polyglot)
    assert response.status_code == 400
    assert "x.html" in response.json()["error"]["fields"]["photos"][0]
    assert not Case.objects.exists() and not CaseEvent.objects.exists()
    assert not Attachment.objects.exists()


def test_gif_and_truncated_images_are_refused(demo, api):
    gif = SimpleUploadedFile("a.gif", image_bytes("GIF"), content_type="image/gif")
    truncated = SimpleUploadedFile("b.png", image_bytes("PNG", size=(64, 64))[:60])
    response = _report(api, demo, gif, truncated)
    assert response.status_code == 400
    assert len(response.json()["error"]["fields"]["photos"]) == 2


def test_too_many_pixels_are_refused(demo, api, settings):
    settings.CITYOPS_PHOTO_MAX_PIXELS = 100 * 100
    big = SimpleUploadedFile("big.png", image_bytes("PNG", size=(101, 100)))
    assert _report(api, demo, big).status_code == 400


def test_a_real_photo_is_reencoded_without_metadata_under_a_random_name(demo, api, settings):
    settings.CITYOPS_PHOTO_MAX_SIDE = 32
    original = _exif_jpeg()
    assert Image.open(io.BytesIO(original)).getexif()[0x010F] == "SpyCam Inc."
    response = _report(api, demo, SimpleUploadedFile("holiday<script>.html", original))
    assert response.status_code == 201, response.content
    photo = Attachment.objects.get()
    assert photo.file.name.endswith(".jpg") and "holiday" not in photo.file.name
    assert len(photo.file.name.rsplit("/", 1)[1]) == 32 + 4  # 128 random bits, hex
    stored = photo.file.read()
    assert b"SpyCam" not in stored and b"secret comment" not in stored
    image = Image.open(io.BytesIO(stored))
    assert image.format == "JPEG"
    assert not image.getexif() and "exif" not in image.info and "comment" not in image.info
    assert image.size == (24, 32)  # turned upright (orientation 6), then shrunk to 32 px
    assert photo.content_type == "image/jpeg" and photo.size == len(stored)


def test_photos_are_served_only_to_those_who_may_see_the_case(demo, api, png, users):
    case = _report(api, demo, png("before.png")).json()
    photo = Attachment.objects.get()
    api_url = f"/api/v1/photos/{photo.pk}/"
    assert [p["url"] for p in case["photos"]] == [f"http://testserver{api_url}"]

    response = api("inspector").get(api_url)  # the reporter
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert Image.open(io.BytesIO(b"".join(response.streaming_content))).format == "JPEG"

    assert api("handler_water").get(api_url).status_code == 404  # another unit: not theirs
    assert Client().get(api_url).status_code == 404  # nobody
    assert api("inspector").get("/api/v1/photos/999999/").status_code == 404

    page_url = f"/photos/{photo.pk}/"
    browser = Client()
    browser.force_login(users("handler_water"))
    assert browser.get(page_url).status_code == 404
    browser.force_login(users("inspector"))
    assert browser.get(page_url).status_code == 200
    assert Client().get(page_url).status_code == 404
    assert Client().get(f"/media/{photo.file.name}").status_code == 404  # never by path


def test_production_hands_the_file_to_nginx(demo, api, png, settings):
    settings.CITYOPS_MEDIA_ACCEL_REDIRECT = "/protected-media/"
    _report(api, demo, png())
    photo = Attachment.objects.get()
    response = api("inspector").get(f"/api/v1/photos/{photo.pk}/")
    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == f"/protected-media/{photo.file.name}"
    assert response["Content-Type"] == "image/jpeg"
    assert response.content == b""


def test_public_photos_are_the_reporters_of_listed_cases_and_only_when_enabled(
    demo, api, png, settings
):
    case_id = _report(api, demo, png()).json()["id"]
    photo = Attachment.objects.get()
    url = f"/api/v1/photos/{photo.pk}/"
    assert Client().get(url).status_code == 404
    settings.CITYOPS_OPEN311_PUBLIC_PHOTOS = True
    assert Client().get(url).status_code == 200
    Case.objects.filter(pk=case_id).update(status=CaseStatus.CANCELLED)
    assert Client().get(url).status_code == 404


def test_open311_media_url_follows_the_public_photo_rule(demo, api, png, settings):
    case = _report(api, demo, png()).json()
    photo = Attachment.objects.get()
    path = f"/open311/v2/requests/{case['number']}.json"
    assert Client().get(path).json()[0]["media_url"] is None
    settings.CITYOPS_OPEN311_PUBLIC_PHOTOS = True
    media_url = Client().get(path).json()[0]["media_url"]
    assert media_url == f"http://testserver/api/v1/photos/{photo.pk}/"
    assert Client().get(media_url).status_code == 200
