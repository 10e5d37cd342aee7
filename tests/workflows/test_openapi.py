"""The OpenAPI description (/api/schema/, /api/docs/) and a schemathesis run of every /api/v1/
operation against it: no server errors, responses as described."""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.core.cache import cache
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

pytestmark = pytest.mark.django_db

ERROR_STATUSES = {"400", "401", "403", "404", "409", "413", "415", "422", "429"}


@pytest.fixture
def openapi(client) -> dict:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def test_every_api_operation_is_described(openapi):
    from indicators.api.urls import urlpatterns as indicator_patterns
    from intelligence.api.urls import urlpatterns as intelligence_patterns
    from workflows.api.urls import urlpatterns

    described = set(openapi["paths"])
    assert len(described) == len(urlpatterns) + len(indicator_patterns) + len(intelligence_patterns)
    assert all(path.startswith("/api/v1/") for path in described)


def test_operations_have_bodies_responses_and_common_errors(openapi):
    for path, methods in openapi["paths"].items():
        for method, operation in methods.items():
            codes = set(operation["responses"])
            assert codes & {"200", "201", "204"}, (method, path)
            assert {"401", "403", "429"} <= codes, (method, path)
            for code in codes & ERROR_STATUSES:
                schema = operation["responses"][code]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}
            if method == "post":
                assert {"400", "409", "413", "415", "422"} <= codes, path
                names = [p["name"] for p in operation["parameters"]]
                assert "Idempotency-Key" in names, path


def test_request_bodies_are_described(openapi):
    report = openapi["paths"]["/api/v1/cases/"]["post"]
    assert set(report["requestBody"]["content"]) == {"application/json", "multipart/form-data"}
    assert set(openapi["paths"]["/api/v1/tasks/"]["get"]["responses"]["200"]["content"])
    required = openapi["components"]["schemas"]["CaseReportInputRequest"]["required"]
    assert {"category", "description"} <= set(required)


def test_both_credentials_are_described(openapi):
    schemes = openapi["components"]["securitySchemes"]
    assert schemes["tokenAuth"]["in"] == "header"
    assert schemes["apiKeyAuth"] == {**schemes["apiKeyAuth"], "type": "http", "scheme": "bearer"}
    security = openapi["paths"]["/api/v1/cases/"]["post"]["security"]
    assert {"tokenAuth": []} in security and {"apiKeyAuth": []} in security
    assert "security" not in openapi["paths"]["/api/v1/auth/token/"]["post"]


def test_the_error_component_is_the_common_error_body(openapi):
    error = openapi["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    assert error["properties"]["error"]["required"] == ["code", "message"]


def test_the_schema_validates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml"))


def test_swagger_ui_is_served_from_our_static_files(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page
    assert "cdn" not in page.lower()


# --- schemathesis ----------------------------------------------------------------------------


# Loaded once, at collection, through the app itself (no database access needed for that).
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


@pytest.fixture
def auth_headers(demo, api):
    """A supervisor's token; the app called in-process within the test's transaction.

    Django closes "old" connections when a request starts and finishes; inside the test's
    transaction that would drop it, so (as Django's test client does) that is switched off.
    """
    token = api("supervisor")._credentials["HTTP_AUTHORIZATION"]
    cache.clear()  # throttle history of other tests
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield {"Authorization": token}
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_conforms_to_its_schema(case, auth_headers):
    # Generated keys repeat across examples with other bodies (→ 422, tested on their own in
    # test_idempotency); without them the views themselves are exercised.
    case.headers = {k: v for k, v in (case.headers or {}).items() if k != "Idempotency-Key"}
    case.call_and_validate(
        headers=auth_headers, checks=[not_a_server_error, response_schema_conformance]
    )
