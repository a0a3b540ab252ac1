"""Each district-oversight indicator (oversight.indicators) on hand-built schools, against a
figure worked out by hand in the test: who is counted, who is left out by rule, and the
arithmetic of each rate (R1, R4, R5, R8, R10, R14).

Rows the indicators count are written directly where that is the simplest honest set-up (the
services are tested in their own stages); the enrollment services are used where the row's
state is what a service decides (a refusal's reason, a withdrawal's approval). Append-only
tables (marks) are only ever inserted into."""

import datetime
import itertools
import uuid
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from attendance.models import ClassSession, Incident, LatePickup, Mark
from enrollment import services as enrollment
from enrollment.models import Application, Enrolment, TermPlan, Withdrawal
from oversight import indicators
from scheduling.models import Menu, TemporaryClass
from schools.models import Role, School, ServiceSlot, Staff, Student
from tests import factories as f
from tests.scheduling.conftest import enrol, enrolled, plan  # noqa: F401

pytestmark = pytest.mark.django_db

SEMESTER = "2026秋季学期"
AFTERNOON = ServiceSlot.Kind.AFTERNOON
EVENING = ServiceSlot.Kind.EVENING
_numbers = itertools.count(1)


def _t(text: str) -> datetime.time:
    return datetime.time.fromisoformat(text)


def _today() -> datetime.date:
    return timezone.localdate()


def _last_week(weekday: int) -> datetime.date:
    """That weekday (1 = Monday) of last week: a day of the term, before today."""
    today = _today()
    return today - datetime.timedelta(days=today.weekday() + 7 - (weekday - 1))


# --- A hand-built school ------------------------------------------------------------------------


def _school(district, *, stage=School.Stage.PRIMARY, ends=None, **fields) -> SimpleNamespace:
    """A school of `district` with its SEMESTER term (today in its middle): noon 11:40–14:10 and
    afternoon 16:20–18:00 Monday to Friday (`ends`: weekday → another afternoon end), a
    principal and one homeroom. No staff, no pupils."""
    school = f.SchoolFactory(district=district, stage=stage, **fields)
    term = f.TermFactory(school=school, name=SEMESTER)
    for weekday in range(1, 6):
        f.ServiceSlotFactory(
            term=term,
            kind=ServiceSlot.Kind.NOON,
            weekday=weekday,
            start=_t("11:40"),
            end=_t("14:10"),
        )
        f.ServiceSlotFactory(
            term=term, kind=AFTERNOON, weekday=weekday, end=(ends or {}).get(weekday, _t("18:00"))
        )
    principal = f.UserFactory(display_name="校长")
    f.grant(principal, Role.PRINCIPAL, school=school)
    homeroom = f.HomeroomFactory(
        school=school, grade=f.GradeFactory(school=school, number=3), name="1班"
    )
    return SimpleNamespace(school=school, term=term, principal=principal, homeroom=homeroom)


def _pupils(s, n: int, **fields) -> list[Student]:
    return [f.StudentFactory(school=s.school, homeroom=s.homeroom, **fields) for _ in range(n)]


def _teachers(s, *names: str, **fields) -> list[Staff]:
    return [f.StaffFactory(school=s.school, user=None, name=name, **fields) for name in names]


def _provider(s, name: str) -> Staff:
    return f.StaffFactory(
        school=s.school,
        user=None,
        name=name,
        kind=Staff.Kind.PROVIDER,
        provider_name="某体育培训中心",
    )


