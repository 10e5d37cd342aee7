"""Staff tokens: `Authorization: Token <key>` (issued by POST /api/v1/auth/token/).

DRF's `TokenAuthentication`, with the token's user read by one statement written once
(workflows.sql.tokens) instead of `Token.objects.select_related("user").get(key=…)`.
Same answers: unknown tokens and inactive users are 401 with DRF's messages.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from ..sql.tokens import token_user


class TokenAuthentication(authentication.TokenAuthentication):
    """`Authorization: Token <key>`; `request.auth` is the Token (key and user)."""

    def authenticate_credentials(self, key):
        user = token_user(key)
        if user is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return user, Token(key=key, user=user)
