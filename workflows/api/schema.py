"""The OpenAPI description of /api/v1/ (drf-spectacular): the API key scheme, the shared error
body and the error responses every operation can give, the Idempotency-Key header of POSTs,
and the page shapes the views build by hand.

Hooks are registered in SPECTACULAR_SETTINGS; importing this module (the hooks do) registers
the authentication extension.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import serializers

from ..integrations.idempotency import HEADER as IDEMPOTENCY_HEADER
from ..integrations.idempotency import MAX_KEY_LENGTH

API_PREFIX = "/api/v1/"
ERROR = {"$ref": "#/components/schemas/Error"}

# What each error status means here; which operations can give it is decided below.
ERROR_DESCRIPTIONS = {
    400: "Some fields are not valid (`fields` names them) or the body is not well formed.",
    401: "No or wrong credentials.",
    403: "Not allowed (an API key without the scope the operation needs).",
    404: "Not found, or not yours (the two are answered alike).",
    409: "The state does not allow it now (a service's code), or the first request with this "
    "Idempotency-Key is still running (`idempotency_in_progress`).",
    413: "The request is too large.",
    415: "Unsupported media type (send JSON, or multipart where photos are accepted).",
    422: "This Idempotency-Key was used for a different request (`idempotency_mismatch`).",
    429: "Too many requests: wait for `Retry-After` seconds.",
}
ALWAYS = (401, 403, 429)
WITH_PATH_ID = (404,)
WITH_QUERY = (400,)
WITH_BODY = (400, 409, 413, 415, 422)


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """`Authorization: Bearer <key>` for integrating systems (workflows.integrations.keys)."""

    target_class = "workflows.integrations.keys.ApiKeyAuthentication"
    name = "apiKeyAuth"

    def get_security_definition(self, auto_schema) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "co_<prefix>_<secret>",
            "description": "An API key; what it may do is limited by its scopes.",
        }


class StaffTokenScheme(OpenApiAuthenticationExtension):
    """`Authorization: Token <token>` for staff (workflows.integrations.tokens, knox tokens)."""

    target_class = "workflows.integrations.tokens.TokenAuthentication"
    name = "tokenAuth"
    priority = 1  # before drf-spectacular's own knox extension

    def get_security_definition(self, auto_schema) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "`Token <token>` from POST /api/v1/auth/token/ (staff). Tokens expire (see "
                "`expiry`) and are revoked by DELETE /api/v1/auth/token/."
            ),
        }


class CaseOutputFields(OpenApiSerializerExtension):
    """The reporter's name and contact are left out for those who may not see them."""

    target_class = "workflows.api.serializers.CaseOutput"

    def map_serializer(self, auto_schema, direction) -> dict[str, Any]:
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        private = set(self.target.PRIVATE_FIELDS)
        schema["required"] = [name for name in schema.get("required", []) if name not in private]
        return schema


def page_of(name: str, row: type[serializers.Serializer], **extra) -> serializers.Serializer:
    """{"results": [row, ...], "next": url|null, **extra}: the cursor pages of the views."""
    return inline_serializer(
        name=name,
        fields={
            "results": row(many=True),
            "next": serializers.URLField(allow_null=True),
            **extra,
        },
    )


def only_api_v1(endpoints: list[tuple], **kwargs) -> list[tuple]:
    """Describe the versioned API only (not the schema view itself or HTML pages)."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith(API_PREFIX)]


ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
        }
    },
}

IDEMPOTENCY_PARAMETER = {
    "in": "header",
    "name": IDEMPOTENCY_HEADER,
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
    "description": "Makes a retry safe: the first response is replayed to the same credential "
    "for 24 hours (with `Idempotent-Replayed: true`).",
}


def _error_statuses(method: str, operation: dict) -> list[int]:
    parameters = operation.get("parameters", [])
    statuses = list(ALWAYS)
    if any(p.get("in") == "path" for p in parameters):
        statuses += WITH_PATH_ID
    if any(p.get("in") == "query" for p in parameters):
        statuses += WITH_QUERY
    if method == "post":
        statuses += WITH_BODY
    return sorted(set(statuses))


def _add_errors(method: str, operation: dict) -> None:
    responses = operation.setdefault("responses", {})
    for code in _error_statuses(method, operation):
        response = {"description": ERROR_DESCRIPTIONS[code]}
        response["content"] = {"application/json": {"schema": ERROR}}
        if code == 429:
            response["headers"] = {
                "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}
            }
        responses.setdefault(str(code), response)
    if method == "post":
        parameters = operation.setdefault("parameters", [])
        if not any(p.get("name") == IDEMPOTENCY_HEADER for p in parameters):
            parameters.append(IDEMPOTENCY_PARAMETER)


def add_common_errors(result: dict, generator, request, public) -> dict:
    """Every operation gets the shared Error component for the statuses it can answer."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for path, methods in result.get("paths", {}).items():
        for method, operation in methods.items():
            if path.startswith(API_PREFIX) and isinstance(operation, dict):
                _add_errors(method, operation)
    return result


TOKEN_OUTPUT = inline_serializer(
    name="Token",
    fields={
        "token": serializers.CharField(help_text="Shown once; only its hash is stored."),
        "expiry": serializers.DateTimeField(help_text="The token is refused after this time."),
    },
)


def json_or_multipart(serializer: type[serializers.Serializer]) -> dict:
    """Operations that take photos: JSON without them, multipart with repeated `photos`."""
    return {"application/json": serializer, "multipart/form-data": serializer}


FILTER_TYPES = {
    "ChoiceFilter": OpenApiTypes.STR,
    "CharFilter": OpenApiTypes.STR,
    "ModelChoiceFilter": OpenApiTypes.INT,
}


def filter_parameters(filterset_class) -> list[OpenApiParameter]:
    """The query parameters of a django-filter FilterSet, for views that apply it by hand
    (a date range `x` is `x_after` and `x_before`, dates as YYYY-MM-DD)."""
    parameters = []
    for name, item in filterset_class.base_filters.items():
        kind = type(item).__name__
        description = str(item.extra.get("help_text") or item.label or "")
        if kind == "DateFromToRangeFilter":
            for suffix in ("after", "before"):
                parameters.append(
                    OpenApiParameter(
                        f"{name}_{suffix}", OpenApiTypes.DATE, description=f"{item.label}"
                    )
                )
            continue
        choices = item.extra.get("choices")
        enum = [value for value, _label in choices] if isinstance(choices, list | tuple) else None
        parameters.append(
            OpenApiParameter(
                name,
                FILTER_TYPES.get(kind, OpenApiTypes.STR),
                description=description,
                enum=enum,
            )
        )
    return parameters
