"""Which categories can be reported against."""

from __future__ import annotations

from django.db.models import QuerySet

from departments.models import Unit, UnitKind

from ..models import Category


def reportable_categories() -> QuerySet[Category]:
    """Active categories of the cities' active schemes (all active ones if no city has chosen
    a scheme), ordered by scheme, kind and code."""
    schemes = list(
        Unit.objects.filter(kind=UnitKind.CITY, is_active=True, category_scheme__isnull=False)
        .values_list("category_scheme_id", flat=True)
        .distinct()
    )
    categories = Category.objects.filter(is_active=True).select_related("scheme", "default_unit")
    if schemes:
        categories = categories.filter(scheme_id__in=schemes)
    return categories.order_by("scheme__code", "kind", "code")
