"""Case search, second step: the n-grams move from an expression index (0007) into a stored
generated column with its own GIN index.

Chinese substring search on PostgreSQL: pg_trgm finds no trigram in a 1- or 2-character
Chinese word, so its index cannot serve them. Every character and every pair of neighbouring
characters of the description and address (lower-cased, `cityops_ngrams` of 0007) are kept in
the column `search_ngrams` (not a model field: PostgreSQL computes it on every write) with a
GIN index. A stored column rather than an index on the expression: when the planner walks the
date index for a common word it checks the stored array instead of computing the n-grams of
every row it passes (0.7 ms a row), and ANALYZE keeps statistics of the pairs, which the
search reads to look a long word up by its rarest pair (workflows/selectors/case_search.py).
SQLite: nothing (the search uses icontains there).
"""

from django.db import migrations

NGRAMS_COLUMN = """
ALTER TABLE workflows_case ADD COLUMN search_ngrams text[]
GENERATED ALWAYS AS (cityops_ngrams(description || ' ' || address)) STORED
"""
NGRAMS_INDEX = "CREATE INDEX case_search_ngrams ON workflows_case USING gin (search_ngrams)"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS case_text_ngrams")
        schema_editor.execute(NGRAMS_COLUMN)
        schema_editor.execute(NGRAMS_INDEX)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE workflows_case DROP COLUMN search_ngrams")
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS case_text_ngrams ON workflows_case "
            "USING gin (cityops_ngrams(description || ' ' || address))"
        )


class Migration(migrations.Migration):
    dependencies = [("workflows", "0008_merge_search_hotline")]

    operations = [migrations.RunPython(forward, backward)]
