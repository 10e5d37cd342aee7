"""The suggestion API, included at /api/v1/suggestions/."""

from django.urls import path

from . import views

app_name = "suggestions-api"
urlpatterns = [
    path("dispatch/", views.DispatchSuggestionView.as_view(), name="dispatch"),
    path("shown/<int:log_id>/choice/", views.SuggestionChoiceView.as_view(), name="choice"),
]
