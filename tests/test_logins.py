"""Login throttling and lockout (django-axes, counted in the cache): the login page, the admin
login and the token endpoint, per account and per client address, shared between processes,
with X-Forwarded-For ignored unless NUM_PROXIES says there are proxies."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from cityops.clientip import client_ip

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "right-password-1"
TOKEN = "/api/v1/auth/token/"

pytestmark = pytest.mark.django_db


@pytest.fixture
def user():
    return get_user_model().objects.create_user(
        f"u{uuid.uuid4().hex[:10]}", password=PASSWORD, is_staff=True, is_superuser=True
    )


@pytest.fixture(autouse=True)
def _fresh_axes(settings):
    settings.AXES_FAILURE_LIMIT = 5
    AxesProxyHandler.get_implementation(force=True)  # binds the cache of these settings
    yield
    AxesProxyHandler.get_implementation(force=True)


def _token(client, username, password, **extra):
    return client.post(TOKEN, {"username": username, "password": password}, format="json", **extra)


def _page_login(client, path, username, password, **extra):
    return client.post(path, {"username": username, "password": password}, **extra)


def test_the_login_page_locks_an_account_at_the_fifth_failure(user):
    client = Client(REMOTE_ADDR="10.1.0.1")
    for _ in range(4):
        assert _page_login(client, "/accounts/login/", user.username, "nope").status_code == 200
    assert _page_login(client, "/accounts/login/", user.username, "nope").status_code == 429
    locked = _page_login(
        Client(REMOTE_ADDR="10.1.0.2"), "/accounts/login/", user.username, PASSWORD
    )
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) == 15 * 60
    assert b"Too many failed logins" in locked.content
    # the same account is locked on the admin login and the token endpoint too
    admin = _page_login(Client(REMOTE_ADDR="10.1.0.3"), "/admin/login/", user.username, PASSWORD)
    assert admin.status_code == 429
    api = _token(APIClient(REMOTE_ADDR="10.1.0.4"), user.username, PASSWORD)
    assert api.status_code == 429
    assert api.json()["error"]["code"] == "locked_out" and api["Retry-After"] == "900"


def test_the_admin_login_counts_and_locks(user):
    client = Client(REMOTE_ADDR="10.2.0.1")
    for _ in range(4):
        assert _page_login(client, "/admin/login/", user.username, "nope").status_code == 200
    assert _page_login(client, "/admin/login/", user.username, "nope").status_code == 429
    assert _page_login(client, "/admin/login/", user.username, PASSWORD).status_code == 429


def test_the_lockout_ends_after_the_cool_off(user, time_machine):
    from django.utils import timezone

    time_machine.move_to(timezone.now(), tick=False)
    client = APIClient(REMOTE_ADDR="10.3.0.1")
    for _ in range(4):
        assert _token(client, user.username, "nope").status_code == 400
    assert _token(client, user.username, "nope").status_code == 429
    assert _token(client, user.username, PASSWORD).status_code == 429
    time_machine.shift(16 * 60)
    assert _token(client, user.username, PASSWORD).status_code == 200


def test_one_address_is_locked_across_accounts(user):
    client = APIClient(REMOTE_ADDR="10.4.0.1")
    for n in range(4):
        assert _token(client, f"nobody{n}", "nope").status_code == 400
    assert _token(client, "nobody4", "nope").status_code == 429
    assert _token(client, user.username, PASSWORD).status_code == 429  # this address
    assert _token(APIClient(REMOTE_ADDR="10.4.0.2"), user.username, PASSWORD).status_code == 200


def test_x_forwarded_for_is_ignored_by_default(user, settings):
    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == 0
    client = APIClient(REMOTE_ADDR="10.5.0.1")
    for n in range(4):
        response = _token(client, f"nobody{n}", "nope", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
        assert response.status_code == 400
    fifth = _token(client, "nobody5", "nope", HTTP_X_FORWARDED_FOR="198.51.100.5")
    assert fifth.status_code == 429  # five failures from one connection address
    forged = _token(client, user.username, PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert forged.status_code == 429


def test_num_proxies_trusts_that_many_hops_from_the_right(settings):
    request = RequestFactory().get(
        "/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7"
    )
    assert client_ip(request) == "127.0.0.1"
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    assert client_ip(request) == "198.51.100.7"  # what our nginx saw, not what the client sent
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 2}
    assert client_ip(request) == "6.6.6.6"


def test_the_token_endpoints_rate_ignores_x_forwarded_for():
    from workflows.integrations.throttling import AnonymousRateThrottle

    request = RequestFactory().post(TOKEN, REMOTE_ADDR="10.6.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert AnonymousRateThrottle().get_ident(request) == "10.6.0.1"


# --- across processes: the counts live in the shared cache ------------------------------------

FAIL_SCRIPT = """
import json, sys
import django
django.setup()
from django.test import Client
client = Client(REMOTE_ADDR=sys.argv[2])
codes = []
for n in range(3):
    response = client.post(
        "/api/v1/auth/token/", {"username": sys.argv[1], "password": "wrong"},
        content_type="application/json", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}",
    )
    codes.append(response.status_code)
print(json.dumps(codes))
"""


@pytest.fixture(scope="module")
def migrated_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("axes") / "db.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{path}", "DEBUG": "True"}
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return path


def _redis_up() -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        return False
    return True


@pytest.mark.parametrize("backend", ["filecache", "redis"])
def test_lockout_is_shared_between_processes(backend, migrated_db, tmp_path, user, settings):
    if backend == "redis":
        if not _redis_up():
            pytest.skip("needs Redis on 127.0.0.1:6379 (production's shared cache)")
        cache_url = os.environ.get("CITYOPS_TEST_REDIS_URL", "redis://127.0.0.1:6379/2")
    else:
        cache_url = f"filecache://{tmp_path / 'cache'}"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{migrated_db}",
        "CACHE_URL": cache_url,
        "DJANGO_SETTINGS_MODULE": "cityops.settings",
    }
    address = f"10.9.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    runs = []
    for _ in range(2):  # two processes, one after the other, 3 wrong passwords each
        result = subprocess.run(
            [sys.executable, "-c", FAIL_SCRIPT, user.username, address], cwd=ROOT, env=env,
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-3000:]
        runs.append(json.loads(result.stdout.strip().splitlines()[-1]))
    # the fifth failure in all locks the account (and the address): the second process saw the
    # first one's three
    assert runs == [[400, 400, 400], [400, 429, 429]]

    # This process, reading the same cache: the right password is refused too.
    settings.CACHES = {"default": __import__("environ").Env.cache_url_config(cache_url)}
    AxesProxyHandler.get_implementation(force=True)
    # (A fresh address each run: Redis outlives the test run, and a fixed address would carry
    # this refusal's failure into the next run's count.)
    here = f"10.8.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    response = _token(APIClient(REMOTE_ADDR=here), user.username, PASSWORD)
    assert response.status_code == 429
    for reset in ({"username": user.username}, {"ip_address": address}, {"ip_address": here}):
        AxesProxyHandler.reset_attempts(**reset)
    assert _token(APIClient(REMOTE_ADDR=here), user.username, PASSWORD).status_code == 200
