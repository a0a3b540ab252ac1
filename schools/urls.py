from django.urls import path

from . import views

app_name = "schools"
urlpatterns = [
    path("students/<int:pk>/", views.student_detail, name="student-detail"),
    path("homerooms/", views.homeroom_list, name="homeroom-list"),
    path("homerooms/<int:pk>/", views.homeroom_detail, name="homeroom-detail"),
]
