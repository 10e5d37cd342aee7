"""The indicator API, included at /api/v1/indicators/."""

from django.urls import path

from . import views

app_name = "indicators-api"
urlpatterns = [
    path("", views.IndicatorListView.as_view(), name="list"),
    path("values/", views.IndicatorValuesView.as_view(), name="values"),
    path("cases/", views.IndicatorCasesView.as_view(), name="cases"),
]