def _enrol(s, students, *, weekdays=range(1, 6), start=None, end=None) -> list[Enrolment]:
    """Approved applications and their enrolments in the afternoon slots of `weekdays`, from
    `start` (the term's start) to `end` (open)."""
    now = timezone.now()
    published = TermPlan.objects.filter(term=s.term, status=TermPlan.Status.PUBLISHED).first()
    if published is None:
        published = TermPlan.objects.create(
            term=s.term,
            status=TermPlan.Status.PUBLISHED,
            version=1,
            agreement_text="课后服务安全责任书",
            complaint_phone="0355-1234567",
            published_at=now,
            published_by=s.principal,
        )
    slots = list(s.term.slots.filter(kind=AFTERNOON, weekday__in=list(weekdays)))
    made = []
    for student in students:
        application = Application.objects.create(
            term=s.term,
            student=student,
            applicant=f.UserFactory(display_name="家长"),
            plan=published,
            status=Application.Status.APPROVED,
            submitted_at=now,
            decided_at=now,
            decided_by=s.principal,
        )
        application.slots.set(slots)
        enrolment = Enrolment.objects.create(
            term=s.term,
            student=student,
            application=application,
            start_date=start or s.term.start,
            end_date=end,
        )
        enrolment.slots.set(slots)
        made.append(enrolment)
    return made


def _session(s, day: datetime.date, teacher: Staff, *, called: bool = True) -> ClassSession:
    """A study hall in the afternoon slot of `day`'s weekday served by `teacher`; with `called`
    its roll was called."""
    slot = s.term.slots.get(kind=AFTERNOON, weekday=day.isoweekday())
    menu, _created = Menu.objects.get_or_create(
        school=s.school,
        week=day - datetime.timedelta(days=day.weekday()),
        defaults={
            "term": s.term,
            "status": Menu.Status.ALLOCATED,
            "choice_deadline": timezone.now(),
            "created_by": s.principal,
        },
    )
    cls = TemporaryClass.objects.create(
        menu=menu,
        slot=slot,
        kind=TemporaryClass.Kind.STUDY_HALL,
        name=f"托管自习{next(_numbers)}班",
        capacity=40,
        head_teacher=teacher,
        start=slot.start,
        end=slot.end,
    )
    return ClassSession.objects.create(
        school=s.school,
        term=s.term,
        temporary_class=cls,
        slot=slot,
        date=day,
        start=slot.start,
        end=slot.end,
        teacher=teacher,
        roll_called_at=timezone.now() if called else None,
    )


def _mark(session, student, status, by, *, at=None) -> Mark:
    return Mark.objects.create(
        session=session,
        student=student,
        status=status,
        marked_by=by,
        client_id=uuid.uuid4(),
        occurred_at=at or timezone.now(),
    )


def _incident(session, student, kind, by) -> Incident:
    return Incident.objects.create(
        session=session,
        student=student,
        kind=kind,
        note="下午活动时不舒服，已联系家长",
        reported_by=by,
        client_id=uuid.uuid4(),
        occurred_at=timezone.now(),
    )


def _figures(s, as_of=None, semester=None) -> indicators.SchoolFigures:
    return indicators.participation(
        [s.school], as_of or _today(), semester, with_compliance=True
    ).schools[0]


def _officer(district):
    officer = f.UserFactory(display_name="科长")
    f.grant(officer, Role.DISTRICT, district=district)
    return officer


def _indicators(api, user, school) -> dict:
    body = api(user).get(f"/api/v1/oversight/schools/{school.pk}/indicators/").json()
    return {i["key"]: i for i in body["indicators"]}


# --- Participation: staff -----------------------------------------------------------------------


def test_staff_rate_counts_own_active_teachers_who_served_and_keeps_providers_apart():
    s = _school(f.DistrictFactory())
    t1, t2, t3, _t4 = _teachers(s, "钱老师", "孙老师", "李老师", "周老师")
    _teachers(s, "吴老师", active=False)  # no longer in post
    coach = _provider(s, "陈教练")
    _provider(s, "郑教练")  # in post, serves nothing
    _session(s, _last_week(1), t1)
    _session(s, _last_week(2), t1)  # a second session: still one teacher
    _session(s, _last_week(3), t2)
    _session(s, _last_week(4), t3, called=False)  # no roll call: not served
    _session(s, _last_week(5), coach)

    # Own teachers in post: t1..t4 = 4 (吴 left; the two coaches are a provider's staff).
    # Served as of today: t1, t2 = 2 → 2 / 4 = 0.5000; providers' staff served: 陈 = 1.
    mine = _figures(s)
    assert (mine.staff, mine.staff_serving, mine.external_serving) == (4, 2, 1)
    assert mine.staff_rate == Decimal("0.5000")
    # As of last Monday only t1 had served: 1 / 4 = 0.2500, no provider yet.
    earlier = _figures(s, _last_week(1))
    assert (earlier.staff, earlier.staff_serving, earlier.external_serving) == (4, 1, 0)
    assert earlier.staff_rate == Decimal("0.2500")


