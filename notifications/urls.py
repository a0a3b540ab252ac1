from django.urls import path

from . import views

app_name = "notifications"
urlpatterns = [
    path("", views.centre, name="centre"),
    path("read/", views.mark_read, name="mark-read"),
    path("deliveries/", views.deliveries, name="deliveries"),
]
