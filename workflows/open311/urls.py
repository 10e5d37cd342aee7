"""GeoReport v2 routes; every endpoint takes a format extension (.json or .xml)."""

from django.urls import re_path

from . import views

app_name = "open311"

FMT = r"\.(?P<fmt>[A-Za-z0-9]+)$"

urlpatterns = [
    re_path(rf"^discovery{FMT}", views.discovery_view, name="discovery"),
    re_path(rf"^services{FMT}", views.services_view, name="services"),
    re_path(
        rf"^services/(?P<service_code>[\w-]+){FMT}",
        views.service_definition_view,
        name="service",
    ),
    re_path(rf"^requests{FMT}", views.requests_view, name="requests"),
    re_path(rf"^requests/(?P<request_id>[\w-]+){FMT}", views.request_view, name="request"),
    re_path(rf"^tokens/(?P<token>[\w-]+){FMT}", views.token_view, name="token"),
]
