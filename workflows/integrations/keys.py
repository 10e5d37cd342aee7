"""API keys: issue (shown once), authenticate (`Authorization: Bearer <key>` for the API, the
`api_key` parameter for Open311, both through `api_key_authenticate`), revoke."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions, permissions

from departments.models import Membership
from workflows import access

from ..models import ApiKey, Scope

KEY_PREFIX = "co_"
LAST_USED_EVERY = dt.timedelta(seconds=60)  # don't write on every request


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_key_issue(
    *, actor, name: str, scopes: list[str], unit=None, role: str | None = None
) -> tuple[ApiKey, str]:
    """A new key and its secret (returned once, never stored). `tasks:act` needs a unit and
    role: the key's service user holds that post."""
    unknown = set(scopes) - set(Scope.values)
    if unknown or not scopes:
        raise ValidationError(
            {"scopes": _("Choose scopes from: %(s)s.") % {"s": ", ".join(Scope.values)}}
        )
    if Scope.TASKS_ACT in scopes and (unit is None or not role):
        raise ValidationError({"unit": _("tasks:act needs the unit and role the key acts as.")})
    prefix = secrets.token_hex(4)
    key = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        user = get_user_model().objects.create_user(
            username=f"apikey-{prefix}", first_name=name[:150]
        )
        user.set_unusable_password()
        user.save(update_fields=["password"])
        if unit is not None and role:
            Membership.objects.create(user=user, unit=unit, role=role)
        record = ApiKey.objects.create(
            name=name,
            prefix=prefix,
            key_hash=_hash(key),
            scopes=list(scopes),
            user=user,
            created_by=actor,
        )
    return record, key


def api_key_revoke(*, actor, key: ApiKey) -> ApiKey:
    """Revoked keys answer 401 from the next request on."""
    key.revoked_at = timezone.now()
    key.save(update_fields=["revoked_at"])
    get_user_model().objects.filter(pk=key.user_id).update(is_active=False)
    return key


def api_key_lookup(raw: str) -> ApiKey | None:
    """The key `raw` is the secret of (revoked or not), or None."""
    if not raw.startswith(KEY_PREFIX) or raw.count("_") < 2:
        return None
    prefix = raw[len(KEY_PREFIX) :].split("_", 1)[0]
    key = ApiKey.objects.select_related("user").filter(prefix=prefix).first()
    if key is None or not hmac.compare_digest(key.key_hash, _hash(raw)):
        return None
    return key


def api_key_authenticate(raw: str) -> ApiKey | None:
    """The usable key `raw` is the secret of (not revoked, its service user active), or None;
    notes when it was last used, at most once a minute. The API (`Authorization: Bearer`) and
    Open311 (`api_key`) authenticate with it; what the key may do is its scopes' business."""
    key = api_key_lookup(raw)
    if key is None or not key.is_active or not key.user.is_active:
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_EVERY:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <key>`; unknown or revoked keys are 401."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Invalid API key header."))
        key = api_key_authenticate(header[1].decode(errors="replace"))
        if key is None:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked API key."))
        return key.user, key

    def authenticate_header(self, request):
        return self.keyword


class HasScope(permissions.BasePermission):
    """Views name the scope they need (`required_scope`); staff tokens and sessions have all
    scopes (their roles still decide what they may do), API keys only those granted, and no
    access to views that name none (staff-only pages of the API)."""

    message = _("This API key does not have the scope this operation needs.")

    def has_permission(self, request, view) -> bool:
        if not isinstance(request.auth, ApiKey):
            return True
        return access.api_key_allows(request.auth, getattr(view, "required_scope", None))
