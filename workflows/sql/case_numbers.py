"""Case numbers: the year's counter incremented and read back in one statement.

`UPDATE … SET last = last + 1 … RETURNING last` takes the counter row's lock and returns the
new value in one round trip; through the ORM (`select_for_update().get()` then `save()`) it
would be two statements and a SAVEPOINT on every report. The row lock serialises concurrent
reports of the same year, so numbers are never given twice.
"""

from __future__ import annotations

from django.db import connection

from ..models import CaseSequence


def case_number_increment(year: int) -> int | None:
    """The year's next number, or None when the year has no counter row yet."""
    table = connection.ops.quote_name(CaseSequence._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET last = last + 1 WHERE year = %s RETURNING last", [year])
        row = cursor.fetchone()
    return row[0] if row else None
