"""Staff tokens (workflows.integrations.tokens): knox tokens (hashed, expiring, revocable) with
the user read by one hand-written statement; the same user, the same 401s."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.workflows.conftest import PASSWORD
from workflows.integrations.tokens import token_issue, token_user

pytestmark = pytest.mark.django_db


def _client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_the_token_user_is_the_user_the_orm_reads(demo, users):
    user = users("intake")
    user.is_staff, user.last_login = True, timezone.now()
    user.save(update_fields=["is_staff", "last_login"])
    user = get_user_model().objects.get(pk=user.pk)
    found = token_user(token_issue(user)[0])
    fields = [f.attname for f in get_user_model()._meta.concrete_fields]
    assert {n: getattr(found, n) for n in fields} == {n: getattr(user, n) for n in fields}
    assert found.last_login is not None and found.last_login.tzinfo is not None
    assert found.is_staff is True and found.is_active is True
    assert (found._state.adding, found._state.db) == (False, "default")


def test_a_token_authenticates_its_user(demo, users):
    key = token_issue(users("dispatcher"))[0]
    response = _client(key).post("/api/v1/tasks/999999/claim/")
    assert response.status_code == 404  # authenticated, the task is not there
    assert _client(key).get("/api/v1/tasks/").status_code == 200


def test_an_unknown_token_is_401(demo):
    response = _client("f" * 40).get("/api/v1/tasks/")
    assert response.status_code == 401
    assert response.json()["error"] == {
        "code": "authentication_failed",
        "message": "Invalid token.",
    }
    assert token_user("f" * 40) is None


def test_the_token_of_an_inactive_user_is_401(demo, users):
    user = users("dispatcher")
    key = token_issue(user)[0]
    user.is_active = False
    user.save(update_fields=["is_active"])
    response = _client(key).get("/api/v1/tasks/")
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "User inactive or deleted."


def test_a_deleted_token_stops_working_at_once(demo, users):
    key = token_issue(users("dispatcher"))[0]
    client = _client(key)
    assert client.get("/api/v1/tasks/").status_code == 200
    AuthToken.objects.all().delete()
    assert client.get("/api/v1/tasks/").status_code == 401


def test_tokens_are_stored_hashed_and_expire(demo, time_machine, settings):
    time_machine.move_to("2026-06-01 09:00 +08:00", tick=False)
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "dispatcher", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    token, expiry = response.json()["token"], response.json()["expiry"]
    stored = AuthToken.objects.get()
    assert token not in (stored.digest, stored.token_key) and len(stored.digest) == 128
    assert stored.token_key == token[:15]  # knox's lookup prefix, not enough to authenticate
    assert expiry == "2026-06-01T11:00:00Z"  # TOKEN_TTL: 10 hours (09:00 +08:00 is 01:00Z)
    client = _client(token)
    assert client.get("/api/v1/tasks/").status_code == 200
    time_machine.move_to("2026-06-01 18:59 +08:00", tick=False)
    assert client.get("/api/v1/tasks/").status_code == 200
    time_machine.move_to("2026-06-01 19:00:01 +08:00", tick=False)
    response = client.get("/api/v1/tasks/")
    assert response.status_code == 401 and response.json()["error"]["message"] == "Invalid token."
    from workflows.integrations.tokens import purge_expired

    assert purge_expired() == 1 and not AuthToken.objects.exists()


def test_delete_revokes_the_token_it_is_called_with(demo):
    tokens = []
    for _ in range(2):
        response = APIClient().post(
            "/api/v1/auth/token/", {"username": "dispatcher", "password": PASSWORD}, format="json"
        )
        tokens.append(response.json()["token"])
    first, second = (_client(t) for t in tokens)
    assert first.delete("/api/v1/auth/token/").status_code == 204
    assert first.get("/api/v1/tasks/").status_code == 401
    assert first.delete("/api/v1/auth/token/").status_code == 401
    assert second.get("/api/v1/tasks/").status_code == 200  # the other session stays
    assert APIClient().delete("/api/v1/auth/token/").status_code == 401


@pytest.mark.parametrize("username", ["handler_sani", "unithead_sani", "intake", "supervisor"])
def test_the_scope_read_with_the_token_is_the_scope_the_orm_reads(demo, users, username):
    from departments.access import staff_scope

    user = users(username)
    from_orm = staff_scope(get_user_model().objects.get(pk=user.pk))
    from_token = staff_scope(token_user(token_issue(user)[0]))
    assert from_token == from_orm
    assert from_orm.pairs  # every demo account holds at least one (unit, role)


def test_a_user_without_memberships_has_an_empty_scope(demo):
    from departments.access import staff_scope

    user = get_user_model().objects.create_user("nobody-here", password=PASSWORD)
    found = token_user(token_issue(user)[0])
    assert found == user and staff_scope(found).pairs == frozenset()


def test_an_api_request_reads_no_membership_statement(demo, users):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = _client(token_issue(users("handler_sani"))[0])
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/tasks/", {"scope": "queue"}).status_code == 200
    statements = [q["sql"] for q in queries]
    assert any("knox_authtoken" in sql for sql in statements)
    assert [
        s for s in statements if "departments_membership" in s and "knox_authtoken" not in s
    ] == []
