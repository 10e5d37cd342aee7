"""System checks: warn while a calendar year is provisional (projected, not confirmed)."""

from django.core.checks import Warning, register
from django.db import DatabaseError


@register()
def provisional_calendar_years(app_configs, **kwargs):
    from .models import CalendarYear

    try:
        years = list(
            CalendarYear.objects.filter(provisional=True)
            .select_related("calendar")
            .order_by("calendar_id", "year")
        )
    except DatabaseError:  # tables not migrated yet, or no database configured
        return []
    return [
        Warning(
            f"Working calendar '{y.calendar}' year {y.year} is provisional: holidays were "
            "projected without make-up working days.",
            hint="Check the year against the State Council's schedule in the admin "
            "(Working calendars), edit it, then run the 'Confirm year' action.",
            obj=y,
            id="departments.W001",
        )
        for y in years
    ]
