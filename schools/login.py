"""Sign-in: the login page and the API's token, both refused while throttled
(schools.throttling) with a message saying for how long; the password-reset e-mail."""

from collections.abc import Mapping

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView, PasswordResetView
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import permissions, serializers
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import Throttled
from rest_framework.response import Response
from rest_framework.settings import api_settings

from . import throttling
from .addresses import client_ip
from .authentication import fresh_token
from .openapi import error


class LoginForm(AuthenticationForm):
    locked_for = 0

    def clean(self):
        self._refuse_if_locked()
        try:
            return super().clean()
        except ValidationError:
            self._refuse_if_locked()  # this failure may be the one that locks
            raise

    def _refuse_if_locked(self) -> None:
        self.locked_for = throttling.locked_for(self.cleaned_data.get("username"),
                                                client_ip(self.request))
        if self.locked_for:
            raise ValidationError(throttling.locked_message(self.locked_for), code="locked")


class LoginPage(LoginView):
    authentication_form = LoginForm

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.locked_for:
            response.status_code = 429
            response["Retry-After"] = str(form.locked_for)
        return response


class PasswordResetPage(PasswordResetView):
    """The e-mail's link starts with SITE_URL, like every link the site sends, not with
    whatever Host the request named."""

    @property
    def extra_email_context(self) -> dict:
        return {"site_url": settings.SITE_URL.rstrip("/"),
                "valid_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400)}


class ObtainTokenApi(ObtainAuthToken):
    """POST /api/v1/auth/token/ {"username", "password"} → {"token"}; wrong → 400; throttled
    → 429 with Retry-After. An expired token is replaced."""

    # DRF's view names its own parsers; the project's refuse what would crash the server.
    parser_classes = api_settings.DEFAULT_PARSER_CLASSES
    permission_classes = [permissions.AllowAny]

    @extend_schema(responses={
        200: inline_serializer("Token", {"token": serializers.CharField()}),
        429: error(_("登录失败次数过多，暂停登录；Retry-After 说明多少秒后可以再试。"))})
    def post(self, request, *args, **kwargs):
        data = request.data if isinstance(request.data, Mapping) else {}
        username = data.get("username") if isinstance(data.get("username"), str) else None
        ip = client_ip(request)
        _refuse_if_locked(username, ip)
        serializer = self.get_serializer(data=request.data)
        try:
            serializer.is_valid(raise_exception=True)
        except serializers.ValidationError:
            _refuse_if_locked(username, ip)
            raise
        return Response({"token": fresh_token(serializer.validated_data["user"]).key})


def _refuse_if_locked(username: str | None, ip: str | None) -> None:
    if wait := throttling.locked_for(username, ip):
        refusal = Throttled(detail=throttling.locked_message(wait))
        refusal.wait = wait  # Retry-After, without DRF's "expected in N seconds" appended
        raise refusal
