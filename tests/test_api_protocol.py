"""The API speaks JSON and HTTP as API.md says, whatever the input: no body, however nested,
large or malformed, makes it answer 500 or an HTML page."""

import importlib
import inspect
import json
import time

import pytest
from django.test import Client, RequestFactory, override_settings
from rest_framework import serializers
from rest_framework.test import APIClient

from schools import api_errors
from tests.enrollment.conftest import plan  # noqa: F401

pytestmark = pytest.mark.django_db

DEEP = ["[" * 1000, "[" * 1000 + "]" * 1000, '{"a":' * 1000, '{"a":' * 1000 + "1" + "}" * 1000,
        '{"username": ' + "[" * 40 + "]" * 40 + ', "password": "x"}']


def _anon() -> APIClient:
    return APIClient(raise_request_exception=False)


def _as(user) -> APIClient:
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)
    return client


def _is_parse_error(response) -> bool:
    return (response.status_code == 400 and response["Content-Type"] == "application/json"
            and response.json()["code"] == "parse_error")


# --- 12. No input crashes the server -------------------------------------------------------------

@pytest.mark.parametrize("body", DEEP, ids=["open-lists", "lists", "open-objects", "objects",
                                            "nested-username"])
def test_deeply_nested_json_is_a_400_parse_error(cast, body):
    anonymous = _anon().post("/api/v1/auth/token/", body, content_type="application/json")
    assert _is_parse_error(anonymous), anonymous.content[:300]
    guardian = _as(cast.parent).post("/api/v1/applications/", body,
                                     content_type="application/json")
    assert _is_parse_error(guardian), guardian.content[:300]


def test_nesting_within_the_limit_is_parsed(cast):
    body = {"username": "parent", "password": "x", "extra": json.loads("[" * 30 + "]" * 30)}
    response = _anon().post("/api/v1/auth/token/", body, format="json")
    assert response.status_code == 400 and "non_field_errors" in response.json()


@pytest.mark.parametrize("body", [
    b'{"username": "par\x00ent", "password": "x"}',
    b'{"username": "par\\u0000ent", "password": "x"}',
    b'{"username": "parent", "password": "\\u0000"}',
    b'{"username": "\\ud800", "password": "x"}',
    b'{"username": "\xff\xfeparent", "password": "x"}',
    b'{"username": "\xed\xa0\x80", "password": "x"}',
    b'\x00{"username": "parent", "password": "x"}',
], ids=["raw-nul", "escaped-nul", "escaped-nul-password", "lone-surrogate", "bad-utf8",
        "encoded-surrogate", "leading-nul"])
def test_a_nul_byte_or_malformed_unicode_is_a_400(cast, body):
    response = _anon().post("/api/v1/auth/token/", body, content_type="application/json")
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"] == "application/json"


def test_a_nul_deep_in_a_logged_in_write_is_a_400(cast, plan):  # noqa: F811
    body = {"student": cast.child.pk, "term": cast.term.pk, "slots": [1],
            "agreement_version": plan.version, "signed_name": "张伟", "note": "夜里\u0000"}
    response = _as(cast.parent).post("/api/v1/applications/", body, format="json")
    assert _is_parse_error(response), response.content[:300]


# --- 13. JSON and HTTP as API.md says ------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/v1/me/", "/api/v1/students/", "/api/v1/menus/"])
def test_an_anonymous_call_is_a_401_with_www_authenticate(cast, path):
    response = _anon().get(path)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["code"] == "not_authenticated"


def test_a_logged_in_user_without_the_role_is_still_refused_not_401(cast):
    response = _as(cast.parent).post("/api/v1/applications/bulk-decide/", {"ids": [1]},
                                     format="json")
    assert response.status_code == 404


def test_a_wrong_token_is_a_401(cast):
    client = _anon()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = client.get("/api/v1/me/")
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("method", ["get", "post", "delete"])
@pytest.mark.parametrize("path", ["/api/v1/no-such-thing/", "/api/v1/students/1/nothing/",
                                  "/api/v1/", "/api/v1/menus/abc/"])
def test_an_unknown_api_path_is_a_json_404(cast, method, path):
    for client in (_anon(), _as(cast.parent)):
        response = getattr(client, method)(path)
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        assert response.json()["code"] == "not_found"


