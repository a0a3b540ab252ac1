import pytest

from tests.browser.conftest import login
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_parent_logs_in_on_a_phone_in_chinese_and_sees_both_children(cast, phone):
    phone.goto("/")
    assert "/accounts/login/" in phone.url
    assert phone.locator("html").get_attribute("lang") == "zh-Hans"
    assert phone.locator("h1").inner_text() == "登录课后服务"

    login(phone, "parent", PASSWORD)

    children = phone.locator("section.child h2")
    assert sorted(t.split()[0] for t in children.all_inner_texts()) == sorted(["张小明", "张小红"])
    assert "尚未公示" in phone.locator("main").inner_text()
    # Mobile-first: nothing is wider than the phone's screen.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390


def test_a_wrong_password_is_refused_with_a_message(cast, phone):
    login(phone, "parent", "wrong-password")
    assert "/accounts/login/" in phone.url
    assert "用户名" in phone.locator(".errorlist").inner_text() or \
        "密码" in phone.locator(".errorlist").inner_text()


def test_the_language_switch_turns_the_page_english(cast, phone):
    login(phone, "parent", PASSWORD)
    with phone.expect_navigation():
        phone.select_option("#language", "en")
    assert phone.locator("html").get_attribute("lang") == "en"
    assert "service plan is not published yet" in phone.locator("main").inner_text()
