import pytest
from django.conf import settings


def _on_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"] in (
        "django.db.backends.postgresql",
        "cityops.db.postgresql",
    )


def pytest_collection_modifyitems(config, items):
    if _on_postgres():
        return
    skip = pytest.mark.skip(
        reason="needs PostgreSQL: set DATABASE_URL=postgres://… (SQLite has no row locks/plans)"
    )
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _media_root(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _english(settings):
    """Tests read messages in English; the product defaults to zh-hans (tested separately)."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _fresh_throttles():
    """Throttle history lives in the cache, which outlives a test."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _fresh_task_counts():
    """The search rule's per-process "many tasks" verdicts outlive a test (ids repeat)."""
    from workflows import access

    access.forget_task_counts()


@pytest.fixture(scope="session")
def live_server(request):
    """pytest-django's live server, serving static files from the finders as Django's
    StaticLiveServerTestCase does. pytest-django only does so when the literal
    "django.contrib.staticfiles" is in INSTALLED_APPS; ours is its subclass configuration
    (cityops.staticfiles), so without this the browser tests would see pages with no CSS
    and no script."""
    from unittest import mock

    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from pytest_django.live_server_helper import LiveServer

    with mock.patch("django.test.testcases._StaticFilesHandler", StaticFilesHandler):
        server = LiveServer(request.config.getvalue("liveserver") or "localhost")
    yield server
    server.stop()
