"""Staff tokens: `Authorization: Token <key>` (issued by POST /api/v1/auth/token/).

DRF's `TokenAuthentication`, with the token's user read by one statement written once
instead of `Token.objects.select_related("user").get(key=…)`: compiling that queryset on
every request was about a quarter of the CPU of a task-list request (bench/api_http.py).
Same answers: unknown tokens and inactive users are 401 with DRF's messages.
"""

from __future__ import annotations

from functools import lru_cache

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from cityops.sql_rows import Converters, converted, field_converters


@lru_cache(maxsize=1)
def _statement() -> tuple[str, list[str], Converters]:
    user_model = get_user_model()
    fields = list(user_model._meta.concrete_fields)
    quote = connection.ops.quote_name
    columns = ", ".join(f"u.{quote(field.column)}" for field in fields)
    token_user = quote(Token._meta.get_field("user").column)
    sql = (
        f"SELECT {columns} FROM {quote(Token._meta.db_table)} t "
        f"JOIN {quote(user_model._meta.db_table)} u "
        f"ON u.{quote(user_model._meta.pk.column)} = t.{token_user} "
        f"WHERE t.{quote(Token._meta.pk.column)} = %s"
    )
    return sql, [field.attname for field in fields], field_converters(fields, connection)


def token_user(key: str):
    """The user holding the token, or None."""
    sql, names, converters = _statement()
    with connection.cursor() as cursor:
        cursor.execute(sql, [key])
        rows = cursor.fetchall()
    if not rows:
        return None
    (values,) = converted(rows, converters, connection)
    return get_user_model().from_db(connection.alias, names, values)


class TokenAuthentication(authentication.TokenAuthentication):
    """`Authorization: Token <key>`; `request.auth` is the Token (key and user)."""

    def authenticate_credentials(self, key):
        user = token_user(key)
        if user is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return user, Token(key=key, user=user)
