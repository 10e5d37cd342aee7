"""cityops.db.postgresql: timestamps read by psycopg's own loader, the same values Django's
loader gives (aware, in UTC), through plain and named (server-side) cursors."""

import datetime as dt

import pytest
from django.db import connection
from psycopg.pq import Format
from psycopg.types.datetime import TimestamptzLoader as PsycopgLoader

from workflows.models import Case
from workflows.services.cases import CaseReport, case_report

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

STAMP = dt.datetime(2026, 12, 7, 1, 2, 3, 456789, tzinfo=dt.UTC)


def _loader():
    connection.ensure_connection()
    return connection.connection.adapters.get_loader(1184, Format.TEXT)  # timestamptz


def test_the_connection_reads_timestamps_with_psycopgs_loader():
    assert connection.settings_dict["ENGINE"] == "cityops.db.postgresql"
    loader = _loader()
    # psycopg's class, or its C twin from psycopg-binary; not Django's Python subclass.
    assert loader is PsycopgLoader or loader.__module__.startswith("psycopg_binary")


def test_values_are_aware_utc_as_djangos_loader_gives_them():
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::timestamptz, '2026-12-07 09:02:03+08'::timestamptz", [STAMP])
        read, shifted = cursor.fetchone()
    assert read == STAMP and read.tzinfo is dt.UTC
    assert shifted == STAMP.replace(microsecond=0) and shifted.tzinfo is dt.UTC


def test_a_named_cursor_reads_the_same(demo, users):
    """.iterator() reads through a server-side (named) cursor, which Django creates itself."""
    report = CaseReport(category=demo.garbage.pk, description="d", source="api", grid=demo.grid)
    case = case_report(actor=users("inspector"), report=report)
    named = list(Case.objects.filter(pk=case.pk).values_list("created_at", flat=True).iterator(1))
    assert named == [case.created_at] and named[0].tzinfo is dt.UTC
    assert Case.objects.get(pk=case.pk).created_at == case.created_at
