from django.urls import path

from . import views

app_name = "intelligence"

urlpatterns = [
    path("predicted/", views.predicted_view, name="predicted"),
    path("hotspots/", views.hotspots_view, name="hotspots"),
]
