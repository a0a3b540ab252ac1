from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from portal import views as portal_views

urlpatterns = [
    path("", portal_views.home, name="home"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api_urls")),
    path("roster/", include("schools.urls")),
    path("roster/import/", include("schools.import_urls")),
    path("notifications/", include("notifications.urls")),
    path("enrollment/", include("enrollment.urls")),
    path("scheduling/", include("scheduling.urls")),
    path("attendance/", include("attendance.urls")),
    path("billing/", include("billing.urls")),
    path("oversight/", include("oversight.urls")),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
