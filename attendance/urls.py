from django.urls import path

from . import views

app_name = "attendance"
urlpatterns = [
    path("", views.today, name="today"),
    path("sw.js", views.service_worker, name="sw"),
    path("sessions/<int:pk>/", views.session, name="session"),
    path("days/<str:date>/", views.day, name="day"),
    path("children/<int:pk>/", views.child, name="child"),
    path("classes/<int:pk>/week/", views.week, name="week"),
    path("months/<str:month>/", views.month, name="month"),
]
