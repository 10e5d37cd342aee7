from django.urls import path

from .views import cases, home, notifications, tasks

app_name = "workflows"
urlpatterns = [
    path("", home, name="home"),
    path("tasks/", tasks.task_list_view, name="tasks"),
    path("tasks/<int:task_id>/", tasks.task_detail_view, name="task"),
    path("tasks/<int:task_id>/claim/", tasks.task_claim_view, name="task-claim"),
    path("tasks/<int:task_id>/release/", tasks.task_release_view, name="task-release"),
    path("tasks/<int:task_id>/complete/", tasks.task_complete_view, name="task-complete"),
    path("tasks/<int:task_id>/subdispatch/", tasks.task_subdispatch_view, name="task-subdispatch"),
    path("cases/", cases.case_list_view, name="cases"),
    path("cases/new/", cases.case_new_view, name="case-new"),
    path("cases/<int:case_id>/", cases.case_detail_view, name="case"),
    path("cases/<int:case_id>/cancel/", cases.case_cancel_view, name="case-cancel"),
    path("notifications/", notifications.notification_list_view, name="notifications"),
    path(
        "notifications/read/",
        notifications.notification_read_view,
        name="notifications-read",
    ),
]
