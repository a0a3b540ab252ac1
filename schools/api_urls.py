from django.urls import path

from . import api

urlpatterns = [
    path("me/", api.MeApi.as_view(), name="api-me"),
    path("students/", api.StudentListApi.as_view(), name="api-students"),
    path("students/<int:pk>/", api.StudentDetailApi.as_view(), name="api-student"),
    path("students/<int:pk>/history/", api.StudentHistoryApi.as_view(),
         name="api-student-history"),
    path("terms/", api.TermListApi.as_view(), name="api-terms"),
    path("terms/<int:pk>/", api.TermDetailApi.as_view(), name="api-term"),
    path("schools/", api.SchoolListApi.as_view(), name="api-schools"),
    path("schools/<int:pk>/", api.SchoolDetailApi.as_view(), name="api-school"),
    path("homerooms/", api.HomeroomListApi.as_view(), name="api-homerooms"),
    path("homerooms/<int:pk>/", api.HomeroomDetailApi.as_view(), name="api-homeroom"),
    path("staff/", api.StaffListApi.as_view(), name="api-staff"),
    path("staff/<int:pk>/", api.StaffDetailApi.as_view(), name="api-staff-detail"),
    path("guardians/", api.GuardianListApi.as_view(), name="api-guardians"),
    path("guardians/<int:pk>/", api.GuardianDetailApi.as_view(), name="api-guardian"),
]
