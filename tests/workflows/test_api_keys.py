"""API keys: shown once, stored hashed, scoped, revocable; staff tokens keep working."""

import datetime as dt

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.test import APIClient

from departments.models import Role, Unit
from workflows.integrations.keys import api_key_authenticate, api_key_issue, api_key_revoke
from workflows.models import ApiKey

pytestmark = pytest.mark.django_db


def client_with(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.fixture
def admin_user(demo):
    return get_user_model().objects.get(username="admin")


def test_key_is_stored_hashed_and_reads_with_its_scope(demo, admin_user, walk):
    record, key = api_key_issue(
        actor=admin_user, name="12345 hotline", scopes=["cases:read", "cases:report"]
    )
    assert key not in record.key_hash and record.prefix in key
    client = client_with(key)
    assert client.get("/api/v1/categories/").status_code == 200
    record.refresh_from_db()
    assert record.last_used_at is not None
    category = client.get("/api/v1/categories/").json()[0]["id"]
    made = client.post(
        "/api/v1/cases/",
        {"category": category, "description": "d", "grid": demo.grid, "source": "hotline"},
        format="json",
    )
    assert made.status_code == 201
    # Without tasks:act the task actions are forbidden, not hidden.
    assert client.get("/api/v1/tasks/").status_code == 403
    assert client.post("/api/v1/tasks/1/claim/").status_code == 403
    # Views that name no scope (staff pages of the API) are closed to keys.
    assert client.get("/api/v1/notifications/").status_code == 403


def test_tasks_act_key_acts_as_its_unit_and_role(demo, admin_user, walk):
    _record, key = api_key_issue(
        actor=admin_user,
        name="SANI field app",
        scopes=["tasks:act", "cases:read"],
        unit=Unit.objects.get(code="SANI"),
        role=Role.HANDLER,
    )
    case_id = walk.report()["id"]
    walk.to_handling(case_id)
    client = client_with(key)
    queue = client.get("/api/v1/tasks/", {"scope": "queue"}).json()["results"]
    task = next(t for t in queue if t["case"]["id"] == case_id)
    assert client.post(f"/api/v1/tasks/{task['id']}/claim/").status_code == 200


def test_revoked_and_unknown_keys_are_401(demo, admin_user):
    record, key = api_key_issue(actor=admin_user, name="sensor", scopes=["cases:report"])
    api_key_revoke(actor=admin_user, key=record)
    for bad in (key, "co_deadbeef_nope", "garbage"):
        response = client_with(bad).get("/api/v1/categories/")
        assert response.status_code == 401, bad
        assert response.json()["error"]["code"] == "authentication_failed"


def test_one_authentication_for_the_api_and_open311(demo, admin_user, client):
    """Open311's api_key and the API's Bearer header are the same check, with the same
    last-used bookkeeping (written at most once a minute)."""
    record, key = api_key_issue(actor=admin_user, name="hotline", scopes=["cases:report"])
    assert api_key_authenticate(key) == record
    record.refresh_from_db()
    first = record.last_used_at
    assert first is not None
    assert api_key_authenticate(key) == record
    record.refresh_from_db()
    assert record.last_used_at == first  # not written again within the minute
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=2)):
        client.post("/open311/v2/requests.json", {"api_key": key})  # 400: no service_code
        record.refresh_from_db()
        assert record.last_used_at > first
    for bad in ("", "garbage", "co_deadbeef_nope", key + "x"):
        assert api_key_authenticate(bad) is None
    api_key_revoke(actor=admin_user, key=record)
    assert api_key_authenticate(key) is None


def test_issuing_checks_scopes(demo, admin_user):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        api_key_issue(actor=admin_user, name="x", scopes=["everything"])
    with pytest.raises(ValidationError):
        api_key_issue(actor=admin_user, name="x", scopes=["tasks:act"])
    assert not ApiKey.objects.exists()


def test_admin_issues_a_key_once_and_revokes(demo, admin_user, client):
    client.force_login(admin_user)
    response = client.post(
        "/admin/workflows/apikey/add/",
        {
            "name": "citizen app",
            "scope_choices": ["cases:report", "cases:read"],
            "unit": "",
            "role": "",
        },
        follow=True,
    )
    assert response.status_code == 200
    record = ApiKey.objects.get(name="citizen app")
    body = response.content.decode()
    assert f"co_{record.prefix}_" in body  # shown once, in the message
    key = body.split(f"co_{record.prefix}_")[1].split("<")[0].split()[0]
    assert client_with(f"co_{record.prefix}_{key}").get("/api/v1/categories/").status_code == 200
    client.post("/admin/workflows/apikey/", {"action": "revoke", "_selected_action": [record.pk]})
    record.refresh_from_db()
    assert record.revoked_at is not None