# --- Participation: the district, three schools -------------------------------------------------


@pytest.fixture
def district():
    """Three schools of one district, each pupil and teacher placed by hand.

    X: 10 pupils on roll (a boarder and a pupil no longer on roll are enrolled but not counted);
       9 of the 10 enrolled, 5 of them all week, 4 Monday to Thursday → 9 / 10 = 0.9000.
       Teachers: 3 in post (+1 who left), 1 served.
    Y: 8 pupils on roll; 6 enrolled all week in force today, one whose enrolment ended yesterday,
       one whose starts tomorrow → 6 / 8 = 0.7500. Teachers: 2, both served; a coach served.
    Z: 5 pupils, nobody enrolled → 0 / 5. Teachers: 1, none served."""
    d = f.DistrictFactory(name="东城区教育局")
    x, y, z = (_school(d, name=name) for name in ("东风小学", "育英小学", "向阳小学"))
    yesterday, tomorrow = (
        _today() - datetime.timedelta(days=1),
        _today() + datetime.timedelta(days=1),
    )

    on_roll = _pupils(x, 10)
    _enrol(x, on_roll[:5])
    _enrol(x, on_roll[5:9], weekdays=range(1, 5))
    _enrol(x, _pupils(x, 1, boarding=True) + _pupils(x, 1, active=False))
    xt, _xt2, _xt3 = _teachers(x, "赵老师", "钱老师", "孙老师")
    _teachers(x, "李老师", active=False)
    _session(x, _last_week(1), xt)

    y_pupils = _pupils(y, 8)
    _enrol(y, y_pupils[:6])
    _enrol(y, y_pupils[6:7], end=yesterday)
    _enrol(y, y_pupils[7:], start=tomorrow)
    for teacher in _teachers(y, "周老师", "吴老师") + [_provider(y, "陈教练")]:
        _session(y, _last_week(2), teacher)

    _pupils(z, 5)
    _teachers(z, "郑老师")
    return SimpleNamespace(district=d, x=x, y=y, z=z, x_pupils=on_roll)


def _district_figures(w) -> indicators.Participation:
    return indicators.participation([w.x.school, w.y.school, w.z.school], _today())


def test_a_school_at_exactly_90_percent_meets_the_line_and_one_under_does_not(district):
    p = _district_figures(district)
    x, y, z = p.schools
    assert (x.students_served, x.students, x.student_rate, x.at_target) == (
        9,
        10,
        Decimal("0.9000"),
        True,
    )
    assert (y.students_served, y.students, y.student_rate, y.at_target) == (
        6,
        8,
        Decimal("0.7500"),
        False,
    )
    assert (z.students_served, z.students, z.student_rate, z.at_target) == (
        0,
        5,
        Decimal("0.0000"),
        False,
    )
    assert p.at_target == 1
    # One of X's served pupils leaves the roll: 8 / 9 = 0.8889, under the line.
    Student.objects.filter(pk=district.x_pupils[0].pk).update(active=False)
    p = _district_figures(district)
    assert p.schools[0].student_rate == Decimal("0.8889") and p.at_target == 0


