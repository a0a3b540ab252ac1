from django.urls import path

from . import views

app_name = "oversight"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("schools/<int:pk>/", views.school, name="school"),
]
