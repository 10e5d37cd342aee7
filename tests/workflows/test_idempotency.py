"""Idempotency-Key on POSTs under /api/v1/: replay, mismatch, owners, expiry, in progress."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
import time_machine
from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.test import APIClient

from workflows.integrations.idempotency import TTL, purge_expired
from workflows.models import Case, IdempotencyRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def report(demo):
    def body(**fields) -> dict:
        return {
            "category": demo.garbage.pk,
            "description": "人行道上暴露垃圾 Exposed garbage",
            "grid": demo.grid,
            "source": "inspector",
            **fields,
        }

    return body


def post(client, data, key: str | None, fmt: str = "json"):
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post("/api/v1/cases/", data, format=fmt, headers=headers)


def test_replay_returns_the_first_response_and_reports_one_case(api, report):
    client = api("inspector")
    first = post(client, report(), "k-1")
    assert first.status_code == 201, first.content
    assert "Idempotent-Replayed" not in first

    again = post(client, report(), "k-1")

    assert again.status_code == 201
    assert again.content == first.content
    assert again["Content-Type"] == first["Content-Type"]
    assert again["Idempotent-Replayed"] == "true"
    assert Case.objects.count() == 1


def test_without_a_key_every_post_runs(api, report):
    client = api("inspector")
    assert post(client, report(), None).status_code == 201
    assert post(client, report(), None).status_code == 201
    assert Case.objects.count() == 2


def test_multipart_bodies_are_replayed_by_their_raw_bytes(api, report, png):
    client = api("inspector")
    first = post(client, report(photos=[png()]), "photo-1", fmt="multipart")
    assert first.status_code == 201, first.content

    again = post(client, report(photos=[png()]), "photo-1", fmt="multipart")

    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Case.objects.count() == 1


def test_the_same_key_with_another_body_is_a_mismatch(api, report):
    client = api("inspector")
    assert post(client, report(), "k-2").status_code == 201

    other = post(client, report(description="Another report"), "k-2")

    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_mismatch"
    assert Case.objects.count() == 1


def test_the_same_key_on_another_path_is_a_mismatch(api, report):
    client = api("inspector")
    assert post(client, report(), "k-3").status_code == 201

    other = client.post(
        "/api/v1/notifications/read/", {}, format="json", headers={"Idempotency-Key": "k-3"}
    )

    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_mismatch"


def test_different_senders_with_the_same_key_are_independent(api, report):
    assert post(api("inspector"), report(), "shared").status_code == 201
    second = post(api("intake"), report(), "shared")

    assert second.status_code == 201
    assert "Idempotent-Replayed" not in second
    assert Case.objects.count() == 2


def test_after_24_hours_the_key_runs_again_and_the_record_is_purged(report):
    # A logged-in session (staff tokens expire after 10 hours; a new token is a new sender).
    client = APIClient()
    client.force_login(User.objects.get(username="inspector"))
    assert post(client, report(), "k-4").status_code == 201

    with time_machine.travel(timezone.now() + dt.timedelta(hours=25), tick=False):
        again = post(client, report(), "k-4")
        assert again.status_code == 201
        assert "Idempotent-Replayed" not in again
        assert Case.objects.count() == 2
        assert IdempotencyRecord.objects.count() == 1  # the expired one was replaced

        with time_machine.travel(timezone.now() + TTL + dt.timedelta(seconds=1), tick=False):
            assert purge_expired() == 1
    assert IdempotencyRecord.objects.count() == 0


def test_purge_keeps_records_younger_than_24_hours(api, report):
    assert post(api("inspector"), report(), "k-5").status_code == 201
    assert purge_expired() == 0
    assert IdempotencyRecord.objects.count() == 1


def test_a_refused_request_is_replayed_too(api, report):
    """A 400 is the answer to that request: retrying it with the key replays the 400; a fixed
    request needs a new key (the fixed body under the old key is a mismatch)."""
    client = api("inspector")
    bad = post(client, report(category=999_999), "k-6")
    assert bad.status_code == 400

    again = post(client, report(category=999_999), "k-6")

    assert again.status_code == 400
    assert again["Idempotent-Replayed"] == "true"
    assert again.content == bad.content
    assert post(client, report(), "k-6").status_code == 422
    assert post(client, report(), "k-7").status_code == 201


def test_wrong_credentials_are_not_stored(api, report, client):
    response = client.post(
        "/api/v1/cases/",
        report(),
        content_type="application/json",
        headers={"Idempotency-Key": "k-8", "Authorization": "Token wrong"},
    )
    assert response.status_code == 401
    assert IdempotencyRecord.objects.count() == 0


def test_a_request_still_running_answers_409(api, report):
    client = api("inspector")
    credential = client._credentials["HTTP_AUTHORIZATION"]
    first = post(client, report(), "k-9")
    record = IdempotencyRecord.objects.get(key="k-9")
    assert record.owner == "auth:" + hashlib.sha256(credential.encode()).hexdigest()
    # As if the first request had not finished yet.
    IdempotencyRecord.objects.filter(pk=record.pk).update(status_code=None, response_body=None)

    again = post(client, report(), "k-9")

    assert first.status_code == 201
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "idempotency_in_progress"


def test_keys_longer_than_255_characters_are_refused(api, report):
    response = post(api("inspector"), report(), "x" * 256)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_idempotency_key"
    assert Case.objects.count() == 0


def test_gets_ignore_the_key(api):
    client = api("inspector")
    response = client.get("/api/v1/categories/", headers={"Idempotency-Key": "k-10"})
    assert response.status_code == 200
    assert IdempotencyRecord.objects.count() == 0


# --- a crash between the commit and the reply (issue 14) -------------------------------------


class LoseTheReply:
    """Outside the idempotency middleware: the answer is lost on its way to the client (the
    request committed; the client sees a 500 and retries)."""

    armed = False

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if LoseTheReply.armed and request.path == "/api/v1/cases/":
            LoseTheReply.armed = False
            raise ConnectionResetError("the reply was lost")
        return response


@pytest.fixture
def lossy(settings):
    at = settings.MIDDLEWARE.index("workflows.integrations.idempotency.IdempotencyMiddleware")
    settings.MIDDLEWARE = [
        *settings.MIDDLEWARE[:at],
        f"{__name__}.LoseTheReply",
        *settings.MIDDLEWARE[at:],
    ]
    LoseTheReply.armed = True
    yield
    LoseTheReply.armed = False


@pytest.mark.django_db(transaction=True)
def test_a_lost_reply_is_replayed_under_its_key(api, report, lossy):
    client = api("inspector")
    client.raise_request_exception = False
    lost = post(client, report(), "k-lost")
    assert lost.status_code == 500  # the case was committed, the client never heard
    assert Case.objects.count() == 1

    again = post(client, report(), "k-lost")

    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["number"] == Case.objects.get().number
    assert Case.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_crash_before_the_answer_is_kept_leaves_nothing_behind(api, report, monkeypatch):
    """The view ran, then the process failed while keeping the answer: the case and the record
    go together, so the retry runs anew instead of meeting a key stuck "in progress"."""
    from workflows.integrations import idempotency

    def crash(record, response):
        raise OSError("the database went away")

    monkeypatch.setattr(idempotency, "_store", crash)
    client = api("inspector")
    client.raise_request_exception = False
    assert post(client, report(), "k-crash").status_code == 500
    assert Case.objects.count() == 0 and IdempotencyRecord.objects.count() == 0
    monkeypatch.undo()

    again = post(client, report(), "k-crash")

    assert again.status_code == 201 and "Idempotent-Replayed" not in again
    assert Case.objects.count() == 1
    assert post(client, report(), "k-crash")["Idempotent-Replayed"] == "true"
    assert Case.objects.count() == 1


def test_an_answerless_record_expires_after_its_lease(api, report):
    client = api("inspector")
    assert post(client, report(), "k-old").status_code == 201
    IdempotencyRecord.objects.filter(key="k-old").update(
        status_code=None, response_body=None, created_at=timezone.now() - dt.timedelta(minutes=2)
    )
    again = post(client, report(), "k-old")
    assert again.status_code == 201 and "Idempotent-Replayed" not in again
