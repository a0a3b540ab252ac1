"""A forgotten password, reset by e-mail on the product's own pages (not the admin's), in
Chinese and, with Accept-Language en, in English markup."""

import re

import pytest
from django.conf import settings
from rest_framework.authtoken.models import Token

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "qiu-tian-2026-x"


def _reset_link(mail) -> str:
    link = re.search(r"https?://\S+/accounts/reset/\S+/", mail.body).group(0)
    assert link.startswith(settings.SITE_URL.rstrip("/"))
    return link.removeprefix(settings.SITE_URL.rstrip("/"))


def test_the_login_page_links_to_forgotten_password(client):
    page = client.get("/accounts/login/").content.decode()
    assert 'href="/accounts/password_reset/"' in page and "忘记密码" in page


def test_a_guardian_resets_a_forgotten_password_and_signs_in_with_it(cast, client, mailoutbox):
    Token.objects.create(user=cast.parent)
    page = client.get("/accounts/password_reset/")
    assert page.status_code == 200
    html = page.content.decode()
    assert '<html lang="zh-Hans">' in html and "找回密码" in html
    assert "admin" not in html  # the product's page, not the admin's

    response = client.post("/accounts/password_reset/", {"email": cast.parent.email})
    assert response.status_code == 302 and response.url == "/accounts/password_reset/done/"
    assert "邮件已发送" in client.get(response.url).content.decode()
    [mail] = mailoutbox
    assert mail.to == [cast.parent.email]
    assert mail.subject == "课后服务：重设登录密码"
    assert "张伟，您好" in mail.body and "用户名：parent" in mail.body

    form = client.get(_reset_link(mail), follow=True)
    assert form.status_code == 200 and "设置新密码" in form.content.decode()
    done = client.post(form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD,
                                                    "new_password2": NEW_PASSWORD}, follow=True)
    assert done.redirect_chain[-1][0] == "/accounts/reset/done/"
    assert "密码已重设" in done.content.decode()

    assert not Token.objects.filter(user=cast.parent).exists()
    assert client.post("/accounts/login/", {"username": "parent", "password": PASSWORD}
                       ).status_code == 200  # the old password is refused
    signed_in = client.post("/accounts/login/", {"username": "parent",
                                                 "password": NEW_PASSWORD})
    assert signed_in.status_code == 302 and signed_in.url == "/"


def test_a_used_link_is_refused_with_a_way_back(cast, client, mailoutbox):
    client.post("/accounts/password_reset/", {"email": cast.parent.email})
    link = _reset_link(mailoutbox[0])
    form = client.get(link, follow=True)
    client.post(form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD,
                                             "new_password2": NEW_PASSWORD})
    again = client.get(link, follow=True).content.decode()
    assert "链接无效" in again and 'href="/accounts/password_reset/"' in again


def test_an_unknown_address_says_the_same_and_sends_nothing(cast, client, mailoutbox):
    response = client.post("/accounts/password_reset/", {"email": "nobody@example.cn"})
    assert response.status_code == 302 and response.url == "/accounts/password_reset/done/"
    assert mailoutbox == []


def test_the_reset_pages_speak_english_when_asked(cast, client, mailoutbox):
    english = {"HTTP_ACCEPT_LANGUAGE": "en"}
    for url in ("/accounts/password_reset/", "/accounts/password_reset/done/",
                "/accounts/reset/MQ/set-password/", "/accounts/reset/done/"):
        page = client.get(url, **english)
        assert page.status_code == 200, url
        assert '<html lang="en">' in page.content.decode(), url
    client.post("/accounts/password_reset/", {"email": cast.parent.email}, **english)
    form = client.get(_reset_link(mailoutbox[0]), follow=True, **english).content.decode()
    assert "New password" in form  # Django's own form labels, in English
