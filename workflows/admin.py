from django.contrib import admin

from .models import (
    Case,
    CaseEvent,
    CaseRequest,
    CaseTask,
    Category,
    CategoryScheme,
    Notification,
    OutboxMessage,
    PauseInterval,
    RoutingRule,
    SupervisionOrder,
    ThresholdRule,
)


@admin.register(CategoryScheme)
class CategorySchemeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "created_at"]
    search_fields = ["code", "name"]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "kind",
        "major_name",
        "scheme",
        "default_unit",
        "limit_display",
        "urgency",
        "is_active",
    ]
    list_filter = ["scheme", "kind", "urgency", "limit_unit", "is_active"]
    search_fields = ["code", "name", "major_name"]
    autocomplete_fields = ["default_unit"]


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ["__str__", "category", "area", "grid", "unit", "priority", "is_active"]
    list_filter = ["is_active", "unit"]
    autocomplete_fields = ["category", "area", "grid", "unit"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """The audit trail and the task index are written by services only."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ["number", "category", "stage", "status", "responsible_unit", "created_at"]
    list_filter = ["status", "stage", "source", "urgency"]
    search_fields = ["number", "description", "address"]
    date_hierarchy = "created_at"
    list_select_related = ["category", "responsible_unit"]
    show_full_result_count = False


@admin.register(CaseTask)
class CaseTaskAdmin(ReadOnlyAdmin):
    list_display = ["task_id", "case", "stage", "role", "unit", "status", "owner", "created_at"]
    list_filter = ["status", "stage", "role"]
    search_fields = ["case__number"]
    list_select_related = ["case", "unit", "owner"]
    show_full_result_count = False


@admin.register(CaseEvent)
class CaseEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "case", "action", "actor", "stage_from", "stage_to", "unit"]
    list_filter = ["action"]
    search_fields = ["case__number"]
    list_select_related = ["case", "actor", "unit"]
    show_full_result_count = False


@admin.register(ThresholdRule)
class ThresholdRuleAdmin(admin.ModelAdmin):
    list_display = ["__str__", "category", "area", "is_active"]
    list_filter = ["is_active"]
    autocomplete_fields = ["category", "area"]


@admin.register(SupervisionOrder)
class SupervisionOrderAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "case", "unit", "issued_by", "reply_due_at", "status"]
    list_filter = ["status"]
    search_fields = ["case__number"]
    list_select_related = ["case", "unit", "issued_by"]


@admin.register(CaseRequest)
class CaseRequestAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "case", "kind", "status", "amount", "amount_unit"]
    list_filter = ["kind", "status"]
    search_fields = ["case__number"]
    list_select_related = ["case"]


@admin.register(PauseInterval)
class PauseIntervalAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "ended_at", "case", "reason", "paused_minutes"]
    list_filter = ["reason"]
    list_select_related = ["case"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "user", "kind", "title", "read_at"]
    list_filter = ["kind"]
    list_select_related = ["user"]
    show_full_result_count = False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    """Delivery state of side effects; a failed message can be read here (and retried by
    clearing its failure in the database, deliberately not a button)."""

    list_display = ["id", "channel", "created_at", "attempts", "delivered_at", "failed_at"]
    list_filter = ["channel"]
    show_full_result_count = False