def test_an_unknown_page_is_still_the_html_404(cast, client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_an_unknown_api_path_speaks_the_callers_language(cast):
    zh = _anon().get("/api/v1/nothing/").json()["detail"]
    en = _anon().get("/api/v1/nothing/", HTTP_ACCEPT_LANGUAGE="en").json()["detail"]
    assert zh != en and en == "Not found."


def test_djangos_own_refusals_under_the_api_are_json(cast):
    response = _anon().get("/api/v1/me/", HTTP_HOST="elsewhere.example")  # DisallowedHost
    assert response.status_code == 400 and response.json()["code"] == "bad_request"
    page = Client(raise_request_exception=False).get("/", HTTP_HOST="elsewhere.example")
    assert page.status_code == 400 and page["Content-Type"].startswith("text/html")
    crash = api_errors.server_error(RequestFactory().get("/api/v1/me/"))
    assert crash.status_code == 500 and json.loads(crash.content)["code"] == "error"


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=2000)
def test_a_json_body_over_the_limit_is_a_json_413(cast):
    body = json.dumps({"username": "parent", "password": "x" * 3000})
    for client, path in ((_anon(), "/api/v1/auth/token/"),
                         (_as(cast.parent), "/api/v1/applications/")):
        response = client.post(path, body, content_type="application/json")
        assert response.status_code == 413, response.content[:300]
        assert response.json()["code"] == "request_too_large"


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=2000)
def test_a_form_body_over_the_limit_is_a_json_413(cast):
    response = _as(cast.parent).post("/api/v1/applications/", {"note": "x" * 3000})
    assert response.status_code == 413, response.content[:300]
    assert response.json()["code"] == "request_too_large"
    response = _anon().post("/api/v1/auth/token/", "note=" + "x" * 3000,
                            content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413, response.content[:300]


def test_an_upload_over_the_evidence_allowance_is_a_json_413(cast, settings):
    settings.UPLOAD_MAX_REQUEST_SIZE = 100_000
    upload = b"\x89PNG\r\n\x1a\n" + b"0" * 120_000
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = _as(cast.parent).post(
        "/api/v1/applications/",
        {"evidence": SimpleUploadedFile("a.png", upload, "image/png"), "slots": [1]},
        format="multipart")
    assert response.status_code == 413, response.content[:300]
    assert response.json()["code"] == "request_too_large"


def test_too_many_fields_is_a_json_400(cast):
    fields = "&".join(f"slots={i}" for i in range(1500))
    response = _as(cast.parent).post("/api/v1/applications/", fields,
                                     content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400, response.content[:300]
    assert response.json()["code"] == "too_many_fields"
    response = _as(cast.parent).post("/api/v1/applications/", {"slots": list(range(1500))},
                                     format="multipart")
    assert response.status_code == 400, response.content[:300]
    assert response.json()["code"] == "too_many_fields"


def test_a_700000_item_list_is_refused_fast(cast, plan):  # noqa: F811
    body = json.dumps({"student": cast.child.pk, "term": cast.term.pk,
                       "slots": list(range(1, 700_001)), "agreement_version": plan.version,
                       "signed_name": "张伟"})
    start = time.perf_counter()
    response = _as(cast.parent).post("/api/v1/applications/", body,
                                     content_type="application/json")
    elapsed = time.perf_counter() - start
    print(f"700,000-item list refused in {elapsed:.3f} s")
    assert response.status_code == 400, response.content[:300]
    assert elapsed < 1.0


@pytest.mark.parametrize("field, limit", [("slots", 20), ("priority_claims", 10)])
def test_a_list_over_its_maximum_is_a_400_naming_it(cast, plan, field, limit):  # noqa: F811
    body = {"student": cast.child.pk, "term": cast.term.pk, "slots": [1],
            "agreement_version": plan.version, "signed_name": "张伟",
            field: ([1] if field == "slots" else ["migrant"]) * (limit + 1)}
    response = _as(cast.parent).post("/api/v1/applications/", body, format="json")
    assert response.status_code == 400 and field in response.json(), response.content[:300]


API_MODULES = ["schools.api", "notifications.api", "enrollment.api", "scheduling.api",
               "attendance.api", "billing.api", "oversight.api"]


def _input_serializers():
    for name in API_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError:
            continue
        classes = [c for _n, c in inspect.getmembers(module, inspect.isclass)
                   if c.__module__ == name]
        for cls in list(classes):
            classes += [c for _n, c in inspect.getmembers(cls, inspect.isclass)
                        if c.__module__ == name and c not in classes]
        for cls in classes:
            if issubclass(cls, serializers.Serializer) and "Output" not in cls.__name__:
                yield f"{name}.{cls.__qualname__}", cls


def test_every_list_field_of_a_request_body_has_a_maximum():
    unbounded = [f"{where}.{field}" for where, cls in _input_serializers()
                 for field, f in cls._declared_fields.items()
                 if isinstance(f, serializers.ListField) and not f.read_only
                 and f.max_length is None]
    assert unbounded == []
