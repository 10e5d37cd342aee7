"""Staff tokens: the token's user read by one statement written once.

`Token.objects.select_related("user").get(key=…)` compiled its queryset on every API request:
about a quarter of the CPU of a task-list request (bench/api_http.py). The statement below
selects the user's columns joined to the token and converts them as the ORM would
(cityops.sql_rows). Used by workflows.integrations.tokens.TokenAuthentication.
"""

from __future__ import annotations

from functools import lru_cache

from django.contrib.auth import get_user_model
from django.db import connection
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
