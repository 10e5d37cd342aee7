from django.urls import path

from .views import board as board_views
from .views import cases, home, notifications, tasks
from .views import requests as request_views

app_name = "workflows"
urlpatterns = [
    path("", home, name="home"),
    path("tasks/", tasks.task_list_view, name="tasks"),
    path("tasks/<int:task_id>/", tasks.task_detail_view, name="task"),
    path("tasks/<int:task_id>/claim/", tasks.task_claim_view, name="task-claim"),
    path("tasks/<int:task_id>/release/", tasks.task_release_view, name="task-release"),
    path("tasks/<int:task_id>/complete/", tasks.task_complete_view, name="task-complete"),
    path("tasks/<int:task_id>/subdispatch/", tasks.task_subdispatch_view, name="task-subdispatch"),
    path(
        "tasks/<int:task_id>/extension/",
        request_views.task_extension_view,
        name="task-extension",
    ),
    path("tasks/<int:task_id>/parking/", request_views.task_parking_view, name="task-parking"),
    path(
        "tasks/<int:task_id>/waiting-info/",
        request_views.task_waiting_info_view,
        name="task-waiting-info",
    ),
    path(
        "tasks/<int:task_id>/info-received/",
        request_views.task_info_received_view,
        name="task-info-received",
    ),
    path("cases/", cases.case_list_view, name="cases"),
    path("cases/new/", cases.case_new_view, name="case-new"),
    path("cases/<int:case_id>/", cases.case_detail_view, name="case"),
    path("cases/<int:case_id>/cancel/", cases.case_cancel_view, name="case-cancel"),
    path("cases/<int:case_id>/supervise/", board_views.case_supervise_view, name="case-supervise"),
    path("board/", board_views.board_view, name="board"),
    path("board/cases/", board_views.board_cases_view, name="board-cases"),
    path("board/breaches/", board_views.breaches_view, name="board-breaches"),
    path("supervision/", board_views.orders_view, name="orders"),
    path("supervision/<int:order_id>/reply/", board_views.order_reply_view, name="order-reply"),
    path("notifications/", notifications.notification_list_view, name="notifications"),
    path(
        "notifications/read/",
        notifications.notification_read_view,
        name="notifications-read",
    ),
]
