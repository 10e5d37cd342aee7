"""The REST API, version 1 (JSON), included at /api/v1/."""

from django.urls import path, register_converter

from . import views_cases, views_notifications, views_sla, views_tasks, views_webhooks


class DatabaseIdConverter:
    """Like <dbid:…>, but an id no database row can have (> 2**63 - 1) does not match (404)
    instead of overflowing the query (SQLite raises OverflowError on such parameters)."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > 2**63 - 1:
            raise ValueError(value)
        return number

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(DatabaseIdConverter, "dbid")

app_name = "api"

urlpatterns = [
    path("auth/token/", views_cases.AuthTokenView.as_view(), name="auth-token"),
    path("categories/", views_cases.CategoryListView.as_view(), name="category-list"),
    path("cases/", views_cases.CaseReportView.as_view(), name="case-report"),
    path("cases/<dbid:case_id>/", views_cases.CaseDetailView.as_view(), name="case-detail"),
    path(
        "cases/<dbid:case_id>/timeline/",
        views_cases.CaseTimelineView.as_view(),
        name="case-timeline",
    ),
    path("cases/<dbid:case_id>/cancel/", views_cases.CaseCancelView.as_view(), name="case-cancel"),
    path("tasks/", views_tasks.TaskListView.as_view(), name="task-list"),
    path("tasks/<dbid:task_id>/", views_tasks.TaskDetailView.as_view(), name="task-detail"),
    path("tasks/<dbid:task_id>/claim/", views_tasks.TaskClaimView.as_view(), name="task-claim"),
    path(
        "tasks/<dbid:task_id>/release/",
        views_tasks.TaskReleaseView.as_view(),
        name="task-release",
    ),
    path(
        "tasks/<dbid:task_id>/complete/",
        views_tasks.TaskCompleteView.as_view(),
        name="task-complete",
    ),
    path(
        "tasks/<dbid:task_id>/subdispatch/",
        views_tasks.TaskSubdispatchView.as_view(),
        name="task-subdispatch",
    ),
    path(
        "tasks/<dbid:task_id>/extension/",
        views_tasks.TaskExtensionView.as_view(),
        name="task-extension",
    ),
    path(
        "tasks/<dbid:task_id>/parking/",
        views_tasks.TaskParkingView.as_view(),
        name="task-parking",
    ),
    path(
        "tasks/<dbid:task_id>/waiting-info/",
        views_tasks.TaskWaitInfoView.as_view(),
        name="task-waiting-info",
    ),
    path(
        "tasks/<dbid:task_id>/info-received/",
        views_tasks.TaskInfoReceivedView.as_view(),
        name="task-info-received",
    ),
    path(
        "cases/<dbid:case_id>/supervise/",
        views_sla.CaseSuperviseView.as_view(),
        name="case-supervise",
    ),
    path("sla/board/", views_sla.BoardView.as_view(), name="sla-board"),
    path("sla/breaches/", views_sla.BreachListView.as_view(), name="sla-breaches"),
    path("supervision/", views_sla.OrderListView.as_view(), name="order-list"),
    path(
        "supervision/<dbid:order_id>/reply/",
        views_sla.OrderReplyView.as_view(),
        name="order-reply",
    ),
    path(
        "notifications/",
        views_notifications.NotificationListView.as_view(),
        name="notification-list",
    ),
    path(
        "notifications/read/",
        views_notifications.NotificationReadView.as_view(),
        name="notification-read",
    ),
    path("webhooks/", views_webhooks.WebhookListView.as_view(), name="webhook-list"),
    path(
        "webhooks/<dbid:subscription_id>/",
        views_webhooks.WebhookDetailView.as_view(),
        name="webhook-detail",
    ),
    path(
        "webhooks/<dbid:subscription_id>/deliveries/",
        views_webhooks.WebhookDeliveryListView.as_view(),
        name="webhook-deliveries",
    ),
]
