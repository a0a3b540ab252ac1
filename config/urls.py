from django.contrib import admin
from django.urls import include, path

from notifications.views import healthz
from portal import views as portal_views
from schools.login import LoginPage, PasswordResetPage

urlpatterns = [
    path("", portal_views.home, name="home"),
    path("healthz", healthz, name="healthz"),
    # The login page refuses sign-in while throttled (schools.throttling), with a message.
    path("accounts/login/", LoginPage.as_view(), name="login"),
    path("accounts/password_reset/", PasswordResetPage.as_view(), name="password_reset"),
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
# Nothing is served from MEDIA_ROOT: the only uploads are children's evidence, kept in the
# private storage and read through enrollment:evidence, which checks who asks.

# Under /api/ these answer in the API's JSON shape (an unknown path is a JSON 404); elsewhere,
# Django's pages.
handler400 = "schools.api_errors.bad_request"
handler403 = "schools.api_errors.permission_denied"
handler404 = "schools.api_errors.page_not_found"
handler500 = "schools.api_errors.server_error"
