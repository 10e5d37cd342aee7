"""Admin: the registry (every change saved as a new version), composite weights per city,
saved analyses; facts are derived data and read-only here."""

from django.contrib import admin, messages

from .models import CompositeWeights, Fact, FactCursor, Indicator, IndicatorVersion, SavedView
from .registry import FormulaError
from .services import DEFINITION_FIELDS, indicator_save


class VersionInline(admin.TabularInline):
    model = IndicatorVersion
    extra = 0
    can_delete = False
    readonly_fields = ("version", "definition", "note", "changed_by", "created_at")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Indicator)
class IndicatorAdmin(admin.ModelAdmin):
    list_display = ("code", "name_zh", "name_en", "unit", "direction", "version", "builtin")
    search_fields = ("code", "name_zh", "name_en")
    readonly_fields = ("version", "builtin")
    inlines = [VersionInline]

    def save_model(self, request, obj, form, change):
        """Through the registry service: a changed definition becomes a new version."""
        definition = {name: getattr(obj, name) for name in DEFINITION_FIELDS}
        try:
            indicator_save(code=obj.code, definition=definition, actor=request.user, note="admin")
        except FormulaError as exc:
            messages.error(request, str(exc))


@admin.register(CompositeWeights)
class CompositeWeightsAdmin(admin.ModelAdmin):
    list_display = ("city",)


@admin.register(SavedView)
class SavedViewAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "shared_unit", "shared_role", "created_at")


@admin.register(FactCursor)
class FactCursorAdmin(admin.ModelAdmin):
    list_display = ("name", "last_event_id", "updated_at")

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Fact)
class FactAdmin(admin.ModelAdmin):
    list_display = ("case", "kind", "day", "unit_id", "on_time")
    list_filter = ("kind",)

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False
