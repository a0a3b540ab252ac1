"""The API's error shape: domain errors become 400/409 with a code; nothing becomes a 500.

Django's own error handlers (config/urls.py) answer in the same shape under /api/: an unknown
path is a JSON 404, an oversized body a JSON 413, never an HTML page."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext_lazy as _
from django.views import defaults
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .api_parsers import RequestTooLarge, TooManyFields
from .errors import DomainError

API_PREFIX = "/api/"


def _request_error(exc) -> exceptions.APIException | None:
    """Django's refusals of a request body, as API errors."""
    if isinstance(exc, RequestDataTooBig):
        return RequestTooLarge(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return TooManyFields()
    return None


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        if exc.field:
            body = {exc.field: [str(exc.message)]}
            # A conflict or a refused replay (409, 422) says which, as API.md's codes do, in
            # the error's shape (detail, code), besides naming the field; a plain 400 is the
            # field's message alone.
            if exc.status != 400:
                body["detail"] = str(exc.message)
                body["code"] = exc.code
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
    exc = _request_error(exc) or exc
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.APIException):
        if isinstance(response.data, dict) and "detail" in response.data:
            response.data.setdefault("code", exc.get_codes() if isinstance(
                exc.get_codes(), str) else "error")
    return response


def _is_api(request) -> bool:
    return request.path_info.startswith(API_PREFIX)


def _json(exc: exceptions.APIException) -> JsonResponse:
    return JsonResponse({"detail": str(exc.detail), "code": exc.get_codes()},
                        status=exc.status_code, json_dumps_params={"ensure_ascii": False})


def bad_request(request, exception):
    if not _is_api(request):
        return defaults.bad_request(request, exception)
    return _json(_request_error(exception)
                 or exceptions.ParseError(_("请求无效。"), code="bad_request"))


def permission_denied(request, exception):
    if not _is_api(request):
        return defaults.permission_denied(request, exception)
    return _json(exceptions.PermissionDenied())


def page_not_found(request, exception):
    if not _is_api(request):
        return defaults.page_not_found(request, exception)
    return _json(exceptions.NotFound())


def server_error(request):
    if not _is_api(request):
        return defaults.server_error(request)
    return _json(exceptions.APIException())
