"""API messages follow the request's language: Chinese by default and with Accept-Language
zh-hans, English with Accept-Language en (never English text in a Chinese answer)."""

import pytest
from django.test import Client

from workflows.integrations.keys import api_key_issue

pytestmark = pytest.mark.django_db


@pytest.fixture
def report(demo):
    def body(**fields) -> dict:
        return {
            "category": demo.garbage.pk,
            "description": "人行道上暴露垃圾",
            "grid": demo.grid,
            "source": "inspector",
            **fields,
        }

    return body


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("zh-hans", "此 Idempotency-Key 已用于另一个不同的请求。"),
        ("en", "This Idempotency-Key was used for a different request."),
    ],
)
def test_the_idempotency_mismatch_speaks_the_request_language(api, report, language, message):
    client = api("inspector")
    headers = {"Idempotency-Key": "k-lang", "Accept-Language": language}
    assert (
        client.post("/api/v1/cases/", report(), format="json", headers=headers).status_code == 201
    )
    other = client.post(
        "/api/v1/cases/", report(description="另一处垃圾"), format="json", headers=headers
    )
    assert other.status_code == 422
    assert other.json()["error"]["message"] == message


@pytest.mark.parametrize(
    ("language", "start"),
    [("zh-hans", "已受理为案卷 "), ("en", "Received as case ")],
)
def test_open311_service_notice_speaks_the_request_language(demo, users, language, start):
    _record, raw = api_key_issue(actor=users("admin"), name="app", scopes=["cases:report"])
    response = Client().post(
        "/open311/v2/requests.json",
        {
            "api_key": raw,
            "service_code": "event-0102",
            "description": "人行道上暴露垃圾",
            "lat": "31.205",
            "long": "121.405",
        },
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert response.status_code == 200, response.content
    notice = response.json()[0]["service_notice"]
    assert notice.startswith(start), notice
    if language == "zh-hans":
        assert not any("a" <= ch.lower() <= "z" for ch in notice), notice
