"""Staff tokens: `Authorization: Token <token>` (issued by POST /api/v1/auth/token/, revoked by
DELETE on the same URL).

Tokens are django-rest-knox's: only their SHA-512 digest is stored (the primary key of
knox_authtoken), each has an expiry (REST_KNOX["TOKEN_TTL"], settings CITYOPS_TOKEN_TTL_HOURS)
and is revoked by deleting its row. Authentication reads the token's user by the digest with
one statement written once (workflows.sql.tokens). Unknown, expired and revoked tokens are 401
"Invalid token."; an inactive user's, 401 "User inactive or deleted.".
"""

from __future__ import annotations

import binascii
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.crypto import hash_token
from knox.models import AuthToken
from rest_framework import exceptions

from departments.access import staff_scope_remember
from departments.reference import reference_snapshot

from ..sql.tokens import TokenRow, token_row


def digest_of(token: str) -> str | None:
    try:
        return hash_token(token)
    except (TypeError, ValueError, binascii.Error):
        return None


def token_lookup(token: str) -> TokenRow | None:
    """The token's row (its user, expiry and the user's memberships), or None; expired tokens
    are returned too."""
    digest = digest_of(token)
    return None if digest is None else token_row(digest)


def token_user(token: str):
    """The user holding the token if it exists and has not expired, or None. The user's staff
    scope comes with it (read by the same statement)."""
    found = token_lookup(token)
    if found is None:
        return None
    if found.expiry is not None and found.expiry <= timezone.now():
        return None
    staff_scope_remember(found.user, found.memberships, reference_snapshot(found.generation))
    return found.user


def token_issue(user) -> tuple[str, datetime | None]:
    """A new token for the user: (the token, shown once; its expiry)."""
    instance, token = AuthToken.objects.create(user=user)
    return token, instance.expiry


def token_revoke(token: str) -> bool:
    digest = digest_of(token)
    return digest is not None and AuthToken.objects.filter(digest=digest).delete()[0] > 0


def purge_expired() -> int:
    """Periodic job: delete expired tokens (they are refused anyway)."""
    return AuthToken.objects.filter(expiry__lt=timezone.now()).delete()[0]


class TokenAuthentication(KnoxTokenAuthentication):
    """`Authorization: Token <token>`; `request.auth` is the knox AuthToken (its digest)."""

    def authenticate_credentials(self, token: bytes):
        text = token.decode(errors="replace")
        user = token_user(text)
        if user is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return user, AuthToken(digest=digest_of(text), user=user)
