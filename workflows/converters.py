"""URL converters shared by the pages and the API (imported by both url modules, which
registers them once).

`<dbid:…>` is like `<int:…>`, but an id no database row can have (larger than the bigint
range) does not match, so the answer is 404 instead of an overflowing query (SQLite raises
OverflowError on such parameters, PostgreSQL a data error).
"""

from django.urls import register_converter

from .selectors.lookups import MAX_DB_ID


class DatabaseIdConverter:
    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_DB_ID:
            raise ValueError(value)
        return number

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(DatabaseIdConverter, "dbid")
