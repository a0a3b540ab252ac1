"""Guessing passwords: after LOGIN_FAILURES_PER_ACCOUNT wrong ones for an account, or
LOGIN_FAILURES_PER_ADDRESS from an address, sign-in is refused — the right password too — on
the login page and the API alike, until the lock-out is over; each lock-out is audited. API
tokens expire, and a new password revokes them."""

import datetime
import os
import time
import uuid

import pytest
from django.core.cache import caches
from django.test import Client, override_settings
from django.utils import timezone, translation
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from schools import throttling
from schools.audit import AccountAction
from schools.models import AuditEntry
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
TOKEN = "/api/v1/auth/token/"


@pytest.fixture(autouse=True)
def fresh_counts(settings):
    caches[settings.LOGIN_THROTTLE_CACHE].clear()
    yield
    caches[settings.LOGIN_THROTTLE_CACHE].clear()


@pytest.fixture
def users(db):
    return [UserFactory(username=name) for name in ("alice", "bob", "carol", "dave", "erin")]


def page(username, password, ip="10.0.0.1", language="zh-hans"):
    client = Client(REMOTE_ADDR=ip, HTTP_ACCEPT_LANGUAGE=language)
    return client.post(LOGIN, {"username": username, "password": password})


def api(username, password, ip="10.0.0.1", language="zh-hans"):
    client = APIClient(REMOTE_ADDR=ip, HTTP_ACCEPT_LANGUAGE=language)
    return client.post(TOKEN, {"username": username, "password": password}, format="json")


def signed_in(response) -> bool:
    return response.status_code == 302  # the page redirects home once signed in


def locked_out(response) -> bool:
    return response.status_code == 429 and int(response["Retry-After"]) > 0


def lockouts(**data):
    return AuditEntry.objects.filter(action=AccountAction.LOGIN_LOCKED,
                                     **{f"data__{k}": v for k, v in data.items()})


@pytest.mark.parametrize("attempt", [page, api], ids=["page", "api"])
def test_thirty_wrong_passwords_lock_the_account_the_right_one_included(users, attempt):
    answers = [attempt("alice", f"wrong-{i}") for i in range(30)]
    assert all(r.status_code in (200, 400) for r in answers[:4])
    assert all(locked_out(r) for r in answers[5:])
    refused = attempt("alice", PASSWORD)
    assert locked_out(refused)
    text = refused.content.decode()
    assert "登录失败次数过多" in text and "15 分钟" in text
    assert lockouts(username="alice", ip="10.0.0.1", scope="account").count() == 1


def test_the_page_and_the_api_count_together(users):
    for i in range(3):
        page("alice", f"wrong-{i}")
    api("alice", "wrong-a")
    api("alice", "wrong-b")
    assert locked_out(page("alice", PASSWORD))
    assert locked_out(api("alice", PASSWORD))


def test_the_message_is_translated(users):
    for i in range(5):
        api("alice", f"wrong-{i}")
    zh = api("alice", PASSWORD).json()
    en = api("alice", PASSWORD, language="en").json()
    assert zh["code"] == en["code"] == "throttled"
    assert "15 分钟" in zh["detail"]
    assert "Too many failed sign-ins" in en["detail"] and "15 minutes" in en["detail"]
    english_page = page("alice", PASSWORD, language="en").content.decode()
    assert "Too many failed sign-ins" in english_page


def test_another_account_from_the_same_address_is_unaffected_until_the_address_limit(users):
    for i in range(5):
        api("alice", f"wrong-{i}")
    assert locked_out(api("alice", PASSWORD))
    assert signed_in(page("bob", PASSWORD))
    assert api("bob", PASSWORD).status_code == 200
    # 20 failures from the address in all: 5 for alice, then 5 each for bob, carol, dave.
    for name in ("bob", "carol", "dave"):
        for i in range(5):
            api(name, f"wrong-{i}")
    refused = page("erin", PASSWORD)
    assert refused.status_code == 429 and "登录失败次数过多" in refused.content.decode()
    assert locked_out(api("erin", PASSWORD))
    assert lockouts(ip="10.0.0.1", scope="address").count() == 1
    assert lockouts(scope="account").count() == 4
    # From another address, erin signs in.
    assert signed_in(page("erin", PASSWORD, ip="10.0.0.2"))


def test_the_right_password_forgets_the_accounts_failures_not_the_addresss(users):
    for _round in range(3):
        for i in range(4):
            api("alice", f"wrong-{i}")
        assert api("alice", PASSWORD).status_code == 200
    assert not lockouts().exists()
    # 12 failures from the address so far; bob's 5 lock bob, carol's 3 make 20.
    for i in range(5):
        api("bob", f"wrong-{i}")
    for i in range(3):
        api("carol", f"wrong-{i}")
    assert lockouts(scope="account").count() == 1
    assert lockouts(ip="10.0.0.1", scope="address").count() == 1
    assert locked_out(api("alice", PASSWORD))


