"""Each role lands on its to-do list: what to do next, how many, by when, each a link to the
page that does it; and notifications link to the page they are about."""

import datetime
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from enrollment import services as enrollment
from notifications.models import Notification
from portal.todo import Step
from scheduling import services
from scheduling.models import Menu, TemporaryClass
from scheduling.selectors import classes_of_teacher_on
from schools.models import Staff
from tests.scheduling.conftest import afternoon, class_of, close_choices, item_of

pytestmark = pytest.mark.django_db


def home(user) -> str:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


def steps(html: str) -> set[tuple[str, str]]:
    """The to-do rows of a page: (text, link)."""
    rows = re.findall(r'<li class="todo-\w+"><a href="([^"]+)">\s*<span class="todo-text">'
                      r'([^<]+)</span>', html)
    return {(text.strip(), url) for url, text in rows}


def count_of(html: str, text: str) -> str:
    match = re.search(re.escape(text) + r'</span>\s*<span class="todo-count"[^>]*>(\d+)<', html)
    return match.group(1) if match else ""


def test_guardian_is_asked_to_apply_by_the_close_of_the_window(cast, plan):
    html = home(cast.parent)
    todo = steps(html)
    apply_url = reverse("enrollment:apply", args=[cast.term.pk, cast.child.pk])
    assert ("报名课后服务并签署安全责任书", apply_url) in todo
    assert "尚未报名" in html
    close = plan.applications_close
    assert f"{close.month}月{close.day}日 截止" in html


def test_guardian_with_a_returned_application_is_asked_to_correct_it(cast, submitted, api):
    api(cast.homeroom_teacher).post(f"/api/v1/applications/{submitted.pk}/review/",
                                    {"decision": "return", "reason": "请补充材料"},
                                    format="json")
    todo = steps(home(cast.parent))
    assert ("按退回理由修改后重新提交",
            reverse("enrollment:resubmit", args=[submitted.pk])) in todo


def test_guardian_is_asked_to_choose_until_every_slot_is_ranked(cast, published, activities):
    html = home(cast.parent)
    choose = reverse("scheduling:choose", args=[published.pk, cast.child.pk])
    week = f"{published.week.month}月{published.week.day}日"
    assert (f"为 {week} 起一周选课：5 个时段未填", choose) in steps(html)
    deadline = timezone.localtime(published.choice_deadline)
    assert f"{deadline:%H:%M} 截止" in html
    for weekday in range(1, 6):
        services.choices_set(menu=published, student=cast.child, user=cast.parent,
                             slot=afternoon(cast.term, weekday),
                             items=[item_of(published, activities.reading, weekday)])
    assert (f"{week} 起一周已选课，截止前可修改", choose) in steps(home(cast.parent))


def test_homeroom_teacher_sees_the_applications_waiting(cast, submitted):
    html = home(cast.homeroom_teacher)
    assert ("审核本班的课后服务报名", reverse("enrollment:review-queue")) in steps(html)
    assert count_of(html, "审核本班的课后服务报名") == "1"
    # The other homeroom's teacher has nothing from this class.
    assert count_of(home(cast.homeroom_teacher2), "审核本班的课后服务报名") == ""


def test_principal_sees_approvals_withdrawals_and_the_menu_to_publish(cast, class_approved,
                                                                      menu):
    html = home(cast.principal)
    todo = steps(html)
    assert ("审定已通过班级审核的报名", reverse("enrollment:decide-queue")) in todo
    assert count_of(html, "审定已通过班级审核的报名") == "1"
    week = f"{menu.week.month}月{menu.week.day}日"
    assert (f"发布 {week} 起一周的菜单", menu.get_absolute_url()) in todo
    # Another school's principal sees none of it.
    assert count_of(home(cast.principal2), "审定已通过班级审核的报名") == ""


def test_principal_is_told_to_allocate_once_choices_close(cast, monday_choices):
    close_choices(monday_choices)
    todo = steps(home(cast.principal))
    week = f"{monday_choices.week.month}月{monday_choices.week.day}日"
    assert (f"选课已截止：为 {week} 起一周分班", monday_choices.get_absolute_url()) in todo


def test_principal_is_told_to_create_next_weeks_menu_and_to_decide_a_withdrawal(
        cast, enrolment, monday):
    # The earliest day the notice period allows (R10), whichever weekday the test runs on.
    enrollment.withdrawal_request(enrolment=enrolment, user=cast.parent,
                                  effective_date=enrollment.withdrawal_earliest(enrolment),
                                  reason="家中有人接送")
    html = home(cast.principal)
    todo = steps(html)
    assert (f"新建 {monday.month}月{monday.day}日 起一周的菜单",
            reverse("scheduling:menus")) in todo
    assert ("审批退出申请", reverse("enrollment:decide-queue") + "#withdrawals") in todo
    assert count_of(html, "审批退出申请") == "1"


def test_serving_teacher_sees_the_classes_of_the_day(cast, allocated, activities, monday):
    staff = Staff.objects.get(user=cast.teacher)
    cls = class_of(allocated, activities.sports, 1)  # the child's basketball on Monday
    TemporaryClass.objects.filter(pk=cls.pk).update(head_teacher=staff)
    [today] = classes_of_teacher_on(cast.teacher, monday)
    assert today.temporary_class == cls
    assert (today.children, today.on_leave) == (1, 0)
    enrollment.leave_report_for_child(student=cast.child, slot_id=cls.slot_id, date=monday,
                                      reason="发烧", user=cast.parent)
    [today] = classes_of_teacher_on(cast.teacher, monday)
    assert (today.children, today.on_leave) == (1, 1)
    assert classes_of_teacher_on(cast.teacher, monday + datetime.timedelta(days=1)) == []
    assert classes_of_teacher_on(cast.homeroom_teacher, monday) == []


def test_serving_teacher_without_a_class_today_is_told_so(cast):
    assert "今天没有您带的临时班。" in home(cast.teacher)


def test_district_sees_participation_per_school(cast, enrolment):
    html = home(cast.officer)
    students = cast.school.students.filter(active=True).count()
    row = html[html.index(f"<td>{cast.school.name}</td>"):]
    assert f"<td>1 / {students}</td>" in row[:row.index("</tr>")]
    assert cast.far_school.name not in html


def test_step_deadline_reads_with_its_weekday():
    friday = timezone.make_aware(datetime.datetime(2026, 11, 27, 20, 0))
    assert Step("x", "/", due=friday).due_label == "周五 11月27日 20:00"


def test_notifications_link_to_the_page_they_are_about(cast, enrolment):
    application = enrolment.application
    notice = Notification.objects.filter(recipient=cast.parent, purpose="enrollment.decision",
                                         channel="in_app").latest("created_at")
    assert notice.url == application.get_absolute_url()
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(cast.parent)
    page = client.get(reverse("notifications:centre")).content.decode()
    assert f'<a href="{application.get_absolute_url()}">{notice.subject}</a>' in page


def test_menu_status_draft_is_not_shown_to_guardians_as_a_step(cast, menu, enrolled):
    assert menu.status == Menu.Status.DRAFT
    assert not [t for t in steps(home(cast.parent)) if "选课" in t]
