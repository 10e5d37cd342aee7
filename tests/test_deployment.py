"""The documented deployment: static files collected with a manifest on a fresh clone with
production settings, and the pages that load them render with DEBUG=False; error pages and the
API's JSON errors that cannot fail themselves; /healthz."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import include, path

ROOT = Path(__file__).resolve().parents[1]

RENDER = """
import json
import django
django.setup()
from django.test import Client
client = Client(raise_request_exception=False)
out = {}
for path in ["/accounts/login/", "/admin/login/", "/api/docs/", "/api/v1/nope/", "/nope/"]:
    response = client.get(path, secure=True)
    out[path] = [response.status_code, response["Content-Type"], response.content.decode()]
print(json.dumps(out))
"""


def _production_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")}
    env.update(
        DJANGO_SETTINGS_MODULE="cityops.settings",
        DEBUG="False",
        SECRET_KEY="test-" + "s" * 60,
        ALLOWED_HOSTS="testserver",
        STATIC_ROOT=str(tmp_path / "static"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'empty.sqlite3'}",
    )
    return env


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("production")
    env = _production_env(tmp_path)
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    return tmp_path, env


def test_collectstatic_writes_a_manifest_with_production_settings(collected):
    tmp_path, _env = collected
    manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text())
    assert "cityops/cityops.css" in manifest["paths"]
    assert "viewflow/fonts/roboto/roboto-fontface.css" in manifest["paths"]
    assert not any("node_modules" in name for name in manifest["paths"])
    # vendored libraries whose source maps are not shipped are collected all the same
    for vendored in sorted((ROOT / "static" / "vendor").glob("*/*.min.js")) + sorted(
        (ROOT / "static" / "vendor").glob("*/*.js")
    ):
        assert str(vendored.relative_to(ROOT / "static")) in manifest["paths"]


def test_pages_render_with_debug_false_after_collectstatic(collected):
    _tmp_path, env = collected
    result = subprocess.run(
        [sys.executable, "-c", RENDER], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    pages = json.loads(result.stdout.strip().splitlines()[-1])
    for page in ("/accounts/login/", "/admin/login/", "/api/docs/"):
        status, content_type, body = pages[page]
        assert status == 200, (page, body[:2000])
        assert content_type.startswith("text/html")
    # hashed names from the manifest
    assert "/static/cityops/cityops." in pages["/accounts/login/"][2]
    assert "/static/cityops/cityops.css" not in pages["/accounts/login/"][2]
    assert "swagger-ui" in pages["/api/docs/"][2]
    status, content_type, body = pages["/api/v1/nope/"]
    assert (status, content_type) == (404, "application/json")
    assert json.loads(body)["error"]["code"] == "not_found"
    assert pages["/nope/"][0] == 404


# --- error handlers (handler404 and handler500 of cityops.urls) --------------------------------


def _boom(request):
    raise RuntimeError("boom")


def _ok(request):
    return HttpResponse("ok")


urlpatterns = [
    path("api/v1/boom/", _boom),
    path("boom/", _boom),
    path("", include("cityops.urls")),
]
handler404 = "workflows.api.errors.api_aware_404"
handler500 = "workflows.api.errors.api_aware_500"


@pytest.mark.urls("tests.test_deployment")
def test_api_500_is_json_and_pages_get_a_static_page(settings):
    settings.DEBUG = False
    client = Client(raise_request_exception=False)
    response = client.get("/api/v1/boom/")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "server_error"
    response = client.get("/boom/")
    assert response.status_code == 500
    assert b"Server error" in response.content


def test_error_pages_answer_even_when_their_template_breaks(settings):
    from django.test import RequestFactory

    from workflows.api.errors import api_aware_404, api_aware_500

    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [], "APP_DIRS": False}]
    request = RequestFactory().get("/somewhere/")
    assert api_aware_500(request).status_code == 500
    assert api_aware_404(request, None).status_code == 404


# --- /healthz ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_healthz_fails_until_the_sweep_ran_then_passes(client, settings):
    settings.CELERY_BROKER_URL = ""
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["sla_sweep"] == {
        "ok": False,
        "last_success": None,
        "max_age_seconds": 120.0,
    }

    from cityops.periodic import run_job

    run_job("sla-sweep")
    response = client.get("/healthz")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "ok"
    assert response.json()["checks"]["sla_sweep"]["age_seconds"] < 60


@pytest.mark.django_db
def test_healthz_reports_a_stale_sweep_and_a_dead_broker(client, settings, time_machine):
    from django.utils import timezone

    from cityops.periodic import run_job

    time_machine.move_to(timezone.now(), tick=True)
    run_job("sla-sweep")
    time_machine.shift(600)
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    body = client.get("/healthz").json()
    assert body["status"] == "fail"
    assert body["checks"]["sla_sweep"]["ok"] is False
    assert body["checks"]["sla_sweep"]["age_seconds"] >= 600
    assert body["checks"]["broker"]["ok"] is False


@pytest.mark.django_db
def test_a_failed_job_is_recorded_and_does_not_count_as_success(settings):
    from cityops.periodic import run_job
    from operations.models import PeriodicRun

    settings.CITYOPS_PERIODIC_JOBS = [{"name": "broken", "func": "math.nope", "seconds": 1}]
    with pytest.raises(ImportError):
        run_job("broken")
    run = PeriodicRun.objects.get(name="broken")
    assert run.ok is False and run.last_ok_at is None
    assert "nope" in run.error
