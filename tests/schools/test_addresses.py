"""The client's address behind our proxies: the one the outermost trusted proxy saw."""

import pytest
from django.test import RequestFactory, override_settings

from schools.addresses import client_ip


def _request(remote="10.0.0.5", forwarded=None):
    headers = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **headers)


@override_settings(PROXY_COUNT=0)
def test_without_a_proxy_the_header_is_ignored():
    assert client_ip(_request(forwarded="1.2.3.4")) == "10.0.0.5"


@override_settings(PROXY_COUNT=1)
@pytest.mark.parametrize("forwarded, expected", [
    ("203.0.113.7", "203.0.113.7"),
    # A client's forged entries stand to the left of what our proxy appended.
    ("6.6.6.6, 203.0.113.7", "203.0.113.7"),
    ("not-an-address", "10.0.0.5"),
    ("", "10.0.0.5"),
])
def test_behind_one_proxy_the_rightmost_entry_counts(forwarded, expected):
    assert client_ip(_request(forwarded=forwarded)) == expected


@override_settings(PROXY_COUNT=2)
def test_behind_two_proxies():
    assert client_ip(_request(forwarded="6.6.6.6, 203.0.113.7, 10.0.0.9")) == "203.0.113.7"
    assert client_ip(_request(forwarded="10.0.0.9")) == "10.0.0.5"


@override_settings(PROXY_COUNT=1, LOGIN_FAILURES_PER_ADDRESS=3, LOGIN_FAILURES_PER_ACCOUNT=50)
@pytest.mark.django_db
def test_throttling_counts_the_client_not_the_proxy(client, cast):
    from django.conf import settings
    from django.core.cache import caches

    caches[settings.LOGIN_THROTTLE_CACHE].clear()
    for _ in range(3):
        client.post("/accounts/login/", {"username": "nobody", "password": "x"},
                    REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.1")
    # Another family behind the same proxy still signs in.
    response = client.post("/accounts/login/", {"username": "parent", "password": "wrong"},
                           REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.2")
    assert "已暂停登录" not in response.content.decode()
    locked = client.post("/accounts/login/", {"username": "parent", "password": "wrong"},
                         REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert "已暂停登录" in locked.content.decode()
