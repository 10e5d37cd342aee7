"""The indicator center's pages, included at /indicators/ (and the big screen at /screen/)."""

from django.urls import path

from .views import hotline, more, pages

app_name = "indicators"
urlpatterns = [
    path("", pages.dashboard_view, name="dashboard"),
    path("cases/", pages.drill_view, name="cases"),
    path("dictionary/", pages.dictionary_view, name="dictionary"),
    path("dictionary/new/", more.indicator_new_view, name="indicator-new"),
    path("hotline/", hotline.hotline_view, name="hotline"),
    path("bottlenecks/", more.bottlenecks_view, name="bottlenecks"),
    path("bulletin/", more.bulletin_view, name="bulletin"),
    path("analysis/", more.analysis_view, name="analysis"),
]
screen_urlpatterns = [
    path("", pages.screen_view, name="screen"),
    path("data/", pages.screen_data_view, name="screen-data"),
]
