"""Staff tokens (workflows.integrations.tokens): DRF's token authentication with the user read
by one hand-written statement; the same user, the same 401s."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from workflows.sql.tokens import token_user

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
    found = token_user(Token.objects.create(user=user).key)
    fields = [f.attname for f in get_user_model()._meta.concrete_fields]
    assert {n: getattr(found, n) for n in fields} == {n: getattr(user, n) for n in fields}
    assert found.last_login is not None and found.last_login.tzinfo is not None
    assert found.is_staff is True and found.is_active is True
    assert (found._state.adding, found._state.db) == (False, "default")


def test_a_token_authenticates_its_user(demo, users):
    key = Token.objects.create(user=users("dispatcher")).key
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
    key = Token.objects.create(user=user).key
    user.is_active = False
    user.save(update_fields=["is_active"])
    response = _client(key).get("/api/v1/tasks/")
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "User inactive or deleted."


def test_a_deleted_token_stops_working_at_once(demo, users):
    token = Token.objects.create(user=users("dispatcher"))
    client = _client(token.key)
    assert client.get("/api/v1/tasks/").status_code == 200
    token.delete()
    assert client.get("/api/v1/tasks/").status_code == 401
