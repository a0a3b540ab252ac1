"""/api/v1/: each app contributes its routes in <app>/api_urls.py."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from schools.login import ObtainTokenApi

urlpatterns = [
    path("auth/token/", ObtainTokenApi.as_view(), name="api-token"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("schools.api_urls")),
    path("", include("notifications.api_urls")),
    path("", include("enrollment.api_urls")),
    path("", include("scheduling.api_urls")),
    path("", include("attendance.api_urls")),
    path("", include("billing.api_urls")),
    path("", include("oversight.api_urls")),
]