def test_the_district_totals_add_up_the_schools(district, api):
    p = _district_figures(district)
    # Students 10 + 8 + 5 = 23, served 9 + 6 + 0 = 15 → 15 / 23 = 0.65217… → 0.6522.
    assert (p.total("students"), p.total("students_served")) == (23, 15)
    assert p.student_rate == Decimal("0.6522")
    # All week: X 5 + Y 6 = 11.
    assert p.total("students_all_week") == 11
    # Own teachers 3 + 2 + 1 = 6, served 1 + 2 + 0 = 3 → 0.5000; the coach apart: 1.
    assert (p.total("staff"), p.total("staff_serving"), p.total("external_serving")) == (6, 3, 1)
    assert p.staff_rate == Decimal("0.5000")
    # Providing: X and Y of 3 schools → 2 / 3 = 0.6667.
    assert (p.providing, p.coverage) == (2, Decimal("0.6667"))

    totals = (
        api(_officer(district.district))
        .get(f"/api/v1/oversight/participation/?district={district.district.pk}")
        .json()["totals"]
    )
    assert totals == {
        "schools": 3,
        "schools_providing": 2,
        "coverage": "0.6667",
        "schools_at_target": 1,
        "students": 23,
        "students_served": 15,
        "student_rate": "0.6522",
        "students_all_week": 11,
        "staff": 6,
        "staff_serving": 3,
        "staff_rate": "0.5000",
        "external_serving": 1,
    }


# --- Compliance: end time and evening study (R5) ------------------------------------------------


def test_the_afternoon_may_not_end_after_the_seasons_latest_end():
    # Monday to Thursday end 18:00, Friday 18:15; off work 17:30 (the district's default).
    s = _school(
        f.DistrictFactory(),
        ends={5: _t("18:15")},
        latest_end_summer=_t("18:30"),
        latest_end_winter=_t("18:00"),
        summer_from_month=5,
        winter_from_month=10,
    )
    year = _today().year
    june, december = datetime.date(year, 6, 15), datetime.date(year, 12, 15)

    summer = _figures(s, june, SEMESTER).compliance
    assert (summer.end_earliest, summer.end_latest) == (_t("18:00"), _t("18:15"))
    assert summer.latest_allowed == _t("18:30") and summer.end_time_ok is True
    # In winter the latest end is 18:00: Friday's 18:15 is after it.
    winter = _figures(s, december, SEMESTER).compliance
    assert winter.latest_allowed == _t("18:00") and winter.end_time_ok is False
    # Ending exactly at the latest end is not after it.
    School.objects.filter(pk=s.school.pk).update(latest_end_winter=_t("18:15"))
    s.school.refresh_from_db()
    assert _figures(s, december, SEMESTER).compliance.end_time_ok is True


def test_a_middle_schools_evening_study_ends_by_20_30_and_a_primary_has_none():
    d = f.DistrictFactory()
    middle = _school(d, stage=School.Stage.MIDDLE)
    for weekday in range(1, 5):
        f.ServiceSlotFactory(
            term=middle.term, kind=EVENING, weekday=weekday, start=_t("19:00"), end=_t("20:30")
        )
    c = _figures(middle).compliance
    assert (c.evening_end, c.evening_ok) == (_t("20:30"), True)
    # A Friday evening one minute longer: the latest evening end is 20:31.
    f.ServiceSlotFactory(
        term=middle.term, kind=EVENING, weekday=5, start=_t("19:00"), end=_t("20:31")
    )
    c = _figures(middle).compliance
    assert (c.evening_end, c.evening_ok) == (_t("20:31"), False)

    nine_year = _school(d, stage=School.Stage.NINE_YEAR)
    f.ServiceSlotFactory(
        term=nine_year.term, kind=EVENING, weekday=1, start=_t("19:00"), end=_t("21:00")
    )
    assert _figures(nine_year).compliance.evening_ok is False
    # A primary school's evening slot is not evening study: not applicable.
    primary = _school(d)
    f.ServiceSlotFactory(
        term=primary.term, kind=EVENING, weekday=1, start=_t("19:00"), end=_t("21:00")
    )
    c = _figures(primary).compliance
    assert (c.evening_end, c.evening_ok) == (None, None)


