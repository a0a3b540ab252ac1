"""The menu page's history is short: twenty items added in a sitting read as one line."""

import pytest
from django.test import Client

from scheduling import services
from schools.audit import audit_summary
from tests.scheduling.conftest import item_of

pytestmark = pytest.mark.django_db


def test_a_run_of_items_added_is_one_line_with_its_count(cast, menu):
    lines = audit_summary(menu)
    assert [(line.action, line.n) for line in lines] == [
        ("scheduling.menu.created", 1), ("scheduling.menu.item_added", 20)]
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(cast.principal)
    html = client.get(menu.get_absolute_url()).content.decode()
    history = html[html.index("操作记录"):]
    history = history[:history.index("</ul>")]
    assert history.count("<li>") == 2
    assert "× 20" in history
    assert "scheduling.menu" not in html


def test_another_action_starts_a_new_line(cast, menu, activities):
    services.menu_item_remove(item=item_of(menu, activities.crafts, 1), user=cast.principal)
    lines = audit_summary(menu)
    assert [line.n for line in lines] == [1, 20, 1]
