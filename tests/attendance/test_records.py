"""R9's records and the principal's attendance pages: the class's weekly activity record built
from the service records and the roll, archived at term end and then fixed; the month's table
of teachers' service attendance, published once to the staff; a substitute named on the
session page; a restricted adult recorded on the child's page."""

import datetime
import uuid

import pytest
from django.db import connection
from django.db.models import Q
from django.test import Client
from django.test.utils import CaptureQueriesContext

from attendance import services
from attendance.models import (
    ClassSession,
    ClassWeekArchive,
    RestrictedAdult,
    TeacherMonthTable,
)
from attendance.records import (
    class_weeks,
    class_weeks_visible_to,
    head_teacher_week,
    teacher_month,
)
from notifications.models import Notification
from scheduling.models import TemporaryClass
from schools.errors import Conflict
from schools.models import Staff


def _as(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def served(cast, session):
    """The session served: roll called (the child absent), a record and an incident."""
    services.roll_call(session=session, user=cast.teacher, marks=[
        {"student": cast.child.pk, "status": "absent", "client_id": uuid.uuid4()}])
    services.service_record_write(session=session, user=cast.teacher, content="篮球运球练习",
                                  notes="一名学生缺勤未请假", client_id=uuid.uuid4())
    session.refresh_from_db()
    return session


def test_the_weekly_record_is_built_from_the_days(cast, served):
    week = class_weeks([served.temporary_class])[served.temporary_class_id]
    line = next(s for s in week["sessions"] if s["date"] == served.date.isoformat())
    assert line["content"] == "篮球运球练习" and line["roll_called"]
    assert line["absent"] == 1 and line["teacher"] == cast.teacher.staff_profile.name
    assert line["substitute"] is True
    page = _as(cast.teacher).get(f"/attendance/classes/{served.temporary_class_id}/week/")
    assert page.status_code == 200 and "篮球运球练习" in page.content.decode()
    # The head teacher's week: every class they head in that week's menu, in the order met.
    cls = served.temporary_class
    headed = ClassSession.objects.filter(temporary_class__menu=cls.menu,
                                         temporary_class__head_teacher=cls.head_teacher)
    teacher_week = head_teacher_week(cls, class_weeks_visible_to(cast.principal))
    assert len(teacher_week["sessions"]) == headed.count() >= 1
    assert set(teacher_week["classes"]) == {s.temporary_class.name for s in headed}
    dates = [(line["date"], line["start"]) for line in teacher_week["sessions"]]
    assert dates == sorted(dates)
    # The classes' sessions, records, incidents and late pickups are read together, and each
    # session's roll for its figures only (calendar, children, leave, marks), not the tablet's
    # pickup lists: measured 25 queries for a week of 5 classes, 93 before.
    principal = _as(cast.principal)
    with CaptureQueriesContext(connection) as page_queries:
        principal.get(f"/attendance/classes/{cls.pk}/week/")
    assert len(page_queries) <= 10 + 3 * headed.count()
    # The substitute reads the classes they head or served, not the rest of the head's week.
    theirs = head_teacher_week(cls, class_weeks_visible_to(cast.teacher))
    served_or_headed = set(ClassSession.objects.filter(
        Q(teacher__user=cast.teacher) | Q(temporary_class__head_teacher__user=cast.teacher))
        .values_list("temporary_class__name", flat=True))
    assert cls.name in theirs["classes"]
    assert set(theirs["classes"]) <= served_or_headed


def test_only_who_acts_on_it_reads_which_child_an_incident_concerned(cast, served):
    """A child's injury or illness in the weekly record: the head teacher and the principal
    read the child and the note; the substitute and the district read the kind only."""
    services.incident_report(session=served, user=cast.teacher, student_id=cast.child.pk,
                             kind="injury", note="膝盖擦伤，已消毒", client_id=uuid.uuid4())
    services.service_record_write(session=served, user=cast.teacher, content="篮球",
                                  notes=f"{cast.child.name}摔倒擦伤膝盖", client_id=uuid.uuid4())
    cls = served.temporary_class
    url = f"/attendance/classes/{cls.pk}/week/"
    readers = {"principal": cast.principal, "substitute": cast.teacher,
               "district": cast.officer}
    if cls.head_teacher and cls.head_teacher.user:
        readers["head"] = cls.head_teacher.user
    for name, user in readers.items():
        body = _as(user).get(url).content.decode()
        assert "受伤" in body, name
        sees = name in ("principal", "head")
        assert ("膝盖擦伤" in body) is sees, name
        assert ("摔倒擦伤膝盖" in body) is sees, name
        assert (cast.child.name in body) is sees, name


@pytest.mark.parametrize("who", ["parent", "homeroom_teacher2", "principal2"])
def test_the_weekly_record_is_not_shown_outside_scope(cast, served, who):
    page = _as(getattr(cast, who)).get(f"/attendance/classes/{served.temporary_class_id}/week/")
    assert page.status_code == 404


def test_the_term_end_archive_is_made_once_and_then_fixed(cast, served):
    term = served.term
    with pytest.raises(Conflict):
        services.class_weeks_archive(term)
    after = term.end + datetime.timedelta(days=1)
    # The daily job, on the term's last day, leaves it; the day after, archives every class.
    assert services.archive_ended_terms(term.end) == 0
    made = services.archive_ended_terms(after)
    classes = TemporaryClass.objects.filter(menu__term=term).count()
    assert made == ClassWeekArchive.objects.filter(term=term).count() == classes > 0
    assert services.class_weeks_archive(term, today=after) == 0
    with CaptureQueriesContext(connection) as again:
        assert services.archive_ended_terms(after) == 0
    assert len(again) == 1  # nothing left to archive: one look, no term read again
    # A record written afterwards does not change what was handed in.
    services.service_record_write(session=served, user=cast.teacher, content="改写",
                                  notes="", client_id=uuid.uuid4())
    page = _as(cast.principal).get(f"/attendance/classes/{served.temporary_class_id}/week/")
    body = page.content.decode()
    assert "学期末已存档" in body and "篮球运球练习" in body and "改写" not in body


def test_the_month_counts_sessions_served_with_a_roll(cast, served, session):
    rows = teacher_month(cast.school.pk, served.date.replace(day=1), today=served.date)
    mine = next(r for r in rows if r["staff"] == cast.teacher.staff_profile.pk)
    assert mine["sessions"] == 1 and mine["substitute_sessions"] == 1
    assert mine["class_hours"] == str(served.slot.class_hours)
    # Before the day, nothing was served yet (a roll call counts from its session's date).
    before = served.date - datetime.timedelta(days=1)
    assert teacher_month(cast.school.pk, before.replace(day=1), today=before) == []


def test_the_month_is_published_once_to_the_staff(cast, served):
    month = served.date.replace(day=1)
    with pytest.raises(Conflict):
        services.teacher_month_publish(school=cast.school, month=month, user=cast.principal,
                                       today=served.date)
    later = (month + datetime.timedelta(days=40))
    table = services.teacher_month_publish(school=cast.school, month=month,
                                           user=cast.principal, today=later)
    assert table.rows and TeacherMonthTable.objects.count() == 1
    staff_users = set(Staff.objects.filter(school=cast.school, active=True,
                                           user__isnull=False).values_list("user_id", flat=True))
    told = set(Notification.objects.filter(purpose="attendance.month_published")
               .values_list("recipient_id", flat=True))
    assert told == staff_users
    with pytest.raises(Conflict):
        services.teacher_month_publish(school=cast.school, month=month, user=cast.principal,
                                       today=later)
    # The staff read the published table; another school's principal cannot.
    label = f"{month:%Y-%m}"
    assert cast.teacher.staff_profile.name in _as(cast.teacher).get(
        f"/attendance/months/{label}/").content.decode()
    other = _as(cast.principal2).get(f"/attendance/months/{label}/").content.decode()
    assert cast.teacher.staff_profile.name not in other
    assert _as(cast.parent).get(f"/attendance/months/{label}/").status_code == 404


def test_the_principal_names_a_substitute_on_the_session_page(cast, session):
    other = Staff.objects.filter(school=cast.school, active=True).exclude(
        pk=session.teacher_id).first()
    response = _as(cast.principal).post(f"/attendance/sessions/{session.pk}/", {
        "action": "substitute", "teacher": other.pk, "reason": "病假代课"})
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.teacher_id == other.pk
    # A teacher cannot do it: the post is the teacher's own forms, and this one is not theirs.
    _as(cast.teacher).post(f"/attendance/sessions/{session.pk}/", {
        "action": "substitute", "teacher": cast.teacher.staff_profile.pk})
    session.refresh_from_db()
    assert session.teacher_id == other.pk


def test_the_principal_records_a_restricted_adult_on_the_childs_page(cast, session):
    url = f"/attendance/children/{cast.child.pk}/"
    assert "禁止接送人" in _as(cast.principal).get(url).content.decode()
    assert "禁止接送人" not in _as(cast.parent).get(url).content.decode()
    response = _as(cast.principal).post(url, {"name": "赵某", "phone": "13800009999",
                                              "reason": "法院裁定（2026）001号"})
    assert response.status_code == 302
    assert RestrictedAdult.objects.filter(student=cast.child, name="赵某").exists()
    # Missing the ground: a message naming it, nothing saved.
    response = _as(cast.principal).post(url, {"name": "钱某", "reason": ""}, follow=True)
    assert "请填写依据" in response.content.decode()
    assert not RestrictedAdult.objects.filter(name="钱某").exists()
    # A control character (a NUL the database refuses) is a message naming the field, not a 500.
    response = _as(cast.principal).post(url, {"name": "李\x00某", "reason": "法院裁定"},
                                        follow=True)
    assert response.status_code == 200 and "name" in response.content.decode()
    assert not RestrictedAdult.objects.filter(name__startswith="李").exists()
    # Not the school's: 404.
    assert _as(cast.principal2).post(url, {"name": "孙某", "reason": "x"}).status_code == 404


@pytest.mark.parametrize("month", ["0001-01", "9999-12", "2026-13"])
def test_a_month_at_the_calendar_s_edge_is_not_found(cast, month):
    assert _as(cast.principal).get(f"/attendance/months/{month}/").status_code == 404
