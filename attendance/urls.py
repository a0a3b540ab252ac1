from django.urls import path

from . import views

app_name = "attendance"
urlpatterns = [
    path("", views.today, name="today"),
    path("sessions/<int:pk>/", views.session, name="session"),
    path("days/<str:date>/", views.day, name="day"),
    path("children/<int:pk>/", views.child, name="child"),
]
