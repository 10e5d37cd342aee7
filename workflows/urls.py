from django.urls import path
from django.views.generic import TemplateView

app_name = "workflows"
urlpatterns = [
    path("", TemplateView.as_view(template_name="workflows/home.html"), name="home"),
]
