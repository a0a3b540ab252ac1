"""`manage.py seed_demo` also seeds the scheduling stage: this week's menu allocated (class
lists and timetables populated), next week's published and open for choices; nothing new on a
second run."""

import datetime

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from scheduling.models import Activity, Choice, Menu, Placement, TemporaryClass
from schools.models import School, Staff, User
from schools.selectors import children_of

COUNTED = [Activity, Menu, Choice, TemporaryClass, Placement]


@pytest.mark.django_db
def test_demo_weeks(demo_once):
    school = School.objects.get(code="DEMO-P1")
    today = timezone.localdate()
    this_week = today - datetime.timedelta(days=today.weekday())
    current = Menu.objects.get(school=school, week=this_week)
    upcoming = Menu.objects.get(school=school, week=this_week + datetime.timedelta(days=7))

    assert current.status == "allocated" and current.runs.filter(committed=True).count() == 1
    classes = TemporaryClass.objects.filter(menu=current).annotate(n=Count("placements"))
    assert classes.filter(kind="activity").exists() and classes.filter(kind="study_hall").exists()
    assert all(c.n <= c.capacity <= school.temp_class_cap for c in classes)
    assert not classes.filter(head_teacher__isnull=True).exists()
    teacher = Staff.objects.get(user__username="teacher")
    assert classes.filter(head_teacher=teacher, n__gt=0).exists()
    # `parent`'s second child, enrolled in all ten slots, has a seat in each of them.
    second = list(children_of(User.objects.get(username="parent")))[1]
    assert Placement.objects.filter(menu=current, student=second).count() == 10
    assert Placement.objects.filter(menu=current, rank=1).exists()

    assert upcoming.status == "published" and upcoming.choice_deadline > timezone.now()
    assert Choice.objects.filter(menu=upcoming).exists()
    first = list(children_of(User.objects.get(username="parent")))[0]
    assert not Choice.objects.filter(menu=upcoming, student__in=[first, second]).exists()

    before = {m.__name__: m.objects.count() for m in COUNTED}
    call_command("seed_demo", password="pw-12345-x", quiet=True)
    assert {m.__name__: m.objects.count() for m in COUNTED} == before
