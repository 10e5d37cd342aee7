"""Case numbers: sequential per year, shared by every flow (数字城管 cases, 12345 orders)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from ..models import CaseSequence
from ..sql.case_numbers import case_number_increment
from .errors import Conflict


def case_number_next(year: int) -> str:
    """The next number of the year, e.g. 2026-000123 (the counter row serialises writers)."""
    for _attempt in range(3):
        last = case_number_increment(year)  # one statement: increment and read back
        if last is not None:
            return f"{year}-{last:06d}"
        try:
            with transaction.atomic():
                CaseSequence.objects.create(year=year, last=1)
            return f"{year}-{1:06d}"
        except IntegrityError:
            continue
    raise Conflict(_("Could not allocate a case number; try again."))
