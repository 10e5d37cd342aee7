"""Staff tokens: the token's user, expiry and memberships read by one statement written once.

`AuthToken.objects.select_related("user").get(digest=…)` compiled its queryset on every API
request: about a quarter of the CPU of a task-list request (bench/api_http.py). The statement
below selects the token's expiry and the user's columns, joined by the token's digest (the
primary key of knox_authtoken), and converts them as the ORM would (cityops.sql_rows).

It also reads what every authenticated request asks next: the user's memberships (a LEFT JOIN,
one row per membership, a user holds one to three) and the reference generation they are
valid at (departments.reference). The staff scope is then built without a statement of its
own: that was one more round trip and about 0.4 ms of CPU (an ORM query compiled per request)
on every API request. Used by workflows.integrations.tokens.TokenAuthentication.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from django.contrib.auth import get_user_model
from django.db import connection
from knox.models import AuthToken

from cityops.sql_rows import Converters, converted, field_converters
from departments.models import Membership
from departments.reference import GENERATION_SQL


@dataclass(frozen=True)
class TokenRow:
    user: object
    expiry: datetime | None
    memberships: list[tuple[int, str, bool]]  # (unit id, role, include sub-units)
    generation: int | None  # the reference generation read with them


@lru_cache(maxsize=1)
def _statement() -> tuple[str, list[str], Converters]:
    user_model = get_user_model()
    membership = [Membership._meta.get_field(name) for name in ("unit", "role", "include_subunits")]
    fields = [AuthToken._meta.get_field("expiry"), *user_model._meta.concrete_fields, *membership]
    quote = connection.ops.quote_name
    columns = ", ".join(
        [f"t.{quote(fields[0].column)}"]
        + [f"u.{quote(field.column)}" for field in user_model._meta.concrete_fields]
        + [f"m.{quote(field.column)}" for field in membership]
        + [f"({GENERATION_SQL})"]
    )
    token_user_column = quote(AuthToken._meta.get_field("user").column)
    user_pk = f"u.{quote(user_model._meta.pk.column)}"
    sql = (
        f"SELECT {columns} FROM {quote(AuthToken._meta.db_table)} t "
        f"JOIN {quote(user_model._meta.db_table)} u ON {user_pk} = t.{token_user_column} "
        f"LEFT JOIN {quote(Membership._meta.db_table)} m "
        f"ON m.{quote(Membership._meta.get_field('user').column)} = {user_pk} "
        f"WHERE t.{quote(AuthToken._meta.pk.column)} = %s"
    )
    names = [field.attname for field in user_model._meta.concrete_fields]
    return sql, names, field_converters(fields, connection)


def token_row(digest: str) -> TokenRow | None:
    """The token with this digest, its user and the user's memberships, or None; expired
    tokens are returned too."""
    sql, names, converters = _statement()
    with connection.cursor() as cursor:
        cursor.execute(sql, [digest])
        rows = converted(cursor.fetchall(), converters, connection)
    if not rows:
        return None
    first = rows[0]
    user = get_user_model().from_db(connection.alias, names, first[1 : 1 + len(names)])
    memberships = [tuple(row[-4:-1]) for row in rows if row[-4] is not None]
    return TokenRow(user, first[0], memberships, first[-1])
