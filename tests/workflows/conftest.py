"""Shared fixtures of the workflow tests: the demo city, its accounts, API clients per account,
and a walker that drives cases through the REST API as each role."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

import workflows
from departments.demo import seed_accounts, seed_organisation
from tests.images import png_bytes
from workflows.models import Category, CategoryScheme
from workflows.services.categories import categories_import

CATEGORIES_CSV = Path(workflows.__file__).resolve().parent / "data" / "categories.csv"
SCHEME = "GB/T 30428.2"
PASSWORD = "pw"
GRID = "D01-S01-C1-G1"
PNG = png_bytes()  # a real image: uploads are decoded


@pytest.fixture
def demo():
    """The demo city: organisation, the real category list (GB/T 30428.2 active), accounts."""
    org = seed_organisation()
    categories_import(rows_source=CATEGORIES_CSV)
    scheme = CategoryScheme.objects.get(code=SCHEME)
    org.city.category_scheme = scheme
    org.city.save(update_fields=["category_scheme"])
    seed_accounts(PASSWORD)
    return SimpleNamespace(
        org=org,
        city=org.city,
        scheme=scheme,
        # 暴露垃圾 (exposed garbage): an event whose default unit is sanitation (SANI).
        garbage=Category.objects.get(scheme=scheme, kind="event", code="0102"),
        grid=GRID,
    )


@pytest.fixture
def users(demo):
    """users("intake") → the demo account."""

    def get(username: str):
        return get_user_model().objects.get(username=username)

    return get


@pytest.fixture
def api(demo):
    """api("intake") → an APIClient holding a token obtained through /api/v1/auth/token/."""
    clients: dict[str, APIClient] = {}

    def get(username: str) -> APIClient:
        if username not in clients:
            client = APIClient()
            response = client.post(
                "/api/v1/auth/token/", {"username": username, "password": PASSWORD}, format="json"
            )
            assert response.status_code == 200, response.content
            client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
            clients[username] = client
        return clients[username]

    return get


@pytest.fixture
def png():
    """png() → a fresh small PNG upload (each upload can be sent once)."""

    def make(name: str = "photo.png") -> SimpleUploadedFile:
        return SimpleUploadedFile(name, PNG, content_type="image/png")

    return make


class Walker:
    """Drives cases through the API: report, find the case's task in a user's queue, claim,
    complete. Every step asserts its status code, so a broken step fails where it happens."""

    def __init__(self, api, png, demo) -> None:
        self.api, self.png, self.demo = api, png, demo

    def report(self, username: str = "inspector", **fields) -> dict:
        data = {
            "category": self.demo.garbage.pk,
            "description": "人行道上暴露垃圾 Exposed garbage",
            "grid": self.demo.grid,
            "source": "inspector",
            **fields,
        }
        fmt = "multipart" if "photos" in data else "json"
        response = self.api(username).post("/api/v1/cases/", data, format=fmt)
        assert response.status_code == 201, response.content
        return response.json()

    def case(self, case_id: int, username: str = "supervisor") -> dict:
        response = self.api(username).get(f"/api/v1/cases/{case_id}/")
        assert response.status_code == 200, response.content
        return response.json()

    def timeline(self, case_id: int, username: str = "supervisor") -> list[dict]:
        response = self.api(username).get(f"/api/v1/cases/{case_id}/timeline/")
        assert response.status_code == 200, response.content
        return response.json()

    def queued(self, username: str, case_id: int) -> dict:
        """The case's open task in the user's queue."""
        response = self.api(username).get("/api/v1/tasks/", {"scope": "queue", "limit": 100})
        assert response.status_code == 200, response.content
        found = [t for t in response.json()["results"] if t["case"]["id"] == case_id]
        assert len(found) == 1, f"{username} has no task of case {case_id} in the queue"
        return found[0]

    def claim(self, username: str, task_id: int) -> dict:
        response = self.api(username).post(f"/api/v1/tasks/{task_id}/claim/")
        assert response.status_code == 200, response.content
        return response.json()

    def complete(self, username: str, task_id: int, outcome: str, **data):
        """The raw response of completing (multipart when photos are sent)."""
        fmt = "multipart" if "photos" in data else "json"
        return self.api(username).post(
            f"/api/v1/tasks/{task_id}/complete/", {"outcome": outcome, **data}, format=fmt
        )

    def act(self, username: str, case_id: int, outcome: str, **data) -> dict:
        """Take the case's task from the user's queue and complete it with the outcome."""
        task = self.queued(username, case_id)
        claimed = self.claim(username, task["id"])
        assert outcome in claimed["outcomes"], (outcome, claimed["outcomes"])
        if outcome == "done":
            data.setdefault("result", "已清理 Cleaned")
            data.setdefault("photos", [self.png("after.png")])
        response = self.complete(username, task["id"], outcome, **data)
        assert response.status_code == 200, response.content
        assert response.json()["status"] == "done"
        return response.json()

    def to_handling(self, case_id: int) -> None:
        self.act("intake", case_id, "accept")
        self.act("shiftlead", case_id, "file")
        self.act("dispatcher", case_id, "dispatch")


@pytest.fixture
def walk(api, png, demo) -> Walker:
    return Walker(api, png, demo)


@pytest.fixture
def staff_client(users):
    """staff_client("intake") → a page client logged in as the demo account, in English."""
    from django.test import Client

    def get(username: str) -> Client:
        client = Client(headers={"accept-language": "en"})
        client.force_login(users(username))
        return client

    return get


CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def chromium(monkeypatch):
    """Debian's chromium driven by Playwright (never `playwright install`); skipped, saying
    why, where either is missing."""
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="the Playwright package is missing"
    )
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    # Playwright's sync API keeps an event loop in this thread; the test's own ORM reads
    # are still plain synchronous code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()