def test_the_lock_is_over_when_the_lockout_has_passed(users, monkeypatch, settings):
    for i in range(5):
        page("alice", f"wrong-{i}")
    assert locked_out(page("alice", PASSWORD))
    later = time.time() + settings.LOGIN_LOCKOUT - 60
    monkeypatch.setattr(throttling, "_now", lambda: later)
    refused = api("alice", PASSWORD)
    assert locked_out(refused) and int(refused["Retry-After"]) <= 60
    monkeypatch.setattr(throttling, "_now", lambda: later + 61)
    assert signed_in(page("alice", PASSWORD))
    # The count starts afresh: five more failures lock again, and are audited again.
    for i in range(5):
        api("alice", f"wrong-{i}")
    assert locked_out(api("alice", PASSWORD))
    assert lockouts(username="alice").count() == 2


def test_failures_outside_the_window_are_forgotten(users):
    for i in range(4):
        api("alice", f"wrong-{i}")
    throttling.reset(username="alice")  # what the cache's expiry does after the window
    for i in range(4):
        api("alice", f"wrong-{i}")
    assert api("alice", PASSWORD).status_code == 200


def test_the_admin_login_is_throttled_too(users):
    alice = users[0]
    alice.is_staff = alice.is_superuser = True
    alice.save(update_fields=["is_staff", "is_superuser"])
    control = Client(REMOTE_ADDR="10.0.0.1")
    control.post("/admin/login/", {"username": "alice", "password": PASSWORD})
    assert control.session.get("_auth_user_id") == str(alice.pk)
    for i in range(5):
        api("alice", f"wrong-{i}")
    client = Client(REMOTE_ADDR="10.0.0.1")
    client.post("/admin/login/", {"username": "alice", "password": PASSWORD})
    assert "_auth_user_id" not in client.session


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL is not set")
def test_the_counts_hold_on_redis(users):
    redis = {"BACKEND": "django.core.cache.backends.redis.RedisCache",
             "LOCATION": os.environ["REDIS_URL"], "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}
    with override_settings(CACHES={"default": redis}, LOGIN_THROTTLE_CACHE="default"):
        try:
            for i in range(5):
                api("alice", f"wrong-{i}")
            assert locked_out(api("alice", PASSWORD))
            assert api("bob", PASSWORD).status_code == 200
        finally:
            throttling.reset(username="alice", ip="10.0.0.1")
            throttling.reset(username="bob")


# --- Tokens ------------------------------------------------------------------------------------

def _token_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_a_token_older_than_thirty_days_is_a_401_and_a_new_one_is_issued(users):
    key = api("alice", PASSWORD).json()["token"]
    assert _token_client(key).get("/api/v1/me/").status_code == 200
    Token.objects.filter(key=key).update(created=timezone.now() - datetime.timedelta(days=31))
    response = _token_client(key).get("/api/v1/me/")
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Token"
    assert response.json()["code"] == "token_expired"
    fresh = api("alice", PASSWORD).json()["token"]
    assert fresh != key
    assert _token_client(fresh).get("/api/v1/me/").status_code == 200


def test_a_token_of_twenty_nine_days_still_works(users):
    key = api("alice", PASSWORD).json()["token"]
    Token.objects.filter(key=key).update(created=timezone.now() - datetime.timedelta(days=29))
    assert _token_client(key).get("/api/v1/me/").status_code == 200
    assert api("alice", PASSWORD).json()["token"] == key


def test_changing_the_password_on_the_page_revokes_the_tokens(users):
    alice = users[0]
    key = api("alice", PASSWORD).json()["token"]
    client = Client()
    client.force_login(alice)
    response = client.post("/accounts/password_change/", {
        "old_password": PASSWORD, "new_password1": "a-new-pass-2468",
        "new_password2": "a-new-pass-2468"})
    assert response.status_code == 302, response.content
    assert _token_client(key).get("/api/v1/me/").status_code == 401
    assert not Token.objects.filter(user=alice).exists()


def test_any_new_password_revokes_the_tokens_a_rehash_does_not(users):
    alice, bob = users[0], users[1]
    alice_key = api("alice", PASSWORD).json()["token"]
    bob_key = api("bob", PASSWORD).json()["token"]
    with override_settings(PASSWORD_HASHERS=[
            "django.contrib.auth.hashers.PBKDF2PasswordHasher",
            "django.contrib.auth.hashers.MD5PasswordHasher"]):
        # Signing in upgrades bob's MD5 hash: the same password, his token stays.
        assert api("bob", PASSWORD).json()["token"] == bob_key
    bob.refresh_from_db()
    assert bob.password.startswith("pbkdf2_")
    alice.set_password("another-pass-1357")
    alice.save()
    assert _token_client(alice_key).get("/api/v1/me/").status_code == 401
    assert _token_client(bob_key).get("/api/v1/me/").status_code == 200


def test_the_password_help_text_says_so(users):
    client = Client()
    client.force_login(users[0])
    with translation.override("zh-hans"):
        assert "API 令牌都将失效" in client.get("/accounts/password_change/").content.decode()
