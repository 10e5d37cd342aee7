"""`Idempotency-Key` on POSTs under /api/v1/: the first response is kept for 24 hours and
replayed to the same sender for the same request, so a client may safely retry.

Applied as a Django middleware (`IdempotencyMiddleware`), so every POST view, present and
future, gets it without changes. DRF authenticates inside the view, after middleware, so the
sender ("owner") is derived from what identifies them on the request itself:

- an `Authorization` header (`Token …` or `Bearer <API key>`): its SHA-256, so only the holder of
  the same credential can ever see a stored response (a forged or wrong credential gets its own,
  useless, owner); a rotated token starts a new owner;
- otherwise a logged-in session: the user's id;
- otherwise (anonymous): the key is ignored, nothing is deduplicated.

Rules:
- the request runs in one transaction with its record (issue 14): the record (unique
  owner+key) is inserted first, the view runs, the answer is written into the record, and all
  of it commits together. A reply lost after the commit is replayed to the retry; a crash
  before the commit leaves nothing, so the retry runs anew. A second request with the key
  while the first runs waits for it on PostgreSQL (the unique index) and then replays its
  answer. A record still without an answer (written by an earlier version, which committed
  it before running) answers 409 `idempotency_in_progress` for IN_PROGRESS_LEASE, then is
  dropped and the request runs;
- the same key with another method, path or body (SHA-256 of the raw body, multipart too) gets
  422 `idempotency_mismatch`;
- responses below 500 are stored and replayed with `Idempotent-Replayed: true`, 4xx included (a
  400 stays a 400: fix the request and send it with a new key), except 401 and 429, which say
  nothing about the request itself; a 5xx or an error rolls the whole request back (the
  record with it) so a retry runs;
- records older than `TTL` are ignored and deleted by `purge_expired()` (a periodic job).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable

from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
TTL = dt.timedelta(hours=24)
IN_PROGRESS_LEASE = dt.timedelta(seconds=60)
PREFIX = "/api/v1/"
NOT_STORED = frozenset({401, 429})
# Headers that belong to the answer (not to the connection or the session).
KEPT_HEADERS = ("Content-Type", "Content-Language", "Location", "Allow", "WWW-Authenticate")


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": str(message)}}, status=status)


def request_owner(request: HttpRequest) -> str | None:
    """Who sent the request, for keying records; None for anonymous requests."""
    credential = request.META.get("HTTP_AUTHORIZATION", "")
    if credential:
        return "auth:" + hashlib.sha256(credential.encode(errors="replace")).hexdigest()
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return None


def request_hash(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode() + b"\n" + request.get_full_path().encode() + b"\n")
    digest.update(request.body)  # raw bytes: JSON and multipart alike
    return digest.hexdigest()


def _claim(owner: str, key: str, request: HttpRequest, digest: str):
    """(record, True) when this request is the first with the key, else (existing, False)."""
    now = timezone.now()
    fields = {"method": request.method, "path": request.path, "request_hash": digest}
    for _attempt in range(2):
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    owner=owner, key=key, created_at=now, **fields
                )
            return record, True
        except IntegrityError:
            existing = IdempotencyRecord.objects.filter(owner=owner, key=key).first()
            if existing is None:
                continue  # removed in between (failed or purged): try again
            stale = existing.status_code is None and existing.created_at <= now - IN_PROGRESS_LEASE
            if existing.created_at > now - TTL and not stale:
                return existing, False
            # Expired: drop it (only if nobody replaced it meanwhile) and insert anew.
            IdempotencyRecord.objects.filter(
                pk=existing.pk, created_at=existing.created_at
            ).delete()
    existing = IdempotencyRecord.objects.filter(owner=owner, key=key).first()
    if existing is None:  # pragma: no cover - a third concurrent removal
        raise IntegrityError("idempotency record churn")
    return existing, False


def _replay(record: IdempotencyRecord, request: HttpRequest, digest: str) -> HttpResponse:
    same = (record.method, record.path, record.request_hash) == (
        request.method,
        request.path,
        digest,
    )
    if not same:
        return _error(
            422,
            "idempotency_mismatch",
            _("This Idempotency-Key was used for a different request."),
        )
    if record.status_code is None:
        return _error(
            409,
            "idempotency_in_progress",
            _("A request with this Idempotency-Key is still being processed."),
        )
    response = HttpResponse(bytes(record.response_body or b""), status=record.status_code)
    for name, value in record.response_headers.items():
        response[name] = value
    response[REPLAYED_HEADER] = "true"
    return response


def _store(record: IdempotencyRecord, response: HttpResponse) -> None:
    """Write the answer into the record (in the request's transaction); a 5xx rolls the whole
    request back, an answer not worth keeping (401, 429, streaming) drops the record."""
    if response.status_code >= 500:
        transaction.set_rollback(True)
        return
    if response.status_code in NOT_STORED or response.streaming:
        IdempotencyRecord.objects.filter(pk=record.pk).delete()
        return
    record.status_code = response.status_code
    record.response_body = response.content
    record.response_headers = {h: response[h] for h in KEPT_HEADERS if response.has_header(h)}
    record.save(update_fields=["status_code", "response_body", "response_headers"])


class IdempotencyMiddleware:
    """Replays the stored response of an earlier POST with the same `Idempotency-Key`."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.headers.get(HEADER)
        if request.method != "POST" or key is None or not request.path.startswith(PREFIX):
            return self.get_response(request)
        if not key or len(key) > MAX_KEY_LENGTH:
            return _error(
                400,
                "invalid_idempotency_key",
                _("Idempotency-Key must be 1 to %(n)d characters.") % {"n": MAX_KEY_LENGTH},
            )
        owner = request_owner(request)
        if owner is None:
            return self.get_response(request)
        try:
            digest = request_hash(request)
        except RequestDataTooBig:
            return _error(413, "too_large", _("The request is too large."))
        # The record, the request's own writes and the answer commit together (or not at all).
        with transaction.atomic():
            record, first = _claim(owner, key, request, digest)
            if not first:
                return _replay(record, request, digest)
            response = self.get_response(request)
            _store(record, response)
        return response


def purge_expired(now: dt.datetime | None = None) -> int:
    """Delete records past their 24 hours; returns how many (periodic job)."""
    cutoff = (now or timezone.now()) - TTL
    deleted, _by_model = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
