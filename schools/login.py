"""Sign-in: the login page and the API's token, both refused while throttled
(schools.throttling) with a message saying for how long."""

from collections.abc import Mapping

from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.core.exceptions import ValidationError
from rest_framework import serializers
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import Throttled
from rest_framework.response import Response
from rest_framework.settings import api_settings

from . import throttling
from .authentication import fresh_token


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
                                                throttling.client_ip(self.request))
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


class ObtainTokenApi(ObtainAuthToken):
    """POST /api/v1/auth/token/ {"username", "password"} → {"token"}; wrong → 400; throttled
    → 429 with Retry-After. An expired token is replaced."""

    # DRF's view names its own parsers; the project's refuse what would crash the server.
    parser_classes = api_settings.DEFAULT_PARSER_CLASSES

    def post(self, request, *args, **kwargs):
        data = request.data if isinstance(request.data, Mapping) else {}
        username = data.get("username") if isinstance(data.get("username"), str) else None
        ip = throttling.client_ip(request)
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
