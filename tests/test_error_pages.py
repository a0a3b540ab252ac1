"""The product's own error pages, in the user's language; never Django's debug pages."""

import pytest
from django.test import Client, override_settings
from django.urls import path


def _boom(request):
    raise RuntimeError("boom")


urlpatterns = [path("boom/", _boom)]

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("language, title", [("zh-hans", "找不到页面"), ("en", "Page not found")])
def test_not_found_page_is_ours_in_the_users_language(cast, language, title):
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(cast.parent)
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert f"<h1>{title}</h1>" in html
    assert "Django" not in html and "Using the URLconf" not in html
    assert '<a class="button" href="/">' in html


def test_out_of_scope_object_reads_as_not_found(cast):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(cast.parent)
    response = client.get(f"/schools/students/{cast.other_child.pk}/")
    assert response.status_code == 404
    assert "<h1>找不到页面</h1>" in response.content.decode()


@override_settings(ROOT_URLCONF=__name__)
@pytest.mark.parametrize("language, title", [("zh-hans", "出错了"), ("en", "Something went wrong")])
def test_server_error_page_is_ours(language, title):
    client = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE=language)
    response = client.get("/boom/")
    assert response.status_code == 500
    html = response.content.decode()
    assert f"<h1>{title}</h1>" in html
    assert "Traceback" not in html and "RuntimeError" not in html


def test_csrf_failure_page_is_ours(cast):
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(cast.parent)
    response = client.post("/notifications/read/")
    assert response.status_code == 403
    assert "<h1>页面已过期</h1>" in response.content.decode()


def test_demo_settings_show_no_debug_pages(monkeypatch):
    import importlib

    monkeypatch.delenv("DEBUG", raising=False)
    local = importlib.import_module("config.settings.local")
    local = importlib.reload(local)
    assert local.DEBUG is False
    assert local.WHITENOISE_USE_FINDERS is True
