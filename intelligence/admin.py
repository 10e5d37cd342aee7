"""Admin: suggestion model versions (figures, which one is active, roll back), the
suggestions shown and what was taken (acceptance rate), the imported history."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from .models import ImportedCase, SuggestionLog, SuggestionModel
from .selectors import suggestion_acceptance
from .services.train import suggestion_model_activate


def _pct(value) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SuggestionModel)
class SuggestionModelAdmin(ReadOnly):
    list_display = (
        "version",
        "is_active",
        "created_at",
        "cases",
        "held_out",
        "unit_top1",
        "unit_top3",
        "unit_baseline",
        "category_top1",
        "category_top3",
        "accepted",
        "seconds",
        "size",
    )
    list_filter = ("is_active",)
    exclude = ("artifact",)
    actions = ["activate"]
    change_list_template = "admin/intelligence/suggestionmodel/change_list.html"

    def _figure(self, obj, task, key):
        return _pct((obj.metrics.get(task) or {}).get(key))

    @admin.display(description=_("units top-1"))
    def unit_top1(self, obj):
        return self._figure(obj, "unit", "top1")

    @admin.display(description=_("units top-3"))
    def unit_top3(self, obj):
        return self._figure(obj, "unit", "top3")

    @admin.display(description=_("units baseline"))
    def unit_baseline(self, obj):
        return self._figure(obj, "unit", "baseline")

    @admin.display(description=_("categories top-1"))
    def category_top1(self, obj):
        return self._figure(obj, "category", "top1")

    @admin.display(description=_("categories top-3"))
    def category_top3(self, obj):
        return self._figure(obj, "category", "top3")

    @admin.display(description=_("first suggestion taken"))
    def accepted(self, obj):
        acceptance = suggestion_acceptance(model_version=obj.version)
        return f"{_pct(acceptance.rate)} ({acceptance.decided})"

    @admin.action(description=_("Make the selected version active (roll back)"))
    def activate(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Choose exactly one version."), messages.ERROR)
            return
        model = suggestion_model_activate(actor=request.user, model=queryset.get())
        self.message_user(request, _("%(version)s is active.") % {"version": model.version})

    def changelist_view(self, request, extra_context=None):
        acceptance = suggestion_acceptance()
        extra_context = {
            **(extra_context or {}),
            "acceptance": acceptance,
            "acceptance_first": _pct(acceptance.rate),
            "acceptance_any": _pct(acceptance.any_rate),
        }
        return super().changelist_view(request, extra_context=extra_context)


@admin.register(SuggestionLog)
class SuggestionLogAdmin(ReadOnly):
    list_display = ("created_at", "surface", "kind", "user", "case", "model_version", "taken")
    list_filter = ("surface", "taken", "model_version")
    list_select_related = ("user", "case")


@admin.register(ImportedCase)
class ImportedCaseAdmin(ReadOnly):
    list_display = ("case", "external_id", "source_file", "where", "has_category", "imported_at")
    search_fields = ("external_id", "case__number")
    list_select_related = ("case",)
