"""Deeply nested JSON is a 400 parse error, never a 500 (issue 14, item 8)."""

import pytest

from workflows.api.parsers import MAX_DEPTH, too_deep

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("body", "deep"),
    [
        (b"[" * 100_000, True),
        (b"[" * MAX_DEPTH + b"]" * MAX_DEPTH, False),
        (b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1), True),
        (b'{"a": "' + b"[" * 500 + b'"}', False),  # brackets inside a string do not count
        (b'{"a": "\\"' + b"{" * 500 + b'"}', False),  # nor after an escaped quote
        (b'{"a": [' * 40 + b"1" + b"]}" * 40, True),
    ],
)
def test_depth_scan(body, deep):
    assert too_deep(body) is deep


@pytest.mark.parametrize("body", ["[" * 100_000, '{"a":' * 50_000, "[" * 65 + "]" * 65])
def test_deep_json_is_400_on_the_api(demo, api, body):
    response = api("inspector").post("/api/v1/cases/", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_deep_json_is_400_without_credentials_too(client):
    response = client.post(
        "/api/v1/auth/token/", data="[" * 100_000, content_type="application/json"
    )
    assert response.status_code == 400
