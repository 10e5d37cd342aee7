"""One place mapping what services and DRF raise to the API's error body.

    {"error": {"code": "...", "message": "...", "fields": {"name": ["...", ...]}}}

ValidationError → 400 (with `fields`), Http404 → 404 (one fixed body, so "not yours" and
"missing" cannot be told apart), Conflict → 409 (with the service's code), a body over
DATA_UPLOAD_MAX_MEMORY_SIZE → 413, DRF's own errors keep their status (401, 405, 415, 429 with
`Retry-After`, …). The Idempotency-Key middleware answers 409/422 in the same shape itself.
Registered as REST_FRAMEWORK["EXCEPTION_HANDLER"].
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from ..services.errors import Conflict


def error_response(
    status_code: int, code: str, message: str, fields: dict | None = None, headers=None
) -> Response:
    body: dict[str, Any] = {"code": code, "message": str(message)}
    if fields is not None:
        body["fields"] = fields
    return Response({"error": body}, status=status_code, headers=headers)


def _messages(detail: Any) -> list[str]:
    """Every message in a (possibly nested) DRF error detail, flattened."""
    if isinstance(detail, dict):
        return [m for value in detail.values() for m in _messages(value)]
    if isinstance(detail, list | tuple):
        return [m for value in detail for m in _messages(value)]
    return [str(detail)]


def _drf_fields(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {str(name): _messages(value) for name, value in detail.items()}
    return {api_settings.NON_FIELD_ERRORS_KEY: _messages(detail)}


def _django_fields(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {name: [str(m) for m in messages] for name, messages in exc.message_dict.items()}
    return {api_settings.NON_FIELD_ERRORS_KEY: [str(m) for m in exc.messages]}


def _invalid(fields: dict[str, list[str]]) -> Response:
    return error_response(
        status.HTTP_400_BAD_REQUEST, "invalid", _("Some fields are not valid."), fields
    )


def not_found_response() -> Response:
    return error_response(status.HTTP_404_NOT_FOUND, "not_found", _("Not found."))


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """Map an exception raised in an API view to the error body; None lets Django 500."""
    if isinstance(exc, DjangoValidationError):
        response = _invalid(_django_fields(exc))
    elif isinstance(exc, exceptions.ValidationError):
        response = _invalid(_drf_fields(exc.detail))
    elif isinstance(exc, Http404 | exceptions.NotFound):
        response = not_found_response()
    elif isinstance(exc, Conflict):
        response = error_response(status.HTTP_409_CONFLICT, exc.code, exc.message)
    elif isinstance(exc, RequestDataTooBig):
        response = error_response(
            status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, "too_large", _("The request is too large.")
        )
    else:
        if isinstance(exc, DjangoPermissionDenied):
            exc = exceptions.PermissionDenied()
        drf_response = drf_exception_handler(exc, context)
        if drf_response is None:
            return None
        fields = {} if drf_response.status_code == status.HTTP_400_BAD_REQUEST else None
        detail = exc.detail if isinstance(exc, exceptions.APIException) else ""
        code = getattr(exc, "default_code", "error")
        if isinstance(exc, exceptions.APIException) and not isinstance(detail, list | dict):
            code = getattr(detail, "code", None) or code
        message = " ".join(_messages(detail))
        headers = {
            k: drf_response[k] for k in ("WWW-Authenticate", "Retry-After") if k in drf_response
        }
        response = error_response(drf_response.status_code, code, message, fields, headers)
    # Nothing a failed request did may be committed (ATOMIC_REQUESTS is off; services own
    # their transactions, but be safe where a view runs inside an outer atomic block).
    set_rollback()
    return response


# Error pages that cannot fail themselves: no base template, no static-files manifest, no
# context processors (no database); a plain text answer if even that breaks.
_FALLBACK = {404: "Not found.", 500: "Server error."}


def _error_page(template_name: str, status_code: int, context: dict | None = None):
    from django.http import HttpResponse
    from django.template import loader

    try:
        body = loader.get_template(template_name).render(context or {})
    except Exception:  # the error page must answer whatever is broken
        return HttpResponse(_FALLBACK[status_code], status=status_code, content_type="text/plain")
    return HttpResponse(body, status=status_code)


def _api_error(code: str, status_code: int):
    from django.http import JsonResponse

    try:
        message = str(_("Not found.") if status_code == 404 else _("Server error."))
    except Exception:
        message = _FALLBACK[status_code]
    return JsonResponse({"error": {"code": code, "message": message}}, status=status_code)


def _is_api(request) -> bool:
    return getattr(request, "path", "").startswith("/api/")


def api_aware_404(request, exception=None):
    """Unmatched URLs under /api/ answer with the API's JSON 404; the rest with the page."""
    if _is_api(request):
        return _api_error("not_found", 404)
    return _error_page("404.html", 404)


def api_aware_500(request):
    """handler500: the API's JSON error shape under /api/, a static page elsewhere."""
    if _is_api(request):
        return _api_error("server_error", 500)
    return _error_page("500.html", 500)