# --- Compliance: care per 1,000 child-sessions (R8) ---------------------------------------------


@pytest.fixture
def care_week():
    """Last Monday and Tuesday of a school, and another school of the district.

    Monday (S1): 甲 present, 乙 present, 丙 absent, 丁 late → 4 child-sessions; 甲 unwell;
      乙 not collected: escalated to steps 1, 2 and 3 (one late pickup).
    Tuesday (S2): 甲 present, 乙 absent then corrected to present (one child-session), 丙
      present → 3 child-sessions; 乙 injured.
    As of today: 7 child-sessions, 2 incidents, 1 late pickup.
    The other school: 1 child-session, 1 incident, 1 late pickup, all its own."""
    d = f.DistrictFactory()
    s, other = _school(d, name="实验小学"), _school(d, name="育才小学")
    a, b, c, dd = (
        f.StudentFactory(school=s.school, homeroom=s.homeroom, name=name)
        for name in ("甲", "乙", "丙", "丁")
    )
    _enrol(s, [a, b, c])
    _enrol(s, [dd], weekdays=[1])
    (teacher,) = _teachers(s, "王老师")
    by = s.principal
    monday, tuesday = _session(s, _last_week(1), teacher), _session(s, _last_week(2), teacher)
    for student, status in ((a, "present"), (b, "present"), (c, "absent"), (dd, "late")):
        _mark(monday, student, status, by)
    _incident(monday, a, Incident.Kind.UNWELL, by)
    end = timezone.make_aware(datetime.datetime.combine(monday.date, monday.end))
    for step, minutes in ((1, 10), (2, 30), (3, 40)):
        LatePickup.objects.create(
            session=monday, student=b, step=step, at=end + datetime.timedelta(minutes=minutes)
        )
    first = timezone.now() - datetime.timedelta(minutes=5)
    _mark(tuesday, a, "present", by)
    _mark(tuesday, b, "absent", by, at=first)
    _mark(tuesday, b, "present", by)
    _mark(tuesday, c, "present", by)
    _incident(tuesday, b, Incident.Kind.INJURY, by)

    (pupil,) = _pupils(other, 1)
    _enrol(other, [pupil])
    away = _session(other, _last_week(1), _teachers(other, "李老师")[0])
    _mark(away, pupil, "present", other.principal)
    _incident(away, pupil, Incident.Kind.OTHER, other.principal)
    LatePickup.objects.create(session=away, student=pupil, step=1, at=timezone.now())
    return SimpleNamespace(district=d, s=s, other=other)


def test_incidents_per_thousand_child_sessions(care_week, api):
    w = care_week
    c = _figures(w.s).compliance
    # 2 incidents in 7 child-sessions: 2 × 1000 / 7 = 285.714… → 285.71.
    assert (c.incidents, c.child_sessions) == (2, 7)
    assert indicators.per_thousand(c.incidents, c.child_sessions) == Decimal("285.71")
    # As of last Monday: Monday's incident in its 4 child-sessions → 250.00.
    monday = _figures(w.s, _last_week(1)).compliance
    assert (monday.incidents, monday.child_sessions) == (1, 4)
    assert indicators.per_thousand(monday.incidents, monday.child_sessions) == Decimal("250.00")
    # The other school's incident is its own: 1 in 1 → 1000.00.
    other = _figures(w.other).compliance
    assert (other.incidents, other.child_sessions) == (1, 1)
    shown = _indicators(api, _officer(w.district), w.s.school)["incidents_per_1000"]
    assert (shown["numerator"], shown["denominator"], shown["value"]) == (2, 7, "285.71")


