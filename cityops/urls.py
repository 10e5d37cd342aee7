from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from indicators.urls import screen_urlpatterns
from operations.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/indicators/", include("indicators.api.urls")),
    path("api/v1/suggestions/", include("intelligence.api.urls")),
    path("api/v1/", include("workflows.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's set-up script as a file: no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("open311/v2/", include("workflows.open311.urls")),
    path("indicators/", include("indicators.urls")),
    path("screen/", include((screen_urlpatterns, "screen"))),
    path("intelligence/", include("intelligence.urls")),
    path("", include("workflows.urls")),
]

# Uploaded photos are never served by path, not even in the demo: /photos/<id>/ and
# /api/v1/photos/<id>/ check who may see them (workflows.views.photos).

handler404 = "workflows.api.errors.api_aware_404"
handler500 = "workflows.api.errors.api_aware_500"
