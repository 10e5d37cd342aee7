from django.contrib import admin

from .models import PeriodicRun


@admin.register(PeriodicRun)
class PeriodicRunAdmin(admin.ModelAdmin):
    list_display = ("name", "ok", "started_at", "finished_at", "last_ok_at")
    readonly_fields = ("name", "ok", "started_at", "finished_at", "last_ok_at", "error")

    def has_add_permission(self, request) -> bool:
        return False
