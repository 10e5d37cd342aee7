"""Rates per API key and per anonymous address (429 + Retry-After), and the 413/415 bodies."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from workflows.integrations.keys import api_key_issue

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def rates(settings):
    """Two requests a minute, so the third is refused; a clean throttle history per test."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"apikey": "2/min", "anon": "2/min"},
    }
    cache.clear()
    yield
    cache.clear()


def key_client(admin_user, name: str = "12345 platform") -> APIClient:
    _record, key = api_key_issue(actor=admin_user, name=name, scopes=["cases:read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def assert_throttled(response) -> None:
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    error = response.json()["error"]
    assert error["code"] == "throttled"
    assert error["message"]


def test_an_api_key_past_its_rate_gets_429_with_retry_after(demo, admin_user):
    client = key_client(admin_user)
    for _ in range(2):
        assert client.get("/api/v1/categories/").status_code == 200

    assert_throttled(client.get("/api/v1/categories/"))


def test_each_api_key_has_its_own_budget(demo, admin_user):
    first, second = key_client(admin_user, "a"), key_client(admin_user, "b")
    for _ in range(2):
        assert first.get("/api/v1/categories/").status_code == 200
    assert first.get("/api/v1/categories/").status_code == 429

    assert second.get("/api/v1/categories/").status_code == 200


def test_anonymous_clients_are_limited_on_the_token_endpoint(demo):
    client = APIClient()
    wrong = {"username": "intake", "password": "wrong"}
    for _ in range(2):
        assert client.post("/api/v1/auth/token/", wrong, format="json").status_code == 400

    assert_throttled(client.post("/api/v1/auth/token/", wrong, format="json"))


def test_staff_tokens_are_not_throttled(api):
    client = api("supervisor")  # its token request is the one anonymous request so far
    for _ in range(5):
        assert client.get("/api/v1/categories/").status_code == 200


def test_a_body_over_the_upload_limit_is_413(api, settings, demo):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 200
    data = {"category": demo.garbage.pk, "description": "x" * 500}

    response = api("inspector").post("/api/v1/cases/", data, format="json")

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"


def test_a_body_over_the_upload_limit_with_an_idempotency_key_is_413(api, settings, demo):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 200
    data = {"category": demo.garbage.pk, "description": "x" * 500}

    response = api("inspector").post(
        "/api/v1/cases/", data, format="json", headers={"Idempotency-Key": "big"}
    )

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"


def test_an_unsupported_media_type_is_415_in_the_error_shape(api):
    response = api("inspector").post("/api/v1/cases/", b"category=1", content_type="text/plain")

    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
