"""Staff tokens: the token's user and expiry read by one statement written once.

`AuthToken.objects.select_related("user").get(digest=…)` compiled its queryset on every API
request: about a quarter of the CPU of a task-list request (bench/api_http.py). The statement
below selects the token's expiry and the user's columns, joined by the token's digest (the
primary key of knox_authtoken), and converts them as the ORM would (cityops.sql_rows). Used by
workflows.integrations.tokens.TokenAuthentication.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from django.contrib.auth import get_user_model
from django.db import connection
from knox.models import AuthToken

from cityops.sql_rows import Converters, converted, field_converters


@lru_cache(maxsize=1)
def _statement() -> tuple[str, list[str], Converters]:
    user_model = get_user_model()
    fields = [AuthToken._meta.get_field("expiry"), *user_model._meta.concrete_fields]
    quote = connection.ops.quote_name
    columns = ", ".join(
        [f"t.{quote(fields[0].column)}"]
        + [f"u.{quote(field.column)}" for field in user_model._meta.concrete_fields]
    )
    token_user_column = quote(AuthToken._meta.get_field("user").column)
    sql = (
        f"SELECT {columns} FROM {quote(AuthToken._meta.db_table)} t "
        f"JOIN {quote(user_model._meta.db_table)} u "
        f"ON u.{quote(user_model._meta.pk.column)} = t.{token_user_column} "
        f"WHERE t.{quote(AuthToken._meta.pk.column)} = %s"
    )
    names = [field.attname for field in user_model._meta.concrete_fields]
    return sql, names, field_converters(fields, connection)


def token_row(digest: str) -> tuple[object, datetime | None] | None:
    """(user, expiry) of the token with this digest, or None; expired tokens are returned too."""
    sql, names, converters = _statement()
    with connection.cursor() as cursor:
        cursor.execute(sql, [digest])
        rows = cursor.fetchall()
    if not rows:
        return None
    (values,) = converted(rows, converters, connection)
    expiry, user_values = values[0], values[1:]
    return get_user_model().from_db(connection.alias, names, user_values), expiry
