from django.urls import path, register_converter

from . import api


class DateConverter:
    regex = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"

    def to_python(self, value):
        import datetime

        try:
            return datetime.date.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(value) from exc

    def to_url(self, value):
        return value.isoformat() if hasattr(value, "isoformat") else str(value)


register_converter(DateConverter, "isodate")

urlpatterns = [
    path("sessions/", api.SessionListApi.as_view(), name="api-sessions"),
    path("sessions/<int:pk>/", api.SessionDetailApi.as_view(), name="api-session-detail"),
    path("sessions/<int:pk>/roll-call/", api.RollCallApi.as_view(), name="api-roll-call"),
    path("sessions/<int:pk>/incidents/", api.IncidentCreateApi.as_view(),
         name="api-session-incidents"),
    path("sessions/<int:pk>/handoffs/", api.HandoffCreateApi.as_view(),
         name="api-session-handoffs"),
    path("sessions/<int:pk>/record/", api.ServiceRecordApi.as_view(), name="api-session-record"),
    path("sessions/<int:pk>/teacher/", api.SessionTeacherApi.as_view(),
         name="api-session-teacher"),
    path("schools/<int:pk>/days/<isodate:date>/", api.DayApi.as_view(), name="api-day"),
    path("schools/<int:pk>/days/<isodate:date>/close/", api.DayCloseApi.as_view(),
         name="api-day-close"),
    path("students/<int:pk>/pickup-adults/", api.PickupAdultsApi.as_view(),
         name="api-pickup-adults"),
    path("pickup-adults/<int:pk>/", api.PickupAdultRevokeApi.as_view(),
         name="api-pickup-adult-revoke"),
    path("students/<int:pk>/delegations/", api.DelegationApi.as_view(), name="api-delegations"),
    path("students/<int:pk>/pickup-code/", api.PickupCodeApi.as_view(), name="api-pickup-code"),
    path("students/<int:pk>/walk-home/", api.WalkHomeApi.as_view(), name="api-walk-home"),
    path("students/<int:pk>/restricted-adults/", api.RestrictedAdultApi.as_view(),
         name="api-restricted-adults"),
    path("students/<int:pk>/attendance/", api.ChildAttendanceApi.as_view(),
         name="api-child-attendance"),
    path("handoffs/<int:pk>/dispute/", api.DisputeApi.as_view(), name="api-handoff-dispute"),
    path("incidents/<int:pk>/acknowledge/", api.IncidentAcknowledgeApi.as_view(),
         name="api-incident-acknowledge"),
    path("incidents/<int:pk>/resolve/", api.IncidentResolveApi.as_view(),
         name="api-incident-resolve"),
]
