"""Finding a row by what a person or another system typed: an id ("42") or a code ("SANI",
the case number "2026-000123").

`parse_ref` is the one place that tells the two apart. An id is ASCII digits only ("²" and
"٤" are digits to Python, not to us) within the database's bigint range: a longer number
cannot name a row, and passing it to the database would overflow the query parameter.
Whether the row found may be used (active, the actor's to see) stays the caller's rule.
"""

from __future__ import annotations

from django.db.models import QuerySet

from departments.models import Unit

from ..models import Case

MAX_DB_ID = 2**63 - 1  # the largest bigint: no row has a larger id


def parse_ref(ref: object) -> int | str | None:
    """An id as int, a code as stripped str, None for blank input or an id no row can have."""
    if ref is None:
        return None
    text = str(ref).strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():
        number = int(text)
        return number if 0 < number <= MAX_DB_ID else None
    return text


def parse_id(ref: object) -> int | None:
    """An id only (a code or anything else is None)."""
    parsed = parse_ref(ref)
    return parsed if isinstance(parsed, int) else None


def unit_by_ref(ref: object, *, queryset: QuerySet[Unit] | None = None) -> Unit | None:
    """The unit named by id or code among `queryset` (default: the active units), or None."""
    parsed = parse_ref(ref)
    if parsed is None:
        return None
    units = Unit.objects.filter(is_active=True) if queryset is None else queryset
    lookup = {"pk": parsed} if isinstance(parsed, int) else {"code": parsed}
    return units.filter(**lookup).first()


def case_by_ref(ref: object, *, queryset: QuerySet[Case] | None = None) -> Case | None:
    """The case named by id or case number among `queryset` (default: every case), or None.
    Only for input that names a case; what the actor may see is the caller's rule."""
    parsed = parse_ref(ref)
    if parsed is None:
        return None
    cases = Case.objects.all() if queryset is None else queryset
    lookup = {"pk": parsed} if isinstance(parsed, int) else {"number": parsed}
    return cases.filter(**lookup).first()
