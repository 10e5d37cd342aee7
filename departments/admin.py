from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from . import services
from .admin_io import GRID_FORMATS, GridResource, MasterDataAdmin, StaffResource, UnitResource
from .models import (
    CalendarDay,
    CalendarYear,
    GridCell,
    Membership,
    Unit,
    WorkCalendar,
    WorkingPeriod,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Unit)
class UnitAdmin(MasterDataAdmin):
    resource_classes = [UnitResource]
    list_display = ["code", "name", "kind", "parent", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["parent"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(MasterDataAdmin):
    resource_classes = [StaffResource]
    list_display = ["user", "unit", "role", "include_subunits"]
    list_filter = ["role", "include_subunits", "unit__kind"]
    search_fields = ["user__username", "unit__code", "unit__name"]
    autocomplete_fields = ["user", "unit"]


@admin.register(GridCell)
class GridCellAdmin(MasterDataAdmin):
    resource_classes = [GridResource]
    formats = GRID_FORMATS
    list_display = ["code", "name", "area", "centre_lat", "centre_lng"]
    list_filter = ["area__parent"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["area"]


class WorkingPeriodInline(admin.TabularInline):
    model = WorkingPeriod
    extra = 0


class CalendarDayInline(admin.TabularInline):
    model = CalendarDay
    extra = 1


class CalendarYearInline(admin.TabularInline):
    model = CalendarYear
    extra = 0
    fields = ["year", "source", "provisional", "confirmed_by", "confirmed_at"]
    readonly_fields = ["source", "confirmed_by", "confirmed_at"]


def _warn_provisional(request, queryset) -> None:
    for year in queryset.filter(provisional=True).select_related("calendar"):
        messages.warning(
            request,
            _(
                "%(calendar)s: %(year)s is provisional — holidays were projected without "
                "make-up working days. Check them against the published schedule, then "
                "confirm the year."
            )
            % {"calendar": year.calendar, "year": year.year},
        )


@admin.register(WorkCalendar)
class WorkCalendarAdmin(admin.ModelAdmin):
    list_display = ["name", "unit", "updated_at"]
    inlines = [WorkingPeriodInline, CalendarYearInline, CalendarDayInline]

    def changelist_view(self, request, extra_context=None):
        _warn_provisional(request, CalendarYear.objects.all())
        return super().changelist_view(request, extra_context)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.calendar_touch(calendar=form.instance)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        _warn_provisional(request, CalendarYear.objects.filter(calendar_id=object_id))
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    list_display = ["calendar", "year", "source", "provisional", "confirmed_by", "confirmed_at"]
    list_filter = ["provisional", "calendar"]
    readonly_fields = ["source", "confirmed_by", "confirmed_at"]
    actions = ["confirm_years"]

    def changelist_view(self, request, extra_context=None):
        _warn_provisional(request, CalendarYear.objects.all())
        return super().changelist_view(request, extra_context)

    @admin.action(description=_("Confirm year (days checked against the published schedule)"))
    def confirm_years(self, request, queryset):
        for year in queryset.filter(provisional=True):
            services.calendar_year_confirm(year=year, actor=request.user)
        self.message_user(request, _("Confirmed."), messages.SUCCESS)


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ["date", "kind", "holiday_name", "calendar"]
    list_filter = ["kind", "calendar"]
    date_hierarchy = "date"

    @admin.display(description=_("name"), ordering="name")
    def holiday_name(self, day: CalendarDay) -> str:
        return day.display_name

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.calendar_touch(calendar=obj.calendar)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        services.calendar_touch(calendar=obj.calendar)
