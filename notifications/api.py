from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from schools.openapi import bool_filter
from schools.params import bool_param

from .models import Notification
from .services import inbox_of, notifications_mark_read


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "purpose", "subject", "body", "url", "payload", "created_at", "read_at"]


@extend_schema_view(get=extend_schema(parameters=[
    bool_filter("unread", _("true：只列未读的通知。"))]))
class NotificationListApi(generics.ListAPIView):
    serializer_class = NotificationSerializer

    def get_queryset(self):
        qs = inbox_of(self.request.user)
        if bool_param(self.request.query_params, "unread"):
            qs = qs.filter(read_at__isnull=True)
        return qs


class NotificationReadApi(APIView):
    serializer_class = NotificationSerializer

    @extend_schema(request=None, responses=NotificationSerializer)
    def post(self, request, pk: int):
        notification = get_object_or_404(inbox_of(request.user), pk=pk)
        notifications_mark_read(user=request.user, ids=[notification.pk])
        notification.refresh_from_db()
        return Response(NotificationSerializer(notification).data)
