"""Case numbers: sequential per year, shared by every flow (数字城管 cases, 12345 orders)."""

from __future__ import annotations

from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from ..models import CaseSequence
from .errors import Conflict


def case_number_next(year: int) -> str:
    """The next number of the year, e.g. 2026-000123 (the counter row serialises writers)."""
    table = CaseSequence._meta.db_table
    for _attempt in range(3):
        with connection.cursor() as cursor:  # one statement: increment and read back
            cursor.execute(
                f"UPDATE {table} SET last = last + 1 WHERE year = %s RETURNING last", [year]
            )
            row = cursor.fetchone()
        if row:
            return f"{year}-{row[0]:06d}"
        try:
            with transaction.atomic():
                CaseSequence.objects.create(year=year, last=1)
            return f"{year}-{1:06d}"
        except IntegrityError:
            continue
    raise Conflict(_("Could not allocate a case number; try again."))
