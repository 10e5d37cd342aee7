"""The pages, included at /."""

from django.urls import path

from . import converters  # noqa: F401  (registers <dbid:…>)
from .views import board as board_views
from .views import case_search, cases, home, hotline, hotline_public, notifications, photos, tasks
from .views import reminders as reminder_views
from .views import requests as request_views

# POST tasks/<id>/<action>/: the same actions as the API's (workflows.api.urls).
TASK_ACTIONS = {
    "claim": tasks.task_claim_view,
    "release": tasks.task_release_view,
    "complete": tasks.task_complete_view,
    "subdispatch": tasks.task_subdispatch_view,
    "extension": request_views.task_extension_view,
    "parking": request_views.task_parking_view,
    "waiting-info": request_views.task_waiting_info_view,
    "info-received": request_views.task_info_received_view,
    "withdraw-request": request_views.task_withdraw_request_view,
}

app_name = "workflows"
urlpatterns = [
    path("", home, name="home"),
    path("tasks/", tasks.task_list_view, name="tasks"),
    path("photos/<dbid:photo_id>/", photos.photo_view, name="photo"),
    path("tasks/<dbid:task_id>/", tasks.task_detail_view, name="task"),
    *(
        path(f"tasks/<dbid:task_id>/{action}/", view, name=f"task-{action}")
        for action, view in TASK_ACTIONS.items()
    ),
    path("cases/", case_search.case_list_view, name="cases"),
    path("cases/export.csv", case_search.case_export_view, {"fmt": "csv"}, name="cases-csv"),
    path("cases/export.xlsx", case_search.case_export_view, {"fmt": "xlsx"}, name="cases-xlsx"),
    path("cases/saved/", case_search.saved_filter_save_view, name="case-search-save"),
    path(
        "cases/saved/<dbid:saved_id>/delete/",
        case_search.saved_filter_delete_view,
        name="case-search-delete",
    ),
    path("cases/new/", cases.case_new_view, name="case-new"),
    path("cases/<dbid:case_id>/", cases.case_detail_view, name="case"),
    path("cases/<dbid:case_id>/cancel/", cases.case_cancel_view, name="case-cancel"),
    path("cases/<dbid:case_id>/supervise/", board_views.case_supervise_view, name="case-supervise"),
    path("cases/<dbid:case_id>/remind/", reminder_views.case_remind_view, name="case-remind"),
    path("hotline/", hotline.hotline_desk_view, name="hotline"),
    path("hotline/orders/<dbid:case_id>/", hotline.hotline_order_view, name="hotline-order"),
    path(
        "hotline/orders/<dbid:case_id>/unmerge/",
        hotline.hotline_unmerge_view,
        name="hotline-unmerge",
    ),
    path(
        "hotline/tasks/<dbid:task_id>/<slug:outcome>/",
        hotline.hotline_task_view,
        name="hotline-task",
    ),
    path("hotline/query/", hotline_public.public_query_view, name="hotline-query"),
    path("board/", board_views.board_view, name="board"),
    path("board/cases/", board_views.board_cases_view, name="board-cases"),
    path("board/breaches/", board_views.breaches_view, name="board-breaches"),
    path("supervision/", board_views.orders_view, name="orders"),
    path("supervision/<dbid:order_id>/reply/", board_views.order_reply_view, name="order-reply"),
    path("notifications/", notifications.notification_list_view, name="notifications"),
    path(
        "notifications/read/",
        notifications.notification_read_view,
        name="notifications-read",
    ),
]
