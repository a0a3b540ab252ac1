"""How a caller proves who they are: the sign-in backend (throttled), API tokens that expire,
and tokens revoked when the password changes."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from . import throttling
from .addresses import client_ip


class ThrottledModelBackend(ModelBackend):
    """Every password sign-in (the login page, the admin's, the API's token) comes through
    here: failures are counted, and while an account or address is locked even the right
    password is refused."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        ip = client_ip(request)
        if throttling.locked_for(username, ip):
            raise PermissionDenied  # django.contrib.auth.authenticate() stops at it
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            throttling.record_failure(username, ip)
        else:
            throttling.record_success(username)
        return user


def token_expired(token) -> bool:
    return token.created < timezone.now() - settings.API_TOKEN_TTL


class ExpiringTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if token_expired(token):
            raise AuthenticationFailed(_("令牌已过期，请重新获取。"), code="token_expired")
        return user, token


def fresh_token(user):
    """The user's token; a new one in place of an expired one."""
    from rest_framework.authtoken.models import Token

    token, created = Token.objects.get_or_create(user=user)
    if not created and token_expired(token):
        token.delete()
        token = Token.objects.create(user=user)
    return token


class TokensRevokedOnPasswordChange:
    """Not a rule for passwords: Django calls each password validator's password_changed()
    once a new password is saved (set_password() then save(): the password change and reset
    pages, the admin, `changepassword`), whatever the path. A rehash at sign-in is not a
    change and revokes nothing."""

    def validate(self, password, user=None):
        return None

    def get_help_text(self):
        return _("修改密码后，此前获取的 API 令牌都将失效。")

    def password_changed(self, password, user=None):
        from rest_framework.authtoken.models import Token

        if user is not None and user.pk is not None:
            Token.objects.filter(user=user).delete()
