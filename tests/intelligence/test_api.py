"""POST /api/v1/suggestions/dispatch/: who may ask, what wrong input gets, the schema, and
the page log of what was taken."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from intelligence.models import SuggestionLog
from workflows.integrations.keys import api_key_issue

URL = "/api/v1/suggestions/dispatch/"
pytestmark = pytest.mark.django_db


def _key_client(users, scopes) -> APIClient:
    _record, key = api_key_issue(actor=users("admin"), name="partner", scopes=scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def test_staff_token_gets_ranked_units_with_reasons(trained, api):
    response = api("dispatcher").post(
        URL, {"text": "晚上整条街的路灯都不亮", "lat": 39.93, "lng": 116.43}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["model"] == trained.version and body["cold_start"] is False
    best = body["units"][0]
    assert (best["unit"], best["name"]) == ("MUNI", "市政处")
    assert 0 < best["score"] <= 1 and best["score"] >= body["units"][1]["score"]
    assert best["reasons"][0]["kind"] == "words" and best["reasons"][0]["label"]
    assert any(r["kind"] == "similar_case" and r["case"] for r in best["reasons"])
    assert body["categories"][0]["category"] == "GB/T 30428.2/component/0118"
    assert body["rule"]["unit"] == "MUNI"  # the category's default unit
    assert body["log"] is None  # only pages log what they show


def test_api_keys_need_cases_read(trained, users):
    reader = _key_client(users, ["cases:read"])
    assert reader.post(URL, {"text": "路灯不亮"}, format="json").status_code == 200
    reporter = _key_client(users, ["cases:report"])
    response = reporter.post(URL, {"text": "路灯不亮"}, format="json")
    assert response.status_code == 403
    assert APIClient().post(URL, {"text": "路灯不亮"}, format="json").status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": ""}, "text"),
        ({"text": "   "}, "text"),
        ({}, "text"),
        ({"text": "路灯" * 51200}, "text"),  # 100 KB of text
        ({"text": "路灯不亮", "lat": 39.9}, "lng"),
        ({"text": "路灯不亮", "lat": 91, "lng": 116}, "lat"),
        ({"text": "路灯不亮", "category": "GB/T 30428.2/event/9999"}, "category"),
        ({"text": "路灯不亮", "surface": "elsewhere"}, "surface"),
    ],
)
def test_wrong_input_is_a_clear_400(trained, api, body, field):
    response = api("dispatcher").post(URL, body, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid" and field in error["fields"], error


def test_in_the_openapi_schema(demo, staff_client):
    schema = staff_client("admin").get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/suggestions/dispatch/"]["post"]
    assert operation["operationId"] == "suggestions_dispatch"
    assert "DispatchOutput" in str(operation["responses"]["200"])


def test_a_page_logs_what_it_showed_and_what_was_taken(trained, api, users):
    client = api("dispatcher")

    def shown() -> SuggestionLog:
        body = client.post(
            URL, {"text": "下水道堵了", "surface": "dispatch", "choose": "unit"}, format="json"
        ).json()
        return SuggestionLog.objects.get(pk=body["log"])

    log = shown()
    assert log.suggested[0] == "WATER" and log.user == users("dispatcher")
    choice = f"/api/v1/suggestions/shown/{log.pk}/choice/"
    assert client.post(choice, {"chosen": "WATER"}, format="json").json() == {"taken": "first"}
    log = shown()
    other = log.suggested[1]
    url = f"/api/v1/suggestions/shown/{log.pk}/choice/"
    assert client.post(url, {"chosen": other}, format="json").json() == {"taken": "other"}
    log = shown()
    url = f"/api/v1/suggestions/shown/{log.pk}/choice/"
    assert client.post(url, {"chosen": "#99"}, format="json").json() == {"taken": "none"}
    # Only the person it was shown to records the choice.
    assert api("intake").post(url, {"chosen": "WATER"}, format="json").status_code == 404
    log.refresh_from_db()
    assert (log.taken, log.chosen) == ("none", "#99")
    # API keys never log.
    reader = _key_client(users, ["cases:read"])
    body = reader.post(URL, {"text": "下水道堵了", "surface": "dispatch"}, format="json").json()
    assert body["log"] is None
