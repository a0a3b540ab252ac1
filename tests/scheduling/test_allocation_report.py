"""The allocation preview explains itself: per slot the seats, the choices, who was placed at
which rank, the children left out with what they ranked and why, the study halls by grade;
the seed is a detail."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from scheduling import services
from tests.scheduling.conftest import afternoon, item_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def contested(cast, monday_choices, activities):
    """Monday: the sibling now asks only for Chinese painting too — one seat, two children
    who will take nothing else."""
    services.choices_set(menu=monday_choices, student=cast.sibling, user=cast.parent,
                         slot=afternoon(cast.term, 1),
                         items=[item_of(monday_choices, activities.arts, 1)])
    return monday_choices


def preview(cast, menu) -> str:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(cast.principal)
    response = client.post(reverse("scheduling:menu-allocate", args=[menu.pk]),
                           {"preview": "on", "seed": "explain"}, follow=True)
    assert response.status_code == 200
    return response.content.decode()


def test_preview_names_who_was_left_out_and_why(cast, contested):
    html = preview(cast, contested)
    report = html[html.index('id="report"'):]
    assert "分班预览（未保存）" in report
    monday = report[report.index("周一课后："):report.index("</details>")]
    # 3 children that afternoon, 3 with choices; 20 + 20 + 1 + 20 seats on offer.
    assert "周一课后：3 名学生，3 人填了志愿，活动座位 61 个" in monday
    assert "1 人没排上" in monday
    left_out = re.search(r"没排上的学生与原因</h3>\s*<ul class=\"list\"><li>(.+?)</li>", monday,
                         re.S).group(1)
    assert ("刘洋" in left_out) != ("张小红" in left_out)
    assert "国画（已满）" in left_out
    # Painting: one seat, ranked first by all three, taken by one at rank 1.
    painting = re.search(r"<tr><td>国画</td><td>1</td><td>3</td><td>1 <span class=\"muted\">"
                         r"（1 / 0 / 0）</span> <span class=\"tag tag-warn\">已满</span>", monday)
    assert painting, monday
    assert "托管自习：3年级 1 人（1 个班）" in monday
    # The seed is a detail, not a headline.
    assert re.search(r"<details><summary>随机种子</summary>.*explain", report, re.S)
    assert "explain" not in html[:html.index('id="report"')]
    assert "prio" not in report and "first_choice" not in report


def test_figures_say_what_they_count(cast, contested):
    html = preview(cast, contested)
    for label in ("排到第一志愿", "排到第二志愿", "填了志愿但都没排上，进托管自习",
                  "没有填志愿，进托管自习", "以下人数按时段计"):
        assert label in html


def test_the_confirmed_allocation_keeps_its_report(cast, allocated):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(cast.principal)
    html = client.get(allocated.get_absolute_url()).content.decode()
    assert "分班结果" in html and "周五课后：" in html
