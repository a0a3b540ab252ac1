from django.urls import path

from . import views

app_name = "scheduling"
urlpatterns = [
    path("menus/", views.menu_list, name="menus"),
    path("menus/<int:pk>/", views.menu_detail, name="menu"),
    path("menus/<int:pk>/items/<int:item_pk>/remove/", views.item_remove, name="item-remove"),
    path("menus/<int:pk>/publish/", views.menu_publish, name="menu-publish"),
    path("menus/<int:pk>/allocate/", views.menu_allocate, name="menu-allocate"),
    path("menus/<int:pk>/classes/", views.class_list, name="classes"),
    path("menus/<int:pk>/study-halls/", views.study_hall_open, name="study-hall-open"),
    path("menus/<int:pk>/choose/<int:student_pk>/", views.choose, name="choose"),
    path("classes/<int:pk>/", views.class_detail, name="class"),
    path("activities/", views.activities, name="activities"),
    path("students/<int:pk>/week/", views.student_week, name="student-week"),
    path("teachers/week/", views.teacher_week, name="teacher-week"),
    path("rooms/week/", views.room_week, name="room-week"),
]
