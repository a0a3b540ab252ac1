"""Weekdays, dates and action names read in the user's language: an English principal sees
"Mon", not 周一, and a history names its actions, never their codes."""

import pytest

from scheduling import services
from tests.scheduling.conftest import afternoon

pytestmark = pytest.mark.django_db


def test_publication_checks_name_weekdays_in_english(cast, menu, enrolled, api):
    homework = services.activity_create(
        school=cast.school, user=cast.principal, name="作业辅导", category="homework",
        grades=[1, 3], capacity=30, room="三年级教室")
    services.menu_item_add(menu=menu, user=cast.principal, activity=homework,
                           slot=afternoon(cast.term, 1))
    url = f"/api/v1/menus/{menu.pk}/publish/"
    english = api(cast.principal).post(url, {}, format="json", HTTP_ACCEPT_LANGUAGE="en").json()
    messages = " ".join(w["message"] for w in english["warnings"])
    assert "Mon" in messages and "周一" not in messages
    chinese = api(cast.principal).post(url, {}, format="json",
                                       HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert "周一" in " ".join(w["message"] for w in chinese["warnings"])


def test_the_menu_history_shows_labels_in_either_language(cast, menu, client):
    client.force_login(cast.principal)
    page = client.get(menu.get_absolute_url()).content.decode()
    assert "新建每周菜单" in page and "scheduling.menu.created" not in page
    page = client.get(menu.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Weekly menu created" in page and "scheduling.menu.created" not in page
