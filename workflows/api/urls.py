"""The REST API, version 1 (JSON), included at /api/v1/."""

from django.urls import path

from .. import converters  # noqa: F401  (registers <dbid:…>)
from . import (
    views_cases,
    views_masterdata,
    views_notifications,
    views_photos,
    views_reminders,
    views_sla,
    views_tasks,
    views_webhooks,
)

# POST tasks/<id>/<action>/: the same actions as the task pages (workflows.urls).
TASK_ACTIONS = {
    "claim": views_tasks.TaskClaimView,
    "release": views_tasks.TaskReleaseView,
    "complete": views_tasks.TaskCompleteView,
    "subdispatch": views_tasks.TaskSubdispatchView,
    "extension": views_tasks.TaskExtensionView,
    "parking": views_tasks.TaskParkingView,
    "waiting-info": views_tasks.TaskWaitInfoView,
    "info-received": views_tasks.TaskInfoReceivedView,
    "withdraw-request": views_tasks.TaskWithdrawRequestView,
}

app_name = "api"

urlpatterns = [
    path("auth/token/", views_cases.AuthTokenView.as_view(), name="auth-token"),
    path("categories/", views_cases.CategoryListView.as_view(), name="category-list"),
    path("units/", views_masterdata.UnitTreeView.as_view(), name="unit-list"),
    path("grid/", views_masterdata.GridView.as_view(), name="grid"),
    path("cases/", views_cases.CaseReportView.as_view(), name="case-report"),
    path("cases/<dbid:case_id>/", views_cases.CaseDetailView.as_view(), name="case-detail"),
    path(
        "cases/<dbid:case_id>/timeline/",
        views_cases.CaseTimelineView.as_view(),
        name="case-timeline",
    ),
    path("photos/<dbid:photo_id>/", views_photos.PhotoView.as_view(), name="photo"),
    path("cases/<dbid:case_id>/cancel/", views_cases.CaseCancelView.as_view(), name="case-cancel"),
    path(
        "cases/<dbid:case_id>/remind/",
        views_reminders.CaseRemindView.as_view(),
        name="case-remind",
    ),
    path("tasks/", views_tasks.TaskListView.as_view(), name="task-list"),
    path("tasks/<dbid:task_id>/", views_tasks.TaskDetailView.as_view(), name="task-detail"),
    *(
        path(f"tasks/<dbid:task_id>/{action}/", view.as_view(), name=f"task-{action}")
        for action, view in TASK_ACTIONS.items()
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