def test_late_pickups_per_thousand_child_sessions_count_the_first_step_once(care_week, api):
    w = care_week
    c = _figures(w.s).compliance
    # 乙 escalated three steps on Monday counts once: 1 × 1000 / 7 = 142.857… → 142.86.
    assert (c.late_pickups, c.child_sessions) == (1, 7)
    assert indicators.per_thousand(c.late_pickups, c.child_sessions) == Decimal("142.86")
    # The absence corrected on Tuesday is not unexplained: only 丙's Monday absence, 1 in 7.
    assert c.unexplained == 1
    other = _figures(w.other).compliance
    assert (other.late_pickups, other.child_sessions) == (1, 1)
    shown = _indicators(api, _officer(w.district), w.s.school)["late_pickups_per_1000"]
    assert (shown["numerator"], shown["denominator"], shown["value"]) == (1, 7, "142.86")


# --- Compliance: refusals, withdrawals, priority groups (R1, R10, R4) ---------------------------


def _apply(cast, term_plan, student, claims=()) -> Application:
    """A guardian of `student` applies (through the service) for every afternoon."""
    guardian = f.GuardianFactory(user=f.UserFactory(display_name=f"{student.name}家长"))
    f.link_guardian(guardian, student)
    return enrollment.application_submit(
        applicant=guardian.user,
        guardian_name=guardian.name,
        student=student,
        term=cast.term,
        slots=list(cast.term.slots.filter(kind=AFTERNOON)),
        priority_claims=list(claims),
        signature=enrollment.SignatureInput(
            agreement_version=term_plan.version, signed_name=guardian.name
        ),
    )


def _cast_checks(cast) -> indicators.Compliance:
    school = School.objects.select_related("district").get(pk=cast.school.pk)
    return indicators.participation([school], _today(), with_compliance=True).schools[0].compliance


def test_refusals_without_a_recorded_reason_should_be_none(cast, plan, api):  # noqa: F811
    def pupil(name, **fields):
        return f.StudentFactory(school=cast.school, homeroom=cast.homeroom, name=name, **fields)

    refused = _apply(cast, plan, pupil("王小刚"))
    enrollment.application_review(
        application=refused,
        reviewer=cast.homeroom_teacher,
        decision="reject",
        reason="本学期名额已满",
    )
    # A boarder may be refused by rule without a typed reason: the rule is recorded as one.
    boarder = _apply(cast, plan, pupil("李小华", boarding=True))
    enrollment.application_review(
        application=boarder, reviewer=cast.homeroom_teacher, decision="approve"
    )
    enrollment.application_decide(application=boarder, principal=cast.principal, decision="reject")
    returned = _apply(cast, plan, pupil("赵小军"))
    enrollment.application_review(
        application=returned,
        reviewer=cast.homeroom_teacher,
        decision="return",
        reason="请补充接送人信息",
    )
    assert Application.objects.get(pk=boarder.pk).reason == "寄宿生"
    assert _cast_checks(cast).refused_without_reason == 0
    # The database refuses a refusal without a reason (application_return_reject_has_reason).
    with pytest.raises(IntegrityError), transaction.atomic():
        Application.objects.filter(pk=refused.pk).update(reason="")

    # A row from before that constraint (an import, a restore) is what the indicator is there
    # to catch: with the constraint lifted inside this savepoint, the refused application
    # loses its reason (counted) and so does the returned one (not a refusal: not counted).
    # The deferred foreign-key checks run first: PostgreSQL alters no table they are pending on.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                f"ALTER TABLE {Application._meta.db_table} "
                "DROP CONSTRAINT application_return_reject_has_reason"
            )
        Application.objects.filter(pk__in=[refused.pk, returned.pk]).update(reason="")
        assert _cast_checks(cast).refused_without_reason == 1
        shown = _indicators(api, cast.officer, cast.school)["refused_without_reason"]
        assert shown["numerator"] == 1
        transaction.set_rollback(True)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    # The savepoint's rollback restored the constraint and the reasons.
    assert _cast_checks(cast).refused_without_reason == 0
    with pytest.raises(IntegrityError), transaction.atomic():
        Application.objects.filter(pk=refused.pk).update(reason="")


