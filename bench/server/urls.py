"""The product's URLs and, for bench/handoff.py only, a bare DRF endpoint that authenticates
the token and inserts one row: the floor a real endpoint is compared with."""

import uuid

from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from attendance.models import ClientWrite
from config.urls import urlpatterns as product


class BareInsertApi(APIView):
    def post(self, request):
        ClientWrite.objects.create(client_id=uuid.uuid4(), kind="bench", user=request.user,
                                   fingerprint="bench")
        return Response({"ok": True}, status=201)


urlpatterns = [path("bench/bare/", BareInsertApi.as_view()), *product]
