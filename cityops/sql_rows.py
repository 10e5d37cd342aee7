"""Rows of hand-written SQL, converted to Python as the ORM would convert them.

For the few reads on every request whose ORM form costs more to compile than to run (the
token lookup, the task list page), the statement is written once and its columns go through
the converters Django gives each model field on the connection's backend (SQLite returns
datetimes as text and booleans as integers, JSON arrives as text on both backends), so the
values equal what the ORM returns.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db.models import Field

Converters = tuple[tuple[int, object, list], ...]


def field_converters(fields: Sequence[Field], connection) -> Converters:
    """(position, column expression, converter functions) of the columns that need any."""
    out = []
    for position, field in enumerate(fields):
        column = (field.target_field if field.is_relation else field).get_col("t")
        funcs = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if funcs:
            out.append((position, column, funcs))
    return tuple(out)


def converted(rows: Iterable[Sequence], converters: Converters, connection) -> list[list]:
    """The rows as lists, each value converted (see Django's SQLCompiler.apply_converters)."""
    out = []
    for row in rows:
        values = list(row)
        for position, column, funcs in converters:
            value = values[position]
            for func in funcs:
                value = func(value, column, connection)
            values[position] = value
        out.append(values)
    return out