def test_withdrawals_count_the_approved_requests_of_the_term(cast, enrolled):  # noqa: F811
    effective = _today() + datetime.timedelta(days=14)

    def request(enrolment, user):
        return enrollment.withdrawal_request(
            enrolment=enrolment, user=user, effective_date=effective, reason="家中老人可接送"
        )

    for enrolment, user in ((enrolled.child, cast.parent), (enrolled.other_child, cast.parent2)):
        enrollment.withdrawal_decide(
            withdrawal=request(enrolment, user), principal=cast.principal, approve=True
        )
    enrollment.withdrawal_decide(
        withdrawal=request(enrolled.sibling, cast.parent),
        principal=cast.principal,
        approve=False,
        reason="请先与班主任沟通",
    )
    request(enrolled.sibling, cast.parent)  # asked again: waiting
    # The other school of the district: one approved withdrawal of its own.
    other = SimpleNamespace(
        school=cast.other_school, term=cast.other_term, principal=cast.principal2
    )
    (away,) = _enrol(other, [cast.other_school_child])
    Withdrawal.objects.create(
        enrolment=away,
        requested_by=cast.principal2,
        effective_date=effective,
        reason="转学",
        status=Withdrawal.Status.APPROVED,
        decided_by=cast.principal2,
        decided_at=timezone.now(),
    )

    schools = list(
        School.objects.filter(pk__in=[cast.school.pk, cast.other_school.pk])
        .select_related("district")
        .order_by("code")
    )
    p = indicators.participation(schools, _today(), with_compliance=True)
    by_school = {fig.school.pk: fig.compliance.withdrawals for fig in p.schools}
    # Approved: child and other_child = 2; sibling's refused and waiting requests are not.
    assert by_school == {cast.school.pk: 2, cast.other_school.pk: 1}


def test_priority_coverage_is_the_approved_share(cast, plan, enrol, enrolled, api):  # noqa: F811
    def pupil(name):
        return f.StudentFactory(school=cast.school, homeroom=cast.homeroom, name=name)

    # `enrolled`: child claims dual_working, approved; sibling and other_child claim nothing.
    disabled = pupil("孙小雨")
    guardian = f.GuardianFactory(user=f.UserFactory(display_name="孙立"))
    f.link_guardian(guardian, disabled)
    enrol(disabled, guardian.user, claims=["disabled"])
    refused = _apply(cast, plan, pupil("周小川"), claims=["left_behind"])
    enrollment.application_review(
        application=refused,
        reviewer=cast.homeroom_teacher,
        decision="reject",
        reason="所选时段已满",
    )
    cancelled = _apply(cast, plan, pupil("吴小兰"), claims=["migrant"])
    enrollment.application_cancel(application=cancelled, user=cancelled.applicant)
    _apply(cast, plan, pupil("郑小山"), claims=["low_income"])  # waiting for the review

    # Priority applications, not cancelled: child, 孙, 周, 郑 = 4; approved: child, 孙 = 2.
    # 2 / 4 = 0.5000.
    c = _cast_checks(cast)
    assert (c.priority_approved, c.priority, c.priority_rate) == (2, 4, Decimal("0.5000"))
    shown = _indicators(api, cast.officer, cast.school)["priority_coverage"]
    assert (shown["numerator"], shown["denominator"], shown["value"]) == (2, 4, "0.5000")


def test_priority_coverage_counts_lower_grades_as_a_group(cast, plan, enrolled):  # noqa: F811
    first_grade = f.HomeroomFactory(
        school=cast.school, grade=f.GradeFactory(school=cast.school, number=1), name="1班"
    )
    _apply(cast, plan, f.StudentFactory(school=cast.school, homeroom=first_grade, name="钱小朵"))
    # R4 names lower-grade pupils as a priority group: the child's claim (approved) and the
    # first-grader who claimed nothing (waiting) → 1 / 2.
    c = _cast_checks(cast)
    assert (c.priority_approved, c.priority) == (1, 2)
