from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from departments.models import Role, Unit

from .integrations.keys import api_key_issue, api_key_revoke
from .integrations.webhook_subscriptions import webhook_enable
from .models import (
    ApiKey,
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
    Scope,
    SupervisionOrder,
    ThresholdRule,
    WebhookDelivery,
    WebhookSubscription,
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
        "public",
    ]
    list_filter = ["scheme", "kind", "urgency", "limit_unit", "is_active", "public"]
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


class ApiKeyForm(forms.ModelForm):
    """Issuing a key: what it may do, and for tasks:act the unit and role it acts as."""

    scope_choices = forms.MultipleChoiceField(
        label=_("Scopes"), choices=Scope.choices, widget=forms.CheckboxSelectMultiple
    )
    unit = forms.ModelChoiceField(Unit.objects.all(), required=False, label=_("Acts in unit"))
    role = forms.ChoiceField(
        choices=[("", "—"), *Role.choices], required=False, label=_("Acts as role")
    )

    class Meta:
        model = ApiKey
        fields = ["name"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "scopes", "user", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = [
        "prefix",
        "scopes",
        "user",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    actions = ["revoke"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ApiKeyForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "scope_choices", "unit", "role"]
        return ["name", *self.readonly_fields]

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        record, key = api_key_issue(
            actor=request.user,
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scope_choices"],
            unit=form.cleaned_data["unit"],
            role=form.cleaned_data["role"] or None,
        )
        obj.pk = record.pk
        messages.warning(
            request,
            _("The key for %(name)s — shown only now, copy it: %(key)s")
            % {"name": record.name, "key": key},
        )

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the key's history stays

    @admin.action(description=_("Revoke the selected keys"))
    def revoke(self, request, queryset):
        for key in queryset.filter(revoked_at__isnull=True):
            api_key_revoke(actor=request.user, key=key)


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(ReadOnlyAdmin):
    """Subscriptions are made through the API; here they are read, deleted or re-enabled after
    being disabled for failures. The secret is never shown."""

    list_display = ["url", "owner", "events", "is_active", "failures_in_a_row", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["url", "owner__username"]
    list_select_related = ["owner"]
    exclude = ["secret"]
    actions = ["enable"]

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    @admin.action(description=_("Re-enable the selected subscriptions"))
    def enable(self, request, queryset):
        for subscription in queryset.filter(is_active=False):
            webhook_enable(actor=request.user, subscription=subscription)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    """The delivery log, filtered by subscription."""

    list_display = [
        "created_at",
        "subscription",
        "event_type",
        "attempts",
        "last_status",
        "delivered_at",
        "failed_at",
    ]
    list_filter = [("subscription", admin.RelatedOnlyFieldListFilter), "event_type"]
    search_fields = ["delivery_id", "event_id", "subscription__url"]
    list_select_related = ["subscription"]
    show_full_result_count = False
