"""The API's error shape: domain errors become 400/409 with a code; nothing becomes a 500."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import DomainError


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        if exc.field:
            body = {exc.field: [str(exc.message)]}
        else:
            body = {"detail": str(exc.message), "code": exc.code}
        body.update(exc.extra)
        return Response(body, status=exc.status)
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "message_dict"):
            return Response({k: [str(m) for m in v] for k, v in exc.message_dict.items()},
                            status=400)
        return Response({"detail": " ".join(str(m) for m in exc.messages), "code": "invalid"},
                        status=400)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.APIException):
        if isinstance(response.data, dict) and "detail" in response.data:
            response.data.setdefault("code", exc.get_codes() if isinstance(
                exc.get_codes(), str) else "error")
    return response
