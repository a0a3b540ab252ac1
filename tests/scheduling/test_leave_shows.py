"""Leave does not disappear: a reported leave shows on the child's week, in the guardian's list
(cancellable before the day) and on the class list for that day; leave reported on the day
after the school's cut-off is accepted with a warning and the roll-taker is told at once."""

import datetime

import pytest
from django.utils import timezone

from enrollment import services as enrollment
from enrollment.models import Leave
from notifications.models import Notification
from scheduling.models import Menu, Placement, TemporaryClass
from schools.models import AuditEntry, School, Staff, TermCalendarDay
from tests.scheduling.conftest import afternoon

pytestmark = pytest.mark.django_db


@pytest.fixture
def tuesday_leave(cast, allocated, enrolled):
    """`sibling` off on next week's Tuesday afternoon."""
    return enrollment.leave_report(enrolment=enrolled.sibling, user=cast.parent,
                                   date=allocated.day_of(2), slot=afternoon(cast.term, 2),
                                   reason="看牙医")


def test_a_leave_shows_on_the_week_the_list_and_the_class_list(cast, allocated, activities,
                                                               tuesday_leave, client):
    client.force_login(cast.parent)
    week = client.get(f"/scheduling/students/{cast.sibling.pk}/week/?week={allocated.week}")
    assert "已请假" in week.content.decode() and "看牙医" in week.content.decode()
    listing = client.get("/enrollment/leave/").content.decode()
    assert "看牙医" in listing and "撤销请假" in listing

    seat = Placement.objects.get(student=cast.sibling, menu=allocated, slot__weekday=2)
    client.force_login(cast.principal)
    page = client.get(seat.temporary_class.get_absolute_url()).content.decode()
    row = page.split(cast.sibling.name, 1)[1].split("</td>", 1)[0]
    assert "请假" in row
    # Another day's class list does not mark them.
    monday = Placement.objects.get(student=cast.sibling, menu=allocated, slot__weekday=1)
    page = client.get(monday.temporary_class.get_absolute_url()).content.decode()
    assert "请假" not in page.split(cast.sibling.name, 1)[1].split("</td>", 1)[0]


def test_a_guardian_cancels_a_leave_before_its_day(cast, tuesday_leave, client):
    client.force_login(cast.parent2)
    assert client.post(f"/enrollment/leave/{tuesday_leave.pk}/cancel/").status_code == 404
    client.force_login(cast.parent)
    response = client.post(f"/enrollment/leave/{tuesday_leave.pk}/cancel/")
    assert response.status_code == 302
    assert not Leave.objects.filter(pk=tuesday_leave.pk).exists()
    assert AuditEntry.objects.filter(action="enrollment.leave.cancelled",
                                     object_id=str(tuesday_leave.pk)).exists()


def test_a_leave_on_its_day_cannot_be_cancelled(cast, tuesday_leave, client):
    Leave.objects.filter(pk=tuesday_leave.pk).update(date=timezone.localdate())
    client.force_login(cast.parent)
    client.post(f"/enrollment/leave/{tuesday_leave.pk}/cancel/")
    assert Leave.objects.filter(pk=tuesday_leave.pk).exists()


@pytest.fixture
def seated_today(cast, enrolled, teachers):
    """Today runs an afternoon (a make-up day standing for Monday if today is a weekend) and
    `sibling` sits in a class of this week's allocated menu, headed by `teacher`."""
    today = timezone.localdate()
    weekday = today.isoweekday()
    if weekday > 5:
        TermCalendarDay.objects.create(term=cast.term, date=today, kind="makeup",
                                       runs_as_weekday=1)
        weekday = 1
    slot = afternoon(cast.term, weekday)
    monday = today - datetime.timedelta(days=today.isoweekday() - 1)
    menu = Menu.objects.create(school=cast.school, term=cast.term, week=monday,
                               choice_deadline=timezone.now(), status=Menu.Status.ALLOCATED,
                               created_by=cast.principal)
    hall = TemporaryClass.objects.create(
        menu=menu, slot=slot, kind="study_hall", grade=3, name="今日托管自习班", capacity=40,
        head_teacher=Staff.objects.get(user=cast.teacher), start=slot.start, end=slot.end)
    Placement.objects.create(temporary_class=hall, menu=menu, slot=slot, student=cast.sibling)
    return slot


def test_leave_after_the_cutoff_is_accepted_with_a_warning_and_told_at_once(
        cast, enrolled, seated_today, client):
    School.objects.filter(pk=cast.school.pk).update(leave_cutoff=datetime.time(0, 0))
    client.force_login(cast.parent)
    response = client.post(f"/enrollment/enrolments/{enrolled.sibling.pk}/leave/", {
        "date": timezone.localdate().isoformat(), "slot": seated_today.pk, "reason": "发烧"},
        follow=True)
    assert "已过当天请假截止时间" in response.content.decode()
    leave = Leave.objects.get(student=cast.sibling)
    assert leave.late
    told = Notification.objects.get(recipient=cast.teacher, purpose="scheduling.late_leave",
                                    channel="in_app")
    assert cast.sibling.name in told.subject and "发烧" in told.body


def test_leave_before_the_cutoff_is_not_late_and_tells_nobody(cast, enrolled, seated_today,
                                                              client):
    School.objects.filter(pk=cast.school.pk).update(leave_cutoff=datetime.time(23, 59, 59))
    client.force_login(cast.parent)
    client.post(f"/enrollment/enrolments/{enrolled.sibling.pk}/leave/", {
        "date": timezone.localdate().isoformat(), "slot": seated_today.pk, "reason": "发烧"})
    assert not Leave.objects.get(student=cast.sibling).late
    assert not Notification.objects.filter(purpose="scheduling.late_leave").exists()


def test_the_api_says_a_leave_was_late(cast, enrolled, seated_today, api):
    School.objects.filter(pk=cast.school.pk).update(leave_cutoff=datetime.time(0, 0))
    response = api(cast.parent).post("/api/v1/leave/", {
        "student": cast.sibling.pk, "date": timezone.localdate().isoformat(),
        "slot": seated_today.pk, "reason": "发烧"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["late"] is True


