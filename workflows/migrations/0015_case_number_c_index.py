"""Case search by number (issue 10's benchmark: a prefix of an earlier year, `2024-00`, took
250 ms): a number search lists its cases by number, and this index keeps the numbers in byte
order ("C" collation) on PostgreSQL. It serves the order (`ORDER BY number COLLATE "C"`) and
the prefix, which PostgreSQL turns into a range on an index of C collation
(`number >= '2024-00' AND number < '2024-01'`). Django's own `_like` index
(varchar_pattern_ops) serves a prefix but not an order, and the unique index on `number`
neither (its collation is the database's). SQLite compares text byte by byte already.
"""

from django.db import migrations

NUMBER_INDEX = 'CREATE INDEX IF NOT EXISTS case_number_c ON workflows_case (number COLLATE "C")'


def create_number_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(NUMBER_INDEX)


def drop_number_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS case_number_c")


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0014_casetask_visibility_paused_indexes"),
    ]

    operations = [
        migrations.RunPython(create_number_index, drop_number_index),
    ]
