"""Participation (R14): each figure against a plain count of the same rows, the API against
the indicator module, and who sees which district or school."""

from decimal import Decimal

import pytest
from django.utils import timezone

from attendance.models import ClassSession
from enrollment.models import Enrolment
from oversight import indicators
from schools.models import School, Staff, Student
from tests.attendance.conftest import *  # noqa: F403  the session and what it stands on
from tests.attendance.conftest import session  # noqa: F401

pytestmark = pytest.mark.django_db


def _plain(school: School, today) -> dict:
    """The same figures counted row by row in Python."""
    pupils = [s for s in Student.objects.filter(school=school) if s.active and not s.boarding]
    served, all_week = set(), set()
    for e in Enrolment.objects.filter(term__school=school).prefetch_related("slots"):
        if e.covers(today) and e.student in pupils:
            served.add(e.student_id)
            if {s.weekday for s in e.slots.all()} >= {1, 2, 3, 4, 5}:
                all_week.add(e.student_id)
    return {"students": len(pupils), "served": len(served), "all_week": len(all_week),
            "staff": Staff.objects.filter(school=school, active=True, kind="teacher").count()}


def test_figures_agree_with_a_plain_count_and_boarders_are_left_out(cast, enrolled,
                                                                    session):  # noqa: F811
    today = timezone.localdate()
    Student.objects.filter(pk=cast.sibling.pk).update(boarding=True)  # excluded by rule
    ClassSession.objects.filter(pk=session.pk).update(roll_called_at=timezone.now(),
                                                      date=today)
    schools = list(School.objects.filter(district=cast.district).order_by("code"))
    p = indicators.participation(schools, today)
    mine = next(f for f in p.schools if f.school == cast.school)
    plain = _plain(cast.school, today)
    assert (mine.students, mine.students_served, mine.students_all_week, mine.staff) == (
        plain["students"], plain["served"], plain["all_week"], plain["staff"])
    assert mine.students_served == 2 and mine.students_all_week == 1  # other_child: Mon–Thu
    assert mine.staff_serving == 1
    assert mine.student_rate == (Decimal(2) / Decimal(plain["students"])).quantize(
        Decimal("0.0001"))
    other = next(f for f in p.schools if f.school == cast.other_school)
    assert other.students_served == 0 and not other.provides
    assert p.providing == 1 and p.coverage == Decimal("0.5000")


def test_the_api_reports_the_modules_figures_to_the_districts_staff(cast, enrolled, api):
    response = api(cast.officer).get("/api/v1/oversight/participation/")
    assert response.status_code == 200
    body = response.json()
    p = indicators.participation(
        list(School.objects.filter(district=cast.district).order_by("code")),
        timezone.localdate())
    assert body["totals"]["students_served"] == p.total("students_served") == 3
    assert body["totals"]["student_rate"] == f"{p.student_rate:.4f}"
    assert [s["school"] for s in body["schools"]] == [f.school.pk for f in p.schools]
    assert "寄宿生" in body["definitions"]["students"]["definition"]
    # Another district's officer, a principal, a parent: not theirs.
    assert api(cast.officer2).get(f"/api/v1/oversight/participation/?district="
                                  f"{cast.district.pk}").status_code == 404
    for user in (cast.principal, cast.parent, cast.finance, cast.teacher):
        assert api(user).get("/api/v1/oversight/participation/").status_code == 403
    assert api(cast.officer).get("/api/v1/oversight/participation/?term=x").status_code == 400


def test_a_schools_indicators_for_the_district_and_its_principal(cast, enrolled, api):
    url = f"/api/v1/oversight/schools/{cast.school.pk}/indicators/?term={cast.term.pk}"
    for user in (cast.officer, cast.principal):
        body = api(user).get(url).json()
        served = next(i for i in body["indicators"] if i["key"] == "students_served")
        assert served["numerator"] == 3 and served["definition"]
        assert body["semester"] == cast.term.name
    for user in (cast.principal2, cast.officer2):
        assert api(user).get(url).status_code == 404
    for user in (cast.parent, cast.teacher):
        assert api(user).get(url).status_code == 403


def test_compliance_checks_pass_fail_and_do_not_apply(cast, enrolled, session, api):  # noqa: F811
    import uuid

    from attendance.models import Mark
    from tests.billing.conftest import publish_fee

    today = timezone.localdate()
    school = School.objects.select_related("district").get(pk=cast.school.pk)

    def checks():
        return indicators.participation([school], today, with_compliance=True) \
            .schools[0].compliance

    c = checks()
    assert c.five_plus_two and not c.fee_published and c.fee_within_cap is None
    assert c.evening_ok is None  # a primary school has no evening study
    publish_fee(cast)
    assert checks().fee_published and checks().fee_within_cap
    school.district.fee_cap_per_hour = Decimal("1.50")
    school.district.save()
    assert checks().fee_within_cap is False
    # The afternoon ends before the local off-work time: the end-time check fails.
    school.district.off_work_time = max(s.end for s in cast.term.slots.all()).replace(
        hour=23)
    school.district.save()
    assert checks().end_time_ok is False
    # A roll call with one absence and no leave: one unexplained in so many child-sessions.
    ClassSession.objects.filter(pk=session.pk).update(date=today, roll_called_at=timezone.now())
    for student, status in ((cast.child, "absent"), (cast.sibling, "present")):
        Mark.objects.create(session=session, student=student, status=status,
                            marked_by=cast.teacher, client_id=uuid.uuid4(),
                            occurred_at=timezone.now())
    c = checks()
    assert (c.unexplained, c.child_sessions) == (1, 2)
    assert indicators.per_thousand(c.unexplained, c.child_sessions) == Decimal("500.00")
    # The priority child (a claim) was approved.
    assert (c.priority_approved, c.priority) == (1, 1)
    body = api(cast.officer).get(
        f"/api/v1/oversight/schools/{cast.school.pk}/indicators/").json()
    values = {i["key"]: i["value"] for i in body["indicators"]}
    assert values["unexplained_per_1000"] == "500.00" and values["fee_cap"] is False
    assert values["complaints"] == "—"
    matrix = api(cast.officer).get("/api/v1/oversight/participation/").json()
    mine = next(s for s in matrix["schools"] if s["school"] == cast.school.pk)
    assert mine["checks"]["fee_cap"] is False and mine["checks"]["five_plus_two"] is True


def test_the_trend_counts_as_participation_does(cast, enrolled):
    import datetime

    schools = list(School.objects.filter(district=cast.district).order_by("code"))
    today = timezone.localdate()
    days = [cast.term.start - datetime.timedelta(days=1), today]
    rates = [r for _day, r in indicators.participation(schools, today, trend=days).trend]
    assert rates == [indicators.participation(schools, day).student_rate for day in days]
    assert rates[0] == 0 and rates[1] > 0
