from django.urls import path

from . import api

urlpatterns = [
    path("oversight/participation/", api.ParticipationApi.as_view(),
         name="api-oversight-participation"),
    path("oversight/schools/<int:pk>/indicators/", api.SchoolIndicatorsApi.as_view(),
         name="api-oversight-indicators"),
]
